/**
 * What the training loop needs from a model, so that the matrix MLP, the autodiff MLP, the tf.layers MLP
 * and later models (conv nets, autoencoders, ...) all train with the same loop and optimizers.
 */
import * as tf from "@tensorflow/tfjs";

export interface Model {
  /** Trainable parameters; optimizers update them in place with `assign`. */
  readonly params: tf.Variable[];
  /** Inputs per sample (x is [N, inputSize]). */
  readonly inputSize: number;
  /** Outputs per sample (targets are [N, outputSize]). */
  readonly outputSize: number;
  /** Outputs s^L for a batch x [N, inputSize] → [N, outputSize]. The caller disposes the result. */
  predict(x: tf.Tensor2D): tf.Tensor2D;
  /** Mean loss q_S over the batch. The caller disposes the result. */
  loss(x: tf.Tensor2D, t: tf.Tensor2D): tf.Scalar;
  /** Mean loss and ∂q_S/∂p for each p of `params`, same order. The caller disposes all of them. */
  lossAndGrads(x: tf.Tensor2D, t: tf.Tensor2D): { loss: tf.Scalar; grads: tf.Tensor[] };
}

/** Shape as "[a, b]". */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * Checks that x is [N, inputSize] and t (when given) is [N, outputSize] with the same N; the error names
 * the expected and the given shapes.
 */
export function checkBatch(where: string, model: Pick<Model, "inputSize" | "outputSize">, x: tf.Tensor, t?: tf.Tensor): void {
  if (x.rank !== 2 || x.shape[1] !== model.inputSize) {
    throw new Error(`${where}: x should be [N, ${model.inputSize}] (N samples × ${model.inputSize} inputs), got ${shapeText(x.shape)}`);
  }
  if (t === undefined) return;
  if (t.rank !== 2 || t.shape[1] !== model.outputSize) {
    const hint = t.rank === 1 ? "; for class labels, one-hot encode them (tf.oneHot) or reshape to [N, 1]" : "";
    throw new Error(`${where}: targets should be [N, ${model.outputSize}] (N samples × ${model.outputSize} outputs), got ${shapeText(t.shape)}${hint}`);
  }
  if (t.shape[0] !== x.shape[0]) {
    throw new Error(`${where}: x has ${x.shape[0]} samples but targets have ${t.shape[0]}; give one target row per sample`);
  }
}

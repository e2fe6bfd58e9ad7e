/**
 * What the training loop needs from a model, so that every network (built from layers, autodiff, tf.layers,
 * conv nets, autoencoders) trains with the same loop and optimizers.
 */
import * as tf from "@tensorflow/tfjs";
import type { Context } from "../nn/layer";

export interface Model {
  /** Trainable parameters; optimizers update them in place with `assign`. */
  readonly params: tf.Variable[];
  /** Shape of one input sample: [inputs] for dense nets, [height, width, channels] for conv nets. */
  readonly inputShape: readonly number[];
  /** Outputs per sample (targets are [N, outputSize]). */
  readonly outputSize: number;
  /** Outputs S for a batch x [N, ...inputShape] → [N, outputSize], at inference. The caller disposes it. */
  predict(x: tf.Tensor): tf.Tensor2D;
  /** Mean loss q_S over the batch, at inference. The caller disposes it. */
  loss(x: tf.Tensor, t: tf.Tensor2D): tf.Scalar;
  /**
   * Mean loss and ∂q_S/∂p for each p of `params`, same order, in the training context `ctx` (batch
   * statistics, dropout with ctx.rng). The caller disposes all of them.
   */
  lossAndGrads(x: tf.Tensor, t: tf.Tensor2D, ctx?: Context): { loss: tf.Scalar; grads: tf.Tensor[] };
}

/** Shape as "[a, b]". */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * Checks that x is [N, ...inputShape] and t (when given) is [N, outputSize] with the same N; the error
 * names the expected and the given shapes.
 */
export function checkBatch(where: string, model: Pick<Model, "inputShape" | "outputSize">, x: tf.Tensor, t?: tf.Tensor): void {
  const want = model.inputShape;
  if (x.rank !== want.length + 1 || want.some((n, k) => x.shape[k + 1] !== n)) {
    const hint = x.rank === 2 && want.length === 3 ? "; images go in as [N, height, width, channels] (datasetToTensors(set, { image: true }))"
      : x.rank === 4 && want.length === 1 ? "; this model takes flat rows: reshape the images to [N, pixels]" : "";
    throw new Error(`${where}: x should be [N, ${want.join(", ")}] (N samples of ${shapeText(want)}), got ${shapeText(x.shape)}${hint}`);
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

/**
 * Loss heads: the output activation g of the last layer and the loss q, taken together because together
 * their backward pass simplifies (seed 002; Bishop 6.9):
 *
 *   softmax + cross-entropy        ∂q_S/∂z = (S − T)/N
 *   sigmoid + binary cross-entropy ∂q_S/∂z = (S − T)/N
 *   any other pair                 ∂q_S/∂z = g'(z) ⊙ ∂q_S/∂S   (Jᵀ ∂q_S/∂S for softmax)
 *
 * with q_S the mean over the N samples of the batch of each sample's loss (a sum over output units; ½ in
 * squared error). The fused forms skip dividing by S, which underflows in float32.
 */
import * as tf from "@tensorflow/tfjs";
import { ActivationName, activation as lookupActivation } from "../scratch/activations";
import { LossName, loss as lookupLoss, isFusedOutput } from "../scratch/losses";

/** What the head computes on a batch: the output S, the loss, and the gradients (taps). */
export interface HeadPass {
  /** S = g(z). */
  s: tf.Tensor2D;
  loss: tf.Scalar;
  /** ∂q/∂z, what the last layer receives. */
  dz: tf.Tensor2D;
}

export class LossHead {
  readonly name: string;
  readonly fused: boolean;

  constructor(readonly output: ActivationName, readonly loss: LossName, readonly opts: { alpha?: number; pieces?: number } = {}) {
    const act = lookupActivation(output);
    lookupLoss(loss);
    if (output === "prelu") throw new Error("LossHead: prelu learns α; put an Activation(\"prelu\") layer last and use a linear head");
    this.fused = isFusedOutput(output, loss);
    this.name = `${act.name} + ${loss}`;
  }

  /** S = g(z), the network's output. */
  predict(z: tf.Tensor2D): tf.Tensor2D {
    const act = lookupActivation(this.output);
    return (act.kind === "elementwise" ? act.tensor(z, this.opts.alpha) : act.tensor(z, this.opts.pieces)) as tf.Tensor2D;
  }

  /** Mean loss q_S of the batch. */
  lossOf(z: tf.Tensor2D, t: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => lookupLoss(this.loss).tensor(this.predict(z), t));
  }

  /** ∂q/∂S (the gradient reaching the output, before g). */
  dOutput(s: tf.Tensor2D, t: tf.Tensor2D): tf.Tensor2D {
    return lookupLoss(this.loss).tensorGrad(s, t);
  }

  /** Output, loss and ∂q/∂z. */
  forwardBackward(z: tf.Tensor2D, t: tf.Tensor2D): HeadPass {
    const s = this.predict(z);
    const loss = lookupLoss(this.loss).tensor(s, t);
    if (this.fused) return { s, loss, dz: tf.div(tf.sub(s, t), z.shape[0]) as tf.Tensor2D };
    const ds = this.dOutput(s, t);
    const act = lookupActivation(this.output);
    const dz = act.kind === "vector"
      ? act.tensorBackward(z, ds, this.opts.pieces)
      : (tf.mul(ds, act.tensorPrime(z, this.opts.alpha)) as tf.Tensor2D);
    return { s, loss, dz };
  }
}

/** The usual heads by name. */
export const heads = {
  /** Softmax outputs, cross-entropy loss: classification into several classes (one-hot targets). */
  softmaxCrossEntropy: () => new LossHead("softmax", "crossEntropy"),
  /** One sigmoid output per class, binary cross-entropy: two classes (0/1 targets), or several labels. */
  sigmoidBinaryCrossEntropy: () => new LossHead("sigmoid", "binaryCrossEntropy"),
  /** ½ squared error of g(z) (linear by default): regression, or the lecture's sigmoid outputs. */
  squaredError: (output: ActivationName = "linear") => new LossHead(output, "squaredError"),
};

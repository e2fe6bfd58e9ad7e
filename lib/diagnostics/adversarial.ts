/**
 * Adversarial examples (seed 003, "Adversarial Training"; Goodfellow, Shlens & Szegedy 2015). The gradient
 * of the loss with respect to the input, by the same backward pass that trains the network carried one
 * layer further down,
 *
 *   ∂q/∂x = ∂q/∂s⁰        (the first layer's backward gives it)
 *
 * says which small change of each pixel raises the loss most. The fast gradient sign method moves every
 * pixel by ε in that direction:
 *
 *   x̃ = x + ε · sign(∂q/∂x)            (clipped to the valid pixel range when asked)
 *
 * Adversarial training minimizes a mix of the clean loss and the loss on FGSM examples made from the
 * current weights at every update:  J̃(θ) = a J(θ, x, t) + (1 − a) J(θ, x̃, t),  a = 0.5 in the paper.
 */
import * as tf from "@tensorflow/tfjs";
import { Context, INFERENCE, trainingContext } from "../nn/layer";
import type { Network } from "../nn/network";
import type { Model } from "../train/model";
import { checkBatch } from "../train/model";
import { accuracy } from "../train/train";

/** ∂q_S/∂x for a batch (q_S the mean loss of the batch), inference context unless one is given. */
export function inputGradient(net: Network, x: tf.Tensor, t: tf.Tensor2D, ctx: Context = INFERENCE): tf.Tensor {
  checkBatch("inputGradient", net, x, t);
  return tf.tidy(() => {
    const { z, cache } = net.forward(x, ctx);
    const head = net.head.forwardBackward(z, t);
    return net.body.backwardTaps(head.dz, cache, true).dx!;
  });
}

export interface FgsmOptions {
  /** ε, the step of every pixel (in pixel units: MNIST pixels are in [0, 1]). */
  epsilon: number;
  /** Clip x̃ to [lo, hi] (e.g. [0, 1] for images); default no clipping. */
  clip?: [number, number];
  /** Context of the gradient's pass (default inference). */
  ctx?: Context;
}

/** x̃ = x + ε · sign(∂q/∂x). The caller disposes it. */
export function fgsm(net: Network, x: tf.Tensor, t: tf.Tensor2D, opts: FgsmOptions): tf.Tensor {
  if (!(opts.epsilon >= 0)) throw new Error(`fgsm: ε must be ≥ 0, got ${opts.epsilon}`);
  return tf.tidy(() => {
    const g = inputGradient(net, x, t, opts.ctx ?? INFERENCE);
    const moved = tf.add(x, tf.mul(opts.epsilon, tf.sign(g)));
    return opts.clip ? tf.clipByValue(moved, opts.clip[0], opts.clip[1]) : moved;
  });
}

/** Accuracy on FGSM examples of (x, t) for each ε (ε = 0: the clean accuracy). */
export function fgsmAccuracy(net: Network, data: { x: tf.Tensor; t: tf.Tensor2D }, epsilons: readonly number[], opts: { clip?: [number, number] } = {}): number[] {
  return epsilons.map((epsilon) => {
    const adv = fgsm(net, data.x, data.t, { epsilon, clip: opts.clip });
    const s = net.predict(adv);
    const acc = accuracy(s, data.t);
    tf.dispose([adv, s]);
    return acc;
  });
}

/**
 * A network trained adversarially: every update's loss is a·J(x) + (1 − a)·J(x̃) with x̃ the FGSM examples
 * of that batch under the current weights (x̃ is treated as data: no gradient flows through its making).
 * `loss` and `predict` are the network's own (clean data).
 */
export class AdversarialTraining implements Model {
  readonly params: tf.Variable[];
  readonly inputShape: readonly number[];
  readonly outputSize: number;
  readonly name: string;
  readonly alpha: number;

  constructor(readonly net: Network, readonly opts: { epsilon: number; alpha?: number; clip?: [number, number] }) {
    this.alpha = opts.alpha ?? 0.5;
    if (!(this.alpha >= 0 && this.alpha <= 1)) throw new Error(`AdversarialTraining: alpha (the clean share) must be in [0, 1], got ${opts.alpha}`);
    if (!(opts.epsilon >= 0)) throw new Error(`AdversarialTraining: ε must be ≥ 0, got ${opts.epsilon}`);
    this.params = net.params;
    this.inputShape = net.inputShape;
    this.outputSize = net.outputSize;
    this.name = `adversarial(ε=${opts.epsilon}, a=${this.alpha})`;
  }

  predict(x: tf.Tensor): tf.Tensor2D {
    return this.net.predict(x);
  }

  loss(x: tf.Tensor, t: tf.Tensor2D, ctx: Context = INFERENCE): tf.Scalar {
    return this.net.loss(x, t, ctx);
  }

  lossAndGrads(x: tf.Tensor, t: tf.Tensor2D, ctx: Context = trainingContext()): { loss: tf.Scalar; grads: tf.Tensor[] } {
    return tf.tidy(() => {
      const adv = fgsm(this.net, x, t, { epsilon: this.opts.epsilon, clip: this.opts.clip });
      const clean = this.net.lossAndGrads(x, t, ctx);
      const dirty = this.net.lossAndGrads(adv, t, ctx);
      const a = this.alpha;
      return {
        loss: tf.add(tf.mul(a, clean.loss), tf.mul(1 - a, dirty.loss)) as tf.Scalar,
        grads: clean.grads.map((g, k) => tf.add(tf.mul(a, g), tf.mul(1 - a, dirty.grads[k]))),
      };
    });
  }
}

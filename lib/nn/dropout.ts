/**
 * Inverted dropout (Srivastava et al. 2014, seed 003 "Dropout"): during training every unit is kept with
 * probability p (the keep probability; the seeds' usual values are p = 0.8 for inputs and p = 0.5 for
 * hidden units) and the kept ones are scaled by 1/p, so that the expected output equals the input and the
 * network needs no change at inference:
 *
 *   training    m_i ~ Bernoulli(p),   out_i = x_i · m_i / p
 *   inference   out = x                                    (no mask, no scaling)
 *   backward    ∂q/∂x_i = ∂q/∂out_i · m_i / p              (the same mask: a dropped unit gets no gradient)
 *
 * The mask is drawn from the generator of the training context (ctx.rng), so the same seed gives the same
 * masks and the same run. Any rank: [N, units] for a dense net, [N, height, width, channels] for a conv net
 * (one draw per entry).
 *
 * Monte Carlo dropout (Gal & Ghahramani 2016) keeps the masks on at prediction time: `mcDropoutContext(rng)`
 * is an inference context (batch norm uses its running statistics) in which dropout still draws, and
 * `mcDropoutPredict` averages T such passes.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { Context, Layer, NO_GRADS, checkContext } from "./layer";
import type { Network } from "./network";

/** A context that may ask dropout to draw at inference (Monte Carlo dropout). */
export interface DropoutContext extends Context {
  /** Dropout draws masks even though `training` is false. */
  readonly mcDropout?: boolean;
}

/** Inference everywhere (running statistics) except dropout, which keeps drawing masks from `rng`. */
export function mcDropoutContext(rng: Rng): DropoutContext {
  return Object.freeze({ training: false, rng, mcDropout: true });
}

/** What backward needs: the scaled mask m/p, or nothing when the pass was the identity. */
export type DropoutCache = tf.Tensor | null;

/** A 0/1 mask of `shape` with P(1) = keep, drawn from `rng` (float32). */
export function dropoutMask(shape: readonly number[], keep: number, rng: Rng): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const m = new Float32Array(n);
  for (let i = 0; i < n; i++) m[i] = rng.random() < keep ? 1 : 0;
  return tf.tensor(m, shape as number[], "float32");
}

export class Dropout implements Layer<DropoutCache> {
  readonly name: string;
  readonly params = {};
  /** p, the probability of keeping a unit (tf.layers.dropout's rate is 1 − p). */
  readonly keep: number;

  /** `keep` = p in (0, 1]; p = 1 is the identity. */
  constructor(opts: { keep: number }) {
    const keep = opts?.keep;
    if (typeof keep !== "number" || !(keep > 0 && keep <= 1)) {
      throw new Error(`Dropout: keep (the probability of keeping a unit) must be in (0, 1], got ${keep}; tf.layers' rate is 1 − keep`);
    }
    this.keep = keep;
    this.name = `Dropout(p=${keep})`;
  }

  /** True when this pass draws a mask: training, or Monte Carlo dropout. */
  active(ctx: Context): boolean {
    return (ctx.training || (ctx as DropoutContext).mcDropout === true) && this.keep < 1;
  }

  /** out = x ⊙ m / p with m drawn from ctx.rng (training); out = x (inference). */
  forward(x: tf.Tensor, ctx: Context): { out: tf.Tensor; cache: DropoutCache } {
    checkContext(this.name, ctx);
    if (!this.active(ctx)) return { out: tf.clone(x), cache: null };
    if (!ctx.rng) throw new Error(`${this.name}: a training pass needs the generator: bp.nn.trainingContext(rng)`);
    const mask = dropoutMask(x.shape, this.keep, ctx.rng);
    return this.forwardWithMask(x, mask);
  }

  /** The training pass with a given 0/1 mask (for checks against autodiff): out = x ⊙ m / p. */
  forwardWithMask(x: tf.Tensor, mask: tf.Tensor): { out: tf.Tensor; cache: tf.Tensor } {
    if (!tf.util.arraysEqual(mask.shape, x.shape)) {
      throw new Error(`${this.name}: the mask is [${mask.shape.join(", ")}] but x is [${x.shape.join(", ")}]`);
    }
    const scaled = tf.div(mask, this.keep);
    return { out: tf.mul(x, scaled), cache: scaled };
  }

  /** ∂q/∂x = ∂q/∂out ⊙ m / p (identity when the forward pass was). */
  backward(dout: tf.Tensor, cache: DropoutCache) {
    return { dx: cache === null ? tf.clone(dout) : tf.mul(dout, cache), grads: NO_GRADS };
  }

  dispose(): void {}
}

/** Predictive mean and spread of T stochastic passes, and the class each sample gets. */
export interface McDropoutPrediction {
  /** Mean of the T outputs, [N, outputs]. */
  mean: tf.Tensor2D;
  /** Standard deviation of the T outputs per output unit, [N, outputs]. */
  std: tf.Tensor2D;
  /** Per sample: the standard deviation of the predicted class's output (the spread a figure shows). */
  spread: Float32Array;
  /** Per sample: argmax of the mean. */
  predicted: Int32Array;
}

/**
 * Monte Carlo dropout: T forward passes with dropout on (batch norm at inference), S_t = g(z_t); returns
 * mean (1/T) Σ S_t and the spread. The caller disposes mean and std.
 */
export function mcDropoutPredict(net: Network, x: tf.Tensor, opts: { samples: number; rng: Rng }): McDropoutPrediction {
  const T = opts.samples;
  if (!Number.isInteger(T) || T < 2) throw new Error(`mcDropoutPredict: samples (T) must be an integer ≥ 2, got ${T}`);
  const ctx = mcDropoutContext(opts.rng);
  const [mean, std] = tf.tidy(() => {
    const outs: tf.Tensor2D[] = [];
    for (let t = 0; t < T; t++) outs.push(net.head.predict(net.forward(x, ctx).z));
    const stack = tf.stack(outs);
    const { mean, variance } = tf.moments(stack, 0);
    return [mean as tf.Tensor2D, tf.sqrt(variance) as tf.Tensor2D];
  });
  const predicted = tf.tidy(() => tf.argMax(mean, 1).dataSync() as Int32Array);
  const sd = std.dataSync() as Float32Array;
  const k = std.shape[1];
  const spread = Float32Array.from(predicted, (c, i) => sd[i * k + c]);
  return { mean, std, spread, predicted };
}

/**
 * Batch normalization and layer normalization as layers (seeds 002 and 003). Both normalize x along an
 * axis, then scale and shift:
 *
 *   forward    x̂ = (x − μ)/√(σ² + ε),   ŝ = γ x̂ + β
 *              batch norm: μ, σ² per unit over the N samples of the mini-batch (axis 0) in training, the
 *              running averages at inference;  layer norm: per sample over its M units (axis 1), always
 *   backward   with dx̂ = dŝ · γ, in each group of n values (σ² divided by d = n, or n − 1):
 *              ∂q/∂x = (1/√(σ² + ε)) (dx̂ − mean(dx̂) − x̂ (n/d) mean(dx̂ ⊙ x̂))
 *              ∂q/∂γ = Σ_rows dŝ ⊙ x̂,   ∂q/∂β = Σ_rows dŝ
 *
 * The arithmetic is lib/scratch/norm.ts's (`normForward`/`normBackward`, float32, and the float64 twins).
 * Running averages: μ_run ← m μ_run + (1 − m) μ_B, and the same for σ². tf.layers (and Keras) average the
 * biased batch variance (÷N), PyTorch the unbiased one (÷(N − 1)) while both normalize with the biased one:
 * `runningVariance` picks (docs/conventions.md).
 */
import * as tf from "@tensorflow/tfjs";
import { NormCache, NormOptions, normBackward, normForward } from "../scratch/norm";
import { Context, Layer, checkInput } from "./layer";

/** Which batch variance the running average keeps: "biased" ÷N (tf.layers, Keras), "unbiased" ÷(N−1) (PyTorch). */
export type RunningVariance = "biased" | "unbiased";

export interface BatchNormOptions extends NormOptions {
  /** Weight of the past in the running averages, m (default 0.99, tf.layers'; PyTorch's momentum is 1 − m). */
  momentum?: number;
  /** Default "biased", as tf.layers. */
  runningVariance?: RunningVariance;
}

function makeScaleShift(units: number): { gamma: tf.Variable; beta: tf.Variable } {
  return tf.tidy(() => ({ gamma: tf.variable(tf.ones([units])), beta: tf.variable(tf.zeros([units])) }));
}

function checkUnits(who: string, units: number): void {
  if (!Number.isInteger(units) || units < 1) throw new Error(`${who}: units must be a positive integer, got ${units}`);
}

export class BatchNorm implements Layer<NormCache> {
  readonly name: string;
  readonly params: { readonly gamma: tf.Variable; readonly beta: tf.Variable };
  runningMean: tf.Tensor1D;
  runningVariance: tf.Tensor1D;
  readonly momentum: number;
  readonly eps: number;
  readonly options: Required<BatchNormOptions>;

  constructor(readonly units: number, opts: BatchNormOptions = {}) {
    checkUnits("BatchNorm", units);
    this.options = { momentum: 0.99, eps: 1e-3, variance: "population", runningVariance: "biased", ...opts };
    this.momentum = this.options.momentum;
    this.eps = this.options.eps;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new Error(`BatchNorm: momentum must be in [0, 1), got ${this.momentum}`);
    if (this.options.runningVariance !== "biased" && this.options.runningVariance !== "unbiased") {
      throw new Error(`BatchNorm: runningVariance must be "biased" (tf.layers) or "unbiased" (PyTorch), got "${this.options.runningVariance}"`);
    }
    this.params = makeScaleShift(units);
    this.runningMean = tf.zeros([units]);
    this.runningVariance = tf.ones([units]);
    this.name = `BatchNorm(${units})`;
  }

  /**
   * Training: the batch's statistics, and the running averages move toward them (unless ctx.frozenStats).
   * Inference: the running averages, held constant (nothing flows back through them).
   */
  forward(x: tf.Tensor, ctx: Context) {
    checkInput(this.name, x, [this.units]);
    const s = x as tf.Tensor2D;
    const gamma = this.params.gamma as tf.Tensor1D, beta = this.params.beta as tf.Tensor1D;
    const opts = { eps: this.eps, variance: this.options.variance };
    const r = ctx.training
      ? normForward(s, gamma, beta, 0, opts)
      : normForward(s, gamma, beta, 0, { ...opts, stats: { mean: this.runningMean, variance: this.runningVariance } });
    if (ctx.training && !ctx.frozenStats) this.updateRunning(r.mean, r.variance, s.shape[0]);
    tf.dispose([r.mean, r.variance]);
    return { out: r.out, cache: r.cache };
  }

  backward(dout: tf.Tensor, cache: NormCache) {
    const { dx, dgamma, dbeta } = normBackward(dout as tf.Tensor2D, cache);
    return { dx, grads: { gamma: dgamma, beta: dbeta } };
  }

  private updateRunning(mean: tf.Tensor2D, variance: tf.Tensor2D, n: number): void {
    const m = this.momentum;
    // variance is the one the layer normalized with (÷N by default); PyTorch's running one is ÷(N − 1).
    const d = this.options.variance === "sample" ? n - 1 : n;
    const unbias = this.options.runningVariance === "unbiased" ? d / (n - 1) : 1;
    if (this.options.runningVariance === "unbiased" && n < 2) throw new Error("BatchNorm: an unbiased running variance needs batches of at least 2 samples");
    const [rm, rv] = tf.tidy(() => [
      tf.add(tf.mul(this.runningMean, m), tf.mul(tf.reshape(mean, [this.units]), 1 - m)) as tf.Tensor1D,
      tf.add(tf.mul(this.runningVariance, m), tf.mul(tf.reshape(variance, [this.units]), (1 - m) * unbias)) as tf.Tensor1D,
    ]);
    tf.dispose([this.runningMean, this.runningVariance]);
    // Kept: the running averages outlive any tf.tidy the forward pass runs in.
    this.runningMean = tf.keep(rm);
    this.runningVariance = tf.keep(rv);
  }

  dispose(): void {
    tf.dispose([this.params.gamma, this.params.beta, this.runningMean, this.runningVariance]);
  }
}

export class LayerNorm implements Layer<NormCache> {
  readonly name: string;
  readonly params: { readonly gamma: tf.Variable; readonly beta: tf.Variable };
  readonly eps: number;

  constructor(readonly units: number, readonly opts: NormOptions = {}) {
    checkUnits("LayerNorm", units);
    this.eps = opts.eps ?? 1e-3;
    this.params = makeScaleShift(units);
    this.name = `LayerNorm(${units})`;
  }

  /** Each sample normalized over its units, in training and inference alike. */
  forward(x: tf.Tensor, _ctx: Context) {
    checkInput(this.name, x, [this.units]);
    const r = normForward(x as tf.Tensor2D, this.params.gamma as tf.Tensor1D, this.params.beta as tf.Tensor1D, 1, { ...this.opts, eps: this.eps });
    tf.dispose([r.mean, r.variance]);
    return { out: r.out, cache: r.cache };
  }

  backward(dout: tf.Tensor, cache: NormCache) {
    const { dx, dgamma, dbeta } = normBackward(dout as tf.Tensor2D, cache);
    return { dx, grads: { gamma: dgamma, beta: dbeta } };
  }

  dispose(): void {
    tf.dispose([this.params.gamma, this.params.beta]);
  }
}

/**
 * Gradient clipping (seed 002, "Recorte del gradiente"): against exploding gradients.
 *  - by value: each component forced into [lo, hi];
 *  - by (global) norm, "gradiente escalado": g ← g · c / max(‖g‖, c), so ‖g‖ ≤ c and the direction is kept.
 * The global norm is taken over all the parameters of the model together (float64 vector or tensors).
 * Each clip also has a backward (its vector–Jacobian product), for use as a layer of a graph.
 */
import * as tf from "@tensorflow/tfjs";
import type { GradientAt } from "./optimizers";

function checkRange(lo: number, hi: number): void {
  if (!(lo < hi) || Number.isNaN(lo) || Number.isNaN(hi)) throw new Error(`clipByValue: needs lo < hi, got [${lo}, ${hi}]`);
}
function checkMaxNorm(c: number): void {
  if (!(c > 0 && Number.isFinite(c))) throw new Error(`clipByGlobalNorm: the maximum norm c must be a positive number, got ${c}`);
}

/** Each component of g into [lo, hi] (a new vector). */
export function clipByValue(g: ArrayLike<number>, lo: number, hi: number): Float64Array {
  checkRange(lo, hi);
  return Float64Array.from(g, (v) => Math.min(hi, Math.max(lo, v)));
}

/** Backward of clipByValue: dout where lo < x < hi (the identity there), 0 where it clipped. */
export function clipByValueBackward(dout: ArrayLike<number>, x: ArrayLike<number>, lo: number, hi: number): Float64Array {
  checkRange(lo, hi);
  return Float64Array.from(dout, (d, i) => (x[i] > lo && x[i] < hi ? d : 0));
}

/** ‖g‖₂ of one vector or of several tensors together. */
export function globalNorm(g: ArrayLike<number> | readonly tf.Tensor[]): number {
  if (Array.isArray(g) && g.length > 0 && g[0] instanceof tf.Tensor) {
    return Math.sqrt((g as tf.Tensor[]).reduce((s, t) => s + tf.tidy(() => tf.sum(tf.square(t)).dataSync()[0]), 0));
  }
  let s = 0;
  const v = g as ArrayLike<number>;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** g · c / max(‖g‖, c): unchanged if ‖g‖ ≤ c, else rescaled to norm c. Returns the new vector and ‖g‖. */
export function clipByGlobalNorm(g: ArrayLike<number>, maxNorm: number): { clipped: Float64Array; norm: number } {
  checkMaxNorm(maxNorm);
  const norm = globalNorm(g);
  const f = maxNorm / Math.max(norm, maxNorm);
  return { clipped: Float64Array.from(g, (v) => v * f), norm };
}

/**
 * Backward of clipByGlobalNorm at x: dout if ‖x‖ ≤ c; else, with u = x/‖x‖,
 * (c/‖x‖) (dout - u (u·dout)) (the rescaling is not linear: it removes the radial part).
 */
export function clipByGlobalNormBackward(dout: ArrayLike<number>, x: ArrayLike<number>, maxNorm: number): Float64Array {
  checkMaxNorm(maxNorm);
  const norm = globalNorm(x);
  if (norm <= maxNorm) return Float64Array.from(dout);
  let dot = 0;
  for (let i = 0; i < x.length; i++) dot += (x[i] / norm) * dout[i];
  return Float64Array.from(dout, (d, i) => (maxNorm / norm) * (d - (x[i] / norm) * dot));
}

/** Global-norm clipping of a list of tensors (new tensors; the caller disposes them) and their norm. */
export function clipTensorsByGlobalNorm(grads: readonly tf.Tensor[], maxNorm: number): { clipped: tf.Tensor[]; norm: number } {
  checkMaxNorm(maxNorm);
  const norm = globalNorm(grads);
  const f = maxNorm / Math.max(norm, maxNorm);
  return { clipped: grads.map((g) => tf.mul(g, f)), norm };
}

export interface ClipOptions {
  /** Clip each component into [-value, value]. */
  value?: number;
  /** Rescale to global norm at most c. */
  norm?: number;
}

/**
 * Wraps a gradient function so that the optimizer sees clipped gradients; `onNorm` receives ‖g‖ before
 * clipping at every call (to plot it). Composes with any VectorOptimizer: `opt.step(θ, clipped(grad, {norm: 1}))`.
 */
export function clipped(gradientAt: GradientAt, opts: ClipOptions, onNorm?: (norm: number) => void): GradientAt {
  if (opts.value !== undefined && !(opts.value > 0)) throw new Error(`clipped: value must be a positive number, got ${opts.value}`);
  if (opts.norm !== undefined) checkMaxNorm(opts.norm);
  return (theta) => {
    let g = gradientAt(theta);
    onNorm?.(globalNorm(g));
    if (opts.value !== undefined) g = clipByValue(g, -opts.value, opts.value);
    if (opts.norm !== undefined) g = clipByGlobalNorm(g, opts.norm).clipped;
    return g;
  };
}

/**
 * Normalization (seeds 002 and 003): input standardization, batch normalization and layer normalization,
 * each with a hand-written backward pass.
 *
 *   standardization   μ_j = (1/N) Σ_i x_ij,  σ_j² = 1/(N-1) Σ_i (x_ij - μ_j)²,  x̂_j = (x_j - μ_j)/√(σ_j² + ε)
 *   batch norm        per unit, over the b samples of a mini-batch:  s̄ = (s - μ_B)/√(σ_B² + ε),  ŝ = γ s̄ + β
 *   layer norm        per sample, over the M_k units of the layer:   the same with μ_L, σ_L²
 *
 * Batch and layer norm are one computation along different axes (0: samples, 1: units), so they share the
 * code. Variance: seed 002 divides by b - 1, seed 003, the original paper and tfjs by b; `variance` picks
 * ("population", 1/b, is the default so that the numbers match tf.layers; "sample" is 1/(b-1)).
 *
 * Two forms: float64 on number[][] (`normForward64`/`normBackward64`, for the gradient check) and tfjs
 * tensors (`normForward`/`normBackward`), which the BatchNorm and LayerNorm layers (lib/nn/normalization.ts)
 * use for training.
 */
import * as tf from "@tensorflow/tfjs";

/** Which divisor the variance uses: "population" 1/b (tfjs, seed 003), "sample" 1/(b-1) (seed 002). */
export type VarianceKind = "population" | "sample";

/** 0: normalize each column over the rows (batch norm); 1: each row over the columns (layer norm). */
export type NormAxis = 0 | 1;

function checkEps(who: string, eps: number): void {
  if (!(typeof eps === "number" && eps >= 0 && Number.isFinite(eps))) throw new Error(`${who}: ε must be a small number ≥ 0, got ${eps}`);
}
function divisor(who: string, n: number, kind: VarianceKind): number {
  if (kind !== "population" && kind !== "sample") throw new Error(`${who}: variance must be "population" or "sample", got "${kind}"`);
  const d = kind === "sample" ? n - 1 : n;
  if (d < 1) throw new Error(`${who}: cannot estimate a ${kind} variance from ${n} value${n === 1 ? "" : "s"}; use a larger batch (or layer)`);
  return d;
}

// ---------------------------------------------------------------------------------------------------
// Input standardization
// ---------------------------------------------------------------------------------------------------

export interface Standardizer {
  /** μ_j per feature. */
  mean: Float64Array;
  /** σ_j² per feature, with 1/(N-1). */
  variance: Float64Array;
  eps: number;
  /** x̂ = (x - μ)/√(σ² + ε) for rows of x [n, d], with the statistics of the training set. */
  apply(x: tf.Tensor2D): tf.Tensor2D;
}

/**
 * Fits the lecture's standardization on training inputs x [N, d] (statistics in float64): apply it to the
 * training, validation and test sets alike. ε (default 1e-8) keeps constant features (MNIST's border
 * pixels, σ = 0) at 0 instead of 0/0.
 */
export function fitStandardizer(x: tf.Tensor2D, opts: { eps?: number } = {}): Standardizer {
  const eps = opts.eps ?? 1e-8;
  checkEps("fitStandardizer", eps);
  if (x.rank !== 2) throw new Error(`fitStandardizer: x should be [N, d] (samples × features), got [${x.shape.join(", ")}]`);
  const [N, d] = x.shape;
  const dv = divisor("fitStandardizer", N, "sample");
  const values = x.dataSync();
  const mean = new Float64Array(d), variance = new Float64Array(d);
  for (let i = 0; i < N; i++) for (let j = 0; j < d; j++) mean[j] += values[i * d + j] / N;
  for (let i = 0; i < N; i++) for (let j = 0; j < d; j++) variance[j] += (values[i * d + j] - mean[j]) ** 2 / dv;
  const meanT = tf.keep(tf.tensor1d(Float32Array.from(mean)));
  const invStdT = tf.keep(tf.tensor1d(Float32Array.from(variance, (v) => 1 / Math.sqrt(v + eps))));
  return {
    mean, variance, eps,
    apply: (xs) => {
      if (xs.rank !== 2 || xs.shape[1] !== d) throw new Error(`Standardizer.apply: x should be [n, ${d}], got [${xs.shape.join(", ")}]`);
      return tf.tidy(() => tf.mul(tf.sub(xs, meanT), invStdT));
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// float64 reference: normalize along an axis, scale by γ and shift by β
// ---------------------------------------------------------------------------------------------------

export interface NormOptions {
  /** ε inside the root (default 1e-3, tf.layers' default). */
  eps?: number;
  /** Default "population" (1/b). */
  variance?: VarianceKind;
}

export interface NormCache64 {
  axis: NormAxis;
  xhat: number[][];
  /** 1/√(σ² + ε) per group (column for axis 0, row for axis 1). */
  invStd: number[];
  gamma: number[];
  /** The variance's divisor (b or b-1) and the group size. */
  d: number;
  n: number;
}

/** Normalizes x [rows][cols] along `axis`, then ŝ = γ x̂ + β with γ, β per column. float64. */
export function normForward64(x: number[][], gamma: number[], beta: number[], axis: NormAxis, opts: NormOptions = {}): { out: number[][]; cache: NormCache64 } {
  const eps = opts.eps ?? 1e-3;
  checkEps("normForward64", eps);
  const rows = x.length, cols = x[0]?.length ?? 0;
  if (gamma.length !== cols || beta.length !== cols) throw new Error(`normForward64: γ and β need ${cols} entries (one per column), got ${gamma.length} and ${beta.length}`);
  const n = axis === 0 ? rows : cols, groups = axis === 0 ? cols : rows;
  const d = divisor("normForward64", n, opts.variance ?? "population");
  const at = (g: number, k: number) => (axis === 0 ? x[k][g] : x[g][k]);
  const xhat = x.map((r) => r.slice());
  const invStd: number[] = [];
  for (let g = 0; g < groups; g++) {
    let mu = 0, v = 0;
    for (let k = 0; k < n; k++) mu += at(g, k) / n;
    for (let k = 0; k < n; k++) v += (at(g, k) - mu) ** 2 / d;
    invStd.push(1 / Math.sqrt(v + eps));
    for (let k = 0; k < n; k++) {
      const val = (at(g, k) - mu) * invStd[g];
      if (axis === 0) xhat[k][g] = val;
      else xhat[g][k] = val;
    }
  }
  const out = xhat.map((r) => r.map((v, j) => gamma[j] * v + beta[j]));
  return { out, cache: { axis, xhat, invStd, gamma: gamma.slice(), d, n } };
}

/**
 * Backward of normForward64. With dx̂ = dout·γ, in each group of n values:
 *   dx = (1/√(σ² + ε)) · (dx̂ - mean(dx̂) - x̂ · (n/d) · mean(dx̂ ⊙ x̂)),
 *   dγ_j = Σ_rows dout·x̂,  dβ_j = Σ_rows dout.
 */
export function normBackward64(dout: number[][], cache: NormCache64): { dx: number[][]; dgamma: number[]; dbeta: number[] } {
  const { axis, xhat, invStd, gamma, d, n } = cache;
  const rows = xhat.length, cols = xhat[0].length;
  const dgamma = new Array<number>(cols).fill(0), dbeta = new Array<number>(cols).fill(0);
  const dxhat = dout.map((r, i) => r.map((v, j) => {
    dgamma[j] += v * xhat[i][j];
    dbeta[j] += v;
    return v * gamma[j];
  }));
  const dx = dxhat.map((r) => r.slice());
  const groups = axis === 0 ? cols : rows;
  const get = (m: number[][], g: number, k: number) => (axis === 0 ? m[k][g] : m[g][k]);
  for (let g = 0; g < groups; g++) {
    let meanD = 0, meanDX = 0;
    for (let k = 0; k < n; k++) {
      meanD += get(dxhat, g, k) / n;
      meanDX += (get(dxhat, g, k) * get(xhat, g, k)) / n;
    }
    for (let k = 0; k < n; k++) {
      const v = invStd[g] * (get(dxhat, g, k) - meanD - get(xhat, g, k) * (n / d) * meanDX);
      if (axis === 0) dx[k][g] = v;
      else dx[g][k] = v;
    }
  }
  return { dx, dgamma, dbeta };
}

// ---------------------------------------------------------------------------------------------------
// Tensor form (float32), the same formulas with tfjs ops
// ---------------------------------------------------------------------------------------------------

export interface NormCache {
  axis: NormAxis;
  xhat: tf.Tensor2D;
  invStd: tf.Tensor2D;
  gamma: tf.Tensor1D;
  d: number;
  n: number;
}

/** Mean and variance of x along `axis` (kept as a [1, cols] or [rows, 1] tensor). */
export function momentsAlong(x: tf.Tensor2D, axis: NormAxis, kind: VarianceKind = "population"): { mean: tf.Tensor2D; variance: tf.Tensor2D } {
  return tf.tidy(() => {
    const n = x.shape[axis];
    const mean = tf.mean(x, axis, true) as tf.Tensor2D;
    const variance = tf.div(tf.sum(tf.square(tf.sub(x, mean)), axis, true), divisor("momentsAlong", n, kind)) as tf.Tensor2D;
    return { mean, variance };
  });
}

/**
 * x̂ = (x - μ)/√(σ² + ε) along `axis` (with the batch's own statistics unless `stats` are given, as batch
 * norm's running averages at inference), then ŝ = γ x̂ + β. The cache's tensors are kept: release them with
 * `disposeCache`. With given stats the backward treats them as constants.
 */
export function normForward(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, axis: NormAxis, opts: NormOptions & { stats?: { mean: tf.Tensor; variance: tf.Tensor } } = {}): { out: tf.Tensor2D; cache: NormCache; mean: tf.Tensor2D; variance: tf.Tensor2D } {
  const eps = opts.eps ?? 1e-3;
  checkEps("normForward", eps);
  if (x.rank !== 2) throw new Error(`normForward: x should be [rows, cols], got [${x.shape.join(", ")}]`);
  const cols = x.shape[1];
  if (gamma.size !== cols || beta.size !== cols) throw new Error(`normForward: γ and β need ${cols} entries (one per unit), got ${gamma.size} and ${beta.size}`);
  const n = x.shape[axis];
  const d = opts.stats ? n : divisor("normForward", n, opts.variance ?? "population");
  const [out, mean, variance, xhat, invStd, g] = tf.tidy(() => {
    const { mean, variance } = opts.stats
      ? { mean: tf.reshape(opts.stats.mean, [1, cols]) as tf.Tensor2D, variance: tf.reshape(opts.stats.variance, [1, cols]) as tf.Tensor2D }
      : momentsAlong(x, axis, opts.variance);
    const invStd = tf.rsqrt(tf.add(variance, eps)) as tf.Tensor2D;
    const xhat = tf.mul(tf.sub(x, mean), invStd) as tf.Tensor2D;
    const out = tf.add(tf.mul(xhat, gamma), beta) as tf.Tensor2D;
    return [out, mean, variance, xhat, invStd, gamma.clone()];
  }) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
  // With fixed statistics nothing flows back through μ and σ²: marked by d = 0.
  return { out, mean, variance, cache: { axis, xhat, invStd, gamma: g, d: opts.stats ? 0 : d, n } };
}

/** Backward of normForward (the formula of normBackward64, with tfjs ops). The caller disposes the results. */
export function normBackward(dout: tf.Tensor2D, cache: NormCache): { dx: tf.Tensor2D; dgamma: tf.Tensor1D; dbeta: tf.Tensor1D } {
  return tf.tidy(() => {
    const { axis, xhat, invStd, gamma, d, n } = cache;
    const dgamma = tf.sum(tf.mul(dout, xhat), 0) as tf.Tensor1D;
    const dbeta = tf.sum(dout, 0) as tf.Tensor1D;
    const dxhat = tf.mul(dout, gamma);
    if (d === 0) return { dx: tf.mul(dxhat, invStd) as tf.Tensor2D, dgamma, dbeta };
    const meanD = tf.mean(dxhat, axis, true);
    const meanDX = tf.mean(tf.mul(dxhat, xhat), axis, true);
    const dx = tf.mul(invStd, tf.sub(tf.sub(dxhat, meanD), tf.mul(xhat, tf.mul(meanDX, n / d)))) as tf.Tensor2D;
    return { dx, dgamma, dbeta };
  });
}

/** Releases the tensors a forward pass kept for the backward pass. */
export function disposeCache(cache: NormCache): void {
  tf.dispose([cache.xhat, cache.invStd, cache.gamma]);
}

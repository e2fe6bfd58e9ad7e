/**
 * A restricted Boltzmann machine in float64 scalar form, small enough to enumerate (lecture 11, seed 003):
 *
 *   Bernoulli–Bernoulli   E(v,h) = −Σ_ij w_ij v_i h_j − Σ_i b_i v_i − Σ_j a_j h_j          v ∈ {0,1}^I, h ∈ {0,1}^J
 *   Gaussian–Bernoulli    E(v,h) = −Σ_ij w_ij v_i h_j + ½ Σ_i (v_i − b_i)² − Σ_j a_j h_j     v ∈ ℝ^I
 *   p(v,h) = e^{−E(v,h)} / Z,   Z = Σ_v Σ_h e^{−E(v,h)}   (an integral over v for Gaussian units)
 *
 * (Seed 003 prints the Gaussian energy with −½ Σ (v_i − b_i)²: with that sign e^{−E} grows without bound in v
 * and Z is infinite; +½ is the energy whose conditional is the N(Σ_j w_ij h_j + b_i, 1) the seed states.)
 *
 * The conditionals factorize:  p(h_j = 1 | v) = σ(Σ_i w_ij v_i + a_j),  p(v_i = 1 | h) = σ(Σ_j w_ij h_j + b_i)
 * (Gaussian: v_i | h ~ N(Σ_j w_ij h_j + b_i, 1)), and summing h out gives the free energy
 *
 *   F(v) = −log Σ_h e^{−E(v,h)} = −Σ_i b_i v_i − Σ_j softplus(Σ_i w_ij v_i + a_j)      (Gaussian: +½ Σ (v_i − b_i)²)
 *   log p(v) = −F(v) − log Z.
 *
 * With J ≲ 16 hidden units log Z is an exact sum over the 2^J hidden states (Gaussian: the v integral is a
 * Gaussian one), and so are the exact log-likelihood and its gradient
 *   ∂ log p / ∂w_ij = E_data[v_i h_j] − E_model[v_i h_j]   (h_j replaced by p(h_j = 1 | v) in the data term),
 * the quantities that CD-k approximates.
 */
import { sigmoid } from "../scratch/activations";
import { Rng } from "../random";

export type VisibleUnits = "bernoulli" | "gaussian";
export const VISIBLE_UNITS: readonly VisibleUnits[] = ["bernoulli", "gaussian"];

/** Parameters in the lecture's notation: W [I][J] (visible × hidden), b [I] visible biases, a [J] hidden biases. */
export interface RbmParams {
  W: number[][];
  b: number[];
  a: number[];
  /** Visible units (default "bernoulli"). */
  visible?: VisibleUnits;
}

/** The log-likelihood gradient (or a CD estimate of it), with the shapes of the parameters. */
export interface RbmGradient {
  W: number[][];
  b: number[];
  a: number[];
}

const MAX_ENUMERATED = 20;

/** softplus(x) = log(1 + e^x), without overflow. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** log Σ e^{x_k}, stable. */
export function logSumExp(xs: number[]): number {
  const m = Math.max(...xs);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}

/** A random RBM for checks: w_ij ~ N(0, std²) (default 1), biases ~ N(0, biasStd²) (default 0.5). */
export function randomParams(rng: Rng, I: number, J: number, opts: { std?: number; biasStd?: number; visible?: VisibleUnits } = {}): RbmParams {
  const std = opts.std ?? 1, biasStd = opts.biasStd ?? 0.5;
  return {
    W: Array.from({ length: I }, () => Array.from({ length: J }, () => rng.normal(0, std))),
    b: Array.from({ length: I }, () => rng.normal(0, biasStd)),
    a: Array.from({ length: J }, () => rng.normal(0, biasStd)),
    visible: opts.visible ?? "bernoulli",
  };
}

/** n random binary rows of length I (each unit on with probability p, default ½). */
export function randomBinaryRows(rng: Rng, n: number, I: number, p = 0.5): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: I }, () => rng.bernoulli(p)));
}

/** All 2^n binary vectors of length n, in counting order (first unit is the most significant bit). */
export function binaryStates(n: number): number[][] {
  if (!Number.isInteger(n) || n < 0 || n > MAX_ENUMERATED) throw new Error(`binaryStates: n must be an integer in 0..${MAX_ENUMERATED}, got ${n}`);
  const out: number[][] = [];
  for (let k = 0; k < 2 ** n; k++) out.push(Array.from({ length: n }, (_, i) => (k >> (n - 1 - i)) & 1));
  return out;
}

function check(p: RbmParams, where: string): { I: number; J: number; visible: VisibleUnits } {
  const I = p.W.length;
  const J = I > 0 ? p.W[0].length : 0;
  if (I === 0 || J === 0 || p.W.some((row) => row.length !== J)) throw new Error(`${where}: W must be a non-empty I×J array (visible × hidden)`);
  if (p.b.length !== I || p.a.length !== J) throw new Error(`${where}: b needs ${I} entries (visible) and a ${J} (hidden), got ${p.b.length} and ${p.a.length}`);
  const visible = p.visible ?? "bernoulli";
  if (!VISIBLE_UNITS.includes(visible)) throw new Error(`${where}: visible must be one of ${VISIBLE_UNITS.join(", ")}, got "${visible}"`);
  return { I, J, visible };
}

function checkVector(where: string, x: number[], n: number, what: string): void {
  if (x.length !== n) throw new Error(`${where}: ${what} needs ${n} entries, got ${x.length}`);
}

/** Σ_i w_ij v_i + a_j for every hidden unit j. */
function hiddenInput(p: RbmParams, v: number[]): number[] {
  return p.a.map((aj, j) => v.reduce((s, vi, i) => s + vi * p.W[i][j], aj));
}

/** Σ_j w_ij h_j + b_i for every visible unit i. */
function visibleInput(p: RbmParams, h: number[]): number[] {
  return p.b.map((bi, i) => h.reduce((s, hj, j) => s + hj * p.W[i][j], bi));
}

/** E(v, h). */
export function energy(p: RbmParams, v: number[], h: number[]): number {
  const { I, J, visible } = check(p, "energy");
  checkVector("energy", v, I, "v");
  checkVector("energy", h, J, "h");
  let e = 0;
  for (let i = 0; i < I; i++) for (let j = 0; j < J; j++) e -= p.W[i][j] * v[i] * h[j];
  for (let i = 0; i < I; i++) e += visible === "gaussian" ? 0.5 * (v[i] - p.b[i]) ** 2 : -p.b[i] * v[i];
  for (let j = 0; j < J; j++) e -= p.a[j] * h[j];
  return e;
}

/** F(v) = −log Σ_h e^{−E(v,h)}. */
export function freeEnergy(p: RbmParams, v: number[]): number {
  const { I, visible } = check(p, "freeEnergy");
  checkVector("freeEnergy", v, I, "v");
  const visibleTerm = visible === "gaussian"
    ? v.reduce((s, vi, i) => s + 0.5 * (vi - p.b[i]) ** 2, 0)
    : -v.reduce((s, vi, i) => s + p.b[i] * vi, 0);
  return visibleTerm - hiddenInput(p, v).reduce((s, x) => s + softplus(x), 0);
}

/** p(h_j = 1 | v) for every j. */
export function hiddenProbs(p: RbmParams, v: number[]): number[] {
  const { I } = check(p, "hiddenProbs");
  checkVector("hiddenProbs", v, I, "v");
  return hiddenInput(p, v).map(sigmoid);
}

/** E[v_i | h]: p(v_i = 1 | h) for Bernoulli units, the Gaussian's mean Σ_j w_ij h_j + b_i otherwise. */
export function visibleMean(p: RbmParams, h: number[]): number[] {
  const { J, visible } = check(p, "visibleMean");
  checkVector("visibleMean", h, J, "h");
  const x = visibleInput(p, h);
  return visible === "gaussian" ? x : x.map(sigmoid);
}

/** −log of the unnormalized p(h) = Σ_v e^{−E(v,h)} (the "free energy of h"), up to the Gaussian's (2π)^{I/2}. */
function hiddenFreeEnergy(p: RbmParams, h: number[], visible: VisibleUnits): number {
  const ah = h.reduce((s, hj, j) => s + p.a[j] * hj, 0);
  const x = visibleInput(p, h);
  if (visible === "gaussian") {
    // ∫ exp(vᵀWh − ½|v − b|²) dv = (2π)^{I/2} exp(½|b + Wh|² − ½|b|²)
    return -ah - 0.5 * x.reduce((s, xi) => s + xi * xi, 0) + 0.5 * p.b.reduce((s, bi) => s + bi * bi, 0);
  }
  return -ah - x.reduce((s, xi) => s + softplus(xi), 0);
}

/** log Z, summed over the 2^J hidden states (Gaussian units: the integral over v is done in closed form). */
export function exactLogZ(p: RbmParams): number {
  const { I, J, visible } = check(p, "exactLogZ");
  if (J > MAX_ENUMERATED) throw new Error(`exactLogZ: ${J} hidden units means 2^${J} states; enumerate at most ${MAX_ENUMERATED}`);
  const terms = binaryStates(J).map((h) => -hiddenFreeEnergy(p, h, visible));
  return logSumExp(terms) + (visible === "gaussian" ? 0.5 * I * Math.log(2 * Math.PI) : 0);
}

/** log p(v) = −F(v) − log Z (a density for Gaussian units). */
export function exactLogProb(p: RbmParams, v: number[], logZ = exactLogZ(p)): number {
  return -freeEnergy(p, v) - logZ;
}

/** Mean log-likelihood of the rows of `data`. */
export function exactLogLikelihood(p: RbmParams, data: number[][]): number {
  if (data.length === 0) throw new Error("exactLogLikelihood: data has no rows");
  const logZ = exactLogZ(p);
  return data.reduce((s, v) => s + exactLogProb(p, v, logZ), 0) / data.length;
}

/** E_data[v hᵀ], E_data[v], E_data[h] with h_j replaced by p(h_j = 1 | v): the positive phase. */
export function positiveStatistics(p: RbmParams, data: number[][]): RbmGradient {
  const { I, J } = check(p, "positiveStatistics");
  const W = zeros(I, J), b = new Array<number>(I).fill(0), a = new Array<number>(J).fill(0);
  for (const v of data) {
    const ph = hiddenProbs(p, v);
    for (let i = 0; i < I; i++) {
      b[i] += v[i] / data.length;
      for (let j = 0; j < J; j++) W[i][j] += (v[i] * ph[j]) / data.length;
    }
    for (let j = 0; j < J; j++) a[j] += ph[j] / data.length;
  }
  return { W, b, a };
}

/** E_model[v hᵀ], E_model[v], E_model[h] by enumeration over h: the exact negative phase. */
export function modelStatistics(p: RbmParams): RbmGradient {
  const { I, J, visible } = check(p, "modelStatistics");
  const states = binaryStates(J);
  const logw = states.map((h) => -hiddenFreeEnergy(p, h, visible));
  const logZh = logSumExp(logw);
  const W = zeros(I, J), b = new Array<number>(I).fill(0), a = new Array<number>(J).fill(0);
  states.forEach((h, k) => {
    const ph = Math.exp(logw[k] - logZh);
    const m = visibleMean(p, h);   // E[v | h]
    for (let i = 0; i < I; i++) {
      b[i] += ph * m[i];
      for (let j = 0; j < J; j++) W[i][j] += ph * m[i] * h[j];
    }
    for (let j = 0; j < J; j++) a[j] += ph * h[j];
  });
  return { W, b, a };
}

/** Exact ∂/∂θ of the mean log-likelihood: positive phase − negative phase, for W, b and a. */
export function exactGradient(p: RbmParams, data: number[][]): RbmGradient {
  if (data.length === 0) throw new Error("exactGradient: data has no rows");
  return subtract(positiveStatistics(p, data), modelStatistics(p));
}

/** Σ_i log p(v_i | v_{−i}) = Σ_i log σ(F(v with bit i flipped) − F(v)), for binary v (Bernoulli units). */
export function exactPseudoLogLikelihood(p: RbmParams, v: number[]): number {
  const { visible } = check(p, "exactPseudoLogLikelihood");
  if (visible !== "bernoulli") throw new Error("exactPseudoLogLikelihood: defined here for Bernoulli visible units only");
  const f = freeEnergy(p, v);
  return v.reduce((s, vi, i) => {
    const flipped = v.slice();
    flipped[i] = 1 - vi;
    return s + Math.log(sigmoid(freeEnergy(p, flipped) - f));
  }, 0);
}

/** x − y, entry by entry. */
export function subtract(x: RbmGradient, y: RbmGradient): RbmGradient {
  return {
    W: x.W.map((row, i) => row.map((w, j) => w - y.W[i][j])),
    b: x.b.map((v, i) => v - y.b[i]),
    a: x.a.map((v, j) => v - y.a[j]),
  };
}

/** All entries of a gradient in one list (W row by row, then b, then a): for norms and comparisons. */
export function flattenGradient(g: RbmGradient): number[] {
  return [...g.W.flat(), ...g.b, ...g.a];
}

function zeros(I: number, J: number): number[][] {
  return Array.from({ length: I }, () => new Array<number>(J).fill(0));
}

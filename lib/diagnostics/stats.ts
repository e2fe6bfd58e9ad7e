/**
 * Plain statistics of a layer's numbers (float64 arithmetic on any array of numbers): mean, variance,
 * percentiles, norms, and the two health checks of a hidden layer that lectures 03–05 watch:
 *   - saturated units: a bounded activation stuck near its limits (sigmoid near 0 or 1, tanh and softsign
 *     near ±1), where g' is almost 0 and almost no gradient gets through;
 *   - dead units: a ReLU-like unit whose output is ≤ 0 for every sample of a batch (ReLU: exactly 0, so
 *     g' = 0 and its incoming weights never change again; LeakyReLU/ELU/PReLU: only the small negative
 *     slope is left, the unit is "in a coma" rather than dead).
 */
import { ActivationName } from "../scratch/activations";
import { DivergedError } from "../train/train";

type Numbers = ArrayLike<number>;

/** Percentiles reported by default: the median, the quartiles and the 5 %/95 % tails. */
export const DEFAULT_PERCENTILES: readonly number[] = [5, 25, 50, 75, 95];
/** Default distance ε to a bound that counts as saturated (sigmoid: s < ε or s > 1 − ε). */
export const DEFAULT_SATURATION_THRESHOLD = 0.01;

/** Mean, spread and percentiles of a set of numbers. */
export interface Summary {
  n: number;
  mean: number;
  /** Population variance (1/n Σ (v − mean)²). */
  variance: number;
  std: number;
  min: number;
  max: number;
  /** The percentiles asked for, in [0, 100]. */
  ps: number[];
  /** percentiles[k] is the ps[k]-th percentile. */
  percentiles: number[];
}

function checkNonEmpty(where: string, values: Numbers): void {
  if (values.length === 0) throw new Error(`${where}: got no values; give at least one number`);
}

/** Arithmetic mean. */
export function mean(values: Numbers): number {
  checkNonEmpty("mean", values);
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s / values.length;
}

/** Population variance 1/n Σ (v − mean)² (two passes, so it is exact for large means too). */
export function variance(values: Numbers): number {
  const m = mean(values);
  let s = 0;
  for (let i = 0; i < values.length; i++) s += (values[i] - m) ** 2;
  return s / values.length;
}

/** Euclidean norm √(Σ v²). */
export function l2Norm(values: Numbers): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  return Math.sqrt(s);
}

function checkPercentile(p: number): void {
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile must be in [0, 100], got ${p}`);
}

/** The p-th percentile of already sorted values, interpolating linearly between ranks (NumPy's default). */
function sortedPercentile(sorted: Numbers, p: number): number {
  const pos = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Several percentiles (each in [0, 100]) with one sort; linear interpolation as NumPy's default. */
export function percentiles(values: Numbers, ps: readonly number[]): number[] {
  checkNonEmpty("percentiles", values);
  ps.forEach(checkPercentile);
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  return ps.map((p) => sortedPercentile(sorted, p));
}

/** The p-th percentile (p in [0, 100]). */
export function percentile(values: Numbers, p: number): number {
  return percentiles(values, [p])[0];
}

/**
 * Mean, variance, std, min, max and percentiles `ps` of the values. NaN among them throws a DivergedError:
 * while training (e.g. in a Recorder) that is what `train` with onDiverge "stop" ends on.
 */
export function summarize(values: Numbers, ps: readonly number[] = DEFAULT_PERCENTILES): Summary {
  checkNonEmpty("summarize", values);
  ps.forEach(checkPercentile);
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  if (Number.isNaN(sorted[sorted.length - 1])) throw new DivergedError("summarize: the values contain NaN (did training diverge?)");
  const m = mean(sorted);
  const v = variance(sorted);
  return {
    n: sorted.length,
    mean: m,
    variance: v,
    std: Math.sqrt(v),
    min: sorted[0],
    max: sorted[sorted.length - 1],
    ps: ps.slice(),
    percentiles: ps.map((p) => sortedPercentile(sorted, p)),
  };
}

/** Activations that saturate, with the interval their output lives in. */
const BOUNDS: Partial<Record<ActivationName, [number, number]>> = {
  sigmoid: [0, 1],
  tanh: [-1, 1],
  softsign: [-1, 1],
};
/** Activations that have a flat (or nearly flat) region for z ≤ 0, where units can die. */
const RECTIFIERS: readonly ActivationName[] = ["relu", "leakyRelu", "elu", "prelu"];

/** True when `saturatedFraction` applies to the activation (sigmoid, tanh, softsign). */
export function saturates(activation: ActivationName): boolean {
  return BOUNDS[activation] !== undefined;
}
/** True when `deadFraction` applies to the activation (relu, leakyRelu, elu, prelu). */
export function canDie(activation: ActivationName): boolean {
  return RECTIFIERS.includes(activation);
}

/**
 * Fraction of the outputs s that sit within `threshold` of a bound of a saturating activation:
 * sigmoid s < ε or s > 1 − ε; tanh and softsign |s| > 1 − ε (ε = threshold, default 0.01).
 * Counts entries (sample × unit pairs), so it is the chance that a unit is saturated on a sample.
 */
export function saturatedFraction(values: Numbers, activation: ActivationName, threshold = DEFAULT_SATURATION_THRESHOLD): number {
  const bounds = BOUNDS[activation];
  if (!bounds) {
    throw new Error(`saturatedFraction: "${activation}" has no bounds to saturate at; it applies to ${Object.keys(BOUNDS).join(", ")}` +
      (canDie(activation) ? ` (for ${activation} measure deadFraction)` : ""));
  }
  if (!(threshold > 0 && threshold < (bounds[1] - bounds[0]) / 2)) {
    throw new Error(`saturatedFraction: threshold must be in (0, ${(bounds[1] - bounds[0]) / 2}), got ${threshold}`);
  }
  checkNonEmpty("saturatedFraction", values);
  const [lo, hi] = bounds;
  let k = 0;
  for (let i = 0; i < values.length; i++) if (values[i] < lo + threshold || values[i] > hi - threshold) k++;
  return k / values.length;
}

/**
 * Fraction of units (columns) that are dead on a batch: outputs s ≤ 0 for every sample (row).
 * `values` is [samples, units] row-major. For ReLU such a unit passes no gradient for any of these
 * samples; for LeakyReLU, ELU and PReLU only the small negative-side slope remains.
 */
export function deadFraction(values: Numbers, units: number, activation?: ActivationName): number {
  if (activation !== undefined && !canDie(activation)) {
    throw new Error(`deadFraction: "${activation}" has no flat region to die in; it applies to ${RECTIFIERS.join(", ")}` +
      (saturates(activation) ? ` (for ${activation} measure saturatedFraction)` : ""));
  }
  if (!Number.isInteger(units) || units < 1) throw new Error(`deadFraction: units must be a positive integer, got ${units}`);
  checkNonEmpty("deadFraction", values);
  if (values.length % units !== 0) {
    throw new Error(`deadFraction: ${values.length} values do not split into rows of ${units} units; give [samples, units] row-major`);
  }
  let dead = 0;
  for (let j = 0; j < units; j++) {
    let alive = false;
    for (let i = j; i < values.length && !alive; i += units) alive = values[i] > 0;
    if (!alive) dead++;
  }
  return dead / units;
}

/** Fraction of entries equal to 0 (e.g. ReLU outputs that are off on a sample). */
export function zeroFraction(values: Numbers): number {
  checkNonEmpty("zeroFraction", values);
  let k = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) k++;
  return k / values.length;
}

/** Mean ± sample standard deviation (n − 1) of a few numbers, e.g. test errors over seeds. */
export function meanStd(values: Numbers): { mean: number; std: number; n: number } {
  const m = mean(values);
  const n = values.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += (values[i] - m) ** 2;
  return { mean: m, std: n > 1 ? Math.sqrt(s / (n - 1)) : 0, n };
}

/**
 * MNIST-1D (Greydanus 2020, "Scaling down deep learning"): a procedurally generated 1-D stand-in for MNIST.
 * Ten hand-made 12-point templates, one per digit, are padded, stretched, scaled, shifted, filled with
 * correlated noise, sprinkled with white noise, sheared and resampled to 40 points. Small enough to train
 * in seconds, hard enough that a linear model (~32 %), an MLP (~68 %) and a CNN (~94 %) separate clearly.
 *
 * This follows the reference generator step by step (shared/reference/MNIST1D.md). The random stream is
 * `Rng`, not NumPy's, so the values differ from the published file; the statistics do not.
 */
import { Rng } from "../random";
import { DataSplits, LabeledSet, makeLabeledSet, subset } from "./mnist";

/** The ten 12-point templates (digits 0–9) before standardization, as published. */
export const MNIST1D_TEMPLATES: readonly (readonly number[])[] = [
  [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
  [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
  [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
  [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
  [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
  [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
  [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
  [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
  [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
  [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
];

/** Options of `makeMnist1d`; every default is the reference generator's. */
export interface Mnist1dOptions {
  /** Number of sequences, a multiple of 10 (an equal share per class). Default 5000. */
  numSamples?: number;
  /** Fraction of the (shuffled) sequences used for training; the rest is test. Default 0.8 (4000 / 1000). */
  trainSplit?: number;
  /** Fraction of the training part held out for validation (taken from its end). Default 0 (no validation). */
  validation?: number;
  /** Range [low, high] of the zero padding appended to a template (integers, both included). Default [36, 60]. */
  padding?: [number, number];
  /** Amplitude scale factor is 1 + scaleCoeff·(u − 0.5). Default 0.4. */
  scaleCoeff?: number;
  /** Circular shift right by k, k uniform in [0, maxTranslation). Default 48. */
  maxTranslation?: number;
  /** Std of the correlated noise that fills the padding. Default 0.25. */
  corrNoiseScale?: number;
  /** Std of the white noise added everywhere. Default 0.02. */
  iidNoiseScale?: number;
  /** Shear slope is shearScale·(u − 0.5). Default 0.75. */
  shearScale?: number;
  /** Apply one fixed random permutation to the positions of every sequence (destroys locality). Default false. */
  shuffleSeq?: boolean;
  /** Length of the final sequences. Default 40. */
  finalSeqLength?: number;
  /** Seed. Default 42. */
  seed?: number;
}

/** What `makeMnist1d` returns. */
export interface Mnist1dData extends DataSplits {
  /** Time axis of the final sequences (the templates' axis resampled, divided by the data std). */
  t: Float32Array;
  /** The standardized templates (rows of 12) and their time axis, as used by the generator. */
  templates: { x: number[][]; t: number[] };
  /** Global mean and std removed from the raw sequences (standardization over train and test together). */
  mean: number;
  std: number;
  /** The position permutation applied with `shuffleSeq`, else undefined. */
  seqPermutation: number[] | undefined;
  /** All options, defaults filled in. */
  options: Required<Mnist1dOptions>;
  classNames: string[];
}

const DEFAULTS: Required<Mnist1dOptions> = {
  numSamples: 5000,
  trainSplit: 0.8,
  validation: 0,
  padding: [36, 60],
  scaleCoeff: 0.4,
  maxTranslation: 48,
  corrNoiseScale: 0.25,
  iidNoiseScale: 0.02,
  shearScale: 0.75,
  shuffleSeq: false,
  finalSeqLength: 40,
  seed: 42,
};

/** Evenly spaced values from a to b, n of them (NumPy's linspace). */
function linspace(a: number, b: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = n === 1 ? a : a + ((b - a) * i) / (n - 1);
  return out;
}

/**
 * The templates as the generator uses them: each row standardized (population std), shifted so it starts
 * at 0, divided by 6; the time axis is 12 points on [-5, 5], divided by 6.
 */
export function mnist1dTemplates(): { x: number[][]; t: number[] } {
  const x = MNIST1D_TEMPLATES.map((row) => {
    const m = row.reduce((a, b) => a + b, 0) / row.length;
    const sd = Math.sqrt(row.reduce((a, b) => a + (b - m) ** 2, 0) / row.length);
    const z = row.map((v) => (v - m) / sd);
    return z.map((v) => (v - z[0]) / 6);
  });
  return { x, t: Array.from(linspace(-5, 5, 12), (v) => v / 6) };
}

/** Linear resampling of x (on an evenly spaced [0, 1] grid) to n points. */
export function resampleLinear(x: ArrayLike<number>, n: number): Float64Array {
  const len = x.length;
  const out = new Float64Array(n);
  if (len === 1) return out.fill(x[0]);
  for (let j = 0; j < n; j++) {
    const pos = n === 1 ? 0 : (j / (n - 1)) * (len - 1);
    const i0 = Math.min(Math.floor(pos), len - 2);
    const f = pos - i0;
    // Written so that two equal neighbours give that value exactly (keeps the zero padding exactly 0).
    out[j] = x[i0] + f * (x[i0 + 1] - x[i0]);
  }
  return out;
}

/** SciPy's gaussian_filter1d: Gaussian kernel of std sigma truncated at 4σ, "reflect" borders (d c b a | a b c d). */
export function gaussianFilter1d(x: ArrayLike<number>, sigma: number): Float64Array {
  const radius = Math.floor(4 * sigma + 0.5);
  const w = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let k = -radius; k <= radius; k++) sum += w[k + radius] = Math.exp((-0.5 * k * k) / (sigma * sigma));
  for (let k = 0; k < w.length; k++) w[k] /= sum;
  const n = x.length;
  const reflect = (i: number): number => {
    // Repeated reflection handles kernels wider than the signal.
    const period = 2 * n;
    let r = ((i % period) + period) % period;
    if (r >= n) r = period - 1 - r;
    return r;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let k = -radius; k <= radius; k++) acc += w[k + radius] * x[reflect(i + k)];
    out[i] = acc;
  }
  return out;
}

function checkOptions(o: Required<Mnist1dOptions>): void {
  const bad = (what: string) => {
    throw new Error(`makeMnist1d: ${what}`);
  };
  if (!Number.isInteger(o.numSamples) || o.numSamples < 10 || o.numSamples % 10 !== 0) {
    bad(`numSamples must be a positive multiple of 10 (an equal share per class), got ${o.numSamples}`);
  }
  if (!(o.trainSplit > 0 && o.trainSplit < 1)) bad(`trainSplit must be in (0, 1), got ${o.trainSplit}`);
  if (!(o.validation >= 0 && o.validation < 1)) bad(`validation must be a fraction in [0, 1), got ${o.validation}`);
  const [lo, hi] = o.padding;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi < lo) {
    bad(`padding must be two integers 0 ≤ low ≤ high, got [${o.padding.join(", ")}]`);
  }
  if (!Number.isInteger(o.maxTranslation) || o.maxTranslation < 1) {
    bad(`maxTranslation must be an integer ≥ 1 (shifts are drawn from [0, maxTranslation)), got ${o.maxTranslation}`);
  }
  if (!Number.isInteger(o.finalSeqLength) || o.finalSeqLength < 2) {
    bad(`finalSeqLength must be an integer ≥ 2, got ${o.finalSeqLength}`);
  }
  for (const k of ["scaleCoeff", "corrNoiseScale", "iidNoiseScale", "shearScale"] as const) {
    if (!(o[k] >= 0) || !Number.isFinite(o[k])) bad(`${k} must be a finite number ≥ 0, got ${o[k]}`);
  }
}

/** One example from template x, transformed in the reference order (steps 1–8 of MNIST1D.md). */
function transform(x: number[], o: Required<Mnist1dOptions>, rng: Rng): Float64Array {
  const [lo, hi] = o.padding;
  // 1. non-zero signal, then p zeros of padding
  const p = rng.int(lo, hi + 1);
  const padded = new Float64Array(x.length + p);
  for (let i = 0; i < x.length; i++) padded[i] = x[i] + 1e-8;
  // 2. resample to templateLen + max padding
  const len = x.length + hi;
  let s = resampleLinear(padded, len);
  // 3. scale
  const scale = 1 + o.scaleCoeff * (rng.random() - 0.5);
  for (let i = 0; i < len; i++) s[i] *= scale;
  // 4. rotate right by k
  const k = rng.int(0, o.maxTranslation);
  if (k % len !== 0) {
    const r = new Float64Array(len);
    for (let i = 0; i < len; i++) r[(i + k) % len] = s[i];
    s = r;
  }
  // 5. the padding (exact zeros) becomes smoothed correlated noise
  const noise = new Float64Array(len);
  for (let i = 0; i < len; i++) noise[i] = o.corrNoiseScale * rng.normal();
  const corr = gaussianFilter1d(noise, 2);
  for (let i = 0; i < len; i++) if (s[i] === 0) s[i] = corr[i];
  // 6. white noise everywhere
  for (let i = 0; i < len; i++) s[i] += o.iidNoiseScale * rng.normal();
  // 7. shear
  const c = o.shearScale * (rng.random() - 0.5);
  const ramp = linspace(-0.5, 0.5, len);
  for (let i = 0; i < len; i++) s[i] -= c * ramp[i];
  // 8. resample to the final length
  return resampleLinear(s, o.finalSeqLength);
}

/**
 * Generates MNIST-1D: `numSamples` sequences (default 5000, 500 per class) of length 40, seeded (default 42),
 * standardized with the global mean and std, split 80/20 into train (4000) and test (1000), in the order of
 * the reference generator. Options change the count, the length, the noise, and can shuffle the positions
 * (`shuffleSeq`) to show what a model loses when locality is destroyed.
 *
 *   const { train, test } = makeMnist1d();           // train.x: Float32Array 4000 × 40
 *   const small = makeMnist1d({ numSamples: 1000, seed: 1 });
 */
export function makeMnist1d(opts: Mnist1dOptions = {}): Mnist1dData {
  const o: Required<Mnist1dOptions> = { ...DEFAULTS, ...opts, padding: [...(opts.padding ?? DEFAULTS.padding)] as [number, number] };
  checkOptions(o);
  const rng = new Rng(o.seed);
  const templates = mnist1dTemplates();
  const perClass = o.numSamples / 10;
  const L = o.finalSeqLength;
  const n = o.numSamples;
  const raw = new Float64Array(n * L);
  const labels = new Int32Array(n);
  // Classes in order, then one permutation of the whole batch (as the reference does).
  for (let c = 0, i = 0; c < 10; c++) {
    for (let e = 0; e < perClass; e++, i++) {
      raw.set(transform(templates.x[c], o, rng), i * L);
      labels[i] = c;
    }
  }
  const order = rng.permutation(n);
  const seqPermutation = o.shuffleSeq ? rng.permutation(L) : undefined;
  const xs = new Float64Array(n * L);
  const ys = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const src = order[r];
    ys[r] = labels[src];
    for (let j = 0; j < L; j++) xs[r * L + j] = raw[src * L + (seqPermutation ? seqPermutation[j] : j)];
  }
  let mean = 0;
  for (let i = 0; i < xs.length; i++) mean += xs[i];
  mean /= xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i] - mean) ** 2;
  const std = Math.sqrt(v / xs.length);
  const x = new Float32Array(xs.length);
  for (let i = 0; i < xs.length; i++) x[i] = (xs[i] - mean) / std;
  const t = Float32Array.from(resampleLinear(templates.t, L), (tv) => tv / std);

  const all = makeLabeledSet(x, ys, [L], 10);
  const nTrainAll = Math.floor(n * o.trainSplit);
  const nVal = Math.round(nTrainAll * o.validation);
  const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
  const train: LabeledSet = subset(all, range(0, nTrainAll - nVal));
  const validation: LabeledSet = subset(all, range(nTrainAll - nVal, nTrainAll));
  const test: LabeledSet = subset(all, range(nTrainAll, n));
  return {
    train,
    validation,
    test,
    t,
    templates,
    mean,
    std,
    seqPermutation,
    options: o,
    classNames: Array.from({ length: 10 }, (_, i) => String(i)),
  };
}

/**
 * Linear regions of ReLU networks (Prince, Understanding Deep Learning, ch. 4; Montúfar et al. 2014;
 * Serra et al. 2018; Hanin & Rolnick 2019).
 *
 * A ReLU net h_k = a[β_{k-1} + Ω_{k-1} h_{k-1}], y = β_K + Ω_K h_K is piecewise linear: every input x has an
 * activation pattern (which hidden units are on, z > 0), and on the set of inputs that share a pattern the
 * net is one affine map. That set is convex (given the pattern, every pre-activation is affine in x and the
 * pattern is a list of linear inequalities), so along a segment each pattern occupies one interval.
 *
 * Everything here works on plain weights in the shared MlpWeights format (lib/scratch/init.ts, float64):
 * `weights[l] = { W, b }` with W[j][i] from unit j of layer l to unit i of layer l+1. By default the last
 * layer is the linear output and every layer before it is a ReLU layer (`{ output: false }`: all are ReLU).
 *
 *  - `regionsOnSegment`: the exact activation regions along x(t) = a + t (b − a), t ∈ [0, 1], in any input
 *    dimension: walking the layers, each interval where the layer's input is affine in t is cut where some
 *    unit's pre-activation changes sign; no sampling.
 *  - `regionsOnGrid`: the same count from a tfjs forward pass over n points of the segment (float32), the
 *    sampled check (it can only miss intervals shorter than the spacing).
 *  - `regionMap2d`: the activation pattern of every point of a 2-D grid, for a picture.
 *  - the bounds: `shallowMaxRegions` (Zaslavsky: Σ_{j=0}^{D_i} C(D, j)), `deepMaxRegions` (the product of
 *    per-layer bounds, Serra et al. 2018, which is (D + 1)^K for one input), `mlpParamCount`.
 *  - `sawtoothNet`: the deep narrow net (2 units per layer) whose K layers fold [0, 1] into 2^K pieces,
 *    and `shallowInterpolant`, the one-hidden-layer net that draws any piecewise-linear function.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import type { LayerWeights, MlpWeights } from "../scratch/init";
import { heNormal } from "../scratch/init";

/** Which layers are ReLU: by default all but the last, which is the linear output. */
export interface ReluNetOptions {
  /** The last layer of `weights` is a linear output layer (default true). */
  output?: boolean;
}

/** The hidden (ReLU) layers and the output layer (if any) of `weights`, after checking every shape. */
export function splitReluNet(weights: MlpWeights, inputs: number, opts: ReluNetOptions = {}): { hidden: LayerWeights[]; output: LayerWeights | undefined } {
  const withOutput = opts.output ?? true;
  if (!Array.isArray(weights) || weights.length < (withOutput ? 2 : 1)) {
    throw new Error(`ReLU net: weights must be a list of { W, b } per layer with at least ${withOutput ? "one hidden layer and the output layer" : "one layer"}, got ${Array.isArray(weights) ? weights.length : typeof weights} layers`);
  }
  let width = inputs;
  weights.forEach(({ W, b }, l) => {
    if (!Array.isArray(W) || W.length !== width) throw new Error(`ReLU net: layer ${l + 1} W should have ${width} rows (one per input of the layer), got ${Array.isArray(W) ? W.length : typeof W}`);
    const units = W[0].length;
    if (!W.every((row) => Array.isArray(row) && row.length === units)) throw new Error(`ReLU net: layer ${l + 1} W has rows of different lengths`);
    if (!Array.isArray(b) || b.length !== units) throw new Error(`ReLU net: layer ${l + 1} b should have ${units} entries, got ${Array.isArray(b) ? b.length : typeof b}`);
    width = units;
  });
  return withOutput ? { hidden: weights.slice(0, -1), output: weights[weights.length - 1] } : { hidden: weights.slice(), output: undefined };
}

/** One interval t ∈ [t0, t1] of a segment on which every hidden unit keeps its state. */
export interface RegionInterval {
  t0: number;
  t1: number;
  /** The activation pattern: one "1" (on, z > 0) or "0" per hidden unit, layer after layer. */
  pattern: string;
  /** The net's outputs on the interval, y(t) = intercept + slope · t (the last hidden layer's with `output: false`). */
  intercept: number[];
  slope: number[];
}

/** The exact regions of a ReLU net along a segment. */
export interface SegmentRegions {
  /** Distinct activation patterns along the segment: the number of activation regions it crosses. */
  regions: number;
  /** Maximal intervals of constant pattern, in order (as many as `regions`: regions are convex). */
  intervals: RegionInterval[];
  /** The t ∈ (0, 1) where the pattern changes (interval ends). */
  breakpoints: number[];
  /** Adjacent intervals merged where the affine map is the same: the linear pieces of the function. */
  linearPieces: number;
  /** The segment's ends. */
  a: number[];
  b: number[];
}

/** Roots closer than this (in t, on [0, 1]) to an interval's end or to each other are the same point. */
const T_EPS = 1e-12;

/**
 * Exact activation regions of a ReLU net along x(t) = a + t (b − a), t ∈ [0, 1] (a, b of the input size).
 * Layer by layer: on each interval the layer's input is h(t) = c + t d, so the pre-activations are
 * z(t) = p + t q; unit i changes sign at t = −p_i / q_i; cutting at those roots gives intervals on which the
 * layer's pattern is constant, and relu keeps h affine on each. Cost: Σ_intervals Σ_layers (units × inputs).
 */
export function regionsOnSegment(weights: MlpWeights, a: ArrayLike<number>, b: ArrayLike<number>, opts: ReluNetOptions = {}): SegmentRegions {
  const A = Array.from(a), B = Array.from(b);
  if (A.length !== B.length || A.length === 0) throw new Error(`regionsOnSegment: a and b must be points of the same input size, got ${A.length} and ${B.length} coordinates`);
  if (![...A, ...B].every(Number.isFinite)) throw new Error("regionsOnSegment: a and b must be finite");
  const { hidden, output } = splitReluNet(weights, A.length, opts);
  type Piece = { t0: number; t1: number; c: number[]; d: number[]; bits: string };
  let pieces: Piece[] = [{ t0: 0, t1: 1, c: A, d: B.map((v, j) => v - A[j]), bits: "" }];
  for (const { W, b: bias } of hidden) {
    const next: Piece[] = [];
    for (const piece of pieces) {
      const { p, q } = affineThrough(W, bias, piece.c, piece.d);
      const roots: number[] = [];
      q.forEach((qi, i) => {
        if (qi === 0) return;
        const r = -p[i] / qi;
        if (r > piece.t0 + T_EPS && r < piece.t1 - T_EPS) roots.push(r);
      });
      roots.sort((x, y) => x - y);
      const cuts = [piece.t0];
      for (const r of roots) if (r - cuts[cuts.length - 1] > T_EPS) cuts.push(r);
      if (piece.t1 - cuts[cuts.length - 1] <= T_EPS && cuts.length > 1) cuts.pop();
      cuts.push(piece.t1);
      for (let k = 0; k + 1 < cuts.length; k++) {
        const mid = (cuts[k] + cuts[k + 1]) / 2;
        const on = p.map((pi, i) => pi + mid * q[i] > 0);
        next.push({
          t0: cuts[k], t1: cuts[k + 1],
          c: p.map((pi, i) => (on[i] ? pi : 0)), d: q.map((qi, i) => (on[i] ? qi : 0)),
          bits: piece.bits + on.map((o) => (o ? "1" : "0")).join(""),
        });
      }
    }
    pieces = next;
  }
  // Merge neighbours with the same pattern (only possible in degenerate cases, e.g. a unit with z ≡ 0).
  const merged: Piece[] = [];
  for (const piece of pieces) {
    const last = merged[merged.length - 1];
    if (last && last.bits === piece.bits) last.t1 = piece.t1;
    else merged.push({ ...piece });
  }
  const intervals: RegionInterval[] = merged.map((piece) => {
    const map = output ? affineThrough(output.W, output.b, piece.c, piece.d) : { p: piece.c, q: piece.d };
    return { t0: piece.t0, t1: piece.t1, pattern: piece.bits, intercept: map.p, slope: map.q };
  });
  let linearPieces = intervals.length > 0 ? 1 : 0;
  for (let k = 1; k < intervals.length; k++) {
    const s0 = intervals[k - 1].slope, s1 = intervals[k].slope;
    const scale = Math.max(1, ...s0.map(Math.abs), ...s1.map(Math.abs));
    if (s0.some((v, i) => Math.abs(v - s1[i]) > 1e-9 * scale)) linearPieces++;
  }
  return {
    regions: new Set(intervals.map((r) => r.pattern)).size,
    intervals,
    breakpoints: intervals.slice(1).map((r) => r.t0),
    linearPieces,
    a: A, b: B,
  };
}

/** p = c W + bias and q = d W: the pre-activations z(t) = p + t q of a layer whose input is c + t d. */
function affineThrough(W: number[][], bias: number[], c: number[], d: number[]): { p: number[]; q: number[] } {
  const p = bias.slice(), q = new Array<number>(bias.length).fill(0);
  for (let j = 0; j < W.length; j++) {
    const cj = c[j], dj = d[j];
    if (cj === 0 && dj === 0) continue;
    const row = W[j];
    for (let i = 0; i < row.length; i++) {
      p[i] += cj * row[i];
      q[i] += dj * row[i];
    }
  }
  return { p, q };
}

/** For a net with one input: the exact regions on the interval [lo, hi], with the breakpoints as x values. */
export function regionsOnInterval(weights: MlpWeights, lo: number, hi: number, opts: ReluNetOptions = {}): SegmentRegions & { xBreakpoints: number[] } {
  if (!(hi > lo)) throw new Error(`regionsOnInterval: needs lo < hi, got [${lo}, ${hi}]`);
  const r = regionsOnSegment(weights, [lo], [hi], opts);
  return { ...r, xBreakpoints: r.breakpoints.map((t) => lo + t * (hi - lo)) };
}

/** The activation pattern of one input x and the net's outputs there (float64, plain loops). */
export function activationPattern(weights: MlpWeights, x: ArrayLike<number>, opts: ReluNetOptions = {}): { pattern: string; y: number[] } {
  const { hidden, output } = splitReluNet(weights, x.length, opts);
  let h = Array.from(x);
  let bits = "";
  for (const { W, b } of hidden) {
    const z = affineThrough(W, b, h, new Array<number>(h.length).fill(0)).p;
    bits += z.map((v) => (v > 0 ? "1" : "0")).join("");
    h = z.map((v) => (v > 0 ? v : 0));
  }
  const y = output ? affineThrough(output.W, output.b, h, new Array<number>(h.length).fill(0)).p : h;
  return { pattern: bits, y };
}

/** Activation patterns of many inputs at once with tfjs (float32): rows of X [n, inputs]. */
export function patternsTf(weights: MlpWeights, X: tf.Tensor2D, opts: ReluNetOptions = {}): string[] {
  const { hidden } = splitReluNet(weights, X.shape[1], opts);
  const masks = tf.tidy(() => {
    let h: tf.Tensor2D = X;
    const out: tf.Tensor2D[] = [];
    for (const { W, b } of hidden) {
      const z = tf.add(tf.matMul(h, tf.tensor2d(W, undefined, "float32")), tf.tensor1d(b, "float32")) as tf.Tensor2D;
      out.push(tf.cast(tf.greater(z, 0), "int32") as tf.Tensor2D);
      h = tf.relu(z);
    }
    return tf.concat(out, 1) as tf.Tensor2D;
  });
  const [n, units] = masks.shape;
  const bits = masks.dataSync();
  masks.dispose();
  const patterns: string[] = new Array(n);
  for (let k = 0; k < n; k++) {
    let s = "";
    for (let i = 0; i < units; i++) s += bits[k * units + i] ? "1" : "0";
    patterns[k] = s;
  }
  return patterns;
}

/** Sampled regions along a segment: the patterns of n evenly spaced points (tfjs forward pass). */
export interface GridRegions {
  /** Distinct patterns among the points. */
  regions: number;
  /** Runs of equal consecutive patterns. */
  runs: number;
  /** The points' parameters t_k = k/(n − 1) and their patterns. */
  t: number[];
  patterns: string[];
}

/** The region count of a fine forward grid on x(t) = a + t (b − a): a lower bound of the exact count. */
export function regionsOnGrid(weights: MlpWeights, a: ArrayLike<number>, b: ArrayLike<number>, n: number, opts: ReluNetOptions = {}): GridRegions {
  const A = Array.from(a), B = Array.from(b);
  if (A.length !== B.length || A.length === 0) throw new Error(`regionsOnGrid: a and b must be points of the same input size, got ${A.length} and ${B.length} coordinates`);
  if (!Number.isInteger(n) || n < 2) throw new Error(`regionsOnGrid: n must be an integer ≥ 2, got ${n}`);
  const t = Array.from({ length: n }, (_, k) => k / (n - 1));
  const X = tf.tidy(() => {
    const tt = tf.tensor2d(t, [n, 1], "float32");
    return tf.add(tf.tensor1d(A, "float32"), tf.mul(tt, tf.tensor1d(B.map((v, j) => v - A[j]), "float32"))) as tf.Tensor2D;
  });
  let patterns: string[];
  try {
    patterns = patternsTf(weights, X, opts);
  } finally {
    X.dispose();
  }
  let runs = 1;
  for (let k = 1; k < n; k++) if (patterns[k] !== patterns[k - 1]) runs++;
  return { regions: new Set(patterns).size, runs, t, patterns };
}

/** A 2-D grid coloured by activation pattern. */
export interface RegionMap {
  x: number[];
  y: number[];
  /** ids[r][c]: the region of the point (x[c], y[r]), numbered in a seeded random order (neighbours get different colours). */
  ids: number[][];
  /** The net's (first) output at each point. */
  out: number[][];
  /** Distinct patterns on the grid (a lower bound of the regions in the square). */
  regions: number;
}

/** Activation patterns over an n × n grid of [x0, x1] × [y0, y1] (a net with two inputs). */
export function regionMap2d(weights: MlpWeights, opts: { x?: [number, number]; y?: [number, number]; n?: number; seed?: number } & ReluNetOptions = {}): RegionMap {
  const [x0, x1] = opts.x ?? [-1, 1], [y0, y1] = opts.y ?? [-1, 1];
  const n = opts.n ?? 200;
  if (!Number.isInteger(n) || n < 2) throw new Error(`regionMap2d: n must be an integer ≥ 2, got ${n}`);
  const xs = Array.from({ length: n }, (_, k) => x0 + ((x1 - x0) * k) / (n - 1));
  const ys = Array.from({ length: n }, (_, k) => y0 + ((y1 - y0) * k) / (n - 1));
  const index = new Map<string, number>();
  const raw: number[][] = [], out: number[][] = [];
  for (const yv of ys) {
    const row: number[] = [], orow: number[] = [];
    for (const xv of xs) {
      const { pattern, y } = activationPattern(weights, [xv, yv], opts);
      if (!index.has(pattern)) index.set(pattern, index.size);
      row.push(index.get(pattern)!);
      orow.push(y[0]);
    }
    raw.push(row);
    out.push(orow);
  }
  const perm = new Rng(opts.seed ?? 1).permutation(index.size);
  return { x: xs, y: ys, ids: raw.map((row) => row.map((k) => perm[k])), out, regions: index.size };
}

// ---------------------------------------------------------------------------------------------------
// Counting formulas
// ---------------------------------------------------------------------------------------------------

/** C(n, k) exactly, as a bigint. */
export function binomial(n: number, k: number): bigint {
  if (!Number.isInteger(n) || !Number.isInteger(k) || n < 0) throw new Error(`binomial: needs integers n ≥ 0, got (${n}, ${k})`);
  if (k < 0 || k > n) return 0n;
  const kk = Math.min(k, n - k);
  let r = 1n;
  for (let i = 1; i <= kk; i++) r = (r * BigInt(n - kk + i)) / BigInt(i);
  return r;
}

function checkCount(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${v}`);
}

/**
 * Most regions a shallow ReLU net with D hidden units on D_i inputs can make: D hyperplanes in general
 * position cut R^{D_i} into Σ_{j=0}^{D_i} C(D, j) regions (Zaslavsky 1975). D_i = 1 gives D + 1.
 */
export function shallowMaxRegions(D: number, Di = 1): bigint {
  checkCount("shallowMaxRegions: D", D, 0);
  checkCount("shallowMaxRegions: D_i", Di, 1);
  let s = 0n;
  for (let j = 0; j <= Math.min(Di, D); j++) s += binomial(D, j);
  return s;
}

/**
 * Upper bound on the regions of a deep ReLU net with hidden widths D_1..D_K on D_i inputs:
 * Π_k Σ_{j=0}^{d_k} C(D_k, j) with d_k = min(D_i, D_1, ..., D_k) (Serra, Tjandraatmadja & Ramalingam 2018),
 * each layer at most multiplying the regions by a shallow net's count. Equal widths on one input: (D + 1)^K.
 */
export function deepMaxRegions(widths: number[], Di = 1): bigint {
  if (!Array.isArray(widths) || widths.length === 0) throw new Error("deepMaxRegions: widths must list the units of every hidden layer");
  widths.forEach((D, k) => checkCount(`deepMaxRegions: width of layer ${k + 1}`, D, 1));
  checkCount("deepMaxRegions: D_i", Di, 1);
  let d = Di, r = 1n;
  for (const D of widths) {
    d = Math.min(d, D);
    r *= shallowMaxRegions(D, d);
  }
  return r;
}

/** Parameters of a fully connected net with layer sizes [inputs, ...hidden, outputs]: Σ (n_{l−1} + 1) n_l. */
export function mlpParamCount(sizes: number[]): number {
  if (!Array.isArray(sizes) || sizes.length < 2) throw new Error(`mlpParamCount: sizes must be [inputs, ...hidden, outputs], got ${JSON.stringify(sizes)}`);
  sizes.forEach((v, k) => checkCount(`mlpParamCount: sizes[${k}]`, v, 1));
  let p = 0;
  for (let l = 1; l < sizes.length; l++) p += (sizes[l - 1] + 1) * sizes[l];
  return p;
}

/** log10 of a positive bigint (to plot or print counts past 2^53). */
export function log10Big(x: bigint): number {
  if (x <= 0n) throw new Error(`log10Big: needs a positive number, got ${x}`);
  const s = x.toString();
  const head = Number(s.slice(0, 17));
  return Math.log10(head) + (s.length - Math.min(17, s.length));
}

/** A bigint with thin spaces every three digits, as Spanish typesetting writes 161 051 (plain numbers too). */
export function groupDigits(x: bigint | number): string {
  const s = typeof x === "bigint" ? x.toString() : String(x);
  return s.length <= 4 ? s : s.replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
}

// ---------------------------------------------------------------------------------------------------
// Nets to count
// ---------------------------------------------------------------------------------------------------

/**
 * A random ReLU net with layer sizes [inputs, ...hidden, outputs]: He-normal weights N(0, 2/fan_in) and
 * biases N(0, biasStd²) (default 1; with zero biases every region of a net touches the origin).
 */
export function randomReluNet(sizes: number[], rng: Rng, opts: { biasStd?: number } = {}): MlpWeights {
  mlpParamCount(sizes);
  const biasStd = opts.biasStd ?? 1;
  if (!(biasStd >= 0) || !Number.isFinite(biasStd)) throw new Error(`randomReluNet: biasStd must be a number ≥ 0, got ${opts.biasStd}`);
  const out: MlpWeights = [];
  for (let l = 1; l < sizes.length; l++) {
    out.push({ W: heNormal(sizes[l - 1], sizes[l], rng), b: Array.from({ length: sizes[l] }, () => (biasStd > 0 ? rng.normal(0, biasStd) : 0)) });
  }
  return out;
}

/**
 * The deep narrow net that folds [0, 1] K times: every layer has two units, h1 = relu(u), h2 = relu(u − ½),
 * and passes on the tent u' = 2 h1 − 4 h2 (u' = 2u for u < ½, 2 − 2u after). K layers (1-2-...-2-1,
 * 6K + 1 parameters) draw the sawtooth with 2^K linear pieces, 2^{K−1} teeth, on [0, 1].
 */
export function sawtoothNet(K: number): MlpWeights {
  checkCount("sawtoothNet: K", K, 1);
  const layers: MlpWeights = [{ W: [[1, 1]], b: [0, -0.5] }];
  for (let k = 2; k <= K; k++) layers.push({ W: [[2, 2], [-4, -4]], b: [0, -0.5] });
  layers.push({ W: [[2], [-4]], b: [0] });
  return layers;
}

/**
 * A one-hidden-layer ReLU net equal on [x_0, x_m] to the piecewise-linear function through the points
 * (xs[k], ys[k]) (xs increasing): y = y_0 + s_0 relu(x − x_0) + Σ_{k=1}^{m−1} (s_k − s_{k−1}) relu(x − x_k),
 * with s_k the slope of piece k. m pieces take m units (one per kink, plus one for the first slope).
 */
export function shallowInterpolant(xs: number[], ys: number[]): MlpWeights {
  if (xs.length !== ys.length || xs.length < 2) throw new Error(`shallowInterpolant: needs as many ys as xs, at least 2, got ${xs.length} and ${ys.length}`);
  for (let k = 1; k < xs.length; k++) if (!(xs[k] > xs[k - 1])) throw new Error(`shallowInterpolant: xs must increase, xs[${k}] = ${xs[k]} ≤ xs[${k - 1}] = ${xs[k - 1]}`);
  const slopes = xs.slice(1).map((x, k) => (ys[k + 1] - ys[k]) / (x - xs[k]));
  const m = slopes.length;
  const W1 = [new Array<number>(m).fill(1)];
  const b1 = xs.slice(0, m).map((x) => -x);
  const out = slopes.map((s, k) => (k === 0 ? s : s - slopes[k - 1]));
  return [{ W: W1, b: b1 }, { W: out.map((v) => [v]), b: [ys[0]] }];
}

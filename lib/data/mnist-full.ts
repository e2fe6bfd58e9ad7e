/**
 * Full MNIST (60 000 training + 10 000 test digits) in the same form as the embedded set's `loadMnist`:
 * the four IDX files come from the downloader (download.ts), are decoded (idx.ts) and split into
 * train / validation / test.
 */
import { Rng } from "../random";
import { DataSplits, MNIST_SIDE, splitPixels, splitSizes } from "./mnist";
import { IdxFormatError, readIdxFile } from "./idx";
import { DownloadOptions, IdxFileSpec, MNIST_FILES, ensureMnistFiles } from "./download";

/** Options of `loadFullMnist`: the downloader's plus how to split. */
export interface FullMnistOptions extends DownloadOptions {
  /** Seed of the validation split and of the limits' samples. Default 0. */
  seed?: number;
  /** Fraction of the 60 000 training digits held out for validation (stratified). Default 0.1. */
  validation?: number;
  /** Use only this many of the training digits (stratified sample, before the validation split). */
  trainLimit?: number;
  /** Use only this many of the test digits (stratified sample). */
  testLimit?: number;
}

/** Full MNIST in the same form as `loadMnist`'s result. */
export interface FullMnistData extends DataSplits {
  classNames: string[];
  seed: number;
  source: string;
}

interface DecodedPart {
  pixels: Float32Array;
  labels: Int32Array;
}

const decoded = new Map<string, DecodedPart>();

function decodePart(imagesFile: string, labelsFile: string, imgSpec: IdxFileSpec, lblSpec: IdxFileSpec): DecodedPart {
  const key = `${imagesFile}|${labelsFile}`;
  const hit = decoded.get(key);
  if (hit) return hit;
  const img = readIdxFile(imagesFile, { dtype: "uint8", shape: imgSpec.shape });
  const lbl = readIdxFile(labelsFile, { dtype: "uint8", shape: lblSpec.shape });
  if (img.shape[0] !== lbl.shape[0]) {
    throw new IdxFormatError(`${imagesFile} has ${img.shape[0]} images but ${labelsFile} has ${lbl.shape[0]} labels`);
  }
  const pixels = new Float32Array(img.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = img.data[i] / 255;
  const labels = Int32Array.from(lbl.data);
  const bad = labels.findIndex((v) => v > 9);
  if (bad >= 0) throw new IdxFormatError(`${labelsFile}: label ${labels[bad]} at index ${bad} is not a digit 0–9`);
  const part = { pixels, labels };
  decoded.set(key, part);
  return part;
}

/**
 * Full MNIST (60 000 + 10 000 digits, pixels scaled to [0, 1]), downloaded on first use into the cache and
 * verified. Validation is a stratified, seeded part of the official training set; test is the official
 * test set (or a stratified sample of it with `testLimit`). Offline it fails at once with instructions for
 * placing the files by hand; the embedded set (`loadMnist`) always works.
 */
export async function loadFullMnist(opts: FullMnistOptions = {}): Promise<FullMnistData> {
  const files = opts.files ?? MNIST_FILES;
  const paths = await ensureMnistFiles(opts);
  const train = decodePart(paths.trainImages, paths.trainLabels, files.trainImages, files.trainLabels);
  const test = decodePart(paths.testImages, paths.testLabels, files.testImages, files.testLabels);
  const seed = opts.seed ?? 0;
  const rng = new Rng(seed);
  const limit = (value: number | undefined, available: number, name: string) => {
    const v = value ?? available;
    if (!Number.isInteger(v) || v < 1 || v > available) {
      throw new Error(`loadFullMnist: ${name} must be an integer between 1 and ${available}, got ${value}`);
    }
    return v;
  };
  const nTrainPool = limit(opts.trainLimit, train.labels.length, "trainLimit");
  const nTest = limit(opts.testLimit, test.labels.length, "testLimit");
  const [nTrain, nVal] = splitSizes(nTrainPool, opts.validation ?? 0.1, 0, "loadFullMnist");
  const shape = [MNIST_SIDE, MNIST_SIDE];
  const fromTrain = splitPixels(train.pixels, train.labels, [nTrain, nVal, 0], rng, shape, 10);
  const fromTest = splitPixels(test.pixels, test.labels, [0, 0, nTest], rng, shape, 10);
  return {
    train: fromTrain.train,
    validation: fromTrain.validation,
    test: fromTest.test,
    classNames: Array.from({ length: 10 }, (_, i) => String(i)),
    seed,
    source: `full MNIST (${nTrainPool} of ${train.labels.length} training, ${nTest} of ${test.labels.length} test digits)`,
  };
}

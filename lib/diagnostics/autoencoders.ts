/**
 * Measurements of lecture 10 (autoencoders), shared by the notebook and the reproduction `ae-pca`:
 *
 *   knnAccuracy        how well a code space separates the classes: the k-nearest-neighbour vote of the
 *                      training codes, scored on held-out codes (Euclidean distance, float64)
 *   aeVersusPca        reconstruction error against code size for PCA and for a deep autoencoder trained on
 *                      the same digits (Hinton & Salakhutdinov 2006, Fig. 2 at our scale)
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { ActivationName } from "../scratch/activations";
import { adam } from "../scratch/optimizers";
import { Pca } from "../scratch/pca";
import { Autoencoder, ReconstructionLoss, reconstructionError } from "../nn/autoencoder";
import { train } from "../train/train";

/** Fraction of `test` codes whose k nearest `train` codes vote for their label (ties: the nearest wins). */
export function knnAccuracy(trainCodes: tf.Tensor2D, trainLabels: ArrayLike<number>, testCodes: tf.Tensor2D, testLabels: ArrayLike<number>, k = 5): number {
  if (trainCodes.shape[1] !== testCodes.shape[1]) throw new Error(`knnAccuracy: train codes have ${trainCodes.shape[1]} dimensions, test codes ${testCodes.shape[1]}`);
  if (trainLabels.length !== trainCodes.shape[0] || testLabels.length !== testCodes.shape[0]) throw new Error("knnAccuracy: give one label per code (train and test)");
  if (!Number.isInteger(k) || k < 1 || k > trainCodes.shape[0]) throw new Error(`knnAccuracy: k must be an integer in [1, ${trainCodes.shape[0]}], got ${k}`);
  const a = trainCodes.dataSync(), b = testCodes.dataSync();
  const d = trainCodes.shape[1], n = trainCodes.shape[0];
  let right = 0;
  const dist = new Float64Array(n);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let t = 0; t < testCodes.shape[0]; t++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (a[i * d + j] - b[t * d + j]) ** 2;
      dist[i] = s;
    }
    order.sort((i, j) => dist[i] - dist[j]);
    const votes = new Map<number, number>();
    for (let m = 0; m < k; m++) votes.set(trainLabels[order[m]], (votes.get(trainLabels[order[m]]) ?? 0) + 1);
    let best = trainLabels[order[0]], most = votes.get(best)!;
    for (const [label, v] of votes) if (v > most) [best, most] = [label, v];
    if (best === testLabels[t]) right++;
  }
  return right / testCodes.shape[0];
}

export interface CodeAutoencoderOptions {
  /** Hidden widths between the input and the code (the decoder mirrors them), e.g. [128]. */
  hidden: number[];
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  /** Hidden g (default "relu", He init); the code layer is linear, as in Hinton & Salakhutdinov's. */
  activation?: ActivationName;
  /** Default "crossEntropy" (pixels in [0, 1], sigmoid outputs), the paper's. */
  loss?: ReconstructionLoss;
  seed?: number;
  /** Called after every epoch with the fraction done. */
  onEpoch?: (fraction: number) => void;
}

export interface AeVersusPcaOptions extends CodeAutoencoderOptions {
  /** Code sizes k to compare. */
  codeSizes: number[];
  /** Keep the trained autoencoders (the caller disposes them); default false. */
  keep?: boolean;
}

/** Mean Σ_i (x̂_i − x_i)² per image of a model's reconstructions of x. */
function errorOf(reconstruct: (x: tf.Tensor2D) => tf.Tensor2D, x: tf.Tensor2D): number {
  const xh = reconstruct(x);
  const e = reconstructionError(x, xh);
  xh.dispose();
  return e;
}

export interface PcaErrorRow {
  k: number;
  /** Mean Σ_i (x̂_i − x_i)² per test image, and per training image. */
  pca: number;
  pcaTrain: number;
  /** Fraction of the variance the k components explain. */
  explained: number;
}

/** PCA's reconstruction error with each number of components k (PCA fitted on `train`, kept ≥ max k). */
export function pcaErrors(pca: Pca, trainX: tf.Tensor2D, testX: tf.Tensor2D, codeSizes: number[]): PcaErrorRow[] {
  const ratio = pca.explainedVarianceRatio();
  return codeSizes.map((k) => ({
    k, pca: errorOf((x) => pca.reconstruct(x, k), testX), pcaTrain: errorOf((x) => pca.reconstruct(x, k), trainX),
    explained: ratio.slice(0, k).reduce((s, v) => s + v, 0),
  }));
}

export interface CodeAutoencoderRun {
  k: number;
  /** Mean Σ_i (x̂_i − x_i)² per test image, and per training image. */
  ae: number;
  aeTrain: number;
  /** Training loss after every epoch (the reconstruction loss, per image). */
  loss: number[];
}

/** A deep autoencoder d-hidden-k-hidden-d (linear code) trained on `train` with Adam, scored on both sets. */
export function codeAutoencoder(trainX: tf.Tensor2D, testX: tf.Tensor2D, k: number, opts: CodeAutoencoderOptions): { run: CodeAutoencoderRun; autoencoder: Autoencoder } {
  const r = new Rng((opts.seed ?? 1) * 1000 + k);
  const g = opts.activation ?? "relu";
  const ae = new Autoencoder({
    sizes: [trainX.shape[1], ...opts.hidden, k], activation: g, codeActivation: "linear",
    loss: opts.loss ?? "crossEntropy", init: g === "relu" ? "heNormal" : "glorotUniform", rng: r,
  });
  const history = train(ae.network, { x: trainX, t: trainX }, {
    epochs: opts.epochs, batchSize: opts.batchSize ?? 32, optimizer: adam({ learningRate: opts.learningRate ?? 2e-3 }),
    rng: r, logEvery: 0, progress: false, accuracy: false, onEpoch: (s) => opts.onEpoch?.(s.epoch / opts.epochs),
  });
  const rec = (x: tf.Tensor2D) => ae.reconstruct(x);
  return { run: { k, ae: errorOf(rec, testX), aeTrain: errorOf(rec, trainX), loss: history.loss }, autoencoder: ae };
}

export type AeVersusPcaRow = PcaErrorRow & Omit<CodeAutoencoderRun, "loss">;

/** For each code size: PCA (fitted on `train`) and a deep autoencoder (trained on `train`), scored on `test`. */
export function aeVersusPca(trainX: tf.Tensor2D, testX: tf.Tensor2D, opts: AeVersusPcaOptions): { rows: AeVersusPcaRow[]; pca: Pca; autoencoders: Autoencoder[] } {
  const pca = new Pca(trainX, Math.max(...opts.codeSizes));
  const autoencoders: Autoencoder[] = [];
  const rows = pcaErrors(pca, trainX, testX, opts.codeSizes).map((p) => {
    const { run, autoencoder } = codeAutoencoder(trainX, testX, p.k, opts);
    if (opts.keep) autoencoders.push(autoencoder);
    else autoencoder.dispose();
    return { ...p, k: run.k, ae: run.ae, aeTrain: run.aeTrain };
  });
  return { rows, pca, autoencoders };
}

/**
 * Erhan, Bengio, Courville, Manzagol, Vincent & Bengio (2010), "Why does unsupervised pre-training help deep
 * learning?", Fig. 1 and 2 at classroom scale (lecture 11): sigmoid nets with 1–4 hidden layers of equal
 * width, initialized at random ("none"), by greedy RBM pretraining (a DBN, "rbm") or by greedy autoencoder
 * pretraining ("ae", lecture 10), then fine-tuned with backprop on the labels; one unit = one depth, one
 * seed, one initialization → its test error. The seed drives everything random in the unit: the initial
 * weights, the pretraining's sampling and the order of the mini-batches; the data are the same for all.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { TensorSet, smallMnist } from "../data/mnist";
import { Activation } from "../nn/activation";
import { pretrainAutoencoders } from "../nn/autoencoder";
import { pretrainRbms } from "../nn/dbn";
import { Dense } from "../nn/dense";
import { heads } from "../nn/heads";
import { Layer } from "../nn/layer";
import { Network } from "../nn/network";
import { momentum } from "../scratch/optimizers";
import { train } from "../train/train";
import { errorRate } from "./experiments";
import { summarize } from "./stats";

export type Pretraining = "none" | "rbm" | "ae";
export const PRETRAININGS: readonly Pretraining[] = ["none", "rbm", "ae"];

export interface ErhanSettings {
  /** Units per hidden layer. */
  width: number;
  /** Training digits (the first ones of the embedded split). */
  trainSize: number;
  /** Epochs of each layer's pretraining (RBM: CD-1; autoencoder: Adam on cross-entropy). */
  pretrainEpochs: number;
  /** Epochs of supervised fine-tuning (momentum SGD on softmax cross-entropy). */
  fineTuneEpochs: number;
  batchSize: number;
  /** η of CD-1. */
  rbmLearningRate: number;
  /** η of the autoencoders' Adam. */
  aeLearningRate: number;
  /** η of the fine-tuning (momentum 0.9). */
  learningRate: number;
}

/** The sizes the recorded run uses (data/results/erhan.json); the lecture runs them on fewer seeds. */
export const ERHAN_SETTINGS: ErhanSettings = Object.freeze({
  width: 64, trainSize: 1000, pretrainEpochs: 6, fineTuneEpochs: 15, batchSize: 100,
  rbmLearningRate: 0.5, aeLearningRate: 0.02, learningRate: 0.5,
});

export interface ErhanData {
  train: TensorSet;
  test: TensorSet;
  /** In words (Spanish, for the lecture). */
  source: string;
}

/** Embedded MNIST at 14 × 14 (2 000 digits, split seed 0): the first `trainSize` training digits and the 400 of test. */
export function erhanData(trainSize = ERHAN_SETTINGS.trainSize): ErhanData {
  const m = smallMnist({ limit: 2000, seed: 0, pool: 2 });
  const n = m.train.x.shape[0];
  if (!Number.isInteger(trainSize) || trainSize < 1 || trainSize > n) throw new Error(`erhanData: trainSize must be a whole number in 1..${n}, got ${trainSize}`);
  const train = tf.tidy(() => ({
    x: m.train.x.slice([0, 0], [trainSize, -1]) as tf.Tensor2D,
    t: m.train.t.slice([0, 0], [trainSize, -1]) as tf.Tensor2D,
    labels: m.train.labels.slice(0, trainSize),
  }));
  tf.dispose([m.train.x, m.train.t, m.validation.x, m.validation.t]);
  return { train, test: m.test, source: `MNIST embebido 14×14: ${trainSize} dígitos de entrenamiento, ${m.test.x.shape[0]} de test` };
}

export interface ErhanUnit {
  depth: number;
  seed: number;
  pretrain: Pretraining;
}

export interface ErhanOutcome {
  /** Fraction of test digits misclassified after fine-tuning. */
  testError: number;
  trainError: number;
  /** Wall time of the unit (pretraining and fine-tuning). */
  seconds: number;
}

/** One net: `depth` sigmoid layers of `width`, initialized by `pretrain`, fine-tuned; its test error. */
export function erhanRun(data: ErhanData, unit: ErhanUnit, settings: ErhanSettings = ERHAN_SETTINGS): ErhanOutcome {
  const { depth, seed, pretrain } = unit;
  if (!Number.isInteger(depth) || depth < 1) throw new Error(`erhanRun: depth must be a whole number ≥ 1, got ${depth}`);
  if (!PRETRAININGS.includes(pretrain)) throw new Error(`erhanRun: pretrain must be one of ${PRETRAININGS.join(", ")}, got "${pretrain}"`);
  const t0 = performance.now();
  // One stream per unit: the same seed with another depth or initialization is an independent run.
  const rng = new Rng(seed * 1009 + depth * 31 + PRETRAININGS.indexOf(pretrain));
  const sizes = new Array<number>(depth).fill(settings.width);
  const x = data.train.x as tf.Tensor2D;
  const common = { rng, epochs: settings.pretrainEpochs, batchSize: settings.batchSize };
  const hidden: Layer[] = pretrain === "rbm"
    ? pretrainRbms(x, sizes, { ...common, learningRate: settings.rbmLearningRate })
    : pretrain === "ae"
      ? pretrainAutoencoders(x, sizes, { ...common, learningRate: settings.aeLearningRate, optimizer: "adam" })
      : sizes.flatMap((units, l) => [Dense.init(l === 0 ? x.shape[1] : settings.width, units, { rng }), new Activation("sigmoid")]);
  const classes = data.train.t.shape[1];
  const net = new Network([...hidden, Dense.init(settings.width, classes, { rng })], heads.softmaxCrossEntropy());
  train(net, data.train, {
    epochs: settings.fineTuneEpochs, batchSize: settings.batchSize, optimizer: momentum({ learningRate: settings.learningRate, momentum: 0.9 }),
    rng, logEvery: 0, progress: false, onDiverge: "stop",
  });
  const outcome = { testError: errorRate(net, data.test), trainError: errorRate(net, data.train), seconds: (performance.now() - t0) / 1000 };
  net.dispose();
  return outcome;
}

export interface ErhanCell {
  depth: number;
  pretrain: Pretraining;
  seeds: number;
  median: number;
  q1: number;
  q3: number;
  mean: number;
  std: number;
}

/** Per depth × initialization: median, quartiles, mean and standard deviation of the test error over the seeds. */
export function erhanTable(results: { unit: ErhanUnit; result: ErhanOutcome }[]): ErhanCell[] {
  const cells: ErhanCell[] = [];
  const depths = [...new Set(results.map((r) => r.unit.depth))].sort((a, b) => a - b);
  for (const depth of depths) for (const pretrain of PRETRAININGS) {
    const errors = results.filter((r) => r.unit.depth === depth && r.unit.pretrain === pretrain).map((r) => r.result.testError);
    if (errors.length === 0) continue;
    const s = summarize(errors, [25, 50, 75]);
    cells.push({ depth, pretrain, seeds: s.n, median: s.percentiles[1], q1: s.percentiles[0], q3: s.percentiles[2], mean: s.mean, std: s.std });
  }
  return cells;
}

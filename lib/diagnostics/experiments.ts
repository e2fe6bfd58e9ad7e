/**
 * Small-scale versions of the deep-net experiments of lectures 03–05 (Glorot & Bengio 2010 and friends):
 * a pooled subset of embedded MNIST, deep MLP specs, any initializer, and one call that trains a model
 * (optionally recording per-layer statistics) and reports its test error. Sized to run in seconds.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import type { SmallMnist } from "../data/mnist";
import { ActivationName } from "../scratch/activations";
import { InitChoice, initMlp, MlpSpec, fullSpec, layerCount, layerActivation } from "../scratch/init";
import { MatrixMlp } from "../nn/mlp";
import { sgd } from "../scratch/optimizers";
import { train, accuracy, DivergedError, History, TrainData, TrainOptions } from "../train/train";
import { Recorder, RecorderOptions } from "./recorder";
import { probe } from "./probe";
import { layerStats, LayerStats, StatsOptions } from "./layer-stats";

/** Inputs and one-hot targets: the data `train` takes. */
type XT = TrainData;

/** The first n samples of a set (shares nothing with it: dispose the result). */
export function headOf(d: XT, n: number): XT {
  const k = Math.min(n, d.x.shape[0]);
  return { x: tf.slice(d.x, [0, 0], [k, -1]), t: tf.slice(d.t, [0, 0], [k, -1]) };
}

/** A deep classifier: `depth` hidden layers of `width` units with activation `hidden`, softmax + cross-entropy. */
export function deepSpec(opts: { inputs: number; depth: number; width: number; hidden: ActivationName; outputs?: number; alpha?: number; pieces?: number }): MlpSpec {
  if (!Number.isInteger(opts.depth) || opts.depth < 1) throw new Error(`deepSpec: depth must be a positive integer, got ${opts.depth}`);
  return {
    sizes: [opts.inputs, ...Array<number>(opts.depth).fill(opts.width), opts.outputs ?? 10],
    hidden: opts.hidden,
    output: "softmax",
    loss: "crossEntropy",
    ...(opts.alpha !== undefined ? { alpha: opts.alpha } : {}),
    ...(opts.pieces !== undefined ? { pieces: opts.pieces } : {}),
  };
}

/** Classification error (1 − accuracy) of a model on a set. */
export function errorRate(model: { predict(x: tf.Tensor): tf.Tensor2D }, d: XT): number {
  const s = model.predict(d.x);
  try {
    return 1 - accuracy(s, d.t);
  } finally {
    s.dispose();
  }
}

export interface RunOptions {
  spec: MlpSpec;
  init: InitChoice;
  /** Seed of the initial weights and of the mini-batch order. */
  seed: number;
  data: SmallMnist;
  epochs: number;
  /** Learning rate of plain SGD (the lecture's ρ). */
  learningRate: number;
  batchSize?: number;
  /** Record per-layer statistics on this probe batch while training. */
  record?: { batch: XT } & RecorderOptions;
  /** Keep the model (default: dispose it and return only numbers). */
  keepModel?: boolean;
  /** Passed on to `train` (e.g. logEvery); onDiverge is always "stop". */
  trainOptions?: Partial<TrainOptions>;
}

export interface RunResult {
  history: History;
  /** Test error at the end (NaN if training diverged). */
  testError: number;
  /** True when the loss (or a recorded statistic) became NaN/∞: training stopped there (`history.diverged`). */
  diverged: boolean;
  recorder?: Recorder;
  model?: MatrixMlp;
}

/**
 * Builds a scratch MatrixMlp for `spec` with weights from `init` (seeded), trains it with SGD on
 * data.train (validation curves on data.validation) and measures the test error. A divergent run does
 * not throw: it returns the epochs it managed and `diverged: true`.
 */
export function runExperiment(o: RunOptions): RunResult {
  const rng = new Rng(o.seed);
  const model = new MatrixMlp(o.spec, initMlp(o.spec, { init: o.init, rng }));
  const recorder = o.record ? new Recorder(model, o.record.batch, o.record) : undefined;
  const fail = (e: unknown): never => {
    recorder?.dispose();
    model.dispose();
    throw e;
  };
  let history: History;
  try {
    const optimizer = sgd({ learningRate: o.learningRate });
    history = train(model, o.data.train, {
      epochs: o.epochs,
      optimizer: recorder ? recorder.wrap(optimizer) : optimizer,
      batchSize: o.batchSize ?? 32,
      rng,
      validation: o.data.validation,
      logEvery: 0,
      ...o.trainOptions,
      onDiverge: "stop",
    });
  } catch (e) {
    return fail(e);
  }
  let diverged = history.diverged;
  if (recorder && !diverged) {
    try {
      recorder.record();
    } catch (e) {
      // NaN on the probe batch after the last epoch counts as divergence, as it does during training.
      if (!(e instanceof DivergedError)) fail(e);
      diverged = true;
    }
  }
  const testError = diverged ? Number.NaN : errorRate(model, o.data.test);
  recorder?.dispose();
  if (!o.keepModel) model.dispose();
  return { history, testError, diverged, recorder, ...(o.keepModel ? { model } : {}) };
}

/** Layer count L and activation names, for captions: "196-64-64-10, sigmoid". */
export function describeSpec(spec: MlpSpec): string {
  const full = fullSpec(spec);
  const acts = Array.from({ length: layerCount(full) - 1 }, (_, k) => layerActivation(full, k + 1));
  return `${full.sizes.join("-")}, ${acts[0] ?? full.output} + ${full.output}`;
}

/** Per-layer statistics of a fresh scratch MLP (weights from `init`, seeded) on a batch: no training. */
export function statsAtInit(spec: MlpSpec, init: InitChoice, batch: XT, seed: number, opts: StatsOptions = {}): LayerStats[] {
  const model = new MatrixMlp(spec, initMlp(spec, { init, rng: new Rng(seed) }));
  try {
    return layerStats(probe(model, batch.x, batch.t), opts);
  } finally {
    model.dispose();
  }
}

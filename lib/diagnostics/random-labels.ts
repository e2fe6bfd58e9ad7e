/**
 * Prince, Understanding Deep Learning, Fig. 20.2: fully connected ReLU nets of 1..4 hidden layers with about
 * the same number of parameters (≈ 15 k) fit 4 000 MNIST-1D examples whose labels were replaced by random
 * ones, with full-batch gradient descent, He initialization, no momentum, no regularization and ρ = 0.0025.
 * All of them reach 100 % training accuracy (they memorize noise); the deeper ones need fewer epochs.
 *
 * `fitRandomLabels` runs one depth; `npm run reproduce -- 09` runs all four and writes the curves with
 * their provenance to data/results/ (lecture 09 reads fig20-2-rho0.0025.json and fig20-2-rho0.1.json; the
 * runs take far longer than the lecture's minute). Training uses the matrix MLP (hand-written backward pass)
 * and the plain SGD step.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { makeMnist1d } from "../data/mnist1d";
import { MlpSpec, initMlp } from "../scratch/init";
import { MatrixMlp } from "../nn/mlp";
import { LOSSES } from "../scratch/losses";
import { sgd, stepVariables } from "../scratch/optimizers";
import { mlpParamCount } from "./regions";
import type { Reproduction } from "./results";

/** Hidden layers and units per layer of Prince's four nets (Fig. 20.2). */
export const FIG20_2_NETS: readonly { depth: number; width: number }[] = [
  { depth: 1, width: 298 },
  { depth: 2, width: 100 },
  { depth: 3, width: 75 },
  { depth: 4, width: 63 },
];
/** Prince's learning rate for Fig. 20.2. */
export const FIG20_2_RHO = 0.0025;

/** The layer sizes [40, width × depth, 10] of one of the nets. */
export function randomLabelSizes(depth: number, width: number, inputs = 40, classes = 10): number[] {
  return [inputs, ...new Array<number>(depth).fill(width), classes];
}

/**
 * The 4 000 MNIST-1D training sequences (default generator, seed 42) with labels drawn uniformly from the
 * 10 classes by `new Rng(labelSeed)`: inputs [n, 40] and one-hot random targets [n, 10] as tensors.
 */
export function randomLabelData(labelSeed: number, n?: number): { x: tf.Tensor2D; t: tf.Tensor2D; labels: Int32Array; n: number } {
  const { train } = makeMnist1d();
  const count = n ?? train.n;
  if (!Number.isInteger(count) || count < 1 || count > train.n) throw new Error(`randomLabelData: n must be an integer in 1..${train.n}, got ${n}`);
  const r = new Rng(labelSeed);
  const labels = new Int32Array(count);
  const oneHot = new Float32Array(count * 10);
  for (let i = 0; i < count; i++) {
    labels[i] = r.int(0, 10);
    oneHot[i * 10 + labels[i]] = 1;
  }
  const x = tf.tensor2d(train.x.subarray(0, count * train.features), [count, train.features], "float32");
  return { x, t: tf.tensor2d(oneHot, [count, 10], "float32"), labels, n: count };
}

/** One net's curves: loss and training error every `every` epochs (epoch 0 is the initial net). */
export interface RandomLabelRun {
  depth: number;
  width: number;
  params: number;
  /** First epoch after which every training label is predicted right, or null if not within `epochs`. */
  epochsToFit: number | null;
  /** Epochs actually run (stops at the fit unless `continueAfterFit`). */
  epochsRun: number;
  /** Epochs at which loss and error were measured: 0, every, 2·every, ... and the last one. */
  epochs: number[];
  /** Mean cross-entropy on the training set at those epochs. */
  loss: number[];
  /** Training error (fraction of wrong random labels) at those epochs. */
  error: number[];
  /** Wall time of the run in seconds. */
  seconds: number;
}

export interface FitRandomLabelsOptions {
  depth: number;
  width: number;
  /** Most epochs (full-batch steps) to run. */
  epochs: number;
  /** Learning rate (default Prince's 0.0025). */
  learningRate?: number;
  /** Seed of the He-normal weights (default 1). */
  seed?: number;
  /** Measure loss and error every this many epochs (default 10). Error is checked every epoch for the fit. */
  every?: number;
  /** Keep training after 100 % accuracy (default false: stop there). */
  continueAfterFit?: boolean;
  /** Called with each measured point (for progress lines). */
  onPoint?: (epoch: number, loss: number, error: number) => void;
}

/**
 * Trains one net of Fig. 20.2 on `data` (from `randomLabelData`) with full-batch gradient descent:
 * He-normal weights, zero biases, softmax + cross-entropy, θ ← θ − ρ ∂q/∂θ, nothing else.
 */
export function fitRandomLabels(data: { x: tf.Tensor2D; t: tf.Tensor2D; labels: Int32Array }, opts: FitRandomLabelsOptions): RandomLabelRun {
  const every = opts.every ?? 10;
  if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new Error(`fitRandomLabels: epochs must be a positive integer, got ${opts.epochs}`);
  if (!Number.isInteger(every) || every < 1) throw new Error(`fitRandomLabels: every must be a positive integer, got ${opts.every}`);
  const sizes = randomLabelSizes(opts.depth, opts.width, data.x.shape[1], data.t.shape[1]);
  const spec: MlpSpec = { sizes, hidden: "relu", output: "softmax", loss: "crossEntropy" };
  const model = new MatrixMlp(spec, initMlp(spec, { init: "heNormal", rng: new Rng(opts.seed ?? 1) }));
  const optimizer = sgd({ learningRate: opts.learningRate ?? FIG20_2_RHO });
  const labels = tf.tensor1d(data.labels, "int32");
  const run: RandomLabelRun = {
    depth: opts.depth, width: opts.width, params: mlpParamCount(sizes), epochsToFit: null, epochsRun: 0,
    epochs: [], loss: [], error: [], seconds: 0,
  };
  const start = performance.now();
  /** Error of the current weights and the loss of the same forward pass (before the step). */
  const measure = (): { loss: number; error: number } => tf.tidy(() => {
    const s = model.predict(data.x);
    const loss = LOSSES.crossEntropy.tensor(s, data.t).dataSync()[0];
    const wrong = tf.sum(tf.cast(tf.notEqual(tf.argMax(s, 1), labels), "float32")).dataSync()[0];
    return { loss, error: wrong / data.labels.length };
  });
  const record = (epoch: number, m: { loss: number; error: number }) => {
    run.epochs.push(epoch);
    run.loss.push(m.loss);
    run.error.push(m.error);
    opts.onPoint?.(epoch, m.loss, m.error);
  };
  try {
    record(0, measure());
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      stepVariables(optimizer, model.params, () => model.lossAndGrads(data.x, data.t), { readLoss: false });
      run.epochsRun = epoch;
      const m = measure();
      if (!Number.isFinite(m.loss)) throw new Error(`fitRandomLabels: the loss diverged at epoch ${epoch} (${m.loss}); use a smaller ρ`);
      const fitted = m.error === 0 && run.epochsToFit === null;
      if (fitted) run.epochsToFit = epoch;
      const stop = fitted && !opts.continueAfterFit;
      if (epoch % every === 0 || epoch === opts.epochs || stop) record(epoch, m);
      if (stop) break;
    }
  } finally {
    labels.dispose();
    model.dispose();
  }
  run.seconds = (performance.now() - start) / 1000;
  return run;
}

/** What `npm run reproduce -- fig20-2-rho0.1` (tools/reproduce/fig20-2.ts) writes: one unit per depth. */
export type Fig20_2Result = Reproduction<{ depth: number; width: number }, RandomLabelRun> & {
  options: { epochs: number; rho: number; labelSeed: number; weightSeed: number; every: number };
};

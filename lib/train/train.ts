/**
 * The training loop: any `Model` (matrix, autodiff or tf.layers MLP, later conv nets...) with any
 * `Optimizer`, in the four BackProp variants of the lecture (seed 002, "BackProp incremental o batch";
 * seed 003, "Batch y minibatch"):
 *   batch       all N samples, then one update per epoch (the deterministic gradient);
 *   minibatch   shuffled blocks of `batchSize` samples, one update per block: ⌈N/B⌉ updates per epoch;
 *   incremental one sample at a time in a new random order every epoch: N updates per epoch;
 *   online      one sample at a time as it arrives, in the given order (a stream), N updates per pass.
 * After every epoch it measures loss (and accuracy for class targets) on the whole training set and on the
 * validation set, so the four modes are compared on the same footing; `ms` is the time of the updates only.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng, rng as sharedRng } from "../random";
import { Model, checkBatch } from "./model";
import { Optimizer, stepVariables } from "../scratch/optimizers";
import { Context, trainingContext } from "../nn/layer";
import { ProgressBar } from "./progress";

export type TrainMode = "batch" | "minibatch" | "incremental" | "online";
export const TRAIN_MODES: readonly TrainMode[] = ["batch", "minibatch", "incremental", "online"];

/** What `train` does when the training loss becomes NaN or ±∞. */
export type OnDiverge = "throw" | "stop";
export const ON_DIVERGE: readonly OnDiverge[] = ["throw", "stop"];

/**
 * Training diverged: what `train` throws when the loss becomes NaN/∞, and what a model, an optimizer or a
 * recorder may throw during an update when it finds NaN (`summarize` does); with onDiverge "stop", `train`
 * ends there instead and returns the history so far.
 */
export class DivergedError extends Error {}

/** What the loop trains on: inputs x [N, ...] and targets t [N, outputs] (a TensorSet has both). */
export type TrainData = {
  x: tf.Tensor;
  t: tf.Tensor2D;
};

export interface EarlyStopping {
  /** Epochs without improvement before stopping. */
  patience: number;
  /** What must improve (default: "valLoss" when there is validation data, else "loss"). */
  monitor?: "loss" | "valLoss";
  /** Smallest decrease that counts as an improvement (default 0). */
  minDelta?: number;
  /** At the end (stopped early or not), put back the weights of the best epoch (default true). */
  restoreBest?: boolean;
}

export interface TrainOptions {
  /** Passes over the training set. */
  epochs: number;
  /** How parameters are updated, e.g. `bp.optimizers.sgd({ learningRate: 0.1 })`; any optimizer, look-ahead Nesterov included. */
  optimizer: Optimizer;
  /** BackProp variant (default "minibatch"). */
  mode?: TrainMode;
  /** Samples per update in "minibatch" mode (default 32). */
  batchSize?: number;
  /** Generator for the shuffling and for layers that draw, such as dropout (default: the module-wide `rng()`). */
  rng?: Rng;
  /** Data measured after every epoch, never trained on. */
  validation?: TrainData;
  /** Stop when the monitored loss stops improving. */
  earlyStopping?: EarlyStopping;
  /** Report accuracy (default: when the targets are classes: one-hot rows, 0/1 or ±1). */
  accuracy?: boolean;
  /** Print a line every k epochs (and the first and last); 0 = quiet. Default: about 10 lines. */
  logEvery?: number;
  /** Where lines go (default console.log: a notebook cell's output or the terminal). */
  log?: (line: string) => void;
  /** Live progress bar updated in place (epoch, loss, accuracy, time left); default true. Drawn only in a notebook or a terminal. */
  progress?: boolean;
  /** Called after every epoch with its numbers. */
  onEpoch?: (stats: EpochStats) => void;
  /**
   * When the training loss becomes NaN or ±∞ (or an update throws a DivergedError): "throw" (default) an
   * error that suggests a smaller learning rate, or "stop" training and return the history of the epochs
   * before, with `diverged: true`.
   */
  onDiverge?: OnDiverge;
}

/** The numbers of one epoch. */
export interface EpochStats {
  epoch: number;
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Wall time of the epoch's updates in milliseconds (evaluation excluded). */
  ms: number;
  /** Parameter updates made in the epoch. */
  updates: number;
}

/** Per-epoch curves, ready to plot (index k is epoch k + 1). */
export interface History {
  loss: number[];
  accuracy: number[];
  valLoss: number[];
  valAccuracy: number[];
  ms: number[];
  /** Epochs run. */
  epochs: number;
  /** Epoch whose weights the model holds at the end when early stopping restored them, else the last. */
  bestEpoch: number;
  stoppedEarly: boolean;
  /**
   * Training diverged at epoch `epochs + 1` (its loss became NaN/∞, or an update threw a DivergedError) and
   * stopped there (onDiverge "stop"): that epoch is not in the curves, and the model holds its weights,
   * non-finite, unless early stopping restored the best ones.
   */
  diverged: boolean;
}

/**
 * Accuracy of outputs s against targets t: argmax agreement for several outputs; for one output, the
 * class is s ≥ 0.5 for 0/1 targets and s ≥ 0 for ±1 targets.
 */
export function accuracy(s: tf.Tensor2D, t: tf.Tensor2D): number {
  if (!tf.util.arraysEqual(s.shape, t.shape)) {
    throw new Error(`accuracy: outputs are [${s.shape.join(", ")}] but targets are [${t.shape.join(", ")}]`);
  }
  return tf.tidy(() => {
    if (s.shape[1] > 1) return tf.mean(tf.cast(tf.equal(tf.argMax(s, 1), tf.argMax(t, 1)), "float32")).dataSync()[0];
    const threshold = tf.min(t).dataSync()[0] < 0 ? 0 : 0.5;
    return tf.mean(tf.cast(tf.equal(tf.greaterEqual(s, threshold), tf.greaterEqual(t, threshold)), "float32")).dataSync()[0];
  });
}

/** True when targets look like classes: one-hot rows, or a single column of 0/1 or of ±1. */
export function isClassTargets(t: tf.Tensor2D): boolean {
  const v = t.dataSync();
  if (t.shape[1] === 1) return v.every((x) => x === 0 || x === 1) || v.every((x) => x === -1 || x === 1);
  if (!v.every((x) => x === 0 || x === 1)) return false;
  return tf.tidy(() => tf.sum(t, 1).dataSync().every((x) => x === 1));
}

/** Trains `model` in place and returns its history; throws if the loss diverges (unless onDiverge is "stop"). */
export function train(model: Model, data: TrainData, opts: TrainOptions): History {
  const mode = opts.mode ?? "minibatch";
  if (!TRAIN_MODES.includes(mode)) throw new Error(`train: unknown mode "${mode}". Valid modes: ${TRAIN_MODES.join(", ")}`);
  if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new Error(`train: epochs must be a positive integer, got ${opts.epochs}`);
  const onDiverge = opts.onDiverge ?? "throw";
  if (!ON_DIVERGE.includes(onDiverge)) throw new Error(`train: onDiverge must be "throw" or "stop", got "${onDiverge}"`);
  if (!opts.optimizer || typeof opts.optimizer.step !== "function" || typeof opts.optimizer.reset !== "function") {
    throw new Error("train: give an optimizer, e.g. { optimizer: bp.optimizers.sgd({ learningRate: 0.1 }) }");
  }
  checkBatch("train", model, data.x, data.t);
  if (opts.validation) checkBatch("train (validation data)", model, opts.validation.x, opts.validation.t);
  const N = data.x.shape[0];
  const batchSize = mode === "batch" ? N : mode === "minibatch" ? opts.batchSize ?? 32 : 1;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`train: batchSize must be a positive integer, got ${opts.batchSize}`);
  if (opts.batchSize !== undefined && mode !== "minibatch") {
    throw new Error(`train: batchSize applies to mode "minibatch" only ("${mode}" uses ${batchSize} sample${batchSize > 1 ? "s" : ""} per update)`);
  }
  const r = opts.rng ?? sharedRng();
  const ctx = trainingContext(r);
  const withAccuracy = opts.accuracy ?? isClassTargets(data.t);
  const logEvery = opts.logEvery ?? Math.max(1, Math.round(opts.epochs / 10));
  const print = opts.log ?? ((line: string) => console.log(line));
  const progress = new ProgressBar({ total: opts.epochs, live: opts.progress === false ? false : undefined });
  const log = (line: string) => progress.log(line, print);
  const stopper = opts.earlyStopping ? new Stopper(opts.earlyStopping, opts.validation !== undefined, model.params) : undefined;

  const history: History = { loss: [], accuracy: [], valLoss: [], valAccuracy: [], ms: [], epochs: 0, bestEpoch: 0, stoppedEarly: false, diverged: false };
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      const order = mode === "online" ? Array.from({ length: N }, (_, i) => i) : mode === "batch" ? [] : r.permutation(N);
      const start = performance.now();
      let updates: number;
      try {
        updates = mode === "batch" ? updateOn(model, opts.optimizer, data.x, data.t, ctx) : runBlocks(model, opts.optimizer, data, order, batchSize, ctx, (f) => progress.tick(f));
      } catch (e) {
        if (onDiverge === "throw" || !(e instanceof DivergedError)) throw e;
        history.diverged = true;
        if (logEvery > 0) log(`stopped at epoch ${epoch}: ${e.message}`);
        break;
      }
      const ms = performance.now() - start;

      const train = measure(model, data, withAccuracy);
      const stats: EpochStats = { epoch, loss: train.loss, accuracy: train.accuracy, ms, updates };
      if (opts.validation) {
        const val = measure(model, opts.validation, withAccuracy);
        stats.valLoss = val.loss;
        stats.valAccuracy = val.accuracy;
      }
      if (!Number.isFinite(stats.loss)) {
        const why = `the loss diverged at epoch ${epoch} (training loss ${stats.loss}). ` +
          `The learning rate is probably too large for this model and data: try a smaller one (${opts.optimizer.name} now, e.g. a tenth).`;
        if (onDiverge === "throw") throw new DivergedError(`train: ${why}`);
        history.diverged = true;
        if (logEvery > 0) log(`stopped: ${why}`);
        break;
      }
      record(history, stats);
      progress.step(epoch, stats);
      const stop = stopper?.update(stats);
      opts.onEpoch?.(stats);
      const last = epoch === opts.epochs || stop !== undefined;
      if (logEvery > 0 && (epoch === 1 || epoch % logEvery === 0 || last)) log(progressLine(stats, opts.epochs));
      if (stop !== undefined) {
        history.stoppedEarly = true;
        if (logEvery > 0) log(stop);
        break;
      }
    }
    history.bestEpoch = stopper?.finish() ?? history.epochs;
  } finally {
    progress.end();
    stopper?.dispose();
  }
  return history;
}

/** One update from the batch x, t (the optimizer may ask for the gradient at a look-ahead point too). */
function updateOn(model: Model, optimizer: Optimizer, x: tf.Tensor, t: tf.Tensor2D, ctx: Context): number {
  stepVariables(optimizer, model.params, () => model.lossAndGrads(x, t, ctx), { readLoss: false });
  return 1;
}

/** One update per block of `size` samples taken from `order`. */
function runBlocks(model: Model, optimizer: Optimizer, data: TrainData, order: number[], size: number, ctx: Context, onBlock?: (fraction: number) => void): number {
  let updates = 0;
  for (let start = 0; start < order.length; start += size) {
    const idx = tf.tensor1d(order.slice(start, start + size), "int32");
    const xb = tf.gather(data.x, idx), tb = tf.gather(data.t, idx) as tf.Tensor2D;
    try {
      updates += updateOn(model, optimizer, xb, tb, ctx);
    } finally {
      tf.dispose([idx, xb, tb]);
    }
    onBlock?.((start + size) / order.length);
  }
  return updates;
}

/** Loss (and accuracy) of the model on a whole data set. */
function measure(model: Model, d: TrainData, withAccuracy: boolean): { loss: number; accuracy?: number } {
  const loss = tf.tidy(() => model.loss(d.x, d.t).dataSync()[0]);
  let acc: number | undefined;
  if (withAccuracy) {
    const s = model.predict(d.x);
    acc = accuracy(s, d.t);
    s.dispose();
  }
  return { loss, accuracy: acc };
}

function record(h: History, s: EpochStats): void {
  h.loss.push(s.loss);
  h.ms.push(s.ms);
  if (s.accuracy !== undefined) h.accuracy.push(s.accuracy);
  if (s.valLoss !== undefined) h.valLoss.push(s.valLoss);
  if (s.valAccuracy !== undefined) h.valAccuracy.push(s.valAccuracy);
  h.epochs = s.epoch;
}

/** "epoch   10/200  loss 0.123456  acc  97.5%  val_loss 0.200000  val_acc  95.0%  3.1 ms" */
export function progressLine(s: EpochStats, epochs: number): string {
  const w = String(epochs).length;
  const parts = [`epoch ${String(s.epoch).padStart(w)}/${epochs}`, `loss ${fmtLoss(s.loss)}`];
  if (s.accuracy !== undefined) parts.push(`acc ${fmtPct(s.accuracy)}`);
  if (s.valLoss !== undefined) parts.push(`val_loss ${fmtLoss(s.valLoss)}`);
  if (s.valAccuracy !== undefined) parts.push(`val_acc ${fmtPct(s.valAccuracy)}`);
  parts.push(`${s.ms.toFixed(1)} ms`);
  return parts.join("  ");
}
const fmtLoss = (v: number) => (Math.abs(v) >= 1e-4 && Math.abs(v) < 1e4 ? v.toFixed(6) : v.toExponential(3));
const fmtPct = (v: number) => `${(100 * v).toFixed(1).padStart(5)}%`;

/** Early stopping: remembers the best epoch and a copy of its parameters. */
class Stopper {
  private best = Infinity;
  private bestEpoch = 0;
  private waited = 0;
  private snapshot: tf.Tensor[] = [];
  private readonly monitor: "loss" | "valLoss";

  constructor(private readonly cfg: EarlyStopping, hasValidation: boolean, private readonly params: tf.Variable[]) {
    if (!Number.isInteger(cfg.patience) || cfg.patience < 1) throw new Error(`train: earlyStopping.patience must be a positive integer, got ${cfg.patience}`);
    this.monitor = cfg.monitor ?? (hasValidation ? "valLoss" : "loss");
    if (this.monitor === "valLoss" && !hasValidation) throw new Error('train: earlyStopping monitors "valLoss" but no validation data was given');
  }

  /** Records an epoch; returns the message to print when training should stop. */
  update(s: EpochStats): string | undefined {
    const value = this.monitor === "valLoss" ? s.valLoss! : s.loss;
    if (value < this.best - (this.cfg.minDelta ?? 0)) {
      this.best = value;
      this.bestEpoch = s.epoch;
      this.waited = 0;
      if (this.cfg.restoreBest ?? true) {
        tf.dispose(this.snapshot);
        this.snapshot = this.params.map((p) => tf.clone(p));
      }
      return undefined;
    }
    this.waited++;
    if (this.waited < this.cfg.patience) return undefined;
    const name = this.monitor === "valLoss" ? "val_loss" : "loss";
    const restore = (this.cfg.restoreBest ?? true) ? `; restored the weights of epoch ${this.bestEpoch}` : "";
    return `early stopping at epoch ${s.epoch}: ${name} did not improve for ${this.cfg.patience} epochs (best ${fmtLoss(this.best)} at epoch ${this.bestEpoch})${restore}`;
  }

  /** Restores the best parameters (if asked); returns the epoch whose weights the model now holds. */
  finish(): number | undefined {
    if (!(this.cfg.restoreBest ?? true) || this.snapshot.length === 0) return undefined;
    this.params.forEach((p, k) => p.assign(this.snapshot[k]));
    return this.bestEpoch;
  }

  dispose(): void {
    tf.dispose(this.snapshot);
    this.snapshot = [];
  }
}

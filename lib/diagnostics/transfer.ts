/**
 * The transfer-learning experiments of lecture 13 at small scale: a source task (digits 0–4), a target task
 * with new classes (digits 5–9) and one with the source's classes in a shifted domain (digits 0–4 rotated
 * 90°), the source networks (an MLP on 14×14 digits and LeNet-5 on 28×28) stored in data/pretrained by
 * `npm run pretrain`, and the regimes compared on the target:
 *
 *   frozen     the pretrained layers below the head stay fixed; only a new head trains (a feature extractor)
 *   finetune   the pretrained layers train too, with the learning rate × lowerRate (0.1); the new head at 1
 *   scratch    the same architecture from random weights
 *
 * and Yosinski et al. (2014)'s question at small scale: copy the first l layers, freeze them, train the rest.
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { LabeledSet, loadMnist, datasetToTensors, TensorSet, makeLabeledSet } from "../data/mnist";
import { selectClasses, samplePerClass, rotateImage } from "../data/augment";
import { Network } from "../nn/network";
import { Dense } from "../nn/dense";
import { Activation } from "../nn/activation";
import { heads } from "../nn/heads";
import { lenet5 } from "../nn/lenet";
import { freezeFirst, parametricLayers, layerRates } from "../nn/freeze";
import { loadWeights, readWeightsFile, WeightsFile } from "../nn/save";
import { adam, Optimizer, stepVariables } from "../scratch/optimizers";
import { trainingContext } from "../nn/layer";
import { train, accuracy } from "../train/train";
import { meanStd } from "./stats";

export type SourceKind = "mlp" | "lenet5";
export const SOURCE_KINDS: readonly SourceKind[] = ["mlp", "lenet5"];
export type Regime = "frozen" | "finetune" | "scratch";
export const REGIMES: readonly Regime[] = ["frozen", "finetune", "scratch"];
export type TargetName = "digits59" | "rotated04";
export const TARGETS: readonly TargetName[] = ["digits59", "rotated04"];

export const SOURCE_DIGITS = [0, 1, 2, 3, 4];
export const TARGET_DIGITS = [5, 6, 7, 8, 9];
/** The shifted domain: the source's digits turned by this many degrees. */
export const SHIFT_ROTATION = 90;
/** Seed of the embedded-MNIST split every experiment (and the pretraining) uses. */
export const SPLIT_SEED = 0;

/** Input pooling per kind: the MLP sees 14×14 digits (196 inputs), LeNet-5 the 28×28 ones. */
export const POOL: Record<SourceKind, number> = { mlp: 2, lenet5: 1 };

/** Folder of the pretrained networks that ship with the kit (data/pretrained). */
export function pretrainedDir(): string {
  const base = typeof __dirname === "string" ? path.resolve(__dirname, "..", "..") : process.cwd();
  return path.join(base, "data", "pretrained");
}
export function pretrainedFile(kind: SourceKind): string {
  return path.join(pretrainedDir(), `${kind}-digits04.json`);
}

/** The architecture, 5 outputs, weights drawn from rng: MLP 196 → 100 → 50 → 5 (ReLU), or LeNet-5 (tanh, average pooling). */
export function sourceNetwork(kind: SourceKind, rng: Rng): Network {
  if (kind === "lenet5") return lenet5({ classes: 5, rng });
  if (kind !== "mlp") throw new Error(`sourceNetwork: kind must be one of ${SOURCE_KINDS.join(", ")}, got "${kind}"`);
  return new Network([
    Dense.init(196, 100, { rng, init: "heNormal" }), new Activation("relu"),
    Dense.init(100, 50, { rng, init: "heNormal" }), new Activation("relu"),
    Dense.init(50, 5, { rng }),
  ], heads.softmaxCrossEntropy());
}

function rotated(set: LabeledSet, degrees: number): LabeledSet {
  const [h, w] = set.shape, f = set.features;
  const x = new Float32Array(set.x.length);
  for (let i = 0; i < set.n; i++) x.set(rotateImage(set.x.subarray(i * f, (i + 1) * f), h, w, degrees), i * f);
  return makeLabeledSet(x, set.labels, set.shape, set.numClasses);
}

/** Train and test sets of one task, labels 0..4. */
export interface TaskSets {
  train: LabeledSet;
  /** For curves during training (time to an accuracy), so that the test set is only read at the end. */
  validation: LabeledSet;
  test: LabeledSet;
  /** In words, for tables and provenance. */
  description: string;
}

/** One task (the source or a target) for a kind of network (its input size), from the fixed MNIST split. */
export function transferTask(kind: SourceKind, name: "source" | TargetName): TaskSets {
  const pool = POOL[kind];
  if (pool === undefined) throw new Error(`transferTask: kind must be one of ${SOURCE_KINDS.join(", ")}, got "${kind}"`);
  const data = loadMnist({ seed: SPLIT_SEED, pool });
  const side = data.train.shape[0];
  const split = `embedded MNIST split seed ${SPLIT_SEED} (7000 train / 1000 validation / 2000 test), ${side}×${side}`;
  const spec = {
    source: [SOURCE_DIGITS, 0, `digits 0–4, ${split}`],
    digits59: [TARGET_DIGITS, 0, `digits 5–9 (labels 0–4), ${split}`],
    rotated04: [SOURCE_DIGITS, SHIFT_ROTATION, `digits 0–4 rotated ${SHIFT_ROTATION}°, ${split}`],
  } as const;
  if (!(name in spec)) throw new Error(`transferTask: the task is "source", ${TARGETS.map((t) => `"${t}"`).join(" or ")}, got "${name}"`);
  const [digits, degrees, description] = spec[name];
  const pick = (s: LabeledSet) => {
    const picked = selectClasses(s, [...digits], { relabel: true });
    return degrees === 0 ? picked : rotated(picked, degrees);
  };
  return { train: pick(data.train), validation: pick(data.validation), test: pick(data.test), description };
}

/** The source task and both targets (see transferTask). */
export function transferTasks(kind: SourceKind): Record<"source" | TargetName, TaskSets> {
  return { source: transferTask(kind, "source"), digits59: transferTask(kind, "digits59"), rotated04: transferTask(kind, "rotated04") };
}

/** A set as tensors shaped for `kind` (images for LeNet-5, flat rows for the MLP). */
export function taskTensors(kind: SourceKind, set: LabeledSet): TensorSet<tf.Tensor> {
  return datasetToTensors(set, { image: kind === "lenet5" });
}

const fileCache = new Map<string, WeightsFile>();
/** The stored pretrained file of `kind`, verified (read once per process). */
export function pretrainedWeights(kind: SourceKind): WeightsFile {
  const file = pretrainedFile(kind);
  let w = fileCache.get(file);
  if (!w) {
    if (!fs.existsSync(file)) throw new Error(`pretrainedWeights: ${path.relative(process.cwd(), file)} is missing; write it with: npm run pretrain -- ${kind}`);
    w = readWeightsFile(file);
    fileCache.set(file, w);
  }
  return w;
}

/** The pretrained source network of `kind`, loaded from data/pretrained (a fresh copy each call). */
export function loadPretrained(kind: SourceKind): Network {
  const net = sourceNetwork(kind, new Rng(0));
  loadWeights(net, pretrainedWeights(kind));
  return net;
}

export interface TransferNetOptions {
  /** Seed of the new weights (the head, and every layer from scratch). */
  seed: number;
  /** Layers with parameters copied from the pretrained net, from the bottom (default: all but the head; 0 = scratch). */
  copy?: number;
  /** Freeze the copied layers (default true). */
  freeze?: boolean;
}

/**
 * A network for the target: the first `copy` layers with parameters from the pretrained source, the rest
 * (always the output layer: a new head) drawn from the seed, the copied ones frozen or not.
 */
export function transferNetwork(kind: SourceKind, opts: TransferNetOptions): Network {
  const net = sourceNetwork(kind, new Rng(opts.seed));
  const withParams = parametricLayers(net);
  const copy = opts.copy ?? withParams.length - 1;
  if (!Number.isInteger(copy) || copy < 0 || copy >= withParams.length) {
    throw new Error(`transferNetwork: copy must be 0..${withParams.length - 1} layers (the head is always new), got ${opts.copy}`);
  }
  if (copy > 0) {
    const base = loadPretrained(kind);
    for (const k of withParams.slice(0, copy)) {
      for (const [name, v] of Object.entries(net.layers[k].params)) v.assign(base.layers[k].params[name]);
    }
    base.dispose();
  }
  if (opts.freeze ?? true) freezeFirst(net, copy);
  return net;
}

/** The network of a regime (frozen, finetune, scratch) for the target. */
export function regimeNetwork(kind: SourceKind, regime: Regime, seed: number): Network {
  if (!REGIMES.includes(regime)) throw new Error(`regimeNetwork: regime must be one of ${REGIMES.join(", ")}, got "${regime}"`);
  return transferNetwork(kind, { seed, copy: regime === "scratch" ? 0 : undefined, freeze: regime === "frozen" });
}

export interface FitOptions {
  /** Parameter updates (minibatches) in all; default 150. */
  steps?: number;
  /** Default 32 (or the whole set when smaller). */
  batchSize?: number;
  /** Adam's ε, default 0.003. */
  learningRate?: number;
  /** Learning-rate factor of the copied (non-frozen) layers: fine-tuning below the head. Default 1. */
  lowerRate?: number;
  /** Copied layers (with parameters) the lower rate applies to. */
  copied?: number;
  seed: number;
  /** Measured after every epoch (for time-to-accuracy curves). */
  validation?: TensorSet<tf.Tensor>;
}

/** Trains `net` for a fixed number of updates with Adam; returns the wall time and the curves. */
export function fitFixedSteps(net: Network, data: TensorSet<tf.Tensor>, opts: FitOptions) {
  const n = data.x.shape[0];
  const batchSize = Math.min(opts.batchSize ?? 32, n);
  const perEpoch = Math.ceil(n / batchSize);
  const epochs = Math.max(1, Math.round((opts.steps ?? 150) / perEpoch));
  let optimizer: Optimizer = adam({ learningRate: opts.learningRate ?? 0.003 });
  if (opts.lowerRate !== undefined && opts.lowerRate !== 1) {
    const below = parametricLayers(net)[opts.copied ?? 0] ?? 0;
    optimizer = layerRates(optimizer, net, (k) => (k < below ? opts.lowerRate! : 1));
  }
  const t0 = performance.now();
  const history = train(net, data, { epochs, batchSize, optimizer, rng: new Rng(opts.seed), logEvery: 0, progress: false, validation: opts.validation, accuracy: opts.validation !== undefined });
  return { ms: performance.now() - t0, history, updates: epochs * perEpoch };
}

/** Accuracy of net on a set. */
export function testAccuracy(net: Network, set: TensorSet<tf.Tensor>): number {
  const s = net.predict(set.x);
  const a = accuracy(s, set.t);
  s.dispose();
  return a;
}

export interface RegimeRun {
  regime: Regime;
  /** Labelled examples per class ("all": every training digit of the target). */
  perClass: number | "all";
  seed: number;
  accuracy: number;
  ms: number;
}

export interface SweepOptions extends Omit<FitOptions, "seed" | "validation"> {
  kind: SourceKind;
  target: TargetName;
  perClass: readonly (number | "all")[];
  seeds: readonly number[];
  regimes?: readonly Regime[];
  /** Test digits used (a fixed stratified sample; default all). */
  testLimit?: number;
  onRun?: (r: RegimeRun) => void;
}

/**
 * The loop both sweeps share: for every number of labels per class and every seed, the target's training
 * subset (seeded) as tensors and the fixed test set, handed to `each`; tensors are freed afterwards.
 */
function overSubsets<R>(opts: Pick<SweepOptions, "kind" | "target" | "perClass" | "seeds" | "testLimit">, each: (data: TensorSet<tf.Tensor>, test: TensorSet<tf.Tensor>, perClass: number | "all", seed: number) => R[]): R[] {
  const tasks = transferTask(opts.kind, opts.target);
  const test = taskTensors(opts.kind, opts.testLimit ? samplePerClass(tasks.test, Math.floor(opts.testLimit / 5), 0) : tasks.test);
  const runs: R[] = [];
  try {
    for (const perClass of opts.perClass) {
      for (const seed of opts.seeds) {
        const data = taskTensors(opts.kind, perClass === "all" ? tasks.train : samplePerClass(tasks.train, perClass, seed));
        try {
          runs.push(...each(data, test, perClass, seed));
        } finally {
          tf.dispose(data);
        }
      }
    }
  } finally {
    tf.dispose(test);
  }
  return runs;
}

/** Test accuracy of every regime, for every number of labels per class and every seed. */
export function labelSweep(opts: SweepOptions): RegimeRun[] {
  return overSubsets(opts, (data, test, perClass, seed) => (opts.regimes ?? REGIMES).map((regime) => {
    const net = regimeNetwork(opts.kind, regime, seed);
    const copied = parametricLayers(net).length - 1;
    const fit = fitFixedSteps(net, data, { ...opts, seed, copied, lowerRate: regime === "finetune" ? opts.lowerRate ?? 0.1 : undefined });
    const run: RegimeRun = { regime, perClass, seed, accuracy: testAccuracy(net, test), ms: fit.ms };
    net.dispose();
    opts.onRun?.(run);
    return run;
  }));
}

/** Runs grouped by regime and perClass: mean ± std of accuracy over seeds. */
export function summarizeRuns(runs: readonly RegimeRun[]): { regime: Regime; perClass: number | "all"; mean: number; std: number; seeds: number }[] {
  const keys = [...new Set(runs.map((r) => `${r.regime}|${r.perClass}`))];
  return keys.map((key) => {
    const group = runs.filter((r) => `${r.regime}|${r.perClass}` === key);
    const { mean, std } = meanStd(group.map((r) => r.accuracy));
    return { regime: group[0].regime, perClass: group[0].perClass, mean, std, seeds: group.length };
  });
}

/** The settings `npm run pretrain` uses for each kind (recorded in the file's provenance). */
export const PRETRAIN_SETTINGS: Record<SourceKind, { seed: number; epochs: number; batchSize: number; learningRate: number }> = {
  mlp: { seed: 1, epochs: 8, batchSize: 32, learningRate: 0.001 },
  lenet5: { seed: 1, epochs: 4, batchSize: 32, learningRate: 0.001 },
};

/** Losses of the first updates, recorded so that a test can rerun them and compare. */
export const RECORDED_STEPS = 5;

/**
 * Trains the source network of `kind` on digits 0–4 from the seed (Adam, minibatches). `epochs: 0` runs
 * only `stepsOnly` updates (what the test reruns). Returns the network, the losses of its first
 * RECORDED_STEPS updates (the same updates in both cases) and its test accuracy on digits 0–4.
 */
export function pretrain(kind: SourceKind, opts: { seed: number; epochs: number; batchSize: number; learningRate: number; stepsOnly?: number }) {
  const source = transferTask(kind, "source");
  const data = taskTensors(kind, source.train), test = taskTensors(kind, source.test);
  const rng = new Rng(opts.seed);
  const net = sourceNetwork(kind, rng);
  const firstLosses: number[] = [];
  // The first updates one by one, on the first batches of the training order, to record their losses.
  const optimizer = adam({ learningRate: opts.learningRate });
  const order = rng.permutation(data.x.shape[0]);
  const steps = opts.stepsOnly ?? RECORDED_STEPS;
  for (let k = 0; k < steps; k++) {
    const idx = tf.tensor1d(order.slice(k * opts.batchSize, (k + 1) * opts.batchSize), "int32");
    const xb = tf.gather(data.x, idx), tb = tf.gather(data.t, idx) as tf.Tensor2D;
    firstLosses.push(tf.tidy(() => net.loss(xb, tb).dataSync()[0]));
    stepVariables(optimizer, net.params, () => net.lossAndGrads(xb, tb, trainingContext(rng)), { readLoss: false });
    tf.dispose([idx, xb, tb]);
  }
  const t0 = performance.now();
  if (opts.epochs > 0) train(net, data, { epochs: opts.epochs, batchSize: opts.batchSize, optimizer, rng, logEvery: 0, progress: false, accuracy: false });
  const seconds = (performance.now() - t0) / 1000;
  const acc = testAccuracy(net, test);
  const sizes = { train: source.train.n, test: source.test.n };
  tf.dispose([data, test]);
  return { net, firstLosses, accuracy: acc, seconds, sizes, description: source.description };
}

export interface DepthRun {
  /** Layers with parameters copied from the source (0 = from scratch). */
  copied: number;
  frozen: boolean;
  perClass: number | "all";
  seed: number;
  accuracy: number;
}

/**
 * Yosinski et al. (2014) at small scale: for every l, copy the first l layers from the source and freeze
 * them (their "AnB") or fine-tune them at the full rate ("AnB+"); the layers above start from the seed.
 */
export function freezeDepthSweep(opts: Omit<SweepOptions, "regimes" | "onRun" | "lowerRate"> & { onRun?: (r: DepthRun) => void }): DepthRun[] {
  const depth = parametricLayers(sourceNetworkShape(opts.kind)).length - 1;
  const configs = [{ copied: 0, frozen: false }];
  for (let copied = 1; copied <= depth; copied++) configs.push({ copied, frozen: true }, { copied, frozen: false });
  return overSubsets(opts, (data, test, perClass, seed) => configs.map(({ copied, frozen }) => {
    const net = transferNetwork(opts.kind, { seed, copy: copied, freeze: frozen });
    fitFixedSteps(net, data, { ...opts, seed });
    const run: DepthRun = { copied, frozen, perClass, seed, accuracy: testAccuracy(net, test) };
    net.dispose();
    opts.onRun?.(run);
    return run;
  }));
}

const shapes: Partial<Record<SourceKind, Network>> = {};
/** One network per kind kept for its structure (layer list), never trained. */
function sourceNetworkShape(kind: SourceKind): Network {
  return (shapes[kind] ??= sourceNetwork(kind, new Rng(0)));
}

export interface TimeCurve {
  regime: Regime;
  seed: number;
  /** Validation accuracy after every epoch, the updates and the training time (ms, cumulative) so far. */
  accuracy: number[];
  updates: number[];
  ms: number[];
}

/** Validation accuracy (the target's validation digits, ~500) against training time for each regime (`perClass` labels per class, `steps` updates). */
export function timeCurves(opts: { kind: SourceKind; target: TargetName; perClass: number | "all"; seeds: readonly number[]; steps?: number; lowerRate?: number }): TimeCurve[] {
  const tasks = transferTask(opts.kind, opts.target);
  const val = taskTensors(opts.kind, tasks.validation);
  const curves: TimeCurve[] = [];
  for (const seed of opts.seeds) {
    const data = taskTensors(opts.kind, opts.perClass === "all" ? tasks.train : samplePerClass(tasks.train, opts.perClass, seed));
    for (const regime of REGIMES) {
      const net = regimeNetwork(opts.kind, regime, seed);
      const copied = parametricLayers(net).length - 1;
      const fit = fitFixedSteps(net, data, { steps: opts.steps, seed, copied, lowerRate: regime === "finetune" ? opts.lowerRate ?? 0.1 : undefined, validation: val });
      const perEpoch = fit.updates / fit.history.epochs;
      let total = 0;
      curves.push({
        regime, seed, accuracy: fit.history.valAccuracy,
        updates: fit.history.valAccuracy.map((_, k) => (k + 1) * perEpoch),
        ms: fit.history.ms.map((m) => (total += m)),
      });
      net.dispose();
    }
    tf.dispose(data);
  }
  tf.dispose(val);
  return curves;
}

/** Training time (ms) and updates until the accuracy first reaches `level`, or null when it never does. */
export function timeToReach(curve: TimeCurve, level: number): { ms: number; updates: number } | null {
  const k = curve.accuracy.findIndex((a) => a >= level);
  return k < 0 ? null : { ms: curve.ms[k], updates: curve.updates[k] };
}

/**
 * The accuracy-vs-labels table as text lines: one row per regime, one column per number of labels per
 * class, "mean ± std" in % over seeds. `names` renames the regimes (the notebook's Spanish words).
 */
export function regimeTable(runs: readonly RegimeRun[], names: Partial<Record<Regime, string>> = {}, allLabel = "all"): string[] {
  const summary = summarizeRuns(runs);
  const columns = [...new Set(runs.map((r) => r.perClass))];
  const head = "".padEnd(14) + columns.map((c) => String(c === "all" ? allLabel : c).padStart(13)).join("");
  const rows = REGIMES.filter((g) => runs.some((r) => r.regime === g)).map((g) => (names[g] ?? g).padEnd(14) + columns.map((c) => {
    const s = summary.find((x) => x.regime === g && x.perClass === c);
    return (s ? `${(100 * s.mean).toFixed(1)} ± ${(100 * s.std).toFixed(1)}` : "—").padStart(13);
  }).join(""));
  return [head, ...rows];
}

/** Mean accuracy of the depth sweep per (copied, frozen): the freeze-depth curve. */
export function depthCurve(runs: readonly DepthRun[], perClass: number | "all"): { copied: number; frozen: { mean: number; std: number }; tuned: { mean: number; std: number } }[] {
  const at = runs.filter((r) => r.perClass === perClass);
  const depths = [...new Set(at.map((r) => r.copied))].sort((a, b) => a - b);
  return depths.map((copied) => {
    const pick = (frozen: boolean) => {
      const group = at.filter((r) => r.copied === copied && (copied === 0 || r.frozen === frozen));
      const { mean, std } = meanStd(group.map((r) => r.accuracy));
      return { mean, std };
    };
    return { copied, frozen: pick(true), tuned: pick(false) };
  });
}

/**
 * Records per-layer statistics while a model trains, for scratch and tfjs MLPs alike.
 *
 *   const rec = new Recorder(model, probeBatch, { every: 20 });
 *   train(model, data, { optimizer: rec.wrap(sgd({ learningRate: 0.1 })), epochs: 5 });
 *   rec.series((s) => s.saturated)      // [layer][snapshot]
 *
 * `wrap` returns an optimizer that, every `every` updates, probes the model on the fixed probe batch just
 * before the update, and measures the update-to-weight ratio ‖ΔW^l‖ / ‖W^l‖ of that update (CS231n's rule
 * of thumb: around 1e-3). Any optimizer can be wrapped, since the ratio is measured on the weights.
 */
import * as tf from "@tensorflow/tfjs";
import { Optimizer } from "../scratch/optimizers";
import { layerActivation, layerCount } from "../scratch/init";
import { probe, ProbedModel } from "./probe";
import { layerStats, LayerStats, StatsOptions } from "./layer-stats";
import { LayerBand } from "../plot/layers";

/** The statistics of every layer at one moment of training. */
export interface Snapshot {
  /** Updates made before this snapshot. */
  step: number;
  layers: LayerStats[];
  /** ‖ΔW^l‖/‖W^l‖ of the update right after the snapshot, per layer (empty if none was measured). */
  updateRatio: number[];
}

export interface RecorderOptions extends StatsOptions {
  /** Probe every `every` updates (default 10) when training through `wrap`. */
  every?: number;
}

/** Indices in `params` of W^1..W^L (params are W, b, [α] per layer in every tensor MLP). */
function weightIndices(model: ProbedModel): number[] {
  const idx: number[] = [];
  let k = 0;
  for (let l = 1; l <= layerCount(model.spec); l++) {
    idx.push(k);
    k += layerActivation(model.spec, l) === "prelu" ? 3 : 2;
  }
  if (k !== model.params.length) throw new Error(`Recorder: the model has ${model.params.length} parameters, its spec implies ${k}`);
  return idx;
}

export class Recorder {
  readonly snapshots: Snapshot[] = [];
  readonly every: number;
  private readonly x: tf.Tensor2D;
  /** Where W^l starts in the flat parameter vector θ the optimizer steps, and its size. */
  private readonly weightSpans: { at: number; size: number }[];
  private readonly t: tf.Tensor2D;
  private readonly weightIdx: number[];
  private steps = 0;

  /** `batch` is a fixed probe batch (e.g. 500 training samples); it is copied, the caller keeps its tensors. */
  constructor(readonly model: ProbedModel, batch: { x: tf.Tensor; t: tf.Tensor2D }, readonly opts: RecorderOptions = {}) {
    this.every = opts.every ?? 10;
    if (!Number.isInteger(this.every) || this.every < 1) throw new Error(`Recorder: every must be a positive integer, got ${opts.every}`);
    this.weightIdx = weightIndices(model);
    const offsets = model.params.reduce<number[]>((acc, p) => [...acc, acc[acc.length - 1] + p.size], [0]);
    this.weightSpans = this.weightIdx.map((k) => ({ at: offsets[k], size: model.params[k].size }));
    this.x = tf.clone(batch.x) as tf.Tensor2D;
    this.t = tf.clone(batch.t);
  }

  /** Number of layers L. */
  get layers(): number {
    return layerCount(this.model.spec);
  }

  /** Probes the model now and stores (and returns) the snapshot. */
  record(): Snapshot {
    const snap: Snapshot = { step: this.steps, layers: layerStats(probe(this.model, this.x, this.t), this.opts), updateRatio: [] };
    this.snapshots.push(snap);
    return snap;
  }

  /** The statistics of the last snapshot (recording one if there is none). */
  last(): LayerStats[] {
    return (this.snapshots[this.snapshots.length - 1] ?? this.record()).layers;
  }

  /** An optimizer that does what `inner` does, and records every `every` updates. */
  wrap(inner: Optimizer): Optimizer {
    const norm = (v: Float64Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return {
      get name() { return inner.name; },
      get iterations() { return inner.iterations; },
      currentLearningRate: () => inner.currentLearningRate(),
      reset: () => inner.reset(),
      step: (theta, gradientAt) => {
        if (this.steps % this.every !== 0) {
          inner.step(theta, gradientAt);
          this.steps++;
          return;
        }
        // The model's variables hold θ at the start of a step: probe them, then measure ‖ΔW^l‖/‖W^l‖ on θ.
        const snap = this.record();
        const before = this.weightSpans.map(({ at, size }) => theta.slice(at, at + size));
        inner.step(theta, gradientAt);
        snap.updateRatio = this.weightSpans.map(({ at, size }, l) => {
          const w = before[l], delta = new Float64Array(size);
          for (let i = 0; i < size; i++) delta[i] = theta[at + i] - w[i];
          return norm(delta) / norm(w);
        });
        this.steps++;
      },
    };
  }

  /** One number per layer per snapshot: series(f)[l - 1][i] = f(layer l at snapshot i). */
  series(f: (s: LayerStats) => number, opts: { hiddenOnly?: boolean } = {}): number[][] {
    const L = opts.hiddenOnly ? this.layers - 1 : this.layers;
    return Array.from({ length: L }, (_, l) => this.snapshots.map((s) => f(s.layers[l])));
  }

  /** Updates made before each snapshot (the x axis of `series`). */
  stepAxis(): number[] {
    return this.snapshots.map((s) => s.step);
  }

  /**
   * Percentile bands of S^l (or Φ^l) per hidden layer over the snapshots, for `layerBands`:
   * the `lo`-th and `hi`-th percentiles and the median (all three must be among the recorded percentiles).
   */
  bands(opts: { of?: "act" | "pre"; lo?: number; hi?: number; hiddenOnly?: boolean } = {}): LayerBand[] {
    const of = opts.of ?? "act", lo = opts.lo ?? 5, hi = opts.hi ?? 95;
    const pick = (s: LayerStats, p: number) => {
      const k = s[of].ps.indexOf(p);
      if (k < 0) throw new Error(`Recorder.bands: percentile ${p} was not recorded; record with percentiles including ${lo}, 50, ${hi}`);
      return s[of].percentiles[k];
    };
    const L = (opts.hiddenOnly ?? true) ? this.layers - 1 : this.layers;
    return Array.from({ length: L }, (_, l) => ({
      name: `capa ${l + 1}`,
      lo: this.snapshots.map((s) => pick(s.layers[l], lo)),
      mid: this.snapshots.map((s) => pick(s.layers[l], 50)),
      hi: this.snapshots.map((s) => pick(s.layers[l], hi)),
    }));
  }

  /** Frees the probe batch. */
  dispose(): void {
    tf.dispose([this.x, this.t]);
  }
}

/**
 * The same per-layer diagnosis from the scratch MLP (our backward pass) and from the tf.layers MLP (tfjs
 * autodiff) with the same weights, and how far apart they are: lectures 03–05 print it next to each
 * diagnosis, so that what the figures show is not an artefact of our code.
 */
import { MlpSpec, MlpWeights } from "../scratch/init";
import { MatrixMlp } from "../nn/mlp";
import { LayersMlp } from "../tf/mlp-layers";
import type { TrainData } from "../train/train";
import { probe } from "./probe";
import { layerStats, LayerStats } from "./layer-stats";

export interface ProbeAgreement {
  /** Largest relative difference over the layers in ‖∂q/∂Φ^l‖. */
  gradNorm: number;
  /** Largest relative difference in Var(∂q/∂Φ^l). */
  gradVariance: number;
  /** Largest relative difference in Var(S^l). */
  actVariance: number;
  /** Largest absolute difference in the mean of S^l. */
  actMean: number;
  /** Largest absolute difference in the fraction of dead units (0 where the activation cannot die). */
  dead: number;
}

/** Per-layer statistics of MatrixMlp and LayersMlp built from `weights`, on `batch`, and their differences. */
export function probeAgreement(spec: MlpSpec, weights: MlpWeights, batch: TrainData): { scratch: LayerStats[]; tfLayers: LayerStats[]; differences: ProbeAgreement } {
  const a = new MatrixMlp(spec, weights), b = new LayersMlp(spec, weights);
  try {
    const sa = layerStats(probe(a, batch.x, batch.t)), sb = layerStats(probe(b, batch.x, batch.t));
    const maxOver = (f: (x: LayerStats, y: LayerStats) => number) => Math.max(...sa.map((s, k) => f(s, sb[k])));
    const rel = (x: number, y: number) => Math.abs(x - y) / Math.max(Math.abs(x), 1e-30);
    return {
      scratch: sa,
      tfLayers: sb,
      differences: {
        gradNorm: maxOver((x, y) => rel(x.grad.norm, y.grad.norm)),
        gradVariance: maxOver((x, y) => rel(x.grad.variance, y.grad.variance)),
        actVariance: maxOver((x, y) => rel(x.act.variance, y.act.variance)),
        actMean: maxOver((x, y) => Math.abs(x.act.mean - y.act.mean)),
        dead: maxOver((x, y) => (Number.isNaN(x.dead) ? 0 : Math.abs(x.dead - y.dead))),
      },
    };
  } finally {
    a.dispose();
    b.dispose();
  }
}

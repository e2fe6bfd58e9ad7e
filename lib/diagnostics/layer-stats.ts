/**
 * Per-layer statistics of a probed MLP: the numbers lectures 03–05 plot layer by layer.
 */
import { ActivationName } from "../scratch/activations";
import { LayerProbe } from "./probe";
import {
  Summary, summarize, variance, l2Norm, saturatedFraction, deadFraction, saturates, canDie,
  DEFAULT_PERCENTILES, DEFAULT_SATURATION_THRESHOLD,
} from "./stats";

/** Norm and variance of a block of numbers (a gradient or a weight matrix). */
export interface Spread {
  norm: number;
  variance: number;
}

/** What one layer l looks like on a batch. */
export interface LayerStats {
  layer: number;
  activation: ActivationName;
  isOutput: boolean;
  /** Distribution of the outputs S^l (all samples × units). */
  act: Summary;
  /** Distribution of the pre-activations Φ^l. */
  pre: Summary;
  /** Fraction of saturated outputs (sigmoid, tanh, softsign; NaN for the others). */
  saturated: number;
  /** Fraction of dead units on the batch (relu, leakyRelu, elu, prelu; NaN for the others). */
  dead: number;
  /** ∂q/∂Φ^l, the back-propagated gradient. */
  grad: Spread;
  /** ∂q/∂S^l. */
  gradPost: Spread;
  /** ∂q/∂W^l. */
  weightGrad: Spread;
  /** W^l. */
  weight: Spread;
}

export interface StatsOptions {
  /** ε of `saturatedFraction` (default 0.01). */
  threshold?: number;
  /** Percentiles of the activation and pre-activation summaries (default 5, 25, 50, 75, 95). */
  percentiles?: readonly number[];
}

function spread(v: ArrayLike<number>): Spread {
  return { norm: l2Norm(v), variance: variance(v) };
}

/** Statistics of every probed layer. */
export function layerStats(probes: LayerProbe[], opts: StatsOptions = {}): LayerStats[] {
  const threshold = opts.threshold ?? DEFAULT_SATURATION_THRESHOLD;
  const ps = opts.percentiles ?? DEFAULT_PERCENTILES;
  return probes.map((p) => ({
    layer: p.layer,
    activation: p.activation,
    isOutput: p.isOutput,
    act: summarize(p.post, ps),
    pre: summarize(p.pre, ps),
    saturated: saturates(p.activation) ? saturatedFraction(p.post, p.activation, threshold) : Number.NaN,
    dead: canDie(p.activation) ? deadFraction(p.post, p.units, p.activation) : Number.NaN,
    grad: spread(p.dPre),
    gradPost: spread(p.dPost),
    weightGrad: spread(p.dW),
    weight: spread(p.W),
  }));
}

/** "capa l  act mean ± std  p5..p95  sat %  dead %  ‖∂q/∂Φ‖" lines, one per layer, for a quick look. */
export function describeLayers(stats: LayerStats[]): string {
  const pct = (v: number) => (Number.isNaN(v) ? "    –" : `${(100 * v).toFixed(1).padStart(5)}%`);
  const head = "capa  g          media(S)  desv(S)   p5(S)    p95(S)  saturadas  muertas  ‖∂q/∂Φ‖    Var(∂q/∂Φ)";
  const lines = stats.map((s) => {
    const p = (q: number) => s.act.percentiles[s.act.ps.indexOf(q)];
    const fmt = (v: number | undefined) => (v === undefined ? "      –" : v.toFixed(4).padStart(8));
    return `${String(s.layer).padStart(4)}  ${s.activation.padEnd(9)}${fmt(s.act.mean)}  ${fmt(s.act.std)}  ${fmt(p(5))}  ${fmt(p(95))}` +
      `     ${pct(s.saturated)}   ${pct(s.dead)}  ${s.grad.norm.toExponential(2).padStart(9)}  ${s.grad.variance.toExponential(2).padStart(9)}`;
  });
  return [head, ...lines].join("\n");
}

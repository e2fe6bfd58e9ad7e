/**
 * How far the CD-k gradient is from the true one (lecture 11): on an RBM small enough to enumerate, the exact
 * log-likelihood gradient (rbm-exact.ts) against the mean of many CD-k estimates, i.e. against E[ĝ_k]. The
 * difference is CD's bias (its noise averages out over the chains); it shrinks as k grows, since the chain
 * from the data gets closer to the model's distribution. PCD is measured at fixed parameters, as when the
 * learning rate is small: its persistent chains have run `pcdSteps` steps since they left the data.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { Rbm, gradientToArrays } from "../nn/rbm";
import { RbmGradient, RbmParams, exactGradient, flattenGradient, subtract } from "../nn/rbm-exact";

export interface CdBiasRow {
  /** "CD-1", "CD-5", ..., "PCD". */
  method: string;
  /** Gibbs steps of the negative phase (PCD: since the data). */
  steps: number;
  /** ‖E[ĝ] − ∇‖ over all parameters (W, b, a). */
  bias: number;
  /** bias / ‖∇‖. */
  relativeBias: number;
  /** Monte Carlo error of the mean estimate (from two independent halves): biases below it are not resolved. */
  noise: number;
}

export interface CdBiasOptions {
  rng: Rng;
  /** The k of CD-k (default [1, 5, 25]). */
  ks?: number[];
  /** Chains started at each data row (default 2000). */
  chainsPerRow?: number;
  /** Steps the persistent chains have run for the PCD row (default 500; 0 leaves PCD out). */
  pcdSteps?: number;
}

export function cdBias(p: RbmParams, data: number[][], opts: CdBiasOptions): { exact: RbmGradient; rows: CdBiasRow[] } {
  if (!(opts?.rng instanceof Rng)) throw new Error("cdBias: pass { rng } (a bp.Rng)");
  const exact = exactGradient(p, data);
  const norm = l2(flattenGradient(exact));
  const chainsPerRow = opts.chainsPerRow ?? 2000;
  const rbm = Rbm.fromParams(p);
  const v0 = tf.tidy(() => tf.tile(tf.tensor2d(data, undefined, "float32"), [chainsPerRow, 1]) as tf.Tensor2D);
  const half = (data.length * chainsPerRow) >> 1;
  const row = (method: string, steps: number, k: number, chains?: tf.Tensor2D): CdBiasRow => {
    // Two independent halves: their mean is the estimate, their difference the Monte Carlo error.
    const halves = [0, 1].map((h) => {
      const part = tf.tidy(() => v0.slice([h * half, 0], [half, -1]));
      const c = chains ? tf.tidy(() => chains.slice([h * half, 0], [half, -1])) : undefined;
      const g = rbm.cdGradient(part, { k, rng: opts.rng, chains: c });
      const arrays = flattenGradient(gradientToArrays(g));
      tf.dispose([part, g.W, g.b, g.a, g.chainEnd, ...(c ? [c] : [])]);
      return arrays;
    });
    const mean = halves[0].map((x, i) => (x + halves[1][i]) / 2);
    const bias = l2(mean.map((x, i) => x - flatExact[i]));
    const noise = l2(halves[0].map((x, i) => (x - halves[1][i]) / 2));
    return { method, steps, bias, relativeBias: bias / norm, noise };
  };
  const flatExact = flattenGradient(exact);
  const rows = (opts.ks ?? [1, 5, 25]).map((k) => row(`CD-${k}`, k, k));
  const pcdSteps = opts.pcdSteps ?? 500;
  if (pcdSteps > 0) {
    const chains = rbm.gibbs(v0, pcdSteps - 1, opts.rng);
    rows.push(row("PCD", pcdSteps, 1, chains));
    chains.dispose();
  }
  v0.dispose();
  rbm.dispose();
  return { exact, rows };
}

/** The exact gradient minus a CD estimate, in float64 (for tests that compare entry by entry). */
export function gradientError(estimate: RbmGradient, exact: RbmGradient): number {
  return l2(flattenGradient(subtract(estimate, exact)));
}

function l2(xs: number[]): number {
  return Math.sqrt(xs.reduce((s, x) => s + x * x, 0));
}

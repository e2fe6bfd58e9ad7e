/**
 * Training an RBM by CD-k or PCD with the usual recipe (Hinton, "A practical guide to training RBMs", 2010):
 * mini-batches, momentum on the updates and weight decay on W only,
 *
 *   Δθ ← μ Δθ + η (ĝ_θ − λ θ)   (λ only for W),   θ ← θ + Δθ      (gradient ascent on the log-likelihood)
 *
 * where ĝ is the CD-k estimate of E_data[v h] − E_model[v h]. After each epoch it records the reconstruction
 * error and (Bernoulli units) the pseudo-log-likelihood on a monitor set.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { Rbm } from "./rbm";

export interface RbmTrainOptions {
  rng: Rng;
  epochs: number;
  /** Rows per update (default 20). */
  batchSize?: number;
  /** η (default 0.1; Gaussian visible units usually need ~10× less). */
  learningRate?: number;
  /** Gibbs steps per update (default 1: CD-1). */
  k?: number;
  /** Persistent chains (PCD): as many as the batch size, kept between updates. Default false (CD-k). */
  persistent?: boolean;
  /** μ (default 0.5 for the first 5 epochs, 0.9 after: Hinton's guide). */
  momentum?: number;
  /** λ on W (default 2e-4). */
  weightDecay?: number;
  /** Rows on which the curves are measured (default: the first 500 of x). */
  monitor?: tf.Tensor2D;
  /** Called after each epoch. */
  onEpoch?: (epoch: number, stats: { reconstructionError: number; pseudoLogLikelihood?: number }) => void;
}

export interface RbmHistory {
  /** Per epoch: mean squared reconstruction error per unit on the monitor set. */
  reconstructionError: number[];
  /** Per epoch: pseudo-log-likelihood per example (Bernoulli visible units; empty for Gaussian ones). */
  pseudoLogLikelihood: number[];
  seconds: number;
}

/** Trains `rbm` in place on the rows of x; returns the curves. */
export function trainRbm(rbm: Rbm, x: tf.Tensor2D, opts: RbmTrainOptions): RbmHistory {
  if (!(opts?.rng instanceof Rng)) throw new Error("trainRbm: pass { rng } (a bp.Rng) so that training is reproducible");
  if (x.rank !== 2 || x.shape[1] !== rbm.visibleUnits) throw new Error(`trainRbm: x should be [N, ${rbm.visibleUnits}] for ${rbm.name}, got [${x.shape}]`);
  if (!Number.isInteger(opts.epochs) || opts.epochs < 0) throw new Error(`trainRbm: epochs must be a whole number ≥ 0, got ${opts.epochs}`);
  const batchSize = Math.min(opts.batchSize ?? 20, x.shape[0]);
  const lr = opts.learningRate ?? 0.1;
  const k = opts.k ?? 1;
  const decay = opts.weightDecay ?? 2e-4;
  if (!(batchSize >= 1) || !(lr > 0) || !Number.isInteger(k) || k < 1 || !(decay >= 0)) {
    throw new Error(`trainRbm: need batchSize ≥ 1, learningRate > 0, k a whole number ≥ 1 and weightDecay ≥ 0 (got ${batchSize}, ${lr}, ${k}, ${decay})`);
  }
  const monitor = opts.monitor ?? tf.tidy(() => x.slice([0, 0], [Math.min(500, x.shape[0]), -1]));
  const history: RbmHistory = { reconstructionError: [], pseudoLogLikelihood: [], seconds: 0 };
  const params = [rbm.W, rbm.b, rbm.a] as tf.Variable[];
  const velocity: tf.Tensor[] = params.map((p) => tf.zerosLike(p));
  let chains: tf.Tensor2D | undefined = opts.persistent ? tf.tidy(() => x.slice([0, 0], [batchSize, -1])) : undefined;
  const t0 = performance.now();
  const n = x.shape[0];
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const mu = opts.momentum ?? (epoch <= 5 ? 0.5 : 0.9);
    const order = tf.tensor1d(opts.rng.permutation(n), "int32");
    for (let start = 0; start + batchSize <= n; start += batchSize) {
      const batch = tf.tidy(() => tf.gather(x, order.slice(start, batchSize)) as tf.Tensor2D);
      const g = rbm.cdGradient(batch, { k, rng: opts.rng, chains });
      tf.tidy(() => {
        const steps = [tf.sub(g.W, tf.mul(decay, rbm.W)), g.b, g.a];
        params.forEach((p, i) => {
          const v = tf.add(tf.mul(mu, velocity[i]), tf.mul(lr, steps[i]));
          velocity[i].dispose();
          velocity[i] = tf.keep(v);
          p.assign(tf.add(p, v));
        });
      });
      tf.dispose([batch, g.W, g.b, g.a]);
      if (opts.persistent) {
        chains!.dispose();
        chains = g.chainEnd;
      } else g.chainEnd.dispose();
    }
    order.dispose();
    const reconstructionError = rbm.reconstructionError(monitor);
    history.reconstructionError.push(reconstructionError);
    const pseudoLogLikelihood = rbm.visible === "bernoulli" ? rbm.pseudoLogLikelihood(monitor, { rng: opts.rng }) : undefined;
    if (pseudoLogLikelihood !== undefined) history.pseudoLogLikelihood.push(pseudoLogLikelihood);
    opts.onEpoch?.(epoch, { reconstructionError, pseudoLogLikelihood });
  }
  history.seconds = (performance.now() - t0) / 1000;
  tf.dispose(velocity);
  if (chains) chains.dispose();
  if (!opts.monitor) monitor.dispose();
  return history;
}

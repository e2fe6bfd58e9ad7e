/**
 * Loss landscapes (lecture 03): slices of a real network's loss q_S(Θ) along lines and planes in weight space
 * (Goodfellow et al. 2015 for lines between two points; Li et al. 2018 for "filter-normalized" random
 * directions, here one scale per unit).
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { MlpWeights } from "../scratch/init";
import type { TrainData } from "../train/train";

/** Eigenvalues (ascending) of a symmetric 2 × 2 matrix [[a, b], [b, d]]. */
export function eigenvalues2(H: ArrayLike<number>[]): [number, number] {
  const a = H[0][0], b = H[0][1], d = H[1][1];
  const mid = (a + d) / 2, r = Math.hypot((a - d) / 2, b);
  return [mid - r, mid + r];
}

/** (1 − α) A + α B for every weight (α outside [0, 1] extrapolates). */
export function interpolateWeights(a: MlpWeights, b: MlpWeights, alpha: number): MlpWeights {
  const mix = (u: number, v: number) => (1 - alpha) * u + alpha * v;
  return a.map((la, l) => {
    const lb = b[l];
    return {
      W: la.W.map((row, i) => row.map((w, j) => mix(w, lb.W[i][j]))),
      b: la.b.map((w, i) => mix(w, lb.b[i])),
      ...(la.alpha && lb.alpha ? { alpha: la.alpha.map((w, i) => mix(w, lb.alpha![i])) } : {}),
    };
  });
}

/** center + a·d1 + b·d2 (biases and α included). */
export function offsetWeights(center: MlpWeights, d1: MlpWeights, a: number, d2?: MlpWeights, b = 0): MlpWeights {
  return center.map((lc, l) => ({
    W: lc.W.map((row, i) => row.map((w, j) => w + a * d1[l].W[i][j] + (d2 ? b * d2[l].W[i][j] : 0))),
    b: lc.b.map((w, i) => w + a * d1[l].b[i] + (d2 ? b * d2[l].b[i] : 0)),
    ...(lc.alpha ? { alpha: lc.alpha.slice() } : {}),
  }));
}

/**
 * A random direction in weight space with the scale of `like`: Gaussian entries, each unit's column of W
 * rescaled to the norm of the same column of `like` (so a step of 1 moves every unit as much as its
 * own weights), biases 0. Slices along such directions are comparable between networks.
 */
export function randomDirection(like: MlpWeights, rng: Rng): MlpWeights {
  return like.map((layer) => {
    const rows = layer.W.length, cols = layer.W[0].length;
    const D = Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal()));
    for (let j = 0; j < cols; j++) {
      let nd = 0, nw = 0;
      for (let i = 0; i < rows; i++) {
        nd += D[i][j] ** 2;
        nw += layer.W[i][j] ** 2;
      }
      const s = Math.sqrt(nw / nd);
      for (let i = 0; i < rows; i++) D[i][j] *= s;
    }
    return { W: D, b: layer.b.map(() => 0) };
  });
}

/** A model whose weights can be set and whose mean loss can be measured (every tensor MLP). */
export interface LossModel {
  setWeights(w: MlpWeights): void;
  getWeights(): MlpWeights;
  loss(x: tf.Tensor, t: tf.Tensor2D): tf.Scalar;
}

function lossAt(model: LossModel, w: MlpWeights, data: TrainData): number {
  model.setWeights(w);
  const q = model.loss(data.x, data.t);
  try {
    return q.dataSync()[0];
  } finally {
    q.dispose();
  }
}

/** q_S along the line (1 − α) A + α B, for each α; the model's weights are put back afterwards. */
export function lossAlong(model: LossModel, a: MlpWeights, b: MlpWeights, alphas: readonly number[], data: TrainData): number[] {
  const saved = model.getWeights();
  try {
    return alphas.map((al) => lossAt(model, interpolateWeights(a, b, al), data));
  } finally {
    model.setWeights(saved);
  }
}

/**
 * q_S on the plane center + a·d1 + b·d2 over an n × n grid of (a, b) in [−range, range]², as rows of b
 * and columns of a (what `contour` takes). The model's weights are put back afterwards.
 */
export function lossPlane(model: LossModel, center: MlpWeights, d1: MlpWeights, d2: MlpWeights, data: TrainData, opts: { range?: number; n?: number } = {}): { z: number[][]; a: number[]; b: number[] } {
  const range = opts.range ?? 1, n = opts.n ?? 21;
  if (!Number.isInteger(n) || n < 2) throw new Error(`lossPlane: n must be an integer ≥ 2, got ${n}`);
  const axis = Array.from({ length: n }, (_, i) => -range + (2 * range * i) / (n - 1));
  const saved = model.getWeights();
  try {
    const z = axis.map((bv) => axis.map((av) => lossAt(model, offsetWeights(center, d1, av, d2, bv), data)));
    return { z, a: axis, b: axis };
  } finally {
    model.setWeights(saved);
  }
}

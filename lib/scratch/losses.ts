/**
 * Loss functions q_n(Θ) of one sample and their gradients with respect to the network's outputs s
 * (seed 002, "Funciones objetivo o de pérdida"); the loss of a set is the mean q_S = (1/N) Σ_n q_n.
 *
 * Scalar forms take one sample (s, t as number[], float64). Tensor forms take a batch [N, M] and return
 * the mean over the N samples, and their gradient is that of the mean (each row divided by N).
 */
import * as tf from "@tensorflow/tfjs";
import { ActivationName, softmax } from "./activations";

export type LossName = "squaredError" | "binaryCrossEntropy" | "crossEntropy" | "kl";
export const LOSS_NAMES: readonly LossName[] = ["squaredError", "binaryCrossEntropy", "crossEntropy", "kl"];

/**
 * Logs are taken of max(s, LOG_EPS): log(0) would make the loss Infinity and 0·log(0) NaN. Only outputs
 * closer to 0 (or 1) than this are affected.
 */
export const LOG_EPS = 1e-12;
const safeLog = (v: number) => Math.log(Math.max(v, LOG_EPS));

/** ERROR CUADRÁTICO: q_n = ½ Σ_i (t_i - s_i)². */
export function squaredError(s: readonly number[], t: readonly number[]): number {
  checkPair("squaredError", s, t);
  return 0.5 * s.reduce((acc, si, i) => acc + (t[i] - si) ** 2, 0);
}
/** ∂q_n/∂s_i = s_i - t_i (so -∂q_n/∂s_i = t_i - s_i, the lecture's error term). */
export function squaredErrorGrad(s: readonly number[], t: readonly number[]): number[] {
  checkPair("squaredErrorGrad", s, t);
  return s.map((si, i) => si - t[i]);
}

/** Binary cross-entropy for independent 0/1 targets: q_n = -Σ_i [t_i log s_i + (1 - t_i) log(1 - s_i)]. */
export function binaryCrossEntropy(s: readonly number[], t: readonly number[]): number {
  checkPair("binaryCrossEntropy", s, t);
  return -s.reduce((acc, si, i) => acc + t[i] * safeLog(si) + (1 - t[i]) * safeLog(1 - si), 0);
}
/** ∂q_n/∂s_i = (s_i - t_i) / (s_i (1 - s_i)). */
export function binaryCrossEntropyGrad(s: readonly number[], t: readonly number[]): number[] {
  checkPair("binaryCrossEntropyGrad", s, t);
  return s.map((si, i) => -t[i] / Math.max(si, LOG_EPS) + (1 - t[i]) / Math.max(1 - si, LOG_EPS));
}

/** ENTROPÍA CRUZADA: q_n = -Σ_i t_i log s_i (s: class posteriors, e.g. a softmax output). */
export function crossEntropy(s: readonly number[], t: readonly number[]): number {
  checkPair("crossEntropy", s, t);
  return -s.reduce((acc, si, i) => acc + t[i] * safeLog(si), 0);
}
/** ∂q_n/∂s_i = -t_i / s_i. */
export function crossEntropyGrad(s: readonly number[], t: readonly number[]): number[] {
  checkPair("crossEntropyGrad", s, t);
  return s.map((si, i) => -t[i] / Math.max(si, LOG_EPS));
}

/** Softmax cross-entropy from the pre-activations (logits) z: crossEntropy(softmax(z), t). */
export function softmaxCrossEntropy(z: readonly number[], t: readonly number[]): number {
  return crossEntropy(softmax(z), t);
}
/** ∂q_n/∂z_i = softmax(z)_i - t_i (for targets that sum to 1): the softmax Jacobian cancels the 1/s. */
export function softmaxCrossEntropyGrad(z: readonly number[], t: readonly number[]): number[] {
  checkPair("softmaxCrossEntropyGrad", z, t);
  return softmax(z).map((si, i) => si - t[i]);
}

/** Kullback–Leibler divergence KL(t ‖ s) = Σ_i t_i log(t_i / s_i) (terms with t_i = 0 count 0). */
export function klDivergence(s: readonly number[], t: readonly number[]): number {
  checkPair("klDivergence", s, t);
  return s.reduce((acc, si, i) => acc + (t[i] > 0 ? t[i] * (Math.log(t[i]) - safeLog(si)) : 0), 0);
}
/** ∂KL/∂s_i = -t_i / s_i: the cross-entropy's gradient, since KL = crossEntropy - entropy(t). */
export function klDivergenceGrad(s: readonly number[], t: readonly number[]): number[] {
  return crossEntropyGrad(s, t);
}

function checkPair(where: string, s: readonly number[], t: readonly number[]): void {
  if (s.length !== t.length) {
    throw new Error(`${where}: the output has ${s.length} values but the target has ${t.length}; ` +
      `give one target per output unit (one-hot targets for classes)`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Tensor forms and the registry
// ---------------------------------------------------------------------------------------------------

/** A loss in both forms. */
export interface Loss {
  readonly name: LossName;
  /** q_n(s, t) of one sample, float64. */
  q(s: readonly number[], t: readonly number[]): number;
  /** ∂q_n/∂s of one sample, float64. */
  grad(s: readonly number[], t: readonly number[]): number[];
  /** Mean of q_n over a batch s, t of shape [N, M]. */
  tensor(s: tf.Tensor2D, t: tf.Tensor2D): tf.Scalar;
  /** Gradient of that mean with respect to s: ∂q_n/∂s_n / N, shape [N, M]. */
  tensorGrad(s: tf.Tensor2D, t: tf.Tensor2D): tf.Tensor2D;
}

const tLog = (v: tf.Tensor) => tf.log(tf.maximum(v, LOG_EPS));
const rows = (s: tf.Tensor2D) => s.shape[0];
/** Mean over samples of the per-sample sum over units. */
const meanOfRowSums = (perEntry: tf.Tensor) => tf.div(tf.sum(perEntry), rows(perEntry as tf.Tensor2D)) as tf.Scalar;

/** Every loss by name: `LOSSES.crossEntropy.tensor(s, t)`. */
export const LOSSES: { readonly [K in LossName]: Loss } = {
  squaredError: {
    name: "squaredError",
    q: squaredError,
    grad: squaredErrorGrad,
    tensor: (s, t) => tf.tidy(() => meanOfRowSums(tf.mul(0.5, tf.squaredDifference(t, s)))),
    tensorGrad: (s, t) => tf.tidy(() => tf.div(tf.sub(s, t), rows(s))),
  },
  binaryCrossEntropy: {
    name: "binaryCrossEntropy",
    q: binaryCrossEntropy,
    grad: binaryCrossEntropyGrad,
    tensor: (s, t) =>
      tf.tidy(() => tf.neg(meanOfRowSums(tf.add(tf.mul(t, tLog(s)), tf.mul(tf.sub(1, t), tLog(tf.sub(1, s))))))),
    tensorGrad: (s, t) =>
      tf.tidy(() => {
        const g = tf.add(tf.neg(tf.div(t, tf.maximum(s, LOG_EPS))), tf.div(tf.sub(1, t), tf.maximum(tf.sub(1, s), LOG_EPS)));
        return tf.div(g, rows(s));
      }),
  },
  crossEntropy: {
    name: "crossEntropy",
    q: crossEntropy,
    grad: crossEntropyGrad,
    tensor: (s, t) => tf.tidy(() => tf.neg(meanOfRowSums(tf.mul(t, tLog(s))))),
    tensorGrad: (s, t) => tf.tidy(() => tf.div(tf.neg(tf.div(t, tf.maximum(s, LOG_EPS))), rows(s))),
  },
  kl: {
    name: "kl",
    q: klDivergence,
    grad: klDivergenceGrad,
    tensor: (s, t) =>
      tf.tidy(() => {
        const tPos = tf.greater(t, 0); // 0·log 0 counts 0
        const terms = tf.where(tPos, tf.mul(t, tf.sub(tLog(t), tLog(s))), tf.zerosLike(t));
        return meanOfRowSums(terms);
      }),
    tensorGrad: (s, t) => tf.tidy(() => tf.div(tf.neg(tf.div(t, tf.maximum(s, LOG_EPS))), rows(s))),
  },
};

/** The loss registered under `name`, or an error listing the valid names. */
export function loss(name: string): Loss {
  if (!(LOSS_NAMES as readonly string[]).includes(name)) {
    throw new Error(`Unknown loss "${name}". Valid names: ${LOSS_NAMES.join(", ")}`);
  }
  return LOSSES[name as LossName];
}

/**
 * True when the output activation and the loss simplify together to ∂q_n/∂φ^L = s - t
 * (softmax with cross-entropy or KL; sigmoid with binary cross-entropy). Backward passes then skip
 * dividing by s (which underflows to 0 in float32) and multiplying by g'(φ^L) again.
 */
export function isFusedOutput(output: ActivationName, lossName: LossName): boolean {
  return (output === "softmax" && (lossName === "crossEntropy" || lossName === "kl")) ||
    (output === "sigmoid" && lossName === "binaryCrossEntropy");
}

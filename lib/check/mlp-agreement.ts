/**
 * The four MLP implementations side by side: the tensor ones (matrix form with hand-written backward,
 * autodiff, tf.layers) loaded with the same weights as the scalar one (the lecture's per-unit algorithm,
 * float64), on the same batch. Lecture 02 prints this table; test/mlp.test.ts asserts it for every activation
 * and head.
 */
import * as tf from "@tensorflow/tfjs";
import { MlpSpec, MlpWeights } from "../scratch/init";
import { ScalarMlp } from "../scratch/mlp-scalar";
import { MatrixMlp, weightsFromTensors } from "../nn/mlp";
import { AutodiffMlp } from "../tf/mlp-autodiff";
import { LayersMlp } from "../tf/mlp-layers";
import { compare, Comparison } from "./compare";

export interface MlpAgreement {
  /** "MatrixMlp", "AutodiffMlp" or "LayersMlp". */
  implementation: string;
  /** Against the scalar MLP: outputs S^L, loss q_S, and every gradient. */
  outputs: Comparison;
  loss: Comparison;
  grads: Comparison;
}

/** Each tensor MLP against the scalar one, same weights and batch X, T (rows are samples). */
export function mlpAgreement(spec: MlpSpec, weights: MlpWeights, X: number[][], T: number[][]): MlpAgreement[] {
  const scalar = new ScalarMlp(spec, weights);
  const ref = scalar.backprop(X, T);
  const refOut = X.map((xn) => scalar.predict(xn));
  const x = tf.tensor2d(X), t = tf.tensor2d(T);
  try {
    return [MatrixMlp, AutodiffMlp, LayersMlp].map((Impl) => {
      const m = new Impl(spec, weights);
      const out = m.predict(x);
      const { loss, grads } = m.lossAndGrads(x, t);
      try {
        return {
          implementation: Impl.name,
          outputs: compare(refOut, out),
          loss: compare(ref.loss, loss),
          grads: compare(ref.grads, weightsFromTensors(spec, grads)),
        };
      } finally {
        tf.dispose([out, loss, ...grads]);
        m.dispose();
      }
    });
  } finally {
    tf.dispose([x, t]);
  }
}

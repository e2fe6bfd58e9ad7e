/**
 * The MLP with TensorFlow.js automatic differentiation: only the forward pass is written (tfjs ops and the
 * tensor activations of lib/scratch), and tf.variableGrads derives every gradient.
 *
 * Plain tf.matMul: on wasm, initBackend installs kernels that make its transposed gradients fast (see
 * ./fast-grads); ./dense shows the other way, a tf.customGrad op with hand-placed transposes.
 */
import * as tf from "@tensorflow/tfjs";
import { activations } from "../scratch/activations";
import { losses } from "../scratch/losses";
import { layerActivation } from "../scratch/init";
import { TensorMlp } from "../scratch/mlp-matrix";
import { checkBatch } from "../train/model";

export class AutodiffMlp extends TensorMlp {
  /** Outputs s^L for a batch: S^l = g(S^{l-1} W^l + b^l). */
  predict(x: tf.Tensor2D): tf.Tensor2D {
    checkBatch("AutodiffMlp.predict", this, x);
    return tf.tidy(() =>
      this.vars.reduce((s, v, k) => {
        const act = activations[layerActivation(this.spec, k + 1)];
        const phi = tf.add(tf.matMul(s, v.W), v.b) as tf.Tensor2D;
        return (act.kind === "elementwise" ? act.tensor(phi, v.alpha ?? this.spec.alpha) : act.tensor(phi, this.spec.pieces)) as tf.Tensor2D;
      }, x),
    );
  }

  /** Mean loss and its gradients by tf.variableGrads (order of `params`). */
  lossAndGrads(x: tf.Tensor2D, t: tf.Tensor2D): { loss: tf.Scalar; grads: tf.Tensor[] } {
    checkBatch("AutodiffMlp.lossAndGrads", this, x, t);
    const { value, grads } = tf.variableGrads(() => losses[this.spec.loss].tensor(this.predict(x), t), this.params);
    return { loss: value, grads: this.params.map((p) => grads[p.name]) };
  }
}

/**
 * Proposed changes to the core engineer's MLPs, measured by the benchmark before they are made in lib/:
 *
 * LeanMatrixMlp: MatrixMlp.backward also computes ∂q/∂X = ∂q/∂Φ¹ (W¹)ᵀ for the first layer, which nobody
 *   uses (X is the data). For 784-300-100-10 that is a [64,300]·[300,784] product, a 784×300 transpose and
 *   XNNPACK's packing of it every step: about a third of the matrix work. This subclass stops the backward
 *   pass at the first Dense layer's parameter gradients.
 *
 * PlainAutodiffMlp: AutodiffMlp builds Φ = S W + b with lib/tf/dense.ts's customGrad, whose gradient
 *   function computes ∂q/∂S, ∂q/∂W and ∂q/∂b eagerly, including the unused ∂q/∂X of the first layer.
 *   With lib/tf/fast-grads installed, tfjs's own matMul gradient is as fast as the explicit transposes and
 *   tfjs computes only the gradients on a path to a variable, so plain tf.add(tf.matMul(s, W), b) is
 *   faster. (Without the fast kernels, dense.ts remains the fast one on wasm.)
 */
import * as tf from "@tensorflow/tfjs";
import { MatrixMlp, Dense } from "../../lib/scratch/mlp-matrix";
import { AutodiffMlp } from "../../lib/tf/mlp-autodiff";
import { activations } from "../../lib/scratch/activations";
import { layerActivation } from "../../lib/scratch/init";
import { checkBatch } from "../../lib/train/model";

export class LeanMatrixMlp extends MatrixMlp {
  /** As MatrixMlp.backward, but the first Dense layer returns only ∂q/∂W¹ and ∂q/∂b¹. */
  backward(dout: tf.Tensor2D, caches: unknown[], from = this.layers.length - 1): tf.Tensor[] {
    const perLayer: tf.Tensor[][] = this.layers.map(() => []);
    let d = dout;
    for (let k = from; k >= 0; k--) {
      const layer = this.layers[k];
      if (k === 0 && layer instanceof Dense) {
        const x = caches[0] as tf.Tensor2D;
        perLayer[0] = [tf.matMul(tf.transpose(x), d), tf.sum(d, 0)];
        break;
      }
      const r = layer.backward(d, caches[k]);
      perLayer[k] = r.grads;
      d = r.dx;
    }
    return perLayer.flat();
  }
}

export class PlainAutodiffMlp extends AutodiffMlp {
  /** S^l = g(S^{l-1} W^l + b^l) with tfjs's own matMul and add (and their registered gradients). */
  predict(x: tf.Tensor2D): tf.Tensor2D {
    checkBatch("PlainAutodiffMlp.predict", this, x);
    return tf.tidy(() =>
      this.vars.reduce((s, v, k) => {
        const act = activations[layerActivation(this.spec, k + 1)];
        const phi = tf.add(tf.matMul(s, v.W), v.b) as tf.Tensor2D;
        return (act.kind === "elementwise" ? act.tensor(phi, v.alpha ?? this.spec.alpha) : act.tensor(phi, this.spec.pieces)) as tf.Tensor2D;
      }, x),
    );
  }
}

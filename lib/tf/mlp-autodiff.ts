/**
 * The MLP with TensorFlow.js automatic differentiation: only the forward pass is written (tfjs ops and the
 * tensor activations of lib/scratch), and tf.variableGrads derives every gradient.
 *
 * Plain tf.matMul: on wasm, the backend set-up installs kernels that make its transposed gradients fast
 * (lib/perf/fast-grads.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { ACTIVATIONS } from "../scratch/activations";
import { LOSSES } from "../scratch/losses";
import { MlpSpec, FullMlpSpec, MlpWeights, fullSpec, layerActivation } from "../scratch/init";
import { LayerVariables, mlpVariables, assignMlpWeights, weightsFromTensors } from "../nn/mlp";
import { Model, checkBatch } from "../train/model";

/** Optional taps on the forward pass: each may return a replacement (the probe adds zero variables there). */
export interface ForwardHooks {
  /** Called with l = 1..L and Φ^l. */
  pre?(l: number, phi: tf.Tensor2D): tf.Tensor2D;
  /** Called with l = 1..L and S^l. */
  post?(l: number, s: tf.Tensor2D): tf.Tensor2D;
}

export class AutodiffMlp implements Model {
  readonly spec: FullMlpSpec;
  readonly vars: LayerVariables[];
  readonly params: tf.Variable[];
  readonly inputShape: readonly number[];
  readonly outputSize: number;

  constructor(spec: MlpSpec, weights: MlpWeights) {
    this.spec = fullSpec(spec);
    this.vars = mlpVariables(this.spec, weights);
    this.params = this.vars.flatMap(({ W, b, alpha }) => (alpha ? [W, b, alpha] : [W, b]));
    this.inputShape = [this.spec.sizes[0]];
    this.outputSize = this.spec.sizes[this.spec.sizes.length - 1];
  }

  /** S^l = g(S^{l-1} W^l + b^l) for l = 1..L; returns S^L (not tidied: for use inside tf.variableGrads). */
  forward(x: tf.Tensor2D, hooks: ForwardHooks = {}): tf.Tensor2D {
    return this.vars.reduce((s, v, k) => {
      const act = ACTIVATIONS[layerActivation(this.spec, k + 1)];
      let phi = tf.add(tf.matMul(s, v.W), v.b) as tf.Tensor2D;
      if (hooks.pre) phi = hooks.pre(k + 1, phi);
      let out = (act.kind === "elementwise" ? act.tensor(phi, v.alpha ?? this.spec.alpha) : act.tensor(phi, this.spec.pieces)) as tf.Tensor2D;
      if (hooks.post) out = hooks.post(k + 1, out);
      return out;
    }, x);
  }

  /** Outputs S^L for a batch. */
  predict(x: tf.Tensor): tf.Tensor2D {
    checkBatch("AutodiffMlp.predict", this, x);
    return tf.tidy(() => this.forward(x as tf.Tensor2D));
  }

  /** Mean loss q_S over the batch. */
  loss(x: tf.Tensor, t: tf.Tensor2D): tf.Scalar {
    checkBatch("AutodiffMlp.loss", this, x, t);
    return tf.tidy(() => LOSSES[this.spec.loss].tensor(this.forward(x as tf.Tensor2D), t));
  }

  /** Mean loss and its gradients by tf.variableGrads (order of `params`). */
  lossAndGrads(x: tf.Tensor, t: tf.Tensor2D): { loss: tf.Scalar; grads: tf.Tensor[] } {
    checkBatch("AutodiffMlp.lossAndGrads", this, x, t);
    const { value, grads } = tf.variableGrads(() => LOSSES[this.spec.loss].tensor(this.forward(x as tf.Tensor2D), t), this.params);
    return { loss: value, grads: this.params.map((p) => grads[p.name]) };
  }

  getWeights(): MlpWeights {
    return weightsFromTensors(this.spec, this.params);
  }

  setWeights(weights: MlpWeights): void {
    assignMlpWeights(this.spec, this.params, weights);
  }

  dispose(): void {
    tf.dispose(this.params);
  }
}

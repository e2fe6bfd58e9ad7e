/**
 * The same MLP as a tf.layers Sequential model (Keras style), loadable with the shared weights, so its
 * outputs and gradients can be compared with the from-scratch ones. Activations tf.layers has are used as
 * they are (Dense activations, LeakyReLU, ELU with α = 1, PReLU); step, maxout and ELU with another α
 * get a small custom layer that applies the tensor activation of lib/scratch.
 */
import * as tf from "@tensorflow/tfjs";
import { ACTIVATIONS, ActivationName } from "../scratch/activations";
import { LOSSES } from "../scratch/losses";
import { MlpSpec, FullMlpSpec, MlpWeights, fullSpec, checkWeights, layerActivation, layerWidth, layerCount } from "../scratch/init";
import { weightsFromTensors } from "../nn/mlp";
import { Model, checkBatch } from "../train/model";

/** Activations a Dense layer of tf.layers takes by name (same function as ours). */
const DENSE_ACTIVATIONS: Partial<Record<ActivationName, "linear" | "sigmoid" | "tanh" | "relu" | "softsign" | "softmax">> = {
  linear: "linear", sigmoid: "sigmoid", tanh: "tanh", relu: "relu", softsign: "softsign", softmax: "softmax",
};

/** A parameter-free layer applying one of our tensor activations (for those tf.layers lacks). */
class ActivationFn extends tf.layers.Layer {
  static className = "BackpropLabActivation";
  constructor(private readonly act: ActivationName, private readonly alpha: number, private readonly pieces: number) {
    super({ trainable: false }); // tf.layers names it uniquely from className
  }
  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const a = ACTIVATIONS[this.act];
    const per = a.kind === "vector" ? a.piecesPerUnit(this.pieces) : 1;
    return [...shape.slice(0, -1), shape[shape.length - 1] === null ? null : (shape[shape.length - 1] as number) / per];
  }
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const a = ACTIVATIONS[this.act];
    return a.kind === "elementwise" ? a.tensor(x, this.alpha) : a.tensor(x as tf.Tensor2D, this.pieces);
  }
}

/** The tf.layers that apply activation `name` after a linear Dense (empty when Dense does it itself). */
function activationLayers(spec: FullMlpSpec, name: ActivationName): tf.layers.Layer[] {
  if (name in DENSE_ACTIVATIONS) return [];
  if (name === "leakyRelu") return [tf.layers.leakyReLU({ alpha: spec.alpha })];
  if (name === "elu" && spec.alpha === 1) return [tf.layers.elu()];
  if (name === "prelu") return [tf.layers.prelu({})];
  return [new ActivationFn(name, spec.alpha, spec.pieces)];
}

/** Builds a tf.Sequential equivalent to `spec` (weights set by LayersMlp; here Keras's default init). */
export function buildSequential(spec: MlpSpec): tf.Sequential {
  const full = fullSpec(spec);
  const model = tf.sequential();
  for (let l = 1; l <= layerCount(full); l++) {
    const name = layerActivation(full, l);
    model.add(tf.layers.dense({
      units: layerWidth(full, l),
      activation: DENSE_ACTIVATIONS[name] ?? "linear",
      ...(l === 1 ? { inputShape: [full.sizes[0]] } : {}),
    }));
    activationLayers(full, name).forEach((layer) => model.add(layer));
  }
  return model;
}

/** A tf.layers Sequential MLP behind the same Model interface as the scratch ones. */
export class LayersMlp implements Model {
  readonly spec: FullMlpSpec;
  readonly model: tf.Sequential;
  readonly params: tf.Variable[];
  readonly inputShape: readonly number[];
  readonly outputSize: number;

  /** Builds the Sequential model for `spec` and loads `weights` (shared format). */
  constructor(spec: MlpSpec, weights: MlpWeights) {
    this.spec = fullSpec(spec);
    this.model = buildSequential(this.spec);
    this.inputShape = [this.spec.sizes[0]];
    this.outputSize = this.spec.sizes[this.spec.sizes.length - 1];
    // tf.layers keeps its parameters in LayerVariables; read() gives the tf.Variable inside.
    this.params = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.setWeights(weights);
  }

  /** Loads weights in the shared format (Dense kernel = W, bias = b, PReLU alpha = α). */
  setWeights(weights: MlpWeights): void {
    checkWeights(this.spec, weights);
    const values = weights.flatMap(({ W, b, alpha }) => [tf.tensor2d(W), tf.tensor1d(b), ...(alpha ? [tf.tensor1d(alpha)] : [])]);
    this.params.forEach((p, k) => p.assign(values[k]));
    tf.dispose(values);
  }

  /** The weights in the shared format. */
  getWeights(): MlpWeights {
    return weightsFromTensors(this.spec, this.params);
  }

  /** Outputs of the Sequential model for a batch. */
  predict(x: tf.Tensor): tf.Tensor2D {
    checkBatch("LayersMlp.predict", this, x);
    return this.model.apply(x, { training: true }) as tf.Tensor2D;
  }

  /** Mean loss q_S over the batch. */
  loss(x: tf.Tensor, t: tf.Tensor2D): tf.Scalar {
    checkBatch("LayersMlp.loss", this, x, t);
    return tf.tidy(() => LOSSES[this.spec.loss].tensor(this.predict(x), t));
  }

  /** Mean loss and its gradients by tf.variableGrads through the Sequential model (order of `params`). */
  lossAndGrads(x: tf.Tensor, t: tf.Tensor2D): { loss: tf.Scalar; grads: tf.Tensor[] } {
    checkBatch("LayersMlp.lossAndGrads", this, x, t);
    const { value, grads } = tf.variableGrads(() => LOSSES[this.spec.loss].tensor(this.predict(x), t), this.params);
    return { loss: value, grads: this.params.map((p) => grads[p.name]) };
  }

  /** Frees the model's variables. */
  dispose(): void {
    this.model.dispose();
  }
}

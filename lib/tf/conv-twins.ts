/**
 * The TensorFlow.js twins of a conv net built from lib/nn layers (Conv2D, MaxPool2D, AvgPool2D, Flatten,
 * Dense, Activation): the same forward pass with tfjs ops (tf.conv2d, tf.maxPool, tf.avgPool) and its
 * gradients by autodiff (`AutodiffNetwork`), and the same network as tf.layers (`layersTwin`), with the
 * weights copied. Lecture 12 and the benchmark compare the three.
 */
import * as tf from "@tensorflow/tfjs";
import { activation as lookupActivation } from "../scratch/activations";
import { Network } from "../nn/network";
import { Layer } from "../nn/layer";
import { Conv2D } from "../nn/conv";
import { AvgPool2D, MaxPool2D } from "../nn/pool";
import { Flatten } from "../nn/flatten";
import { Dense } from "../nn/dense";
import { Activation } from "../nn/activation";
import { LossHead } from "../nn/heads";
import { Model, checkBatch } from "../train/model";

/** One layer's forward pass in tfjs ops, with its variables. */
type OpLayer = { vars: tf.Variable[]; apply: (x: tf.Tensor) => tf.Tensor };

function opLayer(layer: Layer, copy: boolean): OpLayer {
  const v = (p: tf.Variable) => (copy ? tf.variable(p.clone()) : p);
  if (layer instanceof Conv2D) {
    const W = v(layer.params.W), b = v(layer.params.b);
    return { vars: [W, b], apply: (x) => tf.add(tf.conv2d(x as tf.Tensor4D, W as unknown as tf.Tensor4D, layer.stride, layer.padding), b) };
  }
  if (layer instanceof MaxPool2D) return { vars: [], apply: (x) => tf.maxPool(x as tf.Tensor4D, layer.size, layer.stride, "valid") };
  if (layer instanceof AvgPool2D) return { vars: [], apply: (x) => tf.avgPool(x as tf.Tensor4D, layer.size, layer.stride, "valid") };
  if (layer instanceof Flatten) return { vars: [], apply: (x) => tf.reshape(x, [x.shape[0], -1]) };
  if (layer instanceof Dense) {
    const W = v(layer.params.W), b = v(layer.params.b);
    return { vars: [W, b], apply: (x) => tf.add(tf.matMul(x as tf.Tensor2D, W as tf.Tensor2D), b) };
  }
  if (layer instanceof Activation && !layer.params.alpha) {
    const act = lookupActivation(layer.activation);
    if (act.kind === "elementwise") return { vars: [], apply: (x) => act.tensor(x) };
  }
  throw new Error(`AutodiffNetwork: no tfjs twin for the layer ${layer.name} (conv, pool, flatten, dense, elementwise activations)`);
}

/** A Network's forward pass in tfjs ops; gradients by tf.variableGrads. */
export class AutodiffNetwork implements Model {
  readonly params: tf.Variable[];
  readonly inputShape: readonly number[];
  readonly outputSize: number;
  private readonly ops: OpLayer[];
  private readonly head: LossHead;
  private readonly owned: boolean;

  /** `copy: true` gives it its own copies of the weights (to train separately); default: shares them. */
  constructor(net: Network, opts: { copy?: boolean } = {}) {
    this.owned = opts.copy ?? false;
    this.ops = net.layers.map((l) => opLayer(l, this.owned));
    this.params = this.ops.flatMap((o) => o.vars);
    this.inputShape = net.inputShape;
    this.outputSize = net.outputSize;
    this.head = net.head;
  }

  /** z, the last layer's output (not tidied: for use inside tf.variableGrads). */
  forward(x: tf.Tensor): tf.Tensor2D {
    return this.ops.reduce((s, o) => o.apply(s), x) as tf.Tensor2D;
  }

  predict(x: tf.Tensor): tf.Tensor2D {
    checkBatch("AutodiffNetwork.predict", this, x);
    return tf.tidy(() => this.head.predict(this.forward(x)));
  }

  loss(x: tf.Tensor, t: tf.Tensor2D): tf.Scalar {
    checkBatch("AutodiffNetwork.loss", this, x, t);
    return tf.tidy(() => this.head.lossOf(this.forward(x), t));
  }

  lossAndGrads(x: tf.Tensor, t: tf.Tensor2D): { loss: tf.Scalar; grads: tf.Tensor[] } {
    checkBatch("AutodiffNetwork.lossAndGrads", this, x, t);
    const { value, grads } = tf.variableGrads(() => this.head.lossOf(this.forward(x), t), this.params);
    return { loss: value, grads: this.params.map((p) => grads[p.name]) };
  }

  dispose(): void {
    if (this.owned) tf.dispose(this.params);
  }
}

/**
 * The same network as a tf.layers Sequential with the weights copied (conv2d, maxPooling2d,
 * averagePooling2d, flatten, dense with the activation folded in). Softmax is added at the end for a
 * softmax head, so that `predict` gives probabilities as the Network's does; compile it to train.
 */
export function layersTwin(net: Network): tf.Sequential {
  const model = tf.sequential();
  const layers = net.layers;
  let first = true;
  const inputShape = () => (first ? { inputShape: net.inputShape as number[] } : {});
  for (let k = 0; k < layers.length; k++) {
    const l = layers[k];
    const next = layers[k + 1];
    const fold = next instanceof Activation && !next.params.alpha && ["relu", "tanh", "sigmoid", "linear", "elu", "softplus"].includes(next.activation);
    const activation = (fold ? (next as Activation).activation : "linear") as "relu";
    if (l instanceof Conv2D) {
      model.add(tf.layers.conv2d({ ...inputShape(), filters: l.filters, kernelSize: l.kernelSize, strides: l.stride, padding: l.padding, activation, weights: [l.params.W.clone(), l.params.b.clone()] }));
      if (fold) k++;
    } else if (l instanceof Dense) {
      model.add(tf.layers.dense({ ...inputShape(), units: l.units, activation, weights: [l.params.W.clone(), l.params.b.clone()] }));
      if (fold) k++;
    } else if (l instanceof MaxPool2D) model.add(tf.layers.maxPooling2d({ ...inputShape(), poolSize: l.size, strides: l.stride, padding: "valid" }));
    else if (l instanceof AvgPool2D) model.add(tf.layers.averagePooling2d({ ...inputShape(), poolSize: l.size, strides: l.stride, padding: "valid" }));
    else if (l instanceof Flatten) model.add(tf.layers.flatten({ ...inputShape() }));
    else if (l instanceof Activation && !l.params.alpha) model.add(tf.layers.activation({ ...inputShape(), activation: l.activation as "relu" }));
    else throw new Error(`layersTwin: no tf.layers twin for ${l.name}`);
    first = false;
  }
  if (net.head.output === "softmax") model.add(tf.layers.activation({ activation: "softmax" }));
  return model;
}

/**
 * A network: layers in a row (the one layer contract) and a loss head. It is what the training loop
 * trains (a `Model`), and it exposes its forward and backward passes layer by layer (`taps`) for the
 * diagnostics, which read them instead of re-implementing the model.
 *
 *   forward    z = f_K(… f_1(x)),  S = g(z)                 predict(x) = S at inference
 *   loss       q_S = (1/N) Σ_n q(S_n, T_n)
 *   backward   ∂q/∂z from the head, then every layer's backward down to the first
 */
import * as tf from "@tensorflow/tfjs";
import { Context, INFERENCE, Layer, trainingContext } from "./layer";
import { Sequential, SequentialCache } from "./sequential";
import { LossHead } from "./heads";
import { Dense } from "./dense";
import { Activation } from "./activation";
import { Model, checkBatch } from "../train/model";

/** Every layer's input, output and the gradient at its output, and the head's, on one batch. */
export type Taps = {
  layers: { name: string; input: tf.Tensor; output: tf.Tensor; dOutput: tf.Tensor }[];
  /** The last layer's output z, the network's output S = g(z), ∂q/∂z and ∂q/∂S. */
  z: tf.Tensor2D;
  s: tf.Tensor2D;
  dz: tf.Tensor2D;
  ds: tf.Tensor2D;
  loss: tf.Scalar;
  /** ∂q/∂θ by parameter name. */
  grads: Record<string, tf.Tensor>;
};

export interface NetworkOptions {
  /** Shape of one input sample ([inputs], or [height, width, channels]); default: the first Dense layer's inputs. */
  inputShape?: readonly number[];
  /** Outputs per sample; default: read off the last layers (Dense units, maxout groups). */
  outputSize?: number;
}

/** The outputs of the last layer that fixes them (Dense units; maxout divides by k), if any. */
function outputSizeOf(layers: readonly Layer[]): number | undefined {
  let divide = 1;
  for (let k = layers.length - 1; k >= 0; k--) {
    const l = layers[k];
    if (l instanceof Dense) return l.units / divide;
    if (l instanceof Activation && l.activation === "maxout") divide *= l.pieces;
  }
  return undefined;
}

export class Network implements Model {
  readonly body: Sequential;
  readonly inputShape: readonly number[];
  /** Indices of the frozen layers (lib/nn/freeze.ts): no update, no gradient, backward stops below the lowest trainable one. */
  private frozenLayers = new Set<number>();
  readonly outputSize: number;

  constructor(layers: readonly Layer[], readonly head: LossHead, opts: NetworkOptions = {}) {
    if (!(head instanceof LossHead)) throw new Error("Network: the second argument is the loss head, e.g. bp.heads.softmaxCrossEntropy()");
    this.body = new Sequential(layers);
    const first = layers[0];
    const inputShape = opts.inputShape ?? (first instanceof Dense ? [first.inputs] : undefined);
    if (!inputShape) throw new Error("Network: give inputShape (the shape of one sample): the first layer is not Dense");
    this.inputShape = inputShape;
    const out = opts.outputSize ?? outputSizeOf(layers);
    if (out === undefined) throw new Error("Network: give outputSize: it cannot be read off the last layers");
    this.outputSize = out;
  }

  get layers(): readonly Layer[] {
    return this.body.layers;
  }

  /** Names of the trainable parameters ("0.W", "0.b", ...: layer index, then name), the order of `params`. */
  get paramNames(): string[] {
    return Object.keys(this.body.params).filter((n) => !this.frozenLayers.has(Number(n.split(".")[0])));
  }

  /** The trainable parameters (frozen layers' are left out): what optimizers update and gradients are for. */
  get params(): tf.Variable[] {
    return this.paramNames.map((n) => this.body.params[n]);
  }

  /** Every parameter by name, frozen or not (saving, loading, counting). */
  get allParams(): Readonly<Record<string, tf.Variable>> {
    return this.body.params;
  }

  /** Frozen layer indices, ascending. */
  get frozen(): number[] {
    return [...this.frozenLayers].sort((a, b) => a - b);
  }

  /** Freezes (true) or unfreezes (false) the layers at `indices`; see lib/nn/freeze.ts for the usual calls. */
  setFrozen(indices: readonly number[], frozen: boolean): void {
    for (const k of indices) {
      if (!Number.isInteger(k) || k < 0 || k >= this.layers.length) throw new Error(`Network: layer ${k} does not exist (0..${this.layers.length - 1})`);
      if (frozen) this.frozenLayers.add(k);
      else this.frozenLayers.delete(k);
    }
  }

  /** The lowest layer whose parameters train: backward need not go below it (0 when nothing is frozen). */
  private lowestTrainable(): number {
    const k = this.layers.findIndex((l, i) => !this.frozenLayers.has(i) && Object.keys(l.params).length > 0);
    return k < 0 ? this.layers.length : k;
  }

  /** z (the last layer's output) and every layer's cache. */
  forward(x: tf.Tensor, ctx: Context): { z: tf.Tensor2D; cache: SequentialCache } {
    const { out, cache } = this.body.forward(x, ctx);
    return { z: out as tf.Tensor2D, cache };
  }

  /** S = g(z) at inference (running statistics, no dropout). The caller disposes it. */
  predict(x: tf.Tensor): tf.Tensor2D {
    checkBatch("predict", this, x);
    return tf.tidy(() => this.head.predict(this.forward(x, INFERENCE).z));
  }

  /** Mean loss q_S over the batch (inference context unless one is given). */
  loss(x: tf.Tensor, t: tf.Tensor2D, ctx: Context = INFERENCE): tf.Scalar {
    checkBatch("loss", this, x, t);
    return tf.tidy(() => this.head.lossOf(this.forward(x, ctx).z, t));
  }

  /** Mean loss and ∂q_S/∂θ for every parameter (order of `params`), by the hand-written backward passes. */
  lossAndGrads(x: tf.Tensor, t: tf.Tensor2D, ctx: Context = trainingContext()): { loss: tf.Scalar; grads: tf.Tensor[] } {
    checkBatch("lossAndGrads", this, x, t);
    return tf.tidy(() => {
      const { z, cache } = this.forward(x, ctx);
      const head = this.head.forwardBackward(z, t);
      const { grads } = this.body.backwardTaps(head.dz, cache, false, this.lowestTrainable());
      return { loss: head.loss, grads: this.paramNames.map((n) => grads[n]) };
    });
  }

  /**
   * One forward and backward pass with everything kept: each layer's input, output and ∂q/∂output, the
   * head's z, S, ∂q/∂z and ∂q/∂S, the loss and the gradients. The caller disposes them (tf.dispose(taps)).
   */
  taps(x: tf.Tensor, t: tf.Tensor2D, ctx: Context = trainingContext()): Taps {
    checkBatch("taps", this, x, t);
    return tf.tidy(() => {
      const { z, cache } = this.forward(x, ctx);
      const head = this.head.forwardBackward(z, t);
      const { grads, douts } = this.body.backwardTaps(head.dz, cache, true);
      const layers = this.layers.map((l, k) => ({
        name: l.name,
        input: k === 0 ? tf.clone(x) : cache.outputs[k - 1],
        output: cache.outputs[k],
        dOutput: douts[k],
      }));
      return { layers, z, s: head.s, dz: head.dz, ds: this.head.dOutput(head.s, t), loss: head.loss, grads };
    });
  }

  dispose(): void {
    this.body.dispose();
  }
}

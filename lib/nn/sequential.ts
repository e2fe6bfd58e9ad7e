/**
 * Layers in a row, and the residual block around them (seed 002, "Conexión residual": a block s → f(s)
 * with f(s) the size of s becomes s → f(s) + s). Both are layers themselves (the same contract).
 *
 *   Sequential   forward   s^k = f_k(s^{k-1}), k = 1..K        backward   ∂q/∂s^{k-1} = backward_k(∂q/∂s^k)
 *   Residual     forward   out = s + f(s)                     backward   ∂q/∂s = ∂q/∂out · ∂f/∂s + ∂q/∂out
 *
 * The identity path of a residual block carries the gradient down undiminished.
 * Parameters are named by position: "0.W", "0.b", "2.gamma", ... (nested blocks: "3.1.W").
 */
import * as tf from "@tensorflow/tfjs";
import { Context, Grads, Layer, Params } from "./layer";
import { Dense } from "./dense";
import { Conv2D } from "./conv";

/** What a Sequential's forward pass keeps: every layer's cache and every layer's output (the taps). */
export interface SequentialCache {
  caches: unknown[];
  /** outputs[k] = output of layer k; the input of layer k is outputs[k − 1] (or x for k = 0). */
  outputs: tf.Tensor[];
  x: tf.Tensor;
}

function prefixed(layers: readonly Layer[]): Params {
  const params: Record<string, tf.Variable> = {};
  layers.forEach((layer, k) => {
    for (const [name, v] of Object.entries(layer.params)) params[`${k}.${name}`] = v;
  });
  return params;
}

export class Sequential implements Layer<SequentialCache> {
  readonly name: string;
  readonly params: Params;

  constructor(readonly layers: readonly Layer[]) {
    if (!Array.isArray(layers) || layers.length === 0) throw new Error("Sequential: give a non-empty array of layers");
    layers.forEach((l, k) => {
      if (!l || typeof l.forward !== "function" || typeof l.backward !== "function") {
        throw new Error(`Sequential: entry ${k} is not a layer (it needs forward(x, ctx) and backward(dout, cache))`);
      }
    });
    this.params = prefixed(layers);
    this.name = layers.map((l) => l.name).join(" → ");
  }

  forward(x: tf.Tensor, ctx: Context): { out: tf.Tensor; cache: SequentialCache } {
    const caches: unknown[] = [], outputs: tf.Tensor[] = [];
    let s = x;
    for (const layer of this.layers) {
      const r = layer.forward(s, ctx);
      caches.push(r.cache);
      outputs.push(r.out);
      s = r.out;
    }
    return { out: s, cache: { caches, outputs, x } };
  }

  backward(dout: tf.Tensor, cache: SequentialCache): { dx: tf.Tensor; grads: Grads } {
    const { dx, grads } = this.backwardTaps(dout, cache, true);
    return { dx: dx!, grads };
  }

  /**
   * Backward through every layer. `douts[k]` = ∂q/∂(output of layer k), the taps diagnostics read.
   * Without `inputGrad` the first layer's ∂q/∂x is not computed when it can be skipped (a Dense: a third of
   * the backward work of an MLP on MNIST; a Conv2D: its col2im). `stopAt` (without inputGrad): the lowest
   * layer whose gradients are wanted; backward ends there (frozen layers below it cost nothing).
   */
  backwardTaps(dout: tf.Tensor, cache: SequentialCache, inputGrad: boolean, stopAt = 0): { dx?: tf.Tensor; grads: Grads; douts: tf.Tensor[] } {
    const perLayer: Grads[] = new Array(this.layers.length);
    const douts: tf.Tensor[] = new Array(this.layers.length);
    const last = inputGrad ? 0 : stopAt;
    let d = dout;
    let dx: tf.Tensor | undefined;
    for (let k = this.layers.length - 1; k >= last; k--) {
      douts[k] = d;
      const layer = this.layers[k];
      if (k === last && !inputGrad && layer instanceof Dense) {
        perLayer[k] = layer.paramGrads(d as tf.Tensor2D, cache.caches[k] as tf.Tensor2D);
        break;
      }
      if (k === last && !inputGrad && layer instanceof Conv2D) {
        perLayer[k] = layer.paramGrads(d, cache.caches[k] as Parameters<Conv2D["paramGrads"]>[1]);
        break;
      }
      const r = layer.backward(d, cache.caches[k]);
      perLayer[k] = r.grads;
      d = r.dx;
      if (k === 0) dx = d;
    }
    const grads: Grads = {};
    perLayer.forEach((g, k) => {
      for (const [name, v] of Object.entries(g)) grads[`${k}.${name}`] = v;
    });
    return { dx, grads, douts };
  }

  dispose(): void {
    this.layers.forEach((l) => l.dispose());
  }
}

export class Residual implements Layer<SequentialCache> {
  readonly name: string;
  readonly params: Params;
  readonly block: Sequential;

  /** out = x + f(x), with f the layers of `block` (their output must have x's shape). */
  constructor(block: readonly Layer[] | Sequential) {
    this.block = block instanceof Sequential ? block : new Sequential(block);
    this.params = this.block.params;
    this.name = `Residual(${this.block.name})`;
  }

  forward(x: tf.Tensor, ctx: Context) {
    const f = this.block.forward(x, ctx);
    if (!tf.util.arraysEqual(f.out.shape, x.shape)) {
      throw new Error(`${this.name}: the block maps [${x.shape.join(", ")}] to [${f.out.shape.join(", ")}]; a residual block must keep the shape`);
    }
    return { out: tf.add(x, f.out), cache: f.cache };
  }

  backward(dout: tf.Tensor, cache: SequentialCache) {
    const f = this.block.backward(dout, cache);
    return { dx: tf.add(f.dx, dout), grads: f.grads };
  }

  dispose(): void {
    this.block.dispose();
  }
}

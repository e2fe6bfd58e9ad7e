/**
 * Tied weights (seed 000: the decoder reuses the encoder's matrix transposed, W_dec = W_encᵀ). One layer
 * holds both uses of W and everything between them (`inner`, e.g. the code activation or a deeper tied
 * pair), so that the gradient of W can add them up:
 *
 *   forward    A = S W + b,   M = inner(A),   Y = M Wᵀ + c           S [N, d], W [d, h], b [h], c [d]
 *   backward   ∂q/∂c = Σ_rows ∂q/∂Y,   ∂q/∂M = ∂q/∂Y W
 *              ∂q/∂A = inner.backward(∂q/∂M)
 *              ∂q/∂W = Sᵀ ∂q/∂A  +  (∂q/∂Y)ᵀ M      (encoder use + decoder use)
 *              ∂q/∂b = Σ_rows ∂q/∂A,   ∂q/∂S = ∂q/∂A Wᵀ
 *
 * The encoder's W and b are those of a Dense layer (`encoder`), shared: the stacked encoder of a tied
 * autoencoder is made of those Dense layers and sees every update.
 */
import * as tf from "@tensorflow/tfjs";
import { Context, Grads, Layer, Params } from "./layer";
import { Dense } from "./dense";

interface TiedCache {
  s: tf.Tensor2D;
  m: tf.Tensor2D;
  inner: unknown;
}

export class TiedPair implements Layer<TiedCache> {
  readonly name: string;
  readonly params: Params;
  /** The decoder's bias c [d]. */
  readonly c: tf.Variable;

  constructor(readonly encoder: Dense, readonly inner: Layer, c?: tf.Variable) {
    if (!(encoder instanceof Dense)) throw new Error("TiedPair: the first argument is the encoder's Dense layer");
    this.c = c ?? tf.variable(tf.zeros([encoder.inputs]));
    if (this.c.rank !== 1 || this.c.shape[0] !== encoder.inputs) {
      throw new Error(`TiedPair: the decoder bias c should be [${encoder.inputs}], got [${this.c.shape.join(", ")}]`);
    }
    const params: Record<string, tf.Variable> = { W: encoder.params.W, b: encoder.params.b, c: this.c };
    for (const [name, v] of Object.entries(inner.params)) params[`inner.${name}`] = v;
    this.params = params;
    this.name = `Tied(${encoder.inputs}→${encoder.units}→${encoder.inputs})`;
  }

  forward(x: tf.Tensor, ctx: Context): { out: tf.Tensor; cache: TiedCache } {
    const { out: a, cache: s } = this.encoder.forward(x, ctx);
    const { out: m, cache: inner } = this.inner.forward(a, ctx);
    const W = this.encoder.params.W;
    const y = tf.add(tf.matMul(m as tf.Tensor2D, tf.transpose(W)), this.c);
    return { out: y, cache: { s, m: m as tf.Tensor2D, inner } };
  }

  backward(dout: tf.Tensor, cache: TiedCache): { dx: tf.Tensor; grads: Grads } {
    const dy = dout as tf.Tensor2D;
    const W = this.encoder.params.W;
    const dm = tf.matMul(dy, W);
    const { dx: da, grads: innerGrads } = this.inner.backward(dm, cache.inner);
    const enc = this.encoder.backward(da, cache.s);
    const grads: Grads = {
      W: tf.add(enc.grads.W, tf.matMul(tf.transpose(dy), cache.m)), // both uses of W
      b: enc.grads.b,
      c: tf.sum(dy, 0),
    };
    for (const [name, g] of Object.entries(innerGrads)) grads[`inner.${name}`] = g;
    return { dx: enc.dx, grads };
  }

  dispose(): void {
    this.encoder.dispose();
    this.inner.dispose();
    this.c.dispose();
  }
}

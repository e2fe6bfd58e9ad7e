/**
 * Activation layer S = g(Φ) for every activation of the registry (lib/scratch/activations.ts), on tensors
 * of any rank (softmax and maxout act on the last axis):
 *
 *   forward    s_i = g(φ_i)                         (softmax: s = e^φ / Σ e^φ;  maxout: s_i = max_p φ_{i,p})
 *   backward   ∂q/∂φ_i = ∂q/∂s_i · g'(φ_i)           elementwise activations
 *              ∂q/∂φ = Jᵀ ∂q/∂s                      softmax (J = diag(s) − s sᵀ); maxout routes ∂q/∂s_i to the
 *                                                   winning piece
 *              ∂q/∂α_i = Σ_rows ∂q/∂s_i · min(φ_i, 0)  PReLU's learned slope, one per unit
 */
import * as tf from "@tensorflow/tfjs";
import { ActivationName, activation as lookup, MAXOUT_PIECES } from "../scratch/activations";
import { Context, Grads, Layer, NO_GRADS } from "./layer";

export interface ActivationOptions {
  /** The slope α of leakyRelu/elu (a number), or PReLU's α (one per unit, learned: a start or a variable). */
  alpha?: number | number[] | tf.Variable;
  /** PReLU: the number of units (α is learned per unit); required for prelu unless alpha is an array. */
  units?: number;
  /** Maxout's k (default 2). */
  pieces?: number;
}

export class Activation implements Layer<tf.Tensor> {
  readonly name: string;
  readonly params: { readonly alpha?: tf.Variable };
  private readonly fixedAlpha?: number;
  readonly pieces: number;

  constructor(readonly activation: ActivationName, opts: ActivationOptions = {}) {
    const act = lookup(activation);
    this.pieces = opts.pieces ?? MAXOUT_PIECES;
    if (activation === "prelu" && opts.alpha instanceof tf.Variable) {
      this.params = { alpha: opts.alpha };
    } else if (activation === "prelu") {
      const start = Array.isArray(opts.alpha)
        ? opts.alpha
        : opts.units !== undefined
          ? new Array<number>(opts.units).fill(typeof opts.alpha === "number" ? opts.alpha : act.kind === "elementwise" ? act.defaultAlpha ?? 0.25 : 0.25)
          : undefined;
      if (!start) throw new Error("Activation(prelu): give units (α is learned per unit) or alpha as an array");
      this.params = { alpha: tf.tidy(() => tf.variable(tf.tensor1d(start, "float32"))) };
    } else {
      if (typeof opts.alpha === "object") throw new Error(`Activation(${activation}): alpha is a number here; only prelu learns one per unit`);
      this.params = {};
      this.fixedAlpha = opts.alpha as number | undefined;
    }
    this.name = activation === "maxout" ? `maxout(k=${this.pieces})` : activation;
  }

  private alpha(): number | tf.Tensor | undefined {
    return this.params.alpha ?? this.fixedAlpha;
  }

  /** S = g(Φ); caches Φ. */
  forward(z: tf.Tensor, _ctx: Context) {
    const act = lookup(this.activation);
    const out = act.kind === "elementwise" ? act.tensor(z, this.alpha()) : act.tensor(z as tf.Tensor2D, this.pieces);
    return { out, cache: z };
  }

  /** ∂q/∂Φ (and ∂q/∂α for PReLU) from dout = ∂q/∂S. */
  backward(dout: tf.Tensor, z: tf.Tensor): { dx: tf.Tensor; grads: Grads } {
    const act = lookup(this.activation);
    if (act.kind === "vector") return { dx: act.tensorBackward(z as tf.Tensor2D, dout as tf.Tensor2D, this.pieces), grads: NO_GRADS };
    const dx = tf.mul(dout, act.tensorPrime(z, this.alpha()));
    if (!this.params.alpha) return { dx, grads: NO_GRADS };
    const perUnit = tf.mul(dout, act.tensorAlphaPrime!(z));
    const alpha = tf.sum(tf.reshape(perUnit, [-1, this.params.alpha.size]), 0);
    return { dx, grads: { alpha } };
  }

  dispose(): void {
    if (this.params.alpha) this.params.alpha.dispose();
  }
}

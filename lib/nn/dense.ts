/**
 * Affine layer, the matrix form of the lecture's φ^l_i = Σ_j θ^l_ij s^{l-1}_j (+ θ^l_i0): for a batch
 * (rows are samples)
 *
 *   forward    Φ = S W + b                     S [N, M_{l-1}], W [M_{l-1}, M_l] (a tfjs Dense kernel), b [M_l]
 *   backward   ∂q/∂W = Sᵀ ∂q/∂Φ,   ∂q/∂b = Σ_rows ∂q/∂Φ,   ∂q/∂S = ∂q/∂Φ Wᵀ
 *
 * (∂q/∂Φ is −δ^l of the lecture, one row per sample.) The transposes are matMul's flags,
 * `tf.matMul(a, b, transposeA, transposeB)`: the engine computes them as `tf.matMul(tf.transpose(a), b)` would,
 * value for value, without a transposed tensor per step.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { InitChoice, initializers } from "../scratch/init";
import { Context, Grads, Layer, checkInput } from "./layer";

export class Dense implements Layer<tf.Tensor2D> {
  readonly name: string;
  readonly params: { readonly W: tf.Variable; readonly b: tf.Variable };
  readonly inputs: number;
  readonly units: number;

  /** From a kernel W [inputs, units] and a bias b [units] (variables are used as they are; arrays are copied). */
  constructor(W: tf.Variable | number[][], b: tf.Variable | number[]) {
    const Wv = W instanceof tf.Variable ? W : tf.tidy(() => tf.variable(tf.tensor2d(W, undefined, "float32")));
    const bv = b instanceof tf.Variable ? b : tf.tidy(() => tf.variable(tf.tensor1d(b, "float32")));
    if (Wv.rank !== 2 || bv.rank !== 1 || bv.shape[0] !== Wv.shape[1]) {
      throw new Error(`Dense: W should be [inputs, units] and b [units], got [${Wv.shape.join(", ")}] and [${bv.shape.join(", ")}]`);
    }
    this.params = { W: Wv, b: bv };
    [this.inputs, this.units] = Wv.shape as [number, number];
    this.name = `Dense(${this.inputs}→${this.units})`;
  }

  /** A layer of `units` units on `inputs` inputs, W drawn by an initializer (default Glorot uniform), b = 0. */
  static init(inputs: number, units: number, opts: { init?: InitChoice; rng?: Rng } = {}): Dense {
    const init = opts.init ?? "glorotUniform";
    const draw = typeof init === "function" ? init : initializers[init];
    if (!draw) throw new Error(`Dense.init: unknown initializer "${String(init)}"; valid: ${Object.keys(initializers).join(", ")}`);
    return new Dense(draw(inputs, units, opts.rng), new Array<number>(units).fill(0));
  }

  /** Φ = S W + b; caches S. */
  forward(x: tf.Tensor, _ctx: Context) {
    checkInput(this.name, x, [this.inputs]);
    const s = x as tf.Tensor2D;
    return { out: tf.add(tf.matMul(s, this.params.W), this.params.b) as tf.Tensor2D, cache: s };
  }

  /** ∂q/∂S = dout Wᵀ, and the parameter gradients. */
  backward(dout: tf.Tensor, s: tf.Tensor2D) {
    const d = dout as tf.Tensor2D;
    return { dx: tf.matMul(d, this.params.W, false, true) as tf.Tensor2D, grads: this.paramGrads(d, s) };   // dout Wᵀ
  }

  /** ∂q/∂W = Sᵀ dout and ∂q/∂b = Σ_rows dout without ∂q/∂S, which a network's first layer does not need. */
  paramGrads(dout: tf.Tensor2D, s: tf.Tensor2D): Grads {
    return { W: tf.matMul(s, dout, true, false), b: tf.sum(dout, 0) };   // Sᵀ dout
  }

  dispose(): void {
    tf.dispose([this.params.W, this.params.b]);
  }
}

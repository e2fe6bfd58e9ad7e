/**
 * 2-D convolution layer (what CNNs call convolution is a cross-correlation, seed 003), on images
 * [N, H, W, CI] with a kernel W [KH, KW, CI, CO] (a tfjs conv2d filter) and a bias b [CO]:
 *
 *   forward    out[n, i, j, o] = b[o] + Σ_{a, c, ci} xp[n, s·i + a, s·j + c, ci] · W[a, c, ci, o]
 *   backward   ∂q/∂W[a, c, ci, o] = Σ_{n, i, j} xp[n, s·i + a, s·j + c, ci] · ∂q/∂out[n, i, j, o]
 *              ∂q/∂b[o]           = Σ_{n, i, j} ∂q/∂out[n, i, j, o]
 *              ∂q/∂xp             = the transposed convolution of ∂q/∂out with W (stride 1: the full
 *                                   convolution with the flipped kernel), then the padding cropped off
 *
 * with xp the input padded with zeros ("valid": none; "same": TensorFlow's split, ⌈n/s⌉ outputs).
 *
 * The fast form is the matrix product of the lecture (im2col): every KH × KW × CI window of xp becomes one
 * row of a matrix X̃ [N·OH·OW, KH·KW·CI], the kernel a matrix W̃ [KH·KW·CI, CO], and
 *
 *   out = X̃ W̃ + b,     ∂q/∂W̃ = X̃ᵀ ∂q/∂out,     ∂q/∂X̃ = ∂q/∂out W̃ᵀ  (summed back into the windows: col2im)
 *
 * exactly a Dense layer on the windows; col2im adds every row of ∂q/∂X̃ back into the window it came from,
 * which is the transposed convolution. im2col and col2im are copies (engine code, lib/perf/windows.ts); the
 * arithmetic is the two matrix products. The float64 loops of lib/scratch/conv.ts compute the same numbers
 * one by one.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { InitChoice, initializers } from "../scratch/init";
import { Padding, padAmounts, outputSize } from "../scratch/conv";
import { Context, Grads, Layer } from "./layer";
import { Pads, col2im, im2col } from "../perf/windows";

export interface Conv2DOptions {
  /** Step between windows, both axes (default 1). */
  stride?: number;
  /** "valid" (default: windows that fit whole) or "same" (zeros around: ⌈n/s⌉ outputs). */
  padding?: Padding;
}

interface ConvCache {
  /** im2col of the padded input, [N·OH·OW, KH·KW·CI]. */
  cols: tf.Tensor2D;
  xShape: number[];
  pads: Pads;
}

export class Conv2D implements Layer<ConvCache> {
  readonly name: string;
  readonly params: { readonly W: tf.Variable; readonly b: tf.Variable };
  readonly kernelSize: [number, number];
  readonly inChannels: number;
  readonly filters: number;
  readonly stride: number;
  readonly padding: Padding;

  /** From a kernel W [KH, KW, CI, CO] and a bias b [CO] (variables are used as they are; arrays are copied). */
  constructor(W: tf.Variable | tf.Tensor4D | number[][][][], b: tf.Variable | tf.Tensor1D | number[], opts: Conv2DOptions = {}) {
    const Wv = W instanceof tf.Variable ? W : tf.tidy(() => tf.variable(W instanceof tf.Tensor ? W.clone() : tf.tensor4d(W, undefined, "float32")));
    const bv = b instanceof tf.Variable ? b : tf.tidy(() => tf.variable(b instanceof tf.Tensor ? b.clone() : tf.tensor1d(b, "float32")));
    if (Wv.rank !== 4 || bv.rank !== 1 || bv.shape[0] !== Wv.shape[3]) {
      throw new Error(`Conv2D: W should be [KH, KW, CI, CO] and b [CO], got [${Wv.shape.join(", ")}] and [${bv.shape.join(", ")}]`);
    }
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? "valid";
    if (!(Number.isInteger(this.stride) && this.stride >= 1)) throw new Error(`Conv2D: stride should be a positive integer, got ${this.stride}`);
    if (this.padding !== "valid" && this.padding !== "same") throw new Error(`Conv2D: padding should be "valid" or "same", got ${String(this.padding)}`);
    this.params = { W: Wv, b: bv };
    const [kh, kw, ci, co] = Wv.shape as [number, number, number, number];
    this.kernelSize = [kh, kw];
    this.inChannels = ci;
    this.filters = co;
    this.name = `Conv2D(${kh}×${kw}, ${ci}→${co}${this.stride > 1 ? `, stride ${this.stride}` : ""}${this.padding === "same" ? ", same" : ""})`;
  }

  /**
   * `filters` kernels of kernel × kernel × inChannels, W drawn by an initializer applied to the im2col matrix
   * W̃ [KH·KW·CI, CO] (default Glorot uniform with fanIn = KH·KW·CI, fanOut = CO), b = 0.
   */
  static init(kernel: number | [number, number], inChannels: number, filters: number, opts: Conv2DOptions & { init?: InitChoice; rng?: Rng } = {}): Conv2D {
    const [kh, kw] = typeof kernel === "number" ? [kernel, kernel] : kernel;
    const init = opts.init ?? "glorotUniform";
    const draw = typeof init === "function" ? init : initializers[init];
    if (!draw) throw new Error(`Conv2D.init: unknown initializer "${String(init)}"; valid: ${Object.keys(initializers).join(", ")}`);
    const flat = draw(kh * kw * inChannels, filters, opts.rng).flat();
    const W = tf.tidy(() => tf.variable(tf.tensor4d(flat, [kh, kw, inChannels, filters], "float32")));
    return new Conv2D(W, new Array<number>(filters).fill(0), opts);
  }

  /** Output shape [OH, OW, CO] for an input [H, W, CI]. */
  outputShape(input: readonly number[]): [number, number, number] {
    const [H, W] = input, [kh, kw] = this.kernelSize;
    const [t, bo] = padAmounts(H, kh, this.stride, this.padding), [l, r] = padAmounts(W, kw, this.stride, this.padding);
    return [outputSize(H + t + bo, kh, this.stride), outputSize(W + l + r, kw, this.stride), this.filters];
  }

  forward(x: tf.Tensor, _ctx: Context): { out: tf.Tensor; cache: ConvCache } {
    if (x.rank !== 4 || x.shape[3] !== this.inChannels) {
      throw new Error(`${this.name}: x should be [N, height, width, ${this.inChannels}], got [${x.shape.join(", ")}]`);
    }
    const [N, H, W] = x.shape, [kh, kw] = this.kernelSize;
    if (this.padding === "valid" && (H < kh || W < kw)) throw new Error(`${this.name}: a ${kh}×${kw} kernel does not fit in a ${H}×${W} image`);
    const pads: Pads = [padAmounts(H, kh, this.stride, this.padding), padAmounts(W, kw, this.stride, this.padding)];
    const [OH, OW, CO] = this.outputShape([H, W]);
    const cols = im2col(x, kh, kw, this.stride, pads);                      // X̃ [N·OH·OW, KH·KW·CI]
    const Wm = tf.reshape(this.params.W, [kh * kw * this.inChannels, CO]);  // W̃ [KH·KW·CI, CO]
    const out = tf.reshape(tf.add(tf.matMul(cols, Wm), this.params.b), [N, OH, OW, CO]);
    return { out, cache: { cols, xShape: x.shape.slice(), pads } };
  }

  backward(dout: tf.Tensor, cache: ConvCache): { dx: tf.Tensor; grads: Grads } {
    const [kh, kw] = this.kernelSize, CO = this.filters;
    const d = tf.reshape(dout, [-1, CO]) as tf.Tensor2D;                    // δ [N·OH·OW, CO]
    const Wm = tf.reshape(this.params.W, [kh * kw * this.inChannels, CO]) as tf.Tensor2D;
    const dcols = tf.matMul(d, Wm, false, true);                            // δ W̃ᵀ, one row per window
    const dx = col2im(dcols, cache.xShape, kh, kw, this.stride, cache.pads); // back into the windows
    return { dx, grads: this.paramGrads(dout, cache) };
  }

  /** ∂q/∂W = X̃ᵀ δ and ∂q/∂b = Σ_rows δ without ∂q/∂x, which a network's first layer does not need. */
  paramGrads(dout: tf.Tensor, cache: ConvCache): Grads {
    const [kh, kw] = this.kernelSize, CO = this.filters;
    const d = tf.reshape(dout, [-1, CO]) as tf.Tensor2D;
    const dW = tf.reshape(tf.matMul(cache.cols, d, true, false), [kh, kw, this.inChannels, CO]);   // X̃ᵀ δ
    return { W: dW, b: tf.sum(d, 0) };
  }

  dispose(): void {
    tf.dispose([this.params.W, this.params.b]);
  }
}

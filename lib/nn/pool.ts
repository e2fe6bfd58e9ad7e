/**
 * Pooling layers on images [N, H, W, C], windows of k × k taken every s pixels ("valid": windows that fit
 * whole), each channel on its own:
 *
 *   MaxPool2D  forward   out[n, i, j, c] = max_{a, b < k} x[n, s·i + a, s·j + b, c]
 *              backward  ∂q/∂x = ∂q/∂out at the window's winner, 0 elsewhere: one winner per window, the
 *                        first maximum in row-major order when several inputs tie (as PyTorch; tf.grad of
 *                        tf.maxPool on the cpu backend does the same); overlapping windows add up
 *   AvgPool2D  forward   out[n, i, j, c] = (1/k²) Σ_{a, b < k} x[n, s·i + a, s·j + b, c]
 *              backward  ∂q/∂x[window] += ∂q/∂out / k²  (spread evenly)
 *
 * The fast form lays every window out as a row (im2col, as for the convolution): X̃ [N·OH·OW, k², C]; the
 * max (and the index of its winner) or the mean runs along the middle axis, and the way back is ∂q/∂X̃ (the
 * gradient at the winner, or 1/k² of it everywhere) added back into the windows, done as one loop.
 * The float64 loops of lib/scratch/conv.ts compute the same numbers one by one.
 */
import * as tf from "@tensorflow/tfjs";
import { outputSize } from "../scratch/conv";
import { im2col, poolBackward } from "../perf/windows";
import { Context, Grads, Layer, NO_GRADS } from "./layer";

export interface PoolOptions {
  /** Window side (default 2). */
  size?: number;
  /** Step between windows (default: the window side). */
  stride?: number;
}

abstract class Pool2D<C> implements Layer<C> {
  abstract readonly name: string;
  readonly params = {};
  readonly size: number;
  readonly stride: number;

  constructor(opts: PoolOptions = {}) {
    this.size = opts.size ?? 2;
    this.stride = opts.stride ?? this.size;
    for (const [k, v] of [["size", this.size], ["stride", this.stride]] as const) {
      if (!(Number.isInteger(v) && v >= 1)) throw new Error(`Pool2D: ${k} should be a positive integer, got ${v}`);
    }
  }

  /** Output shape [OH, OW, C] for an input [H, W, C]. */
  outputShape(input: readonly number[]): [number, number, number] {
    return [outputSize(input[0]!, this.size, this.stride), outputSize(input[1]!, this.size, this.stride), input[2]!];
  }

  /** The windows of x as [N·OH·OW, k², C], and the output shape [N, OH, OW, C]. */
  protected windows(x: tf.Tensor): { win: tf.Tensor3D; outShape: [number, number, number, number] } {
    if (x.rank !== 4) throw new Error(`${this.name}: x should be [N, height, width, channels], got [${x.shape.join(", ")}]`);
    if (x.shape[1]! < this.size || x.shape[2]! < this.size) throw new Error(`${this.name}: a ${this.size}×${this.size} window does not fit in ${x.shape[1]}×${x.shape[2]}`);
    const [OH, OW, C] = this.outputShape(x.shape.slice(1));
    const cols = im2col(x, this.size, this.size, this.stride);
    return { win: tf.reshape(cols, [-1, this.size * this.size, C]), outShape: [x.shape[0], OH, OW, C] };
  }


  abstract forward(x: tf.Tensor, ctx: Context): { out: tf.Tensor; cache: C };
  abstract backward(dout: tf.Tensor, cache: C): { dx: tf.Tensor; grads: Grads };
  dispose(): void {}
}

interface MaxPoolCache {
  /** Index (0..k²−1, row-major in the window) of each output's winner, [N·OH·OW, C]. */
  winner: tf.Tensor2D;
  xShape: number[];
}

export class MaxPool2D extends Pool2D<MaxPoolCache> {
  readonly name: string;

  constructor(opts: PoolOptions = {}) {
    super(opts);
    this.name = `MaxPool2D(${this.size}×${this.size}${this.stride !== this.size ? `, stride ${this.stride}` : ""})`;
  }

  forward(x: tf.Tensor, _ctx: Context): { out: tf.Tensor; cache: MaxPoolCache } {
    const { win, outShape } = this.windows(x);
    const winner = tf.argMax(win, 1) as tf.Tensor2D;   // the first maximum on ties
    return { out: tf.reshape(tf.max(win, 1), outShape), cache: { winner, xShape: x.shape.slice() } };
  }

  backward(dout: tf.Tensor, cache: MaxPoolCache): { dx: tf.Tensor; grads: Grads } {
    // ∂q/∂X̃[row, p, c] = δ[row, c] where p is the winner, else 0, added back into the windows (col2im):
    // one loop that sends each δ to its winner (lib/perf/windows.ts)
    return { dx: poolBackward(dout, cache.xShape, this.size, this.stride, cache.winner), grads: NO_GRADS };
  }
}

export class AvgPool2D extends Pool2D<number[]> {
  readonly name: string;

  constructor(opts: PoolOptions = {}) {
    super(opts);
    this.name = `AvgPool2D(${this.size}×${this.size}${this.stride !== this.size ? `, stride ${this.stride}` : ""})`;
  }

  forward(x: tf.Tensor, _ctx: Context): { out: tf.Tensor; cache: number[] } {
    const { win, outShape } = this.windows(x);
    return { out: tf.reshape(tf.mean(win, 1), outShape), cache: x.shape.slice() };
  }

  backward(dout: tf.Tensor, xShape: number[]): { dx: tf.Tensor; grads: Grads } {
    // ∂q/∂X̃[row, p, c] = δ[row, c] / k² for every p of the window, added back into the windows (col2im)
    return { dx: poolBackward(dout, xShape, this.size, this.stride), grads: NO_GRADS };
  }
}

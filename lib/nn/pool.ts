/**
 * Pooling layers on images [N, H, W, C], windows of k × k taken every s pixels ("valid": windows that fit
 * whole), each channel on its own:
 *
 *   MaxPool2D  forward   out[n, i, j, c] = max_{a, b < k} x[n, s·i + a, s·j + b, c]
 *              backward  ∂q/∂x = ∂q/∂out at the window's winner, 0 elsewhere: one winner per window, the
 *                        first maximum in row-major order when several inputs tie (as PyTorch; tf.grad of
 *                        tf.maxPool does the same); overlapping windows add up
 *   AvgPool2D  forward   out[n, i, j, c] = (1/k²) Σ_{a, b < k} x[n, s·i + a, s·j + b, c]
 *              backward  ∂q/∂x[window] += ∂q/∂out / k²  (spread evenly)
 *
 * The fast form works on the k² shifted views of x ("taps", one per position (a, b) in the window):
 * a max over them, the index of the winner, and the way back puts each view's gradient where it came
 * from (`placeStrided`). The float64 loops of lib/scratch/conv.ts compute the same numbers one by one.
 */
import * as tf from "@tensorflow/tfjs";
import { outputSize } from "../scratch/conv";
import { Context, Grads, Layer, NO_GRADS } from "./layer";

export interface PoolOptions {
  /** Window side (default 2). */
  size?: number;
  /** Step between windows (default: the window side). */
  stride?: number;
}

type Shape4 = [number, number, number, number];

/** The view x[:, a + s·i, b + s·j, :] for i < OH, j < OW. */
function view(x: tf.Tensor4D, a: number, b: number, s: number, OH: number, OW: number): tf.Tensor4D {
  const [N, , , C] = x.shape;
  return s === 1 ? tf.slice(x, [0, a, b, 0], [N, OH, OW, C])
    : tf.stridedSlice(x, [0, a, b, 0], [N, a + s * (OH - 1) + 1, b + s * (OW - 1) + 1, C], [1, s, s, 1]) as tf.Tensor4D;
}

/** The inverse of `view`: t [N, OH, OW, C] put at rows a + s·i and columns b + s·j of an [N, H, W, C] of zeros. */
export function placeStrided(t: tf.Tensor4D, a: number, b: number, s: number, H: number, W: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [N, OH, OW, C] = t.shape;
    let u: tf.Tensor4D = t;
    if (s > 1) {
      // interleave s − 1 zeros after every row and column, then drop the trailing ones
      const spread = tf.pad(tf.reshape(t, [N, OH, 1, OW, 1, C]), [[0, 0], [0, 0], [0, s - 1], [0, 0], [0, s - 1], [0, 0]]);
      u = tf.slice(tf.reshape(spread, [N, OH * s, OW * s, C]) as tf.Tensor4D, [0, 0, 0, 0], [N, s * (OH - 1) + 1, s * (OW - 1) + 1, C]);
    }
    return tf.pad(u, [[0, 0], [a, H - a - u.shape[1]], [b, W - b - u.shape[2]], [0, 0]]);
  });
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

  protected geometry(x: tf.Tensor): { OH: number; OW: number } {
    if (x.rank !== 4) throw new Error(`${this.name}: x should be [N, height, width, channels], got [${x.shape.join(", ")}]`);
    if (x.shape[1]! < this.size || x.shape[2]! < this.size) throw new Error(`${this.name}: a ${this.size}×${this.size} window does not fit in ${x.shape[1]}×${x.shape[2]}`);
    const [OH, OW] = this.outputShape(x.shape.slice(1));
    return { OH, OW };
  }

  /** The k² views of x, in row-major order of (a, b). */
  protected views(x: tf.Tensor4D, OH: number, OW: number): tf.Tensor4D[] {
    const out: tf.Tensor4D[] = [];
    for (let a = 0; a < this.size; a++) for (let b = 0; b < this.size; b++) out.push(view(x, a, b, this.stride, OH, OW));
    return out;
  }

  /** Σ over window positions of placeStrided(parts[p]): the way back of `views`. */
  protected unviews(parts: tf.Tensor4D[], xShape: Shape4): tf.Tensor4D {
    const [, H, W] = xShape;
    let dx: tf.Tensor4D | undefined;
    parts.forEach((part, p) => {
      const placed = placeStrided(part, Math.floor(p / this.size), p % this.size, this.stride, H, W);
      dx = dx ? (tf.add(dx, placed) as tf.Tensor4D) : placed;
    });
    return dx!;
  }

  abstract forward(x: tf.Tensor, ctx: Context): { out: tf.Tensor; cache: C };
  abstract backward(dout: tf.Tensor, cache: C): { dx: tf.Tensor; grads: Grads };
  dispose(): void {}
}

interface MaxPoolCache {
  /** Index (0..k²−1, row-major in the window) of each output's winner, [N, OH, OW, C]. */
  winner: tf.Tensor4D;
  xShape: Shape4;
}

export class MaxPool2D extends Pool2D<MaxPoolCache> {
  readonly name: string;

  constructor(opts: PoolOptions = {}) {
    super(opts);
    this.name = `MaxPool2D(${this.size}×${this.size}${this.stride !== this.size ? `, stride ${this.stride}` : ""})`;
  }

  forward(x: tf.Tensor, _ctx: Context): { out: tf.Tensor; cache: MaxPoolCache } {
    const { OH, OW } = this.geometry(x);
    const x4 = x as tf.Tensor4D;
    const windows = tf.stack(this.views(x4, OH, OW), 4);   // [N, OH, OW, C, k²]
    const winner = tf.argMax(windows, 4) as tf.Tensor4D;    // the first maximum on ties
    return { out: tf.max(windows, 4), cache: { winner, xShape: x4.shape as Shape4 } };
  }

  backward(dout: tf.Tensor, cache: MaxPoolCache): { dx: tf.Tensor; grads: Grads } {
    const kk = this.size * this.size;
    if (kk === 1) return { dx: this.unviews([dout as tf.Tensor4D], cache.xShape), grads: NO_GRADS };
    const routed = tf.mul(tf.oneHot(tf.cast(cache.winner, "int32"), kk), tf.expandDims(dout, 4));  // [N, OH, OW, C, k²]
    const parts = tf.unstack(routed, 4) as tf.Tensor4D[];
    return { dx: this.unviews(parts, cache.xShape), grads: NO_GRADS };
  }
}

export class AvgPool2D extends Pool2D<Shape4> {
  readonly name: string;

  constructor(opts: PoolOptions = {}) {
    super(opts);
    this.name = `AvgPool2D(${this.size}×${this.size}${this.stride !== this.size ? `, stride ${this.stride}` : ""})`;
  }

  forward(x: tf.Tensor, _ctx: Context): { out: tf.Tensor; cache: Shape4 } {
    const { OH, OW } = this.geometry(x);
    const x4 = x as tf.Tensor4D;
    const out = tf.div(tf.addN(this.views(x4, OH, OW)), this.size * this.size);
    return { out, cache: x4.shape as Shape4 };
  }

  backward(dout: tf.Tensor, xShape: Shape4): { dx: tf.Tensor; grads: Grads } {
    const share = tf.div(dout, this.size * this.size) as tf.Tensor4D;
    return { dx: this.unviews(new Array(this.size * this.size).fill(share), xShape), grads: NO_GRADS };
  }
}

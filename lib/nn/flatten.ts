/**
 * Flatten: [N, d1, d2, ...] → [N, d1·d2·…] (row-major, the order tf.layers.flatten uses for NHWC images),
 * the bridge from feature maps to dense layers.
 *
 *   forward    out = reshape(x, [N, −1])        backward   ∂q/∂x = reshape(∂q/∂out, shape of x)
 */
import * as tf from "@tensorflow/tfjs";
import { Context, Grads, Layer, NO_GRADS } from "./layer";

export class Flatten implements Layer<number[]> {
  readonly name = "Flatten";
  readonly params = {};

  forward(x: tf.Tensor, _ctx: Context): { out: tf.Tensor; cache: number[] } {
    if (x.rank < 2) throw new Error(`Flatten: x should be [N, ...], got [${x.shape.join(", ")}]`);
    return { out: tf.reshape(x, [x.shape[0], -1]), cache: x.shape.slice() };
  }

  backward(dout: tf.Tensor, shape: number[]): { dx: tf.Tensor; grads: Grads } {
    return { dx: tf.reshape(dout, shape), grads: NO_GRADS };
  }

  dispose(): void {}
}

/**
 * The affine map X W + b as one differentiable op whose gradient uses explicit transposes.
 * tfjs's own matMul gradient calls matMul with transpose flags, which the wasm backend runs ~10x slower
 * than tf.transpose followed by a plain matMul; the math is the same.
 */
import * as tf from "@tensorflow/tfjs";

type Save = (tensors: tf.Tensor[]) => void;

const denseOp = tf.customGrad(((x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, save: Save) => {
  save([x, W]);
  return {
    value: tf.add(tf.matMul(x, W), b),
    gradFunc: (dy: tf.Tensor2D, [sx, sW]: tf.Tensor[]) => [
      tf.matMul(dy, tf.transpose(sW)),
      tf.matMul(tf.transpose(sx), dy),
      tf.sum(dy, 0),
    ],
  };
}) as unknown as (...args: (tf.Tensor | Save)[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] });

/** X W + b, differentiable by tfjs autodiff (tf.grad, tf.variableGrads) with transpose-free gradients. */
export function dense(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return denseOp(x, W, b) as tf.Tensor2D;
}

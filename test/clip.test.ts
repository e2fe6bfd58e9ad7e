/**
 * Gradient clipping: values against tf.clipByValue and a global-norm clip written with tfjs ops; the
 * backward passes gradchecked in float64 and compared with tf.grad; the optimizer wrapper.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import { Rng } from "../lib/random";
import { gradCheck, describeGradCheck } from "../lib/check/gradcheck";
import { compare } from "../lib/check/compare";
import {
  clipByValue, clipByValueBackward, clipByGlobalNorm, clipByGlobalNormBackward, clipTensorsByGlobalNorm, globalNorm, clipped,
} from "../lib/scratch/clip";
import { sgd } from "../lib/scratch/optimizers";

const rng = new Rng(11);
// Values kept away from the clip limits ±1: the derivative jumps there.
const x0 = Float64Array.from({ length: 12 }, () => { let v; do v = rng.normal(0, 2); while (Math.abs(Math.abs(v) - 1) < 0.05); return v; });
const dout = Float64Array.from({ length: 12 }, () => rng.normal());
const F32 = 1e-5;

/** Global-norm clipping with tfjs ops only, for comparison. */
const tfClipByGlobalNorm = (x: tf.Tensor, c: number) => tf.mul(x, tf.div(c, tf.maximum(tf.norm(x), c)));

before(async () => {
  await initBackend();
});

test("clip by value: same values and gradient as tf.clipByValue; the backward passes the gradient check", (ctx) => {
  const ours = clipByValue(x0, -1, 1);
  const x = tf.tensor1d(Array.from(x0));
  const theirs = tf.clipByValue(x, -1, 1);
  assert.ok(compare(ours, theirs).maxAbs < F32);
  const back = clipByValueBackward(dout, x0, -1, 1);
  const theirBack = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.clipByValue(t, -1, 1), tf.tensor1d(Array.from(dout)))))(x);
  const cBack = compare(back, theirBack);
  const params = x0.slice();
  const r = gradCheck((p: Float64Array) => clipByValue(p, -1, 1).reduce((s, v, i) => s + v * dout[i], 0), params, back);
  ctx.diagnostic(`clip by value: backward vs tf.grad ${cBack.maxAbs.toExponential(2)}; ${describeGradCheck(r).split("\n")[0]}`);
  assert.ok(cBack.maxAbs < F32);
  assert.ok(r.maxRelError < 1e-7, describeGradCheck(r));
  tf.dispose([x, theirs, theirBack]);
});

test("clip by global norm: same values and gradient as the tfjs-ops version; gradient check; direction kept", (ctx) => {
  for (const c of [1, 100]) { // 1 clips (‖x‖ ≈ 7), 100 leaves x unchanged
    const { clipped: ours, norm } = clipByGlobalNorm(x0, c);
    const x = tf.tensor1d(Array.from(x0));
    const theirs = tfClipByGlobalNorm(x, c);
    assert.ok(compare(ours, theirs).maxAbs < F32);
    assert.ok(Math.abs(norm - Math.hypot(...x0)) < 1e-12);
    assert.ok(Math.abs(globalNorm(ours) - Math.min(c, norm)) < 1e-12);
    const back = clipByGlobalNormBackward(dout, x0, c);
    const theirBack = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tfClipByGlobalNorm(t, c), tf.tensor1d(Array.from(dout)))))(x);
    const cBack = compare(back, theirBack);
    const r = gradCheck((p: Float64Array) => clipByGlobalNorm(p, c).clipped.reduce((s, v, i) => s + v * dout[i], 0), x0.slice(), back);
    ctx.diagnostic(`clip by norm c=${c}: backward vs tf.grad ${cBack.maxAbs.toExponential(2)}; ${describeGradCheck(r).split("\n")[0]}`);
    assert.ok(cBack.maxAbs < F32, JSON.stringify(cBack));
    assert.ok(r.maxRelError < 1e-7, describeGradCheck(r));
    tf.dispose([x, theirs, theirBack]);
  }
});

test("global norm over several tensors: the norm of all parameters together", () => {
  const a = tf.tensor2d([[3, 0], [0, 0]]), b = tf.tensor1d([4]);
  assert.ok(Math.abs(globalNorm([a, b]) - 5) < 1e-6);
  const { clipped: cl, norm } = clipTensorsByGlobalNorm([a, b], 1);
  assert.ok(Math.abs(norm - 5) < 1e-6);
  assert.ok(compare(cl, [[[0.6, 0], [0, 0]], [0.8]]).maxAbs < 1e-6);
  tf.dispose([a, b, ...cl]);
});

test("clipped(): the optimizer sees clipped gradients and the norms are recorded", () => {
  const norms: number[] = [];
  const grad = clipped((t) => t.map((v) => 1000 * v), { norm: 1 }, (n) => norms.push(n));
  const theta = Float64Array.of(3, 4);
  sgd({ learningRate: 0.5 }).step(theta, grad);
  assert.ok(compare(Array.from(theta), [3 - 0.3, 4 - 0.4]).maxAbs < 1e-12);
  assert.deepEqual(norms, [5000]);
  const byValue = clipped((t) => t.slice(), { value: 0.5 });
  assert.deepEqual(Array.from(byValue(Float64Array.of(-2, 0.1, 3))), [-0.5, 0.1, 0.5]);
  assert.throws(() => clipByValue([1], 1, -1), /lo < hi/);
  assert.throws(() => clipByGlobalNorm([1], 0), /maximum norm c must be a positive number/);
  assert.throws(() => clipped((t) => t, { value: -1 }), /value must be a positive number/);
});

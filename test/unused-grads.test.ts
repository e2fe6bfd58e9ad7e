/**
 * lib/perf/unused-grads.ts: tfjs's fused conv and dense gradients without the ∂q/∂x nobody reads. LeNet-5 and an
 * MLP trained by tf.layers (trainOnBatch) give the same losses and weights bit for bit with the skip and without
 * it, and only the first layer's ∂q/∂x is skipped; a gradient that does need x (x among the xs, or x a function of
 * a variable) is computed as before; a custom gradient of the user's own around the same convolution is left
 * alone; a gradient of a gradient takes tfjs's path. The conv checks need the native addon (its kernels take the
 * skip) and skip without it.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { initBackend } from "../lib/backend";
import { Rng } from "../lib/random";
import { lenet5 } from "../lib/nn/lenet";
import { layersTwin } from "../lib/tf/conv-twins";
import { LayersMlp } from "../lib/tf/mlp-layers";
import { initMlp, MlpSpec } from "../lib/scratch/init";
import { nativeStatus } from "../lib/perf/native";
import { installUnusedGrads, uninstallUnusedGrads, takeUnusedGradCounts } from "../lib/perf/unused-grads";

before(async () => {
  const r = await initBackend();
  assert.equal(r.name, "wasm", "these tests need the wasm backend");
});

const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
const skipWhy = () => (nativeStatus().active ? undefined : `native addon: ${nativeStatus().why}`);

/** Three trainOnBatch steps of a tf.layers model on 16 random inputs: the losses and the weights after them, as bits. */
async function fit3(kind: "lenet5" | "mlp", skip: boolean) {
  if (skip) installUnusedGrads();
  else uninstallUnusedGrads();
  takeUnusedGradCounts();
  const rng = new Rng(3);
  const net = kind === "lenet5" ? lenet5({ rng: new Rng(1), pool: "avg" }) : null;
  const spec: MlpSpec = { sizes: [784, 30, 20, 10], hidden: "sigmoid", output: "softmax", loss: "crossEntropy" };
  const model = net ? layersTwin(net) : new LayersMlp(spec, initMlp(spec, { rng: new Rng(1) })).model;
  model.compile({ optimizer: tf.train.sgd(0.1), loss: "categoricalCrossentropy" });
  // (sigmoid layers: tf.layers runs them as a fused linear product under a gradient, with tfjs's all-at-once
  // gradient; relu layers run unfused there and their ∂q/∂x is never computed)
  const x = tf.tensor(Float32Array.from({ length: 16 * 784 }, () => rng.uniform()), net ? [16, 28, 28, 1] : [16, 784]);
  const t = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 10), "int32"), 10).toFloat();
  const losses: number[] = [];
  for (let s = 0; s < 3; s++) losses.push((await model.trainOnBatch(x, t)) as number);
  const weights = model.getWeights().map(bits);
  const counts = takeUnusedGradCounts();
  tf.dispose([x, t]);
  model.dispose();
  net?.dispose();
  return { losses, weights, counts };
}

for (const kind of ["lenet5", "mlp"] as const) {
  test(`tf.layers ${kind}: the same losses and weights with the first layer's unused ∂q/∂x skipped, one skip per step`, async (t) => {
    const why = kind === "lenet5" ? skipWhy() : undefined;
    if (why) return t.skip(why);
    const n0 = tf.memory().numTensors;
    const stock = await fit3(kind, false);
    const n1 = tf.memory().numTensors;
    const ours = await fit3(kind, true);
    assert.equal(stock.counts.skipped, 0);
    assert.equal(ours.counts.skipped, 3, "the first layer's ∂q/∂x (and only it: the next layers' inputs are functions of weights) once per step");
    assert.deepEqual(ours.losses, stock.losses);
    ours.weights.forEach((w, i) => assert.deepEqual(w, stock.weights[i], `weight ${i} differs`));
    // (tf.layers keeps a few tensors of its own after dispose: the same number on both routes)
    assert.equal(tf.memory().numTensors - n1, n1 - n0, "the skip left tensors behind");
  });
}

test("∂q/∂x is computed when x needs it: x among the xs, or x a function of a variable", (t) => {
  const why = skipWhy();
  if (why) return t.skip(why);
  installUnusedGrads();
  const rng = new Rng(5);
  const r = (shape: number[]) => tf.tensor(Float32Array.from({ length: tf.util.sizeFromShape(shape) }, () => rng.normal()), shape);
  const x = r([2, 6, 6, 1]) as tf.Tensor4D, w = r([3, 3, 1, 2]) as tf.Tensor4D, b = r([2]) as tf.Tensor1D, dy = r([2, 6, 6, 2]);
  const loss = (a: tf.Tensor) => tf.sum(tf.mul(tf.fused.conv2d({ x: a as tf.Tensor4D, filter: w, bias: b, strides: 1, pad: "same" }), dy));
  takeUnusedGradCounts();
  const gx = tf.grad(loss)(x);
  // the same ∂q/∂x by tfjs's unfused conv2d (its gradient is lazy, never skipped)
  const want = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.conv2d(a as tf.Tensor4D, w, 1, "same"), b), dy)))(x);
  assert.deepEqual(bits(gx), bits(want));
  const v = tf.variable(x);
  const { grads } = tf.variableGrads(() => loss(tf.mul(v, 2)) as tf.Scalar, [v]);
  const want2 = tf.grad((a: tf.Tensor) => loss(tf.mul(a, 2)))(x);
  assert.deepEqual(bits(grads[v.name]), bits(want2));
  assert.equal(takeUnusedGradCounts().skipped, 0);
  // x is the data and only the filter is differentiated: skipped, and the filter's gradient is unchanged
  const f = tf.variable(w);
  const lossF = () => tf.sum(tf.mul(tf.fused.conv2d({ x, filter: f as unknown as tf.Tensor4D, bias: b, strides: 1, pad: "same" }), dy)) as tf.Scalar;
  const ours = tf.variableGrads(lossF, [f]).grads[f.name];
  assert.equal(takeUnusedGradCounts().skipped, 1);
  uninstallUnusedGrads();
  const theirs = tf.variableGrads(lossF, [f]).grads[f.name];
  installUnusedGrads();
  assert.deepEqual(bits(ours), bits(theirs));
  tf.dispose([x, w, b, dy, gx, want, v, grads[v.name], want2, f, ours, theirs]);
});

test("a custom gradient of the user's own around a fused convolution is left alone; a gradient of a gradient works", (t) => {
  const why = skipWhy();
  if (why) return t.skip(why);
  installUnusedGrads();
  const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D, w = tf.variable(tf.fill([2, 2, 1, 1], 0.5));
  // the user's own gradient asks for conv2DBackpropInput of x's shape for the filter's gradient (contrived on purpose)
  const mine = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [a, f, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([a, f]);
    return {
      value: tf.fused.conv2d({ x: a as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: "same" }),
      gradFunc: (dy: tf.Tensor, [sa, sf]: tf.Tensor[]) => [tf.zerosLike(sa), tf.sum(tf.conv2dTranspose(dy as tf.Tensor4D, sf as tf.Tensor4D, [1, 4, 4, 1], 1, "same")).reshape([1, 1, 1, 1]).tile([2, 2, 1, 1])],
    };
  });
  takeUnusedGradCounts();
  const g = tf.variableGrads(() => tf.sum(mine(x, w) as tf.Tensor) as tf.Scalar, [w]).grads[w.name];
  assert.equal(takeUnusedGradCounts().skipped, 0);
  assert.ok(Math.abs(g.dataSync()[0]) > 0, "the user's gradient was replaced by zeros");
  // second order: d/da of (d/da Σ conv(a, w)²)·1 runs with the tape on: tfjs's own path, no skip
  const lossA = (a: tf.Tensor) => tf.sum(tf.square(tf.fused.conv2d({ x: a as tf.Tensor4D, filter: w as unknown as tf.Tensor4D, strides: 1, pad: "same" })));
  const g2 = tf.grad((a: tf.Tensor) => tf.sum(tf.grad(lossA)(a)))(x);
  assert.equal(takeUnusedGradCounts().skipped, 0);
  assert.ok(g2.dataSync().every(Number.isFinite));
  tf.dispose([x, w, g, g2]);
});

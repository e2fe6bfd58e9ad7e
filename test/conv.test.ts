// Lecture 12: convolution and pooling. The float64 loops of lib/scratch/conv.ts, the fast layers of lib/nn
// (Conv2D, MaxPool2D, AvgPool2D, Flatten), tf.conv2d / tf.maxPool / tf.avgPool with tf.grad, and
// tf.layers.conv2d with copied weights agree over random shapes, strides and paddings; every layer passes
// the finite-difference check; the wasm Conv2DBackpropFilter of lib/perf/conv-grads.ts equals the cpu
// backend's; LeNet-5's hand-written gradients equal autodiff's.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { initBackend } from "../lib/backend";
import { Rng } from "../lib/random";
import * as sc from "../lib/scratch/conv";
import { checkLayer, layerGrads, tfLayerGrads } from "../lib/check/layer-check";
import { describeGradCheck } from "../lib/check/gradcheck";
import { INFERENCE, Layer } from "../lib/nn/layer";
import { Conv2D } from "../lib/nn/conv";
import { AvgPool2D, MaxPool2D } from "../lib/nn/pool";
import { Flatten } from "../lib/nn/flatten";
import { lenet5 } from "../lib/nn/lenet";
import { AutodiffNetwork, layersTwin } from "../lib/tf/conv-twins";
import { installWasmConvGrads } from "../lib/perf/conv-grads";

const CHECK = 2e-2; // finite differences of a float32 forward pass (lib/check/layer-check.ts)
/** Largest |a − b| / max(1, |b|) seen per comparison, printed at the end (the twins' disagreement). */
const worst: Record<string, number> = {};

before(async () => {
  await initBackend();
});
after(() => {
  console.log("largest disagreements (|a − b| / max(1, |b|)):", JSON.stringify(worst));
});

function maxDiff(what: string, a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, `${what}: lengths`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  worst[what] = Math.max(worst[what] ?? 0, m);
  return m;
}

/**
 * Runs f on the cpu backend (tfjs's reference kernels) and returns its arrays. The tf.conv2d, tf.maxPool and
 * tf.grad twins are taken there: tfjs-backend-wasm 4.22 gives wrong numbers in some of the random cases
 * (tf.conv2d with a stride larger than the kernel returns zeros; tf.grad of tf.maxPool with a stride larger
 * than the window drops gradients), see the last test.
 */
async function onCpu(f: () => tf.Tensor[]): Promise<Float32Array[]> {
  const was = tf.getBackend();
  await tf.setBackend("cpu");
  try {
    return tf.tidy(f).map((t) => {
      const a = t.dataSync() as Float32Array;
      t.dispose();
      return Float32Array.from(a);
    });
  } finally {
    await tf.setBackend(was);
  }
}

function toArray4(t: tf.Tensor): sc.Array4 {
  return sc.array4(t.dataSync(), t.shape as [number, number, number, number]);
}

test("convolution flips the kernel, cross-correlation does not; output sizes", () => {
  const x = [1, 2, 3, 4, 5], k = [1, 0, -1];
  assert.deepEqual(sc.conv1d(x, k, "correlation"), [-2, -2, -2]);
  assert.deepEqual(sc.conv1d(x, k, "convolution"), [2, 2, 2]);
  const I = [[1, 2, 0], [0, 1, 3], [4, 0, 1]], K = [[1, 2], [3, 4]], Kf = [[4, 3], [2, 1]];
  assert.deepEqual(sc.conv2dSingle(I, K, "convolution"), sc.conv2dSingle(I, Kf, "correlation"));
  assert.deepEqual(sc.conv2dSingle(I, K, "correlation"), [[1 + 4 + 0 + 4, 2 + 0 + 3 + 12], [0 + 2 + 12 + 0, 1 + 6 + 0 + 4]]);
  assert.equal(sc.outputSize(256, 16), 241); // seed 003: 32 kernels of 16×16 on 256×256 → 32 maps of 241×241
  assert.equal(sc.outputSize(28, 5, 1, 2), 28);
  assert.equal(sc.outputSize(7, 3, 2), 3);
  assert.equal(sc.outputSize(7, 3, 2, "same"), 4);
  assert.deepEqual(sc.padAmounts(28, 5, 1, "same"), [2, 2]);
  assert.deepEqual(sc.padAmounts(8, 4, 2, "same"), [1, 1]);
  assert.deepEqual(sc.padAmounts(7, 4, 1, "same"), [1, 2]);
  const counts = sc.parameterCounts([28, 28, 1], 5, 6, { padding: "same" });
  assert.equal(counts.conv, 156);
  assert.equal(counts.dense, 784 * 4704 + 4704);
  assert.throws(() => sc.outputSize(4, 5), /does not fit/);
});

test("the input gradient is the full convolution of δ with the flipped kernel (stride 1, valid)", () => {
  const r = new Rng(2);
  const x = sc.array4(r.array(2 * 6 * 5 * 3, (g) => g.normal()), [2, 6, 5, 3]);
  const w = sc.array4(r.array(3 * 2 * 3 * 4, (g) => g.normal()), [3, 2, 3, 4]);
  const dout = sc.array4(r.array(2 * 4 * 4 * 4, (g) => g.normal()), [2, 4, 4, 4]);
  const { dx } = sc.conv2dBackward(x, w, dout);
  const full = sc.inputGradAsFullConvolution(dout, w);
  assert.deepEqual(full.shape, dx.shape);
  assert.ok(maxDiff("scratch dx: scatter vs full convolution", full.data, dx.data) < 1e-12);
});

test("Conv2D = float64 loops = tf.conv2d and tf.grad, over random shapes, strides and paddings", async () => {
  const r = new Rng(11);
  for (let trial = 0; trial < 12; trial++) {
    const N = 1 + r.int(0, 3), H = 4 + r.int(0, 6), W = 4 + r.int(0, 6), CI = 1 + r.int(0, 3), CO = 1 + r.int(0, 4);
    const kh = 1 + r.int(0, Math.min(4, H)), kw = 1 + r.int(0, Math.min(4, W)), stride = 1 + r.int(0, 3);
    const padding: sc.Padding = r.uniform() < 0.5 ? "valid" : "same";
    const layer = Conv2D.init([kh, kw], CI, CO, { stride, padding, rng: r });
    layer.params.b.assign(r.normalTensor([CO]) as tf.Tensor1D);
    const x = r.normalTensor([N, H, W, CI]);
    const [OH, OW] = layer.outputShape([H, W, CI]);
    const dout = r.normalTensor([N, OH, OW, CO]);
    const what = `[${N},${H},${W},${CI}] * ${kh}×${kw}×${CO} s${stride} ${padding}`;
    const ours = layerGrads(layer, x, dout, INFERENCE);
    // float64 loops
    const ref = sc.conv2dForward(toArray4(x), toArray4(layer.params.W), Array.from(layer.params.b.dataSync()), { stride, padding });
    assert.deepEqual(ours.out.shape, ref.shape, what);
    assert.ok(maxDiff("Conv2D out vs loops", ours.out.dataSync(), ref.data) < 1e-5, what);
    const back = sc.conv2dBackward(toArray4(x), toArray4(layer.params.W), toArray4(dout), { stride, padding });
    assert.ok(maxDiff("Conv2D dx vs loops", ours.dx.dataSync(), back.dx.data) < 1e-5, what);
    assert.ok(maxDiff("Conv2D dW vs loops", ours.grads.W.dataSync(), back.dW.data) < 1e-5, what);
    assert.ok(maxDiff("Conv2D db vs loops", ours.grads.b.dataSync(), back.db) < 1e-5, what);
    // tf.conv2d and tf.grad
    const Wt = layer.params.W.clone(), bt = layer.params.b.clone();
    const [tfOut, gx, gw, gb] = await onCpu(() => {
      const f = (xx: tf.Tensor4D, ww: tf.Tensor4D, bb: tf.Tensor1D) => tf.sum(tf.mul(tf.add(tf.conv2d(xx, ww, stride, padding), bb), dout));
      const g = tf.grads(f as (...a: tf.Tensor[]) => tf.Scalar)([x, Wt, bt]);
      return [tf.add(tf.conv2d(x as tf.Tensor4D, Wt as tf.Tensor4D, stride, padding), bt), ...g];
    });
    assert.ok(maxDiff("Conv2D out vs tf.conv2d", ours.out.dataSync(), tfOut) < 1e-5, what);
    assert.ok(maxDiff("Conv2D dx vs tf.grad", ours.dx.dataSync(), gx) < 1e-5, what);
    assert.ok(maxDiff("Conv2D dW vs tf.grad", ours.grads.W.dataSync(), gw) < 1e-5, what);
    assert.ok(maxDiff("Conv2D db vs tf.grad", ours.grads.b.dataSync(), gb) < 1e-5, what);
    tf.dispose([x, dout, ours.out, ours.dx, ...Object.values(ours.grads), Wt, bt]);
    layer.dispose();
  }
});

test("Conv2D = tf.layers.conv2d with the same kernel and bias (output and autodiff gradients)", () => {
  const r = new Rng(5);
  for (const [stride, padding] of [[1, "valid"], [2, "same"], [2, "valid"]] as const) {
    const layer = Conv2D.init(3, 2, 4, { stride, padding, rng: r });
    layer.params.b.assign(r.normalTensor([4]) as tf.Tensor1D);
    const twin = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: stride, padding, weights: [layer.params.W.clone(), layer.params.b.clone()] });
    const x = r.normalTensor([3, 9, 8, 2]);
    const [OH, OW] = layer.outputShape([9, 8, 2]);
    const dout = r.normalTensor([3, OH, OW, 4]);
    const ours = layerGrads(layer, x, dout, INFERENCE);
    twin.apply(x); // builds it, so that its weights exist
    const theirs = tfLayerGrads(twin, x, dout);
    const what = `stride ${stride} ${padding}`;
    assert.ok(maxDiff("Conv2D out vs tf.layers", ours.out.dataSync(), theirs.out.dataSync()) < 1e-5, what);
    assert.ok(maxDiff("Conv2D dx vs tf.layers", ours.dx.dataSync(), theirs.dx.dataSync()) < 1e-5, what);
    assert.ok(maxDiff("Conv2D dW vs tf.layers", ours.grads.W.dataSync(), theirs.grads[0].dataSync()) < 1e-5, what);
    assert.ok(maxDiff("Conv2D db vs tf.layers", ours.grads.b.dataSync(), theirs.grads[1].dataSync()) < 1e-5, what);
    tf.dispose([x, dout, ours.out, ours.dx, ...Object.values(ours.grads), theirs.out, theirs.dx, ...theirs.grads]);
    twin.dispose();
    layer.dispose();
  }
});

test("pooling = float64 loops = tf.maxPool / tf.avgPool and tf.grad, over random shapes and strides", async () => {
  const r = new Rng(7);
  for (let trial = 0; trial < 12; trial++) {
    const N = 1 + r.int(0, 3), H = 3 + r.int(0, 6), W = 3 + r.int(0, 6), C = 1 + r.int(0, 3);
    const size = 1 + r.int(0, 3), stride = 1 + r.int(0, 3);
    const x = r.normalTensor([N, H, W, C]);
    for (const layer of [new MaxPool2D({ size, stride }), new AvgPool2D({ size, stride })]) {
      const [OH, OW] = layer.outputShape([H, W, C]);
      const dout = r.normalTensor([N, OH, OW, C]);
      const ours = layerGrads(layer, x, dout, INFERENCE);
      const max = layer instanceof MaxPool2D;
      const what = `${layer.name} on [${N},${H},${W},${C}]`;
      const xs = toArray4(x);
      if (max) {
        const { out, winners } = sc.maxPoolForward(xs, { size, stride });
        assert.ok(maxDiff("MaxPool2D out vs loops", ours.out.dataSync(), out.data) < 1e-6, what);
        assert.ok(maxDiff("MaxPool2D dx vs loops", ours.dx.dataSync(), sc.maxPoolBackward(toArray4(dout), winners, xs.shape).data) < 1e-6, what);
      } else {
        assert.ok(maxDiff("AvgPool2D out vs loops", ours.out.dataSync(), sc.avgPoolForward(xs, { size, stride }).data) < 1e-6, what);
        assert.ok(maxDiff("AvgPool2D dx vs loops", ours.dx.dataSync(), sc.avgPoolBackward(toArray4(dout), xs.shape, { size, stride }).data) < 1e-6, what);
      }
      const op = (xx: tf.Tensor) => (max ? tf.maxPool(xx as tf.Tensor4D, size, stride, "valid") : tf.avgPool(xx as tf.Tensor4D, size, stride, "valid"));
      const [o, g] = await onCpu(() => [op(x), tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(op(xx), dout)))(x)]);
      assert.ok(maxDiff(`${max ? "MaxPool2D" : "AvgPool2D"} out vs tf`, ours.out.dataSync(), o) < 1e-6, what);
      assert.ok(maxDiff(`${max ? "MaxPool2D" : "AvgPool2D"} dx vs tf.grad`, ours.dx.dataSync(), g) < 1e-5, what);
      tf.dispose([dout, ours.out, ours.dx]);
    }
    x.dispose();
  }
});

test("max-pooling routes a tie to one input, the first maximum of its window", () => {
  // Quantized inputs tie often (MNIST pixels, ReLU zeros).
  const x = tf.tensor4d([1, 1, 0, 2, 1, 1, 2, 2, 0, 0, 5, 5, 0, 0, 5, 5], [1, 4, 4, 1]);
  const pool = new MaxPool2D({ size: 2 });
  const dout = tf.ones([1, 2, 2, 1]);
  const { dx } = layerGrads(pool, x, dout, INFERENCE);
  assert.deepEqual(Array.from(dx.dataSync()), [1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
  const { winners } = sc.maxPoolForward(toArray4(x));
  assert.deepEqual(Array.from(sc.maxPoolBackward(sc.array4([1, 1, 1, 1], [1, 2, 2, 1]), winners, [1, 4, 4, 1]).data), Array.from(dx.dataSync()));
  // each window's gradient is passed on whole
  assert.equal(tf.sum(dx).dataSync()[0], 4);
  tf.dispose([x, dout, dx]);
});

test("every layer passes the finite-difference check", () => {
  const r = new Rng(3);
  const cases: [Layer, number[]][] = [
    [Conv2D.init(3, 2, 3, { rng: r }), [2, 6, 5, 2]],
    [Conv2D.init([2, 3], 1, 2, { stride: 2, padding: "same", rng: r }), [2, 7, 6, 1]],
    [new MaxPool2D({ size: 2 }), [2, 6, 6, 2]],
    [new MaxPool2D({ size: 3, stride: 2 }), [1, 7, 7, 2]],
    [new AvgPool2D({ size: 2 }), [2, 6, 4, 3]],
    [new AvgPool2D({ size: 3, stride: 1 }), [1, 5, 5, 1]],
    [new Flatten(), [3, 2, 2, 2]],
  ];
  for (const [layer, shape] of cases) {
    const x = r.normalTensor(shape);
    const res = checkLayer(layer, x, { seed: 4 });
    assert.ok(res.maxRelError < CHECK, `${layer.name}\n${describeGradCheck(res)}`);
    assert.deepEqual(Object.keys(res.byTensor).sort(), ["x", ...Object.keys(layer.params)].sort());
    x.dispose();
    layer.dispose();
  }
});

test("wrong inputs get a message that says what was expected", () => {
  const conv = Conv2D.init(3, 2, 4);
  assert.throws(() => conv.forward(tf.zeros([2, 8, 8, 3]), INFERENCE), /\[N, height, width, 2\]/);
  assert.throws(() => conv.forward(tf.zeros([2, 2, 8, 2]), INFERENCE), /does not fit/);
  assert.throws(() => new MaxPool2D({ size: 0 }), /positive integer/);
  assert.throws(() => Conv2D.init(3, 1, 1, { padding: "full" as "same" }), /"valid" or "same"/);
  conv.dispose();
});

test("wasm Conv2DBackpropFilter (lib/perf/conv-grads.ts) equals the cpu backend's kernel", async () => {
  const before = tf.getBackend();
  const r = new Rng(9);
  const cases = Array.from({ length: 6 }, () => {
    const H = 5 + r.int(0, 8), W = 5 + r.int(0, 8), CI = 1 + r.int(0, 3), CO = 1 + r.int(0, 4), k = 1 + r.int(0, 4), s = 1 + r.int(0, 2);
    return { x: Float32Array.from(r.array(2 * H * W * CI, (g) => g.normal())), xs: [2, H, W, CI], w: Float32Array.from(r.array(k * k * CI * CO, (g) => g.normal())), ws: [k, k, CI, CO], s, pad: r.uniform() < 0.5 ? "valid" : "same" } as const;
  });
  const run = () => cases.map((c) => tf.tidy(() => {
    const x = tf.tensor4d(c.x, c.xs as unknown as [number, number, number, number]);
    const w = tf.tensor4d(c.w, c.ws as unknown as [number, number, number, number]);
    const g = tf.grad((ww: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, ww as tf.Tensor4D, c.s, c.pad))))(w);
    return Array.from(g.dataSync());
  }));
  try {
    await tf.setBackend("cpu");
    const cpu = run();
    assert.ok(await tf.setBackend("wasm"));
    assert.ok(installWasmConvGrads());
    assert.ok(tf.getKernel("Conv2DBackpropFilter", "wasm"));
    const wasm = run();
    cases.forEach((_, i) => assert.ok(maxDiff("wasm Conv2DBackpropFilter vs cpu", wasm[i], cpu[i]) < 1e-4, `case ${i}`));
  } finally {
    await tf.setBackend(before);
  }
});

test("LeNet-5: 61 706 parameters; hand-written gradients = autodiff = tf.layers", () => {
  const r = new Rng(1);
  const net = lenet5({ rng: r });
  assert.equal(net.params.reduce((s, p) => s + p.size, 0), 61706);
  const x = r.uniformTensor([4, 28, 28, 1]);
  const t = tf.oneHot(tf.tensor1d([3, 1, 4, 1], "int32"), 10).toFloat() as tf.Tensor2D;
  const ours = net.lossAndGrads(x, t);
  const auto = new AutodiffNetwork(net);
  const theirs = auto.lossAndGrads(x, t);
  assert.ok(maxDiff("LeNet-5 loss: hand-written vs autodiff", ours.loss.dataSync(), theirs.loss.dataSync()) < 1e-6);
  ours.grads.forEach((g, i) => assert.ok(maxDiff("LeNet-5 grads: hand-written vs autodiff", g.dataSync(), theirs.grads[i].dataSync()) < 1e-5, net.paramNames[i]));
  const model = layersTwin(net);
  const pOurs = net.predict(x), pLayers = model.predict(x) as tf.Tensor;
  assert.ok(maxDiff("LeNet-5 predict vs tf.layers", pOurs.dataSync(), pLayers.dataSync()) < 1e-5);
  tf.dispose([x, t, ours.loss, ...ours.grads, theirs.loss, ...theirs.grads, pOurs, pLayers]);
  model.dispose();
  net.dispose();
});

test("what tfjs-backend-wasm 4.22 gets wrong, for the record (the layers above avoid both paths)", async () => {
  const r = new Rng(1);
  const x = Float32Array.from(r.array(6 * 9 * 2, (g) => g.normal())), w = Float32Array.from(r.array(4 * 2 * 3, (g) => g.normal()));
  r.array(8 * 5 * 3, (g) => g.normal());
  const y = Float32Array.from(r.array(8 * 5 * 3, (g) => g.normal()));
  const z = Float32Array.from(r.array(8 * 8 * 3, (g) => g.normal()));
  const run = () => tf.tidy(() => {
    const conv = tf.conv2d(tf.tensor4d(x, [1, 6, 9, 2]), tf.tensor4d(w, [1, 4, 2, 3]), 3, "same");
    const pool = tf.grad((v: tf.Tensor) => tf.sum(tf.maxPool(v as tf.Tensor4D, 2, 3, "valid")))(tf.tensor4d(y, [1, 8, 5, 3]));
    const pool2 = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, 2, 2, "valid"), tf.range(1, 49).reshape([1, 4, 4, 3]))))(tf.tensor4d(z, [1, 8, 8, 3]));
    return { convAbs: tf.sum(tf.abs(conv)).dataSync()[0], poolGrad: tf.sum(pool).dataSync()[0], pool2: Array.from(pool2.dataSync()) };
  });
  const was = tf.getBackend();
  try {
    await tf.setBackend("cpu");
    const cpu = run();
    assert.ok(await tf.setBackend("wasm"));
    const wasm = run();
    console.log("tf.conv2d (1×4 kernel, stride 3, same): Σ|out| cpu", cpu.convAbs, "wasm", wasm.convAbs,
      "; tf.grad of tf.maxPool (2×2, stride 3): Σ dx cpu", cpu.poolGrad, "wasm", wasm.poolGrad, "(18 windows)",
      "; tf.grad of tf.maxPool (2×2, 3 channels): max |wasm − cpu|", Math.max(...cpu.pool2.map((v, i) => Math.abs(v - wasm.pool2[i]))));
    assert.equal(cpu.poolGrad, 18); // one unit of gradient per window
    assert.ok(cpu.convAbs > 1);
  } finally {
    await tf.setBackend(was);
  }
});

test("im2col and col2im (lib/perf/windows.ts) are adjoint, with padding and strides", async () => {
  const { im2col, col2im } = await import("../lib/perf/windows");
  const r = new Rng(21);
  for (const [shape, kh, kw, s, pads] of [
    [[2, 5, 6, 3], 3, 2, 1, [[1, 1], [0, 1]]],
    [[1, 7, 7, 2], 3, 3, 2, [[1, 1], [1, 1]]],
    [[3, 4, 4, 1], 4, 4, 1, [[0, 0], [0, 0]]],
  ] as [number[], number, number, number, [[number, number], [number, number]]][]) {
    const x = r.normalTensor(shape);
    const cols = im2col(x, kh, kw, s, pads);
    const c = r.normalTensor(cols.shape);
    const back = col2im(c, shape, kh, kw, s, pads);
    // ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩
    const lhs = tf.sum(tf.mul(cols, c)).dataSync()[0], rhs = tf.sum(tf.mul(x, back)).dataSync()[0];
    assert.ok(Math.abs(lhs - rhs) < 1e-4 * (1 + Math.abs(lhs)), `${JSON.stringify(shape)}: ${lhs} vs ${rhs}`);
    tf.dispose([x, cols, c, back]);
  }
  assert.throws(() => im2col(tf.zeros([1, 2, 2, 1]), 3, 3, 1), /does not fit/);
});

test("lenet5 options: relu + max-pooling, 14×14 inputs; it trains (the loss goes down)", async () => {
  const { train } = await import("../lib/train/train");
  const { adam } = await import("../lib/scratch/optimizers");
  const r = new Rng(4);
  const net = lenet5({ rng: r, activation: "relu", pool: "max", inputShape: [14, 14, 1] });
  assert.deepEqual(net.layers.map((l) => l.name).slice(0, 3), ["Conv2D(5×5, 1→6, same)", "relu", "MaxPool2D(2×2)"]);
  // 7×7×6 → conv 5×5 → 3×3×16 → pool → 1×1×16
  assert.equal((net.layers[7] as unknown as { inputs: number }).inputs, 16);
  const x = r.uniformTensor([64, 14, 14, 1]);
  const labels = tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 10), "int32");
  const t = tf.oneHot(labels, 10).toFloat() as tf.Tensor2D;
  const before = net.loss(x, t).dataSync()[0];
  train(net, { x, t }, { epochs: 15, batchSize: 16, optimizer: adam({ learningRate: 3e-3 }), rng: new Rng(1), logEvery: 0 });
  const afterLoss = net.loss(x, t).dataSync()[0];
  assert.ok(afterLoss < 0.8 * before, `loss ${before} → ${afterLoss}`);
  tf.dispose([x, labels, t]);
  net.dispose();
});

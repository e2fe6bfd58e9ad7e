/**
 * lib/perf/fast-grads.ts: the replaced wasm kernels give the numbers of the original ones (matMul with
 * every transpose flag, fused matMul, row gathers), autodiff and tf.layers gradients are unchanged, and
 * nothing is left behind on the wasm heap. The swapped product (Bᵀ Aᵀ)ᵀ gives the same values as the direct
 * one, so which path ran is read from the kernel's path counter (`takeMatMulPathCounts`): the tests fail
 * when the swapped path is forced off or on.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { installFastWasmKernels, uninstallFastWasmKernels, fastWasmKernelsInstalled, takeMatMulPathCounts } from "../lib/perf/fast-grads";
import { AutodiffMlp } from "../lib/tf/mlp-autodiff";
import { LayersMlp } from "../lib/tf/mlp-layers";
import { MatrixMlp } from "../lib/nn/mlp";
import { initMlp, MlpSpec } from "../lib/scratch/init";
import { Rng } from "../lib/random";
import { compare } from "../lib/check/compare";

// These tests are about the XNNPACK paths (flags, swaps); test/blas.test.ts covers the OpenBLAS products,
// which would otherwise take the matMuls first where the addon is built. Read at the first product.
process.env.BACKPROP_BLAS = "0";

before(async () => {
  assert.ok(await tf.setBackend("wasm"), "the wasm backend must initialize");
});

/** Runs f with the original kernels and with the fast ones; returns both results as arrays. */
function both(f: () => tf.Tensor | tf.Tensor[]): { stock: Float32Array[]; fast: Float32Array[] } {
  const run = () => tf.tidy(() => [f()].flat().map((t) => t.dataSync() as Float32Array));
  uninstallFastWasmKernels();
  const stock = run();
  installFastWasmKernels();
  const fast = run();
  return { stock, fast };
}

function assertClose(a: ArrayLike<number>[], b: ArrayLike<number>[], tol: number, what: string): void {
  const c = compare(a.map((x) => Array.from(x)), b.map((x) => Array.from(x)));
  assert.ok(c.maxRel < tol, `${what}: maxRel ${c.maxRel} at ${c.worst?.path} (${c.worst?.a} vs ${c.worst?.b})`);
}

test("install is idempotent, uninstall restores the original kernels", () => {
  const original = tf.getKernel("BatchMatMul", "wasm");
  assert.equal(installFastWasmKernels(), true);
  const replaced = tf.getKernel("BatchMatMul", "wasm");
  assert.notEqual(replaced!.kernelFunc, original!.kernelFunc);
  assert.equal(installFastWasmKernels(), true);
  assert.equal(tf.getKernel("BatchMatMul", "wasm")!.kernelFunc, replaced!.kernelFunc);
  uninstallFastWasmKernels();
  assert.equal(fastWasmKernelsInstalled(), false);
  assert.equal(tf.getKernel("BatchMatMul", "wasm")!.kernelFunc, original!.kernelFunc);
  installFastWasmKernels();
  assert.equal(fastWasmKernelsInstalled(), true);
});

test("matMul with every transpose flag, rank 2 and batched rank 3, equals the original kernel", () => {
  const r = new Rng(3);
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const a2 = r.normalTensor(ta ? [7, 5] : [5, 7]), b2 = r.normalTensor(tb ? [3, 7] : [7, 3]);
    const a3 = r.normalTensor(ta ? [2, 7, 5] : [2, 5, 7]), b3 = r.normalTensor(tb ? [2, 3, 7] : [2, 7, 3]);
    const { stock, fast } = both(() => [tf.matMul(a2, b2, ta, tb), tf.matMul(a3, b3, ta, tb)]);
    assert.deepEqual(fast.map((x) => x.length), [15, 30]);
    assertClose(stock, fast, 1e-5, `matMul(transposeA=${ta}, transposeB=${tb})`);
    tf.dispose([a2, b2, a3, b3]);
  }
});

test("a product computed swapped, (Bᵀ Aᵀ)ᵀ, when B is wide and new equals the original kernel, every flag", () => {
  const r = new Rng(4);
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    // M = 4, K = 40, N = 50: packing a new B (K·N) costs more than transposing and packing Aᵀ (M·K)
    const a = r.normalTensor(ta ? [40, 4] : [4, 40]), b = r.normalTensor(tb ? [50, 40] : [40, 50]);
    // The same product twice: a swapped product does not pack B, so the second one is swapped too.
    takeMatMulPathCounts();
    const { stock, fast } = both(() => [tf.matMul(a, b, ta, tb), tf.matMul(a, b, ta, tb)]);
    // `both` ran the fast kernels last; the values alone cannot tell which path ran (they agree).
    assert.deepEqual(takeMatMulPathCounts(), { direct: 0, swapped: 2 }, `path of matMul(transposeA=${ta}, transposeB=${tb})`);
    assert.deepEqual(fast.map((x) => x.length), [200, 200]);
    assertClose(stock, fast, 1e-5, `swapped matMul(transposeA=${ta}, transposeB=${tb})`);
    tf.dispose([a, b]);
  }
});

test("the swapped path is taken exactly where it pays: a new wide B, not a narrow B nor one already packed", () => {
  installFastWasmKernels();
  const r = new Rng(7);
  const run = (a: tf.Tensor, b: tf.Tensor, ta = false, tb = false) => {
    takeMatMulPathCounts();
    tf.tidy(() => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, ta, tb).dataSync());
    const c = takeMatMulPathCounts();
    assert.equal(c.direct + c.swapped, 1, "one BatchMatMul per product");
    return c.swapped === 1 ? "swapped" : "direct";
  };
  // The MNIST input layer of a training step: X 64×784 times a weight W 784×300 that is new after each update.
  const x = r.normalTensor([64, 784]), w = r.normalTensor([784, 300]);
  assert.equal(run(x, w), "swapped", "X·W with a new W (packing W would cost as much as the product)");
  // A narrow B (784×10, the output layer's shape) is cheap to pack: direct.
  const w10 = r.normalTensor([784, 10]);
  assert.equal(run(x, w10), "direct", "X·W with a narrow W");
  // Once a B has been packed (used directly), it stays packed: later products with it run direct even when a
  // new B of that shape would have been swapped.
  const tall = r.normalTensor([2000, 784]), w2 = r.normalTensor([784, 300]);
  assert.equal(run(tall, w2), "direct", "a tall A: packing Aᵀ would cost more than packing W");
  assert.equal(run(x, w2), "direct", "W already packed by the previous product");
  // Rank 3 is never swapped.
  const x3 = r.normalTensor([2, 8, 40]), b3 = r.normalTensor([2, 40, 500]);
  assert.equal(run(x3, b3), "direct", "batched (rank-3) matMul");
  // The backward pass of the same layer: dX = dy·Wᵀ (transposeB) would transpose and pack all of W: swapped;
  // dW = Xᵀ·dy (transposeA) packs only dy (64×300), less than the swapped path's transposes: direct.
  const dy = r.normalTensor([64, 300]), wNew = r.normalTensor([784, 300]);
  assert.equal(run(dy, wNew, false, true), "swapped", "dy·Wᵀ (64×300 times 784×300ᵀ)");
  assert.equal(run(x, dy, true, false), "direct", "Xᵀ·dy (64×784ᵀ times 64×300)");
  tf.dispose([x, w, w10, tall, w2, x3, b3, dy, wNew]);
});

test("fused matMul (bias + activation, as tf.layers Dense uses it) with transpose flags is right", () => {
  // Compared with unfused ops and explicit transposes: tfjs-backend-wasm 4.22's own _FusedMatMul gives
  // wrong numbers for transposeB with a bias (off by ~1 here), so it is not the reference.
  installFastWasmKernels();
  const r = new Rng(4);
  const a = r.normalTensor([6, 9]) as tf.Tensor2D, b = r.normalTensor([4, 9]) as tf.Tensor2D, bias = r.normalTensor([4]);
  const aT = tf.transpose(a) as tf.Tensor2D, bT = tf.transpose(b) as tf.Tensor2D;
  const ref = tf.tidy(() => [tf.relu(tf.add(tf.matMul(a, bT), bias)), tf.add(tf.matMul(a, bT), bias)].map((t) => t.dataSync() as Float32Array));
  const fused = tf.tidy(() => [
    tf.fused.matMul({ a, b, transposeB: true, bias, activation: "relu" }),
    tf.fused.matMul({ a: aT, b, transposeA: true, transposeB: true, bias }),
  ].map((t) => t.dataSync() as Float32Array));
  assertClose(ref, fused, 1e-5, "fused.matMul with transpose flags");
  tf.dispose([a, b, bias, aT, bT]);
});

test("row gathers are bit-identical to the original kernel; other gathers and bad indices behave as before", () => {
  const x = tf.tensor2d(Float32Array.from({ length: 40 }, (_, i) => i * 0.5 - 3), [10, 4]);
  const xi = tf.tensor3d(Int32Array.from({ length: 60 }, (_, i) => i - 7), [5, 3, 4], "int32");
  const idx = tf.tensor1d([7, 0, 0, 9, 3], "int32"), idx2 = tf.tensor2d([[1, 2], [4, 0]], [2, 2], "int32");
  const { stock, fast } = both(() => [
    tf.gather(x, idx), tf.gather(x, idx2), tf.gather(xi, tf.tensor1d([4, 1], "int32")), tf.gather(x, tf.tensor1d([3, 1], "int32"), 1),
  ]);
  stock.forEach((s, k) => assert.deepEqual(Array.from(fast[k]), Array.from(s), `gather ${k}`));
  tf.tidy(() => assert.deepEqual(tf.gather(x, idx2).shape, [2, 2, 4]));
  assert.throws(() => tf.gather(x, tf.tensor1d([10], "int32")), /index value 10 is not in \[0, 9\]/);
  tf.dispose([x, xi, idx, idx2]);
});

test("autodiff and tf.layers gradients are the same with the fast kernels, and match the hand-written ones", () => {
  const spec: MlpSpec = { sizes: [12, 9, 7, 4], hidden: "tanh", output: "softmax", loss: "crossEntropy" };
  const w = initMlp(spec, { rng: new Rng(5) });
  const r = new Rng(6);
  const x = r.normalTensor([16, 12]) as tf.Tensor2D;
  const t = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 4), "int32"), 4).toFloat() as tf.Tensor2D;
  const auto = new AutodiffMlp(spec, w), layers = new LayersMlp(spec, w), matrix = new MatrixMlp(spec, w);
  const gradsOf = (m: { lossAndGrads: AutodiffMlp["lossAndGrads"] }) => () => {
    const { loss, grads } = m.lossAndGrads(x, t);
    return [loss, ...grads];
  };
  const a = both(gradsOf(auto)), l = both(gradsOf(layers));
  assertClose(a.stock, a.fast, 1e-4, "autodiff: stock vs fast");
  assertClose(l.stock, l.fast, 1e-4, "tf.layers: stock vs fast");
  const hand = tf.tidy(() => gradsOf(matrix)().map((g) => g.dataSync() as Float32Array));
  assertClose(hand, a.fast, 1e-4, "hand-written vs autodiff (fast)");
  auto.dispose();
  layers.dispose();
  matrix.dispose();
  tf.dispose([x, t]);
});

test("the replaced kernels free their temporaries (no growth of tensors or wasm buffers)", () => {
  installFastWasmKernels();
  const a = tf.ones([8, 5]) as tf.Tensor2D, b = tf.ones([3, 5]) as tf.Tensor2D, bias = tf.zeros([3]);
  const step = () => tf.tidy(() => {
    tf.matMul(a, b, false, true).dataSync();
    tf.matMul(a, tf.ones([3, 8]), true, true).dataSync();
    tf.matMul(tf.ones([2, 30]), tf.ones([30, 40])).dataSync(); // swapped: (Bᵀ Aᵀ)ᵀ
    tf.fused.matMul({ a, b, transposeB: true, bias, activation: "relu" }).dataSync();
    tf.gather(a, tf.tensor1d([1, 2], "int32")).dataSync();
  });
  step();
  const before = tf.memory();
  for (let i = 0; i < 20; i++) step();
  const after = tf.memory();
  assert.equal(after.numTensors, before.numTensors);
  assert.equal(after.numDataBuffers, before.numDataBuffers);
  tf.dispose([a, b, bias]);
});

/**
 * lib/perf/blas.ts: where the OpenBLAS addon is built, the wasm backend's BatchMatMul and _FusedMatMul run on
 * sgemm and give the stock tfjs kernels' values (float32 tolerance) for every transpose, batched products,
 * bias and ReLU; what it does not handle (other activations, broadcast A) still gives the stock values.
 * Without the addon the backend line says why and the test of the kernels is skipped. On both routes matMul's
 * transpose flags give exactly what explicit tf.transpose gives (lib/nn/dense.ts and conv.ts rely on it).
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { blasStatus, takeBlasCalls } from "../lib/perf/blas";
import { nativeAddon } from "../lib/perf/native";
import { installFastWasmKernels, uninstallFastWasmKernels } from "../lib/perf/fast-grads";
import { Rng } from "../lib/random";

before(async () => {
  assert.ok(await tf.setBackend("wasm"));
});

function random(shape: number[], seed: number): tf.Tensor {
  const r = new Rng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => r.normal()), shape);
}

/** The same computation with the stock wasm kernels and with ours (BLAS where it applies). */
function both(f: () => tf.Tensor): { stock: Float32Array; ours: Float32Array } {
  uninstallFastWasmKernels();
  const stock = tf.tidy(f).dataSync() as Float32Array;
  installFastWasmKernels();
  const ours = tf.tidy(f).dataSync() as Float32Array;
  return { stock, ours };
}

function assertClose(stock: Float32Array, ours: Float32Array, what: string): void {
  assert.equal(ours.length, stock.length, what);
  for (let i = 0; i < stock.length; i++) {
    const tol = 1e-4 * (1 + Math.abs(stock[i]));
    assert.ok(Math.abs(ours[i] - stock[i]) <= tol, `${what}: [${i}] ${ours[i]} vs stock ${stock[i]}`);
  }
}

test("the backend reports whether OpenBLAS serves the matrix products", () => {
  const s = blasStatus();
  assert.ok(s.active || /not built|could not load|BACKPROP_BLAS=0/.test(s.why), JSON.stringify(s));
});

test("BLAS BatchMatMul and _FusedMatMul equal the stock wasm kernels", (t) => {
  if (!blasStatus().active) return t.skip(`OpenBLAS addon: ${blasStatus().why}`);
  const a = random([7, 5], 1), b = random([5, 3], 2), at = random([5, 7], 3), bt = random([3, 5], 4);
  const cases: [string, () => tf.Tensor][] = [
    ["A·B", () => tf.matMul(a, b)],
    ["Aᵀ·B", () => tf.matMul(at, b, true, false)],
    ["A·Bᵀ", () => tf.matMul(a, bt, false, true)],
    ["Aᵀ·Bᵀ", () => tf.matMul(at, bt, true, true)],
    ["batched", () => tf.matMul(random([4, 7, 5], 5), random([4, 5, 3], 6))],
    ["batched, shared B", () => tf.matMul(random([2, 3, 7, 5], 7), b)],
    ["broadcast A (not handled: stock path)", () => tf.matMul(a, random([3, 5, 2], 8))],
    ["fused bias", () => tf.fused.matMul({ a, b, bias: tf.tensor1d([0.5, -1, 2]) })],
    ["fused bias + relu", () => tf.fused.matMul({ a, b, bias: tf.tensor1d([0.5, -1, 2]), activation: "relu" })],
    ["fused relu, transposed", () => tf.fused.matMul({ a: at, b: bt, transposeA: true, transposeB: true, activation: "relu" })],
    ["fused elu (not handled: stock path)", () => tf.fused.matMul({ a, b, activation: "elu" })],
    ["MNIST layer 64×784·784×300", () => tf.matMul(random([64, 784], 9), random([784, 300], 10))],
  ];
  for (const [what, f] of cases) {
    const { stock, ours } = both(f);
    assertClose(stock, ours, what);
    const blasCalls = takeBlasCalls();
    if (/not handled/.test(what)) assert.equal(blasCalls, 0, `${what}: went to sgemm`);
    else assert.ok(blasCalls > 0, `${what}: sgemm did not run`);
  }
  const grads = () => {
    const x = random([6, 5], 11), w = random([5, 4], 12);
    const g = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.relu(tf.matMul(x, w)).square().sum());
    return tf.concat(g([x, w]).map((t) => t.flatten()));
  };
  const { stock, ours } = both(grads);
  assertClose(stock, ours, "gradients of relu(X·W)² (transposed products)");
  assert.ok(takeBlasCalls() >= 3, "the forward product and both gradient products ran on sgemm");
});

test("matMul's transpose flags give exactly the explicit transposes' values, on sgemm or XNNPACK (the layers use the flags)", () => {
  installFastWasmKernels();
  // 64×100·100×100 and 64×120·120×84 are shapes where sgemm's own transposed forms round differently (there
  // the operand is copied), LeNet-5's X̃ᵀδ (25×50 176·50 176×6, 150×6 400·6 400×16) ones where they do not (no copy)
  const shapes: [number, number, number][] = [[64, 100, 100], [64, 120, 84], [37, 53, 29], [64, 784, 300], [9216, 25, 6], [25, 50176, 6], [150, 6400, 16]];
  let seed = 20;
  for (const [m, k, n] of shapes) {
    const a = random([m, k], seed++), b = random([k, n], seed++), at = random([k, m], seed++), bt = random([n, k], seed++);
    const pairs: [string, () => tf.Tensor, () => tf.Tensor][] = [
      ["Aᵀ·B", () => tf.matMul(at, b, true, false), () => tf.matMul(tf.transpose(at), b)],
      ["A·Bᵀ", () => tf.matMul(a, bt, false, true), () => tf.matMul(a, tf.transpose(bt))],
      ["Aᵀ·Bᵀ", () => tf.matMul(at, bt, true, true), () => tf.matMul(tf.transpose(at), tf.transpose(bt))],
      ["batched Aᵀ·Bᵀ", () => tf.matMul(tf.stack([at, at]), tf.stack([bt, bt]), true, true), () => tf.matMul(tf.stack([tf.transpose(at), tf.transpose(at)]), tf.stack([tf.transpose(bt), tf.transpose(bt)]))],
    ];
    for (const [what, flags, explicit] of pairs) {
      const x = tf.tidy(flags).dataSync(), y = tf.tidy(explicit).dataSync();
      assert.equal(x.length, y.length);
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) assert.fail(`${m}×${k}×${n} ${what}: [${i}] ${x[i]} with the flags, ${y[i]} with tf.transpose`);
    }
    tf.dispose([a, b, at, bt]);
  }
  assert.equal(takeBlasCalls() > 0, blasStatus().active);
});

test("sgemmTnHalves gives Aᵀ B to float32 rounding (the small-product loop and OpenBLAS's halves; odd sizes, one value of K per half); bad arguments are clear errors", (t) => {
  const blas = nativeAddon();
  if (!blas) return t.skip(`native addon: ${blasStatus().why}`);
  const r = new Rng(12);
  for (const [M, N, K] of [[25, 6, 50176], [1, 1, 2], [16, 1, 10], [17, 8, 3], [32, 8, 999], [33, 9, 500], [150, 16, 6400]]) {
    const a = Float32Array.from({ length: M * K }, () => r.normal()), b = Float32Array.from({ length: K * N }, () => r.normal());
    const c = new Float32Array(M * N).fill(NaN);
    blas.sgemmTnHalves(M, N, K, a, b, c);
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let sum = 0, size = 0;
        for (let k = 0; k < K; k++) sum += a[k * M + m] * b[k * N + n], size += Math.abs(a[k * M + m] * b[k * N + n]);
        assert.ok(Math.abs(c[m * N + n] - sum) <= 1e-6 * size + 1e-30, `${M}×${N} over ${K}: [${m}, ${n}] ${c[m * N + n]} vs ${sum}`);
      }
  }
  assert.throws(() => blas.sgemmTnHalves(2, 2, 4, new Float32Array(7), new Float32Array(8), new Float32Array(4)), /must be Float32Arrays of their sizes/);
  assert.throws(() => blas.sgemmTnHalves(2, 2, 1, new Float32Array(2), new Float32Array(2), new Float32Array(4)), /K at least 2/);
});

/**
 * The native window kernels (native/blas/windows.c through lib/perf/windows.ts) give the JavaScript loops'
 * values bit for bit — im2col, col2im and the pooling way back, over random shapes, paddings, strides,
 * overlapping windows, C = 1 and C > 1 — so the hand-written conv layers (and the results recorded with them)
 * do not change; one LeNet-5 step of our layers gives the same gradients on both routes. The copies equal
 * tfjs's cpu backend exactly (im2col from tf.pad + tf.slice; the max-pool way back against MaxPoolGrad).
 * The native conv kernels of the wasm backend (lib/perf/conv-grads.ts: Conv2D, FusedConv2D,
 * Conv2DBackpropInput, Conv2DBackpropFilter, AvgPoolGrad) equal the cpu backend's within float32 rounding.
 * Without the addon (no compiler, BACKPROP_BLAS=0) the route line says why and the native-only checks skip.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { initBackend } from "../lib/backend";
import { Rng } from "../lib/random";
import { Pads, col2im, im2col, poolBackward, forceJsWindows, windowsRoute } from "../lib/perf/windows";
import { nativeAddon, nativeStatus } from "../lib/perf/native";
import { againstCpu, installWasmConvGrads, nativeConvKernels, takeKeptWindowCounts, uninstallWasmConvGrads } from "../lib/perf/conv-grads";
import { lenet5 } from "../lib/nn/lenet";
import { trainingContext } from "../lib/nn/layer";

before(async () => {
  const r = await initBackend();
  assert.equal(r.name, "wasm", "these tests need the wasm backend");
});
after(() => forceJsWindows(false));

const native = () => nativeStatus().active;

function random(shape: number[], rng: Rng): tf.Tensor {
  return tf.tensor(Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rng.normal()), shape, "float32");
}

/** f on the JavaScript loops and on the native route; the arrays it returns. */
function bothRoutes(f: () => tf.Tensor): { js: Float32Array; nat: Float32Array } {
  forceJsWindows(true);
  const js = tf.tidy(() => Float32Array.from(f().dataSync()));
  forceJsWindows(false);
  const nat = tf.tidy(() => Float32Array.from(f().dataSync()));
  return { js, nat };
}

function assertSameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) assert.fail(`${what}: [${i}] ${a[i]} vs ${b[i]} (bits differ)`);
}

/** Random window geometries: C = 1 and C > 1, kernels 1–5, strides 1–3 (overlapping and not), paddings 0–2. */
function geometries(seed: number, n: number) {
  const r = new Rng(seed), int = (lo: number, hi: number) => lo + Math.floor(r.uniform() * (hi - lo + 1));
  return Array.from({ length: n }, (_, i) => {
    const k = int(1, 5), stride = int(1, 3), C = i % 2 === 0 ? 1 : int(2, 7);
    const pads: Pads = [[int(0, 2), int(0, 2)], [int(0, 2), int(0, 2)]];
    return { shape: [int(1, 3), int(k, k + 9), int(k, k + 9), C], k, stride, pads };
  });
}

test("the route line says which way the window loops go", () => {
  forceJsWindows(false);
  const s = nativeStatus();
  assert.match(windowsRoute(), s.active ? /^native/ : /^JavaScript \(native addon (not built|could not load|turned off by BACKPROP_BLAS=0)/);
  forceJsWindows(true);
  assert.match(windowsRoute(), /^JavaScript \(forced/);
  forceJsWindows(false);
});

test("native im2col and col2im give the JavaScript loops' bits", (t) => {
  if (!native()) return t.skip(`native addon: ${nativeStatus().why}`);
  const rng = new Rng(21);
  for (const [i, g] of geometries(7, 40).entries()) {
    const x = random(g.shape, rng);
    const a = bothRoutes(() => im2col(x, g.k, g.k, g.stride, g.pads));
    assertSameBits(a.js, a.nat, `im2col case ${i} ${JSON.stringify(g)}`);
    const rows = a.js.length / (g.k * g.k * g.shape[3]);
    const cols = random([rows, g.k * g.k * g.shape[3]], rng);
    const b = bothRoutes(() => col2im(cols, g.shape, g.k, g.k, g.stride, g.pads));
    assertSameBits(b.js, b.nat, `col2im case ${i} ${JSON.stringify(g)}`);
    tf.dispose([x, cols]);
  }
});

test("native pooling way back (avg and max, overlapping windows too) gives the JavaScript loops' bits", (t) => {
  if (!native()) return t.skip(`native addon: ${nativeStatus().why}`);
  const rng = new Rng(5);
  for (const [i, g] of geometries(11, 40).entries()) {
    const [N, H, W, C] = g.shape;
    const OH = Math.floor((H - g.k) / g.stride) + 1, OW = Math.floor((W - g.k) / g.stride) + 1;
    const d = random([N, OH, OW, C], rng);
    const winner = tf.tensor(Int32Array.from({ length: N * OH * OW * C }, () => Math.floor(rng.uniform() * g.k * g.k)), [N * OH * OW, C], "int32");
    const avg = bothRoutes(() => poolBackward(d, g.shape, g.k, g.stride));
    assertSameBits(avg.js, avg.nat, `avg case ${i} ${JSON.stringify(g)}`);
    const max = bothRoutes(() => poolBackward(d, g.shape, g.k, g.stride, winner));
    assertSameBits(max.js, max.nat, `max case ${i} ${JSON.stringify(g)}`);
    tf.dispose([d, winner]);
  }
});

test("one LeNet-5 step of our layers: the same loss and gradients, bit for bit, on both routes", (t) => {
  if (!native()) return t.skip(`native addon: ${nativeStatus().why}`);
  for (const pool of ["avg", "max"] as const) {
    const net = lenet5({ rng: new Rng(3), pool });
    const rng = new Rng(4);
    const x = random([16, 28, 28, 1], rng);
    const tt = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => (i * 7) % 10), "int32"), 10).toFloat() as tf.Tensor2D;
    const step = () => {
      forceJsWindows(route === "js");
      const { loss, grads } = net.lossAndGrads(x, tt, trainingContext(new Rng(1)));
      const all = [loss, ...grads].map((g) => Float32Array.from(g.dataSync()));
      tf.dispose([loss, ...grads]);
      return all;
    };
    let route = "js";
    const js = step();
    route = "native";
    const nat = step();
    forceJsWindows(false);
    js.forEach((a, i) => assertSameBits(a, nat[i], `${pool} LeNet-5: output ${i} (0 = loss, then the gradients)`));
    tf.dispose([x, tt]);
    net.dispose();
  }
});

test("native im2col equals tfjs's cpu backend (tf.pad + tf.slice), and the max-pool way back its MaxPoolGrad", async () => {
  for (const [i, g] of geometries(13, 12).entries()) {
    const seed = 100 + i;
    const ref = () => {
      const x = random(g.shape, new Rng(seed));
      const xp = tf.pad(x, [[0, 0], g.pads[0], g.pads[1], [0, 0]]);
      const [N, Hp, Wp, C] = xp.shape;
      const OH = Math.floor((Hp - g.k) / g.stride) + 1, OW = Math.floor((Wp - g.k) / g.stride) + 1;
      const parts: tf.Tensor[] = [];
      for (let a = 0; a < g.k; a++) for (let c = 0; c < g.k; c++) {
        parts.push(tf.stridedSlice(xp, [0, a, c, 0], [N, a + g.stride * (OH - 1) + 1, c + g.stride * (OW - 1) + 1, C], [1, g.stride, g.stride, 1]));
      }
      return tf.reshape(tf.stack(parts, 3), [N * OH * OW, g.k * g.k * C]);
    };
    const mine = tf.tidy(() => Float32Array.from(im2col(random(g.shape, new Rng(seed)), g.k, g.k, g.stride, g.pads).dataSync()));
    const cmp = await againstCpu(ref);   // ref runs on wasm first: same code both times, checks the shape too
    assert.equal(cmp.maxAbsDiff, 0, `im2col reference case ${i}`);
    tf.env().set("PROD", true);
    await tf.setBackend("cpu");
    const cpu = tf.tidy(() => Float32Array.from(ref().dataSync()));
    await tf.setBackend("wasm");
    assertSameBits(mine, cpu, `im2col vs cpu case ${i} ${JSON.stringify(g)}`);
  }
  // max pooling, windows that do not overlap (stride = k): the cpu kernel's way back is a copy to the winner
  const rng = new Rng(9);
  for (const [N, H, W, C, k] of [[2, 8, 8, 1, 2], [3, 9, 6, 5, 3], [1, 10, 10, 16, 2]]) {
    const xs = Float32Array.from({ length: N * H * W * C }, () => rng.normal());
    const ds = Float32Array.from({ length: N * Math.floor(H / k) * Math.floor(W / k) * C }, () => rng.normal());
    const OH = Math.floor(H / k), OW = Math.floor(W / k);
    const ours = tf.tidy(() => {
      const x = tf.tensor4d(xs, [N, H, W, C]);
      const win = tf.reshape(im2col(x, k, k, k), [-1, k * k, C]);
      return Float32Array.from(poolBackward(tf.tensor4d(ds, [N, OH, OW, C]), [N, H, W, C], k, k, tf.argMax(win, 1)).dataSync());
    });
    await tf.setBackend("cpu");
    const cpu = tf.tidy(() => Float32Array.from(tf.grad((x) => tf.mul(tf.maxPool(x as tf.Tensor4D, k, k, "valid"), tf.tensor4d(ds, [N, OH, OW, C])).sum())(tf.tensor4d(xs, [N, H, W, C])).dataSync()));
    await tf.setBackend("wasm");
    assertSameBits(ours, cpu, `max-pool way back vs cpu ${[N, H, W, C, k]}`);
  }
});

test("the wasm conv kernels (native where the addon is loaded) equal the cpu backend's", async () => {
  if (native()) assert.deepEqual(nativeConvKernels().sort(), ["Add", "AvgPoolGrad", "Conv2D", "Conv2DBackpropInput", "FusedConv2D", "Mean", "Multiply", "Square", "Sub", "Sum", "Tanh", "Transpose"]);
  const cases: { x: [number, number, number, number]; f: number[]; s: number; pad: "valid" | "same" }[] = [
    { x: [64, 28, 28, 1], f: [5, 5, 1, 6], s: 1, pad: "same" },   // LeNet-5's C1
    { x: [64, 14, 14, 6], f: [5, 5, 6, 16], s: 1, pad: "valid" }, // C3
    { x: [2, 9, 7, 3], f: [3, 2, 3, 4], s: 2, pad: "same" },
    { x: [3, 8, 8, 2], f: [3, 3, 2, 5], s: 2, pad: "valid" },
    { x: [1, 6, 5, 4], f: [1, 1, 4, 3], s: 1, pad: "valid" },
  ];
  const close = (r: { maxAbsDiff: number; maxAbs: number }, what: string) => assert.ok(r.maxAbsDiff <= 1e-5 * Math.max(1, r.maxAbs) * 10, `${what}: ${JSON.stringify(r)}`);
  for (const [i, c] of cases.entries()) {
    const rnd = (shape: number[], seed: number) => random(shape, new Rng(seed));
    const x = () => rnd(c.x, 10 + i) as tf.Tensor4D, W = () => rnd(c.f, 20 + i) as tf.Tensor4D, b = () => rnd([c.f[3]], 30 + i) as tf.Tensor1D;
    const y = () => tf.conv2d(x(), W(), c.s, c.pad);
    const dyShape = tf.tidy(() => y().shape);
    const dy = () => rnd(dyShape, 40 + i) as tf.Tensor4D;
    close(await againstCpu(y), `Conv2D case ${i}`);
    close(await againstCpu(() => tf.fused.conv2d({ x: x(), filter: W(), strides: c.s, pad: c.pad, bias: b(), activation: "relu" })), `FusedConv2D case ${i}`);
    close(await againstCpu(() => tf.conv2dTranspose(dy(), W(), c.x as [number, number, number, number], c.s, c.pad)), `Conv2DBackpropInput case ${i}`);
    close(await againstCpu(() => tf.grad((w) => tf.mul(tf.conv2d(x(), w as tf.Tensor4D, c.s, c.pad), dy()).sum())(W())), `Conv2DBackpropFilter case ${i}`);
  }
  // 900 images of C1 make an X̃ over 64 MB: the forward pass and ∂q/∂x go to the stock kernels; their first 64
  // images agree with the same 64 images alone (native route)
  tf.tidy(() => {
    const xb = random([900, 28, 28, 1], new Rng(90)) as tf.Tensor4D, wb = random([5, 5, 1, 6], new Rng(91)) as tf.Tensor4D;
    const db = random([900, 28, 28, 6], new Rng(92)) as tf.Tensor4D;
    const head = (t: tf.Tensor) => tf.slice(t, 0, 64);
    const diff = (a: tf.Tensor, b: tf.Tensor) => ({ maxAbsDiff: tf.max(tf.abs(tf.sub(a, b))).dataSync()[0], maxAbs: tf.max(tf.abs(b)).dataSync()[0] });
    close(diff(head(tf.conv2d(xb, wb, 1, "same")), tf.conv2d(head(xb) as tf.Tensor4D, wb, 1, "same")), "Conv2D on 900 images");
    close(diff(head(tf.conv2dTranspose(db, wb, [900, 28, 28, 1], 1, "same")), tf.conv2dTranspose(head(db) as tf.Tensor4D, wb, [64, 28, 28, 1], 1, "same")), "Conv2DBackpropInput on 900 images");
  });
  for (const [i, [shape, k, s]] of ([[[64, 28, 28, 6], 2, 2], [[2, 9, 9, 3], 3, 2], [[1, 6, 6, 1], 2, 1]] as [number[], number, number][]).entries()) {
    const out = [shape[0], Math.floor((shape[1] - k) / s) + 1, Math.floor((shape[2] - k) / s) + 1, shape[3]];
    close(await againstCpu(() => tf.grad((x) => tf.mul(tf.avgPool(x as tf.Tensor4D, k, s, "valid"), random(out, new Rng(50 + i))).sum())(random(shape, new Rng(60 + i)) as tf.Tensor4D)), `AvgPoolGrad case ${i}`);
  }
});

test("the native Transpose gives the stock wasm kernel's bits (matrices, batches of them; other perms go to the stock one)", () => {
  const rng = new Rng(77);
  const cases: [number[], number[]][] = [[[50, 25], [1, 0]], [[1, 7], [1, 0]], [[33, 65], [1, 0]], [[8, 4], [1, 0]], [[9, 3], [1, 0]], [[7, 1], [1, 0]], [[17, 5], [1, 0]], [[4099, 25], [1, 0]], [[5, 2, 9], [0, 2, 1]], [[3, 4, 5], [0, 2, 1]], [[3, 4, 5], [2, 1, 0]], [[2, 3, 4, 5], [0, 1, 3, 2]]];
  for (const [shape, perm] of cases) {
    const x = random(shape, rng);
    const ours = tf.tidy(() => Float32Array.from(tf.transpose(x, perm).dataSync()));
    uninstallWasmConvGrads();
    const stock = tf.tidy(() => Float32Array.from(tf.transpose(x, perm).dataSync()));
    installWasmConvGrads();
    assertSameBits(ours, stock, `transpose ${JSON.stringify(shape)} by ${JSON.stringify(perm)}`);
    x.dispose();
  }
  if (native()) assert.ok(nativeConvKernels().includes("Transpose"));
});

test("the native Tanh gives the stock wasm kernel's bits on every exponent range, signs, zeros, subnormals, inf, NaN", () => {
  const rng = new Rng(1234);
  const bits: number[] = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x00000001, 0x007fffff, 0x00800000];
  for (const edge of [0x3f0c9f54, 0x3e82c578, 0x41200000, 0x3eb17218, 0x3f851592, 0x33000000, 0x4195b844]) for (let d = -2; d <= 2; d++) bits.push(edge + d, (edge + d) | 0x80000000);
  for (let e = 0; e < 512; e++) for (let i = 0; i < 2048; i++) bits.push(((e << 23) | Math.floor(rng.uniform() * 0x800000)) >>> 0);
  const x = tf.tensor1d(new Float32Array(Uint32Array.from(bits).buffer));
  const ours = Float32Array.from(tf.tidy(() => tf.tanh(x)).dataSync());
  uninstallWasmConvGrads();
  const stock = Float32Array.from(tf.tidy(() => tf.tanh(x)).dataSync());
  installWasmConvGrads();
  x.dispose();
  // the 8-lane loop too where the CPU takes the 16-lane one (AVX-512)
  const blas = nativeAddon(), eight = new Float32Array(bits.length);
  blas?.tanh(new Float32Array(Uint32Array.from(bits).buffer), eight, 8);
  for (let i = 0; i < stock.length; i++) if (Number.isNaN(stock[i])) { stock[i] = NaN; ours[i] = Number.isNaN(ours[i]) ? NaN : ours[i]; eight[i] = Number.isNaN(eight[i]) ? NaN : eight[i]; }
  assertSameBits(ours, stock, `tanh (${blas ? `native, ${blas.tanhLanes()} lanes` : "stock"})`);
  if (blas) {
    assertSameBits(eight, stock, "tanh (native, 8 lanes)");
    assert.ok([8, 16].includes(blas.tanhLanes()));
    assert.throws(() => blas.tanh(new Float32Array(4), new Float32Array(4), 4 as never), /lanes 8 or 16/);
  }
  if (native()) assert.ok(nativeConvKernels().includes("Tanh"));
});

/** Values of every kind for the elementwise checks: normals of many scales, ±0, ±inf, NaN, subnormals. */
function mixed(n: number, rng: Rng): Float32Array {
  const special = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45, 3.4e38, -3.4e38];
  return Float32Array.from({ length: n }, (_, i) => (i % 97 === 0 ? special[(i / 97) % special.length] : rng.normal() * 10 ** Math.floor(rng.uniform() * 12 - 6)));
}

/** f with the native kernels and with the stock wasm ones; NaNs compared as NaN (their payload is not a value). */
function againstStock(f: () => tf.Tensor, what: string): void {
  const ours = tf.tidy(() => Float32Array.from(f().dataSync()));
  uninstallWasmConvGrads();
  const stock = tf.tidy(() => Float32Array.from(f().dataSync()));
  installWasmConvGrads();
  for (let i = 0; i < stock.length; i++) if (Number.isNaN(stock[i]) && Number.isNaN(ours[i])) stock[i] = ours[i] = NaN;
  assertSameBits(ours, stock, what);
}

test("the native bias addition gives the stock wasm Add's bits ([P, n] + [n] either order, LeNet-5's C1 shape; other adds go to the stock one)", () => {
  const rng = new Rng(501);
  const cases: [number[], number[]][] = [[[50176, 6], [6]], [[6, 6], [6]], [[64, 120], [1, 120]], [[3, 5, 7], [7]], [[7], [4, 7]], [[1, 9], [9]], [[5, 4], [5, 4]], [[5, 4], [5, 1]], [[4], [4]]];
  for (const [sa, sb] of cases) {
    const a = tf.tensor(mixed(sa.reduce((p, d) => p * d, 1), rng), sa), b = tf.tensor(mixed(sb.reduce((p, d) => p * d, 1), rng), sb);
    againstStock(() => tf.add(a, b), `add ${JSON.stringify(sa)} + ${JSON.stringify(sb)}`);
    againstStock(() => tf.add(b, a), `add ${JSON.stringify(sb)} + ${JSON.stringify(sa)}`);
    tf.dispose([a, b]);
  }
  if (native()) assert.ok(nativeConvKernels().includes("Add"));
});

test("the native sums and means over neighbouring axes give the stock wasm Sum's and Mean's bits (LeNet-5's bias gradients and pooling means; other axis sets go to the stock one)", () => {
  const rng = new Rng(502);
  const cases: [number[], number | number[], boolean][] = [[[50176, 6], 0, false], [[6400, 16], 0, true], [[64, 120], -2, false], [[1, 5], [0], false], [[300, 1], 0, false],
    [[7, 3], 1, false], [[4, 5, 6], 0, false], [[12544, 4, 6], 1, false], [[1600, 4, 16], 1, true], [[5, 3, 7], -2, false], [[6, 5, 3], 2, true], [[2, 3, 5, 7], 2, false], [[9, 4], [0, 1], false], [[3, 4, 5], [0, 2], false],
    [[64, 28, 28, 6], [0, 1, 2], false], [[8, 10, 10, 16], [2, 1, 0], true], [[3, 4, 5, 6], [1, 2], false], [[3, 4, 5, 6], [-3, -2], true], [[3, 4, 5, 6], [0, 1, 2, 3], false], [[3, 4, 5, 6], [1, 3], false], [[3, 4, 5], [1, 1], false]];
  for (const [shape, axis, keepDims] of cases) {
    const x = tf.tensor(mixed(shape.reduce((p, d) => p * d, 1), rng), shape);
    againstStock(() => tf.sum(x, axis, keepDims), `sum ${JSON.stringify(shape)} over ${JSON.stringify(axis)}`);
    againstStock(() => tf.mean(x, axis, keepDims), `mean ${JSON.stringify(shape)} over ${JSON.stringify(axis)}`);
    againstStock(() => tf.mean(x, axis, keepDims).reshape([-1]).concat(tf.tensor1d(tf.mean(x, axis, keepDims).shape)), `mean's shape ${JSON.stringify(shape)}`);
    x.dispose();
  }
  // sums that lose digits depending on their order: a change of order shows in the bits
  const big = tf.tensor(Float32Array.from({ length: 50176 * 6 }, () => (rng.uniform() < 0.5 ? 1e7 : 1) * rng.normal()), [50176, 6]);
  againstStock(() => tf.sum(big, 0), "sum of values of mixed magnitude");
  againstStock(() => tf.mean(big.reshape([2, 50176 * 3]), 1), "mean of values of mixed magnitude (÷ 150 528)");
  againstStock(() => tf.mean(big.reshape([100352, 3]), 1), "means of 3");
  big.dispose();
  if (native()) assert.ok(nativeConvKernels().includes("Sum") && nativeConvKernels().includes("Mean"));
});

test("the native Add, Sub, Multiply and Square give the stock wasm kernels' bits (same shapes, a single value on either side; other broadcasts go to the stock ones)", () => {
  const rng = new Rng(503);
  const cases: [number[], number[]][] = [[[64, 28, 28, 6], [64, 28, 28, 6]], [[64, 28, 28, 6], []], [[64, 100], [1]], [[1], [64, 100]], [[7], [7]], [[1], [1]], [[3, 1], [3, 4]], [[2, 3], [1, 1, 1]]];
  for (const [sa, sb] of cases) {
    const a = tf.tensor(mixed(sa.reduce((p, d) => p * d, 1), rng), sa), b = tf.tensor(mixed(sb.reduce((p, d) => p * d, 1), rng), sb);
    const what = `${JSON.stringify(sa)} and ${JSON.stringify(sb)}`;
    againstStock(() => tf.add(a, b), `add ${what}`);
    againstStock(() => tf.sub(a, b), `sub ${what}`);
    againstStock(() => tf.sub(b, a), `sub reversed ${what}`);
    againstStock(() => tf.mul(a, b), `mul ${what}`);
    againstStock(() => tf.square(a), `square ${JSON.stringify(sa)}`);
    againstStock(() => tf.sub(1, tf.square(a)), `1 − a² ${JSON.stringify(sa)}`);
    tf.dispose([a, b]);
  }
  if (native()) assert.ok(["Sub", "Multiply", "Square"].every((k) => nativeConvKernels().includes(k)));
});

test("the filter gradient reuses the forward pass's windows only for the same x, and only under a gradient", (t) => {
  if (!native()) return t.skip(`native addon: ${nativeStatus().why}`);
  const rng = new Rng(21);
  const [x1, x2] = [random([4, 12, 12, 1], rng), random([4, 12, 12, 1], rng)] as tf.Tensor4D[];
  const [d1, d2] = [random([4, 12, 12, 3], rng), random([4, 12, 12, 3], rng)];
  const w = tf.variable(random([5, 5, 1, 3], rng));
  const term = (x: tf.Tensor4D, d: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as unknown as tf.Tensor4D, 1, "same"), d));
  const grad = (f: () => tf.Tensor) => tf.variableGrads(f as () => tf.Scalar, [w]).grads[w.name];
  takeKeptWindowCounts();
  const g1 = grad(() => term(x1, d1)), g2 = grad(() => term(x2, d2));
  assert.deepEqual(takeKeptWindowCounts(), { hits: 2, kept: 0 }, "each gradient alone reads its forward pass's windows");
  // x2's forward pass replaces x1's windows (same geometry): x2's filter gradient reads them, x1's recomputes
  const both = grad(() => tf.add(term(x1, d1), term(x2, d2)));
  assert.deepEqual(takeKeptWindowCounts(), { hits: 1, kept: 0 });
  const want = tf.add(g2, g1);
  assertSameBits(Float32Array.from(both.dataSync()), Float32Array.from(want.dataSync()), "∂q/∂W of two terms");
  // x2's forward pass comes after x1's but is not on the way to the loss: x1's filter gradient recomputes its own
  const late = grad(() => {
    const loss = term(x1, d1);
    tf.conv2d(x2, w as unknown as tf.Tensor4D, 1, "same");
    return loss;
  });
  assert.deepEqual(takeKeptWindowCounts(), { hits: 0, kept: 1 });
  assertSameBits(Float32Array.from(late.dataSync()), Float32Array.from(g1.dataSync()), "∂q/∂W with another x's windows kept");
  // no gradient: nothing kept; six channels: nothing kept either
  tf.tidy(() => term(x1, d1));
  const w6 = tf.variable(random([3, 3, 6, 2], rng)), x6 = random([2, 8, 8, 6], rng) as tf.Tensor4D;
  const g6 = tf.variableGrads(() => tf.sum(tf.conv2d(x6, w6 as unknown as tf.Tensor4D, 1, "valid")) as tf.Scalar, [w6]).grads[w6.name];
  assert.deepEqual(takeKeptWindowCounts(), { hits: 0, kept: 1 }, "x2's windows stay until a forward pass of their geometry replaces them");
  tf.dispose([x1, x2, d1, d2, w, g1, g2, both, want, late, w6, x6, g6]);
});

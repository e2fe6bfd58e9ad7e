/**
 * Two lanes for the native kernels (native/blas/pool.c): the calling thread and one worker thread each compute
 * half of a kernel's rows, images or values. The values must not depend on it: every kernel gives the same
 * bits on one lane and on two (sgemm in its three forms on the shapes of the bench's networks and on odd ones,
 * im2col, col2im, the pooling way back, the transpose, tanh, the bias addition, the sums), and training steps
 * of the bench's MLPs and of LeNet-5 — our layers and autodiff — give the same losses and gradients. Each check
 * also counts the calls whose second half the worker computed (waiting for it: `patient`), so a pool that never
 * splits fails. Without the addon the checks skip.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { initBackend, backendInfo } from "../lib/backend";
import { Rng } from "../lib/random";
import { lanesFromEnv, nativeAddon, nativeLanes, nativeStatus, setNativeLanes } from "../lib/perf/native";
import { col2im, im2col, poolBackward } from "../lib/perf/windows";
import { lenet5 } from "../lib/nn/lenet";
import { MatrixMlp } from "../lib/nn/mlp";
import { AutodiffMlp } from "../lib/tf/mlp-autodiff";
import { AutodiffNetwork } from "../lib/tf/conv-twins";
import { initMlp } from "../lib/scratch/init";
import { sgd, stepVariables } from "../lib/scratch/optimizers";
import { WORKLOADS } from "../tools/bench/workloads";
import type { Model } from "../lib/train/model";

let lanesAtStart = 1;
before(async () => {
  const r = await initBackend();
  assert.equal(r.name, "wasm", "these tests need the wasm backend");
  lanesAtStart = nativeLanes();
});
after(() => setNativeLanes(lanesAtStart as 1 | 2));

const skipWhy = () => (nativeStatus().active ? undefined : `native addon: ${nativeStatus().why}`);
const splits = () => nativeAddon()!.takeSplits();

function randomArray(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

function assertSameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  const fa = Float32Array.from(a), fb = Float32Array.from(b);
  assert.equal(fa.length, fb.length, `${what}: lengths`);
  const ua = new Uint32Array(fa.buffer), ub = new Uint32Array(fb.buffer);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) assert.fail(`${what}: [${i}] ${fa[i]} on one lane, ${fb[i]} on two`);
}

/** f on one lane and on two; its results and how many calls used the second lane on each side. */
function onBothLanes<T>(f: () => T): { one: T; two: T; splitOne: number; splitTwo: number } {
  splits();
  setNativeLanes(1);
  const one = f();
  const splitOne = splits();
  setNativeLanes(2, { patient: true });   // the worker computes every second half, however busy the machine
  const two = f();
  const splitTwo = splits();
  return { one, two, splitOne, splitTwo };
}

test("BACKPROP_THREADS: 1 or 2, the default from the machine's cores, anything else a clear error", () => {
  assert.equal(lanesFromEnv("1"), 1);
  assert.equal(lanesFromEnv("2"), 2);
  assert.ok([1, 2].includes(lanesFromEnv(undefined)));
  assert.throws(() => lanesFromEnv("4"), /BACKPROP_THREADS=4 is not understood: use 1 .* or 2/);
  assert.throws(() => setNativeLanes(3 as 1), /use 1 or 2/);
  if (nativeStatus().active) assert.match(backendInfo()!.engine, lanesAtStart > 1 ? /native kernels on 2 threads/ : /^wasm \(SIMD, 1 thread; matMul/);
});

test("sgemm: the same bits on one lane and two, in every form, on the networks' shapes and odd ones", (t) => {
  const why = skipWhy();
  if (why) return t.skip(why);
  const blas = nativeAddon()!;
  const rng = new Rng(3);
  // [M, N, K]: LeNet-5's products at batch 64, the MLPs' (both ways round), a prime M, a 9-row M
  const shapes = [[50176, 6, 25], [25, 6, 50176], [6400, 16, 150], [150, 16, 6400], [6400, 150, 16], [64, 120, 400],
    [64, 300, 784], [784, 300, 64], [64, 784, 300], [300, 100, 64], [64, 100, 300], [4099, 33, 70], [9, 2000, 300]];
  let used = 0;
  for (const [M, N, K] of shapes)
    for (const [tA, tB] of [[false, false], [true, false], [false, true]]) {
      const a = randomArray(M * K, rng), b = randomArray(K * N, rng), bias = randomArray(M * N, rng);
      const product = (beta: number) => {
        const c = beta ? Float32Array.from(bias) : new Float32Array(M * N);
        blas.sgemm(tA, tB, M, N, K, a, b, c, beta);
        return c;
      };
      for (const beta of [0, 1]) {
        const r = onBothLanes(() => product(beta));
        assertSameBits(r.one, r.two, `${M}×${N}×${K} ${tA ? "Aᵀ" : "A"}·${tB ? "Bᵀ" : "B"} beta ${beta}`);
        assert.equal(r.splitOne, 0, "one lane never uses the worker");
        used += r.splitTwo;
      }
    }
  assert.ok(used >= 40, `most of these products are split on two lanes (${used} of 78)`);
});

test("sgemmTnHalves (the conv ops' filter gradient): the same bits on one lane and two, small and large M × N", (t) => {
  const why = skipWhy();
  if (why) return t.skip(why);
  const blas = nativeAddon()!;
  const rng = new Rng(4);
  let used = 0;
  for (const [M, N, K] of [[25, 6, 50176], [150, 16, 6400], [32, 8, 4097], [33, 9, 3000]]) {
    const a = randomArray(M * K, rng), b = randomArray(K * N, rng);
    const r = onBothLanes(() => {
      const c = new Float32Array(M * N);
      blas.sgemmTnHalves(M, N, K, a, b, c);
      return c;
    });
    assertSameBits(r.one, r.two, `${M}×${N} over ${K}`);
    assert.equal(r.splitOne, 0);
    used += r.splitTwo;
  }
  assert.equal(used, 4, "every product is split on two lanes");
});

test("the window kernels, the transpose, tanh, the bias addition and the sums: the same bits on two lanes, and split", (t) => {
  const why = skipWhy();
  if (why) return t.skip(why);
  const blas = nativeAddon()!;
  const rng = new Rng(8);
  const x = tf.tensor4d(randomArray(64 * 28 * 28, rng), [64, 28, 28, 1]);
  const pads: [[number, number], [number, number]] = [[2, 2], [2, 2]];
  const cases: [string, () => ArrayLike<number>][] = [
    ["im2col of C1", () => tf.tidy(() => im2col(x, 5, 5, 1, pads).dataSync())],
    ["col2im of C1", () => tf.tidy(() => col2im(tf.tensor2d(randomArray(50176 * 25, new Rng(9)), [50176, 25]), [64, 28, 28, 1], 5, 5, 1, pads).dataSync())],
    ["avg pooling way back", () => tf.tidy(() => poolBackward(tf.tensor4d(randomArray(64 * 14 * 14 * 6, new Rng(10)), [64, 14, 14, 6]), [64, 28, 28, 6], 2, 2).dataSync())],
    ["max pooling way back", () => tf.tidy(() => {
      const r = new Rng(11);
      const winner = tf.tensor2d(Int32Array.from({ length: 64 * 14 * 14 * 6 }, () => Math.floor(r.uniform() * 4)), [64 * 14 * 14, 6], "int32");
      return poolBackward(tf.tensor4d(randomArray(64 * 14 * 14 * 6, r), [64, 14, 14, 6]), [64, 28, 28, 6], 2, 2, winner).dataSync();
    })],
  ];
  const a = randomArray(50176 * 25, rng), b = randomArray(6, rng), c = randomArray(64 * 28 * 28 * 6, rng);
  const into = (n: number, f: (out: Float32Array) => void) => {
    const out = new Float32Array(n);
    f(out);
    return out;
  };
  cases.push(
    ["transpose of X̃ (C1)", () => into(a.length, (o) => blas.transpose2d(a, 50176, 25, o))],
    ["tanh", () => into(c.length, (o) => blas.tanh(c, o))],
    ["bias addition", () => into(c.length, (o) => blas.addRows(c, b, o))],
    ["sum over rows [1, 50176, 6]", () => into(6, (o) => blas.reduceAxis(c, 1, 50176, 6, false, o))],
    ["mean over [12544, 4, 6]'s axis 1", () => into(12544 * 6, (o) => blas.reduceAxis(c, 12544, 4, 6, true, o))],
  );
  for (const [what, f] of cases) {
    const r = onBothLanes(f);
    assertSameBits(r.one, r.two, what);
    assert.equal(r.splitOne, 0, `${what}: one lane never uses the worker`);
    assert.ok(r.splitTwo >= 1, `${what}: split on two lanes`);
  }
  x.dispose();
});

/** Losses of 3 SGD steps and the gradients after them: bits, for the comparisons below. */
function steps(model: Model & { params: tf.Variable[] }, x: tf.Tensor, t: tf.Tensor2D): number[][] {
  const opt = sgd({ learningRate: 0.05 });
  const losses: number[] = [];
  for (let s = 0; s < 3; s++) losses.push(stepVariables(opt, model.params, () => model.lossAndGrads(x, t)));
  const { loss, grads } = model.lossAndGrads(x, t);
  const out = [losses, ...grads.map((g) => Array.from(g.dataSync()))];
  tf.dispose([loss, ...grads]);
  return out;
}

function batch(image: boolean, rng: Rng): { x: tf.Tensor; t: tf.Tensor2D } {
  const x = tf.tensor(Float32Array.from({ length: 64 * 784 }, () => rng.uniform()), image ? [64, 28, 28, 1] : [64, 784]);
  const t = tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => (i * 7) % 10), "int32"), 10).toFloat() as tf.Tensor2D;
  return { x, t };
}

test("training steps of the bench's MLPs (ours and autodiff) and of LeNet-5 (ours and autodiff): the same bits on two lanes", (t) => {
  const why = skipWhy();
  if (why) return t.skip(why);
  const runs: [string, boolean, () => Model & { params: tf.Variable[]; dispose(): void }][] = [];
  for (const w of [WORKLOADS.mlp, WORKLOADS.deep]) {
    const weights = () => initMlp(w.spec!, { rng: new Rng(1) });
    runs.push([`${w.name}, our layers`, false, () => new MatrixMlp(w.spec!, weights())]);
    runs.push([`${w.name}, autodiff`, false, () => new AutodiffMlp(w.spec!, weights())]);
  }
  runs.push(["LeNet-5, our layers", true, () => lenet5({ rng: new Rng(1) })]);
  runs.push(["LeNet-5, autodiff", true, () => new AutodiffNetwork(lenet5({ rng: new Rng(1) }), { copy: true })]);
  for (const [what, image, make] of runs) {
    const { x, t: target } = batch(image, new Rng(2));
    const r = onBothLanes(() => {
      const m = make();
      const out = steps(m, x, target);
      m.dispose();
      return out;
    });
    r.one.forEach((a, i) => assertSameBits(a, r.two[i], `${what}: ${i === 0 ? "losses" : `gradient ${i - 1}`}`));
    assert.equal(r.splitOne, 0);
    assert.ok(r.splitTwo >= 3, `${what}: kernels split on two lanes (${r.splitTwo})`);
    tf.dispose([x, target]);
  }
});

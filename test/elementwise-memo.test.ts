/**
 * lib/perf/elementwise-memo.ts: Tanh and Sigmoid on wasm return the kept output when asked again for the same
 * input dataId. Checked: the values are the recomputed ones bit for bit, the kernel runs fewer times, no
 * memory is left behind across steps, a disposed input's entry is never served, a variable assigned between
 * calls is computed again, and one hand-written LeNet-5 step (4 tanh layers) gives the same loss and
 * gradients with the memo and without it.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { initBackend } from "../lib/backend";
import { Rng } from "../lib/random";
import { clearElementwiseMemo, installElementwiseMemo, takeElementwiseMemoCounts, uninstallElementwiseMemo } from "../lib/perf/elementwise-memo";
import { installLeanTape, uninstallLeanTape } from "../lib/perf/lean-tape";
import { lenet5 } from "../lib/nn/lenet";
import { sgd, stepVariables } from "../lib/scratch/optimizers";

before(async () => {
  const r = await initBackend();
  assert.equal(r.name, "wasm", "these tests need the wasm backend");
  installElementwiseMemo();
});

const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
const random = (n: number, rng: Rng) => tf.tensor1d(Float32Array.from({ length: n }, () => 3 * rng.normal()));

for (const [name, f] of [["tanh", tf.tanh], ["sigmoid", tf.sigmoid]] as const) {
  test(`${name}: a second call on the same input gives the same bits without running the kernel`, () => {
    const z = random(1000, new Rng(3));
    takeElementwiseMemoCounts();
    const a = f(z), b = f(z);
    assert.deepEqual(takeElementwiseMemoCounts(), { runs: 1, hits: 1, shared: 0, kept: 1 });
    uninstallElementwiseMemo();
    const stock = f(z);
    installElementwiseMemo();
    assert.deepEqual(bits(b), bits(stock));
    assert.deepEqual(bits(a), bits(stock));
    // the two results are separate tensors: disposing one leaves the other readable
    a.dispose();
    assert.deepEqual(bits(b), bits(stock));
    tf.dispose([b, stock, z]);
    clearElementwiseMemo();
  });
}

test("a reshaped input shares the entry and gets its own shape", () => {
  const z = random(24, new Rng(4)).reshape([4, 6]);
  const a = tf.tanh(z), b = tf.tanh(z.reshape([2, 12]));
  assert.deepEqual(b.shape, [2, 12]);
  assert.deepEqual(bits(b), bits(a));
  assert.equal(takeElementwiseMemoCounts().hits, 1);
  tf.dispose([z, a, b]);
  clearElementwiseMemo();
});

test("a disposed input's entry is never served: a new tensor with other values is computed", () => {
  takeElementwiseMemoCounts();
  for (let i = 0; i < 20; i++) {
    const z = random(64, new Rng(100 + i));
    const got = tf.tanh(z);
    uninstallElementwiseMemo();
    const stock = tf.tanh(z);
    installElementwiseMemo();
    assert.deepEqual(bits(got), bits(stock), `call ${i}`);
    tf.dispose([z, got, stock]);
  }
  const c = takeElementwiseMemoCounts();
  assert.equal(c.hits, 0);
  assert.ok(c.kept <= 1, `entries of disposed inputs are dropped at the next call (kept ${c.kept})`);
  clearElementwiseMemo();
});

test("a variable assigned between calls is computed again, not served stale", () => {
  const v = tf.variable(tf.tensor1d([0.5, -1, 2]));
  const first = tf.tanh(v);
  v.assign(tf.tensor1d([3, 0.25, -0.75]));
  const second = tf.tanh(v);
  assert.deepEqual(Array.from(second.dataSync()), Array.from(tf.tanh(tf.tensor1d([3, 0.25, -0.75])).dataSync()));
  assert.notDeepEqual(bits(second), bits(first));
  tf.dispose([v, first, second]);
  clearElementwiseMemo();
});

test("the memo keeps at most 8 outputs and leaves no tensors or buffers behind across steps", () => {
  const rng = new Rng(9);
  const step = () => {
    const zs = Array.from({ length: 12 }, () => random(256, rng));
    const outs = [...zs.map((z) => tf.tanh(z)), ...zs.map((z) => tf.tanh(z))];
    tf.dispose([...zs, ...outs]);
  };
  step();
  const before = tf.memory();
  for (let i = 0; i < 5; i++) step();
  const after = tf.memory();
  assert.equal(after.numTensors, before.numTensors);
  assert.equal(after.numDataBuffers, before.numDataBuffers);
  assert.ok(takeElementwiseMemoCounts().kept <= 8);
  clearElementwiseMemo();
  const b0 = tf.memory().numDataBuffers;
  assert.ok(b0 < before.numDataBuffers, "clearing releases the kept buffers");
  const z = random(8, rng), a = tf.tanh(z);
  tf.dispose([z, a]);
  assert.equal(tf.memory().numDataBuffers, b0 + 1, "one kept output while its input is not yet seen gone");
  clearElementwiseMemo();
  assert.equal(tf.memory().numDataBuffers, b0, "released on clear, in the engine's count too");
});

test("one hand-written LeNet-5 step gives the same loss and gradients with the memo as without it, with half the tanh runs", () => {
  const B = 8;
  const rng = new Rng(21);
  const x = tf.tensor4d(Float32Array.from({ length: B * 28 * 28 }, () => rng.uniform()), [B, 28, 28, 1]);
  const t = tf.oneHot(tf.tensor1d(Array.from({ length: B }, (_, i) => i % 10), "int32"), 10).toFloat() as tf.Tensor2D;
  const run = () => {
    const net = lenet5({ rng: new Rng(1) });
    const opt = sgd({ learningRate: 0.05 });
    const losses: number[] = [];
    for (let s = 0; s < 3; s++) losses.push(stepVariables(opt, net.params, () => net.lossAndGrads(x, t)));
    const { loss, grads } = net.lossAndGrads(x, t);
    const out = { losses, grads: grads.map(bits) };
    tf.dispose([loss, ...grads]);
    net.dispose();
    return out;
  };
  takeElementwiseMemoCounts();
  const memo = run();
  const withMemo = takeElementwiseMemoCounts();
  uninstallElementwiseMemo();
  const plain = run();
  const without = takeElementwiseMemoCounts();
  installElementwiseMemo();
  assert.deepEqual(memo.losses, plain.losses);
  assert.deepEqual(memo.grads, plain.grads);
  assert.equal(without.runs + without.hits, 0, "uninstalled: the memo is not called");
  assert.equal(withMemo.hits, withMemo.runs, "the backward's tanh(z) is served from the forward's");
  assert.ok(withMemo.runs >= 16, `4 tanh layers × 4 passes (${withMemo.runs})`);
  tf.dispose([x, t]);
});

test("Identity shares its input's data: same values, no copy, each tensor disposable on its own, no buffers left", () => {
  const x = tf.tensor2d(Float32Array.from({ length: 50 }, (_, i) => Math.sin(i)), [5, 10]);
  const before = tf.memory();
  takeElementwiseMemoCounts();
  const y = tf.clone(x);
  assert.equal(takeElementwiseMemoCounts().shared, 1);
  assert.deepEqual(y.shape, [5, 10]);
  assert.deepEqual(bits(y), bits(x));
  assert.equal(tf.memory().numDataBuffers, before.numDataBuffers, "no new buffer");
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()).length, 50, "the clone outlives its input");
  const z = tf.tidy(() => tf.add(y, 1));
  y.dispose();
  assert.equal(tf.memory().numDataBuffers, before.numDataBuffers, "the shared buffer is freed with its last tensor");
  z.dispose();
  assert.equal(tf.memory().numTensors, before.numTensors - 1);
});

test("autodiff of a small conv net gives the same loss and gradients with shared Identity as with wasm's copying one", () => {
  const rng = new Rng(5);
  const x = tf.tensor4d(Float32Array.from({ length: 4 * 8 * 8 }, () => rng.normal()), [4, 8, 8, 1]);
  const w = tf.variable(tf.tensor4d(Float32Array.from({ length: 9 * 3 }, () => rng.normal()), [3, 3, 1, 3]));
  const f = () => tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.tanh(tf.conv2d(x, w, 1, "same")))) as tf.Scalar, [w]);
    return [bits(value), bits(grads[w.name])];
  });
  // tfjs's own tape: its kept copies are Identity calls (lib/perf/lean-tape.ts makes them without the kernel)
  uninstallLeanTape();
  try {
    takeElementwiseMemoCounts();
    const shared = f();
    assert.ok(takeElementwiseMemoCounts().shared > 0, "the gradient tape called Identity");
    uninstallElementwiseMemo();
    const copied = f();
    installElementwiseMemo();
    assert.deepEqual(shared, copied);
  } finally {
    installLeanTape();
    tf.dispose([x, w]);
  }
});

/**
 * lib/perf/fused-grads.ts (tfjs's Sigmoid gradient as one native pass) and lib/perf/lean-tape.ts (kept copies
 * without tape nodes or Identity calls in the outermost gradient): the fused kernel gives the bits of tfjs's three kernels, every
 * training step of the deep sigmoid MLP (autodiff and hand-written) gives the same loss, gradients and weights
 * bit for bit with both changes and without them (main's route), nothing is left behind, and a gradient of a
 * gradient still works (it takes tfjs's own paths). The kernel and tape counters show that the new paths ran.
 * Without the native addon the fused gradient is not installed and its checks skip.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { initBackend } from "../lib/backend";
import { Rng } from "../lib/random";
import { initMlp, MlpSpec } from "../lib/scratch/init";
import { MatrixMlp } from "../lib/nn/mlp";
import { AutodiffMlp } from "../lib/tf/mlp-autodiff";
import { sgd, stepVariables } from "../lib/scratch/optimizers";
import { Model } from "../lib/train/model";
import { nativeAddon, nativeStatus } from "../lib/perf/native";
import { installFusedGrads, uninstallFusedGrads, fusedGradsInstalled, takeFusedGradCounts } from "../lib/perf/fused-grads";
import { takeElementwiseMemoCounts } from "../lib/perf/elementwise-memo";
import { installLeanTape, uninstallLeanTape, leanTapeInstalled, takeLeanTapeCounts } from "../lib/perf/lean-tape";

let fusedHere = false;
before(async () => {
  const r = await initBackend();
  assert.equal(r.name, "wasm", "these tests need the wasm backend");
  fusedHere = fusedGradsInstalled();
  assert.equal(fusedHere, nativeStatus().active, "initBackend installs the fused gradient exactly where the addon is loaded");
  assert.ok(leanTapeInstalled(), "initBackend installs the lean tape");
});

const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));

/** Main's route (tfjs's gradient and tape) or ours; `fused` only where the addon is there. */
function route(ours: boolean): void {
  if (ours) {
    if (fusedHere) installFusedGrads();
    installLeanTape();
  } else {
    uninstallFusedGrads();
    uninstallLeanTape();
  }
}

test("the fused kernel gives the bits of mul(dy, mul(y, sub(1, y))) on wasm's kernels", (t) => {
  if (!fusedHere) return t.skip(`native addon: ${nativeStatus().why}`);
  const rng = new Rng(7);
  // σ outputs over the whole range (0, 1 and near them included) and gradients of every size, subnormals too
  const n = 20_000;
  const y = Float32Array.from({ length: n }, (_, i) => (i < 6 ? [0, 1, 0.5, 1e-30, 1 - 2 ** -24, 2 ** -149][i] : 1 / (1 + Math.exp(-12 * rng.normal()))));
  const dy = Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 1e-39 * rng.normal() : rng.normal() * 10 ** Math.round(6 * rng.normal())));
  const [Y, DY] = [tf.tensor2d(y, [n / 100, 100]), tf.tensor2d(dy, [n / 100, 100])];
  takeFusedGradCounts();
  const fused = tf.engine().runKernel("BackpropSigmoidGrad", { dy: DY, y: Y }) as tf.Tensor;
  assert.equal(takeFusedGradCounts().sigmoid, 1);
  const stock = tf.tidy(() => tf.mul(DY, tf.mul(Y, tf.sub(tf.scalar(1), Y))));
  const a = bits(fused), b = bits(stock);
  const differ = a.findIndex((v, i) => v !== b[i]);
  assert.equal(differ, -1, `entry ${differ}: y ${y[differ]}, dy ${dy[differ]}: ${fused.dataSync()[differ]} vs ${stock.dataSync()[differ]}`);
  tf.dispose([Y, DY, fused, stock]);
  // bad arguments get the kernel's own message
  assert.throws(() => nativeAddon()!.sigmoidGrad!(new Float32Array(3), new Float32Array(4), new Float32Array(4)), /sigmoidGrad\(dy, y, out\): .*dy as long as y/);
});

test("tf.grad of σ takes the fused kernel, and tfjs's formula gives the same bits", (t) => {
  if (!fusedHere) return t.skip(`native addon: ${nativeStatus().why}`);
  const z = tf.tensor2d(Float32Array.from({ length: 640 }, (_, i) => Math.sin(i) * 8), [64, 10]);
  const dy = tf.tensor2d(Float32Array.from({ length: 640 }, (_, i) => Math.cos(3 * i)), [64, 10]);
  const g = tf.grad((x: tf.Tensor) => tf.sigmoid(x));
  route(true);
  takeFusedGradCounts();
  const ours = g(z, dy);
  assert.equal(takeFusedGradCounts().sigmoid, 1, "the gradient ran the fused kernel");
  route(false);
  const stock = g(z, dy);
  assert.equal(takeFusedGradCounts().sigmoid, 0, "main's route does not");
  route(true);
  assert.deepEqual(bits(ours), bits(stock));
  tf.dispose([z, dy, ours, stock]);
});

const DEEP: MlpSpec = { sizes: [784, 100, 100, 100, 100, 100, 10], hidden: "sigmoid", output: "softmax", loss: "crossEntropy" };

/** Steps of SGD on batches of 64 random "images", recording per step the loss, the gradients' and the weights' bits. */
function train(make: () => Model & { dispose(): void }, ours: boolean, steps: number) {
  const rng = new Rng(11);
  const x = tf.tensor2d(Float32Array.from({ length: 256 * 784 }, () => Math.max(0, rng.normal())), [256, 784]);
  const t = tf.oneHot(tf.tensor1d(Array.from({ length: 256 }, () => Math.floor(10 * rng.uniform())), "int32"), 10).toFloat() as tf.Tensor2D;
  const m = make();
  const opt = sgd({ learningRate: 0.5 });
  const record: { loss: number; grads: number[][]; weights: number[][] }[] = [];
  route(ours);
  takeFusedGradCounts();
  takeLeanTapeCounts();
  takeElementwiseMemoCounts();
  let tensors = 0;
  try {
    for (let s = 0; s < steps; s++) {
      if (s === 1) tensors = tf.memory().numTensors;   // after the first step (the optimizer's buffers exist then)
      const idx = tf.tensor1d(Array.from({ length: 64 }, (_, i) => (s * 64 + i) % 256), "int32");
      const xb = tf.gather(x, idx), tb = tf.gather(t, idx);
      let grads: number[][] = [];
      const loss = stepVariables(opt, m.params, () => {
        const r = m.lossAndGrads(xb, tb);
        grads = r.grads.map(bits);
        return r;
      });
      record.push({ loss, grads, weights: m.params.map(bits) });
      tf.dispose([idx, xb, tb]);
    }
    assert.equal(tf.memory().numTensors, tensors, `${ours ? "our" : "main's"} route leaves no tensor behind`);
  } finally {
    route(true);
    m.dispose();
    tf.dispose([x, t]);
  }
  return { record, counts: { ...takeFusedGradCounts(), ...takeLeanTapeCounts() }, identity: takeElementwiseMemoCounts().shared };
}

for (const [name, make] of [
  ["autodiff", () => new AutodiffMlp(DEEP, initMlp(DEEP, { rng: new Rng(5) }))],
  ["hand-written", () => new MatrixMlp(DEEP, initMlp(DEEP, { rng: new Rng(5) }))],
] as const) {
  test(`deep sigmoid MLP, ${name}: 6 steps give the same losses, gradients and weights bit for bit on both routes`, () => {
    const main = train(make, false, 6), ours = train(make, true, 6);
    assert.deepEqual(main.counts, { sigmoid: 0, kept: 0 }, "main's route runs neither new path");
    if (name === "autodiff") {
      // 5 sigmoid layers per step; 38 kept copies per step (MatMul a, b; Add a, b; σ's y; the loss's)
      assert.equal(ours.counts.sigmoid, fusedHere ? 30 : 0, "the fused kernel ran for every σ layer of every step");
      assert.equal(ours.counts.kept, 6 * 38, "every kept copy was made without a tape node");
      // (the Identity calls are counted by lib/perf/elementwise-memo.ts, on unless BACKPROP_MEMO=0)
      if (process.env.BACKPROP_MEMO !== "0") assert.equal(main.identity, 6 * 38, "main's route makes them with the Identity kernel");
      assert.equal(ours.identity, 0, "ours without a kernel call");
    } else {
      assert.deepEqual(ours.counts, { sigmoid: 0, kept: 0 }, "the hand-written backward records no tape");
    }
    for (let s = 0; s < 6; s++) {
      const a = main.record[s], b = ours.record[s];
      assert.ok(Number.isFinite(a.loss), `step ${s}: a finite loss`);
      assert.ok(a.loss === b.loss, `step ${s}: loss ${a.loss} vs ${b.loss}`);
      assert.deepEqual(b.grads, a.grads, `step ${s}: gradients`);
      assert.deepEqual(b.weights, a.weights, `step ${s}: weights`);
    }
    assert.notDeepEqual(main.record[5].weights, main.record[0].weights, "the weights moved");
  });
}

test("a gradient of a gradient takes tfjs's own paths and gives the same bits", () => {
  const z = tf.tensor1d(Float32Array.from({ length: 50 }, (_, i) => (i - 25) / 5));
  const second = (f: (u: tf.Tensor) => tf.Tensor) => tf.grad((x: tf.Tensor) => tf.grad(f)(x).sum())(z);
  // d²/dz² of Σ σ(z)·z: the inner gradient runs while the outer tape records. (tfjs's value misses σ''·z: the
  // copy of σ's output is put on the tape before σ's own node, so tfjs's walk never reaches it; the same on
  // both routes.)
  const sigmoidTimes = (u: tf.Tensor) => tf.sum(tf.mul(tf.sigmoid(u), u));
  // d²/dz² of Σ z³ = 6z (Multiply keeps its inputs: tfjs's walk reaches them)
  const cube = (u: tf.Tensor) => tf.sum(tf.mul(tf.mul(u, u), u));
  route(false);
  const stock = [second(sigmoidTimes), second(cube)];
  route(true);
  takeFusedGradCounts();
  takeLeanTapeCounts();
  const ours = [second(sigmoidTimes), second(cube)];
  // two σ gradients: the inner one, recorded by the outer tape (tfjs's formula, which the outer walk then
  // differentiates: our kernel has no gradient), and the outer walk's own through σ(u) (fused)
  assert.equal(takeFusedGradCounts().sigmoid, fusedHere ? 1 : 0, "the fused kernel only where no tape records");
  // kept without tape nodes: only what the outer gradient's forward pass keeps (depth 1: the inner gradient's
  // kernels); the inner forward pass (depth 2) keeps its copies with tfjs's tape nodes
  assert.ok(takeLeanTapeCounts().kept > 0, "the outer forward pass kept its copies without tape nodes");
  ours.forEach((g, k) => assert.deepEqual(bits(g), bits(stock[k]), `function ${k}`));
  ours[1].dataSync().forEach((v, i) => assert.ok(Math.abs(v - 6 * z.dataSync()[i]) < 1e-4, `z ${z.dataSync()[i]}: ${v}`));
  tf.dispose([z, ...stock, ...ours]);
});

test("on the cpu backend the Sigmoid gradient is tfjs's own", async () => {
  await tf.setBackend("cpu");
  try {
    takeFusedGradCounts();
    const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sigmoid(x))(tf.tensor1d([-2, 0, 3])).arraySync() as number[]);
    assert.equal(takeFusedGradCounts().sigmoid, 0);
    const s = (v: number) => 1 / (1 + Math.exp(-v));
    g.forEach((v, i) => assert.ok(Math.abs(v - s([-2, 0, 3][i]) * (1 - s([-2, 0, 3][i]))) < 1e-6));
  } finally {
    await tf.setBackend("wasm");
  }
});

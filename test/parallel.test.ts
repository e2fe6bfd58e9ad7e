/**
 * lib/perf/parallel: data-parallel training over worker threads gives the single-threaded loop's weights (same
 * seed, same batch order) within float32 tolerance, for even and uneven splits of the batch; bad input
 * is a clear error; the barrier's abort wakes the other workers instead of leaving them hanging.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { DataParallelTrainer, shareOf, Barrier } from "../lib/perf/index";
import { MatrixMlp } from "../lib/nn/mlp";
import { AutodiffMlp } from "../lib/tf/mlp-autodiff";
import { initMlp, MlpSpec, MlpWeights } from "../lib/scratch/init";
import { Optimizer, sgd, stepVariables } from "../lib/scratch/optimizers";
import { Rng } from "../lib/random";
import { compare } from "../lib/check/compare";
import { installFastWasmKernels } from "../lib/perf/fast-grads";

const spec: MlpSpec = { sizes: [20, 16, 8, 3], hidden: "tanh", output: "softmax", loss: "crossEntropy" };

before(async () => {
  assert.ok(await tf.setBackend("wasm"));
  installFastWasmKernels();
});

/** A small classification set: n samples of 20 inputs, 3 classes. */
function data(n: number) {
  const r = new Rng(11);
  const x = Float32Array.from({ length: n * 20 }, () => r.normal());
  const t = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) t[i * 3 + (i % 3)] = 1;
  return { x, t, n };
}

/** The single-threaded reference: the same SGD loop on whole batches in the same order. */
function singleThread(model: MatrixMlp | AutodiffMlp, d: ReturnType<typeof data>, orders: number[][], batchSize: number, rho: number): MlpWeights {
  const x = tf.tensor2d(d.x, [d.n, 20]), t = tf.tensor2d(d.t, [d.n, 3]);
  const opt = sgd({ learningRate: rho });
  for (const order of orders) {
    for (let s = 0; s < order.length; s += batchSize) {
      const idx = tf.tensor1d(order.slice(s, s + batchSize), "int32");
      const xb = tf.gather(x, idx), tb = tf.gather(t, idx);
      stepVariables(opt, model.params, () => model.lossAndGrads(xb, tb), { readLoss: false });
      tf.dispose([idx, xb, tb]);
    }
  }
  tf.dispose([x, t]);
  const w = model.getWeights();
  model.dispose();
  return w;
}

async function parallel(kind: "matrix" | "autodiff", workers: number, d: ReturnType<typeof data>, weights: MlpWeights, orders: number[][], batchSize: number, rho: number) {
  const trainer = await DataParallelTrainer.create({ spec, weights, data: d, workers, model: kind, learningRate: rho });
  try {
    const epochs = [];
    for (const order of orders) epochs.push(await trainer.epoch(order, batchSize));
    return { weights: await trainer.getWeights(), epochs, engine: trainer.engine };
  } finally {
    await trainer.close();
  }
}

test("shareOf splits a batch into contiguous slices that cover it, sizes within one", () => {
  for (const [len, k] of [[64, 2], [10, 3], [2, 3], [1, 4], [7, 7]]) {
    const slices = Array.from({ length: k }, (_, r) => shareOf(len, k, r));
    assert.equal(slices[0].lo, 0);
    assert.equal(slices[k - 1].hi, len);
    slices.forEach((s, r) => r > 0 && assert.equal(s.lo, slices[r - 1].hi));
    const sizes = slices.map((s) => s.hi - s.lo);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
  }
});

test("a Barrier needs a SharedArrayBuffer and lets one party through at once", () => {
  assert.throws(() => new Barrier(new Int32Array(3), 1), /SharedArrayBuffer/);
  const b = new Barrier(new Int32Array(new SharedArrayBuffer(12)), 1);
  b.wait();
  b.wait();
  b.abort();
  assert.throws(() => b.wait(), /another worker failed/);
});

test("2 workers, matrix MLP: same weights as the single-threaded loop (even split, 2 epochs)", async () => {
  const d = data(96);
  const w = initMlp(spec, { rng: new Rng(1) });
  const orders = [new Rng(2).permutation(96), new Rng(3).permutation(96)];
  const ref = singleThread(new MatrixMlp(spec, w), d, orders, 16, 0.1);
  const p = await parallel("matrix", 2, d, w, orders, 16, 0.1);
  assert.match(p.engine, /^2 × wasm \+ fast kernels/);
  assert.equal(p.epochs[0].updates, 6);
  const c = compare(ref, p.weights);
  assert.ok(c.maxRel < 1e-4, `maxRel ${c.maxRel} at ${c.worst?.path}`);
  assert.ok(compare(w, p.weights).maxAbs > 1e-3, "the weights did change");
  assert.ok(p.epochs[1].loss < p.epochs[0].loss, "the loss went down");
});

test("3 workers, autodiff MLP, uneven slices and a last batch smaller than the workers: same weights", async () => {
  const d = data(52); // batches of 10: 5 × [4, 3, 3] and a last batch of 2 → slices [0, 1, 1]
  const w = initMlp(spec, { rng: new Rng(4) });
  const orders = [new Rng(5).permutation(52)];
  const ref = singleThread(new AutodiffMlp(spec, w), d, orders, 10, 0.2);
  const p = await parallel("autodiff", 3, d, w, orders, 10, 0.2);
  assert.equal(p.epochs[0].updates, 6);
  const c = compare(ref, p.weights);
  assert.ok(c.maxRel < 1e-4, `maxRel ${c.maxRel} at ${c.worst?.path}`);
});

test("bad options and orders are clear errors; a closed trainer says so", async () => {
  const d = data(8);
  const w = initMlp(spec, { rng: new Rng(1) });
  await assert.rejects(DataParallelTrainer.create({ spec, weights: w, data: { ...d, n: 9 } }), /data should be x \[9, 20\] and t \[9, 3\]/);
  await assert.rejects(DataParallelTrainer.create({ spec, weights: w, data: d, workers: 0 }), /workers must be a positive integer/);
  const trainer = await DataParallelTrainer.create({ spec, weights: w, data: d, workers: 1 });
  await assert.rejects(trainer.epoch([0, 1, 8], 2), /order\[2\] = 8 is not a sample index in \[0, 8\)/);
  await assert.rejects(trainer.epoch([0, 1], 0), /batchSize must be a positive integer/);
  const e = await trainer.epoch([0, 1, 2, 3], 2);
  assert.equal(e.updates, 2);
  await trainer.close();
  await assert.rejects(trainer.epoch([0], 1), /already closed/);
});

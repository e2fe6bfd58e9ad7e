/**
 * No tensor leaks across epochs: after a warm-up epoch, further epochs leave tf.memory()'s tensor and
 * data-buffer counts unchanged, for every tfjs implementation (hand-written, autodiff, tf.layers
 * lossAndGrads and fit), on the wasm backend with tfjs's kernels and with lib/perf/fast-grads's.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { installFastWasmKernels, uninstallFastWasmKernels } from "../lib/perf/fast-grads";
import { MatrixMlp } from "../lib/nn/mlp";
import { AutodiffMlp } from "../lib/tf/mlp-autodiff";
import { LayersMlp } from "../lib/tf/mlp-layers";
import { initMlp, MlpSpec } from "../lib/scratch/init";
import { Model } from "../lib/train/model";
import { Optimizer, sgd, stepVariables } from "../lib/scratch/optimizers";
import { Rng } from "../lib/random";

const spec: MlpSpec = { sizes: [30, 12, 10, 4], hidden: "relu", output: "softmax", loss: "crossEntropy" };
const N = 48;

before(async () => {
  assert.ok(await tf.setBackend("wasm"));
});

function dataset() {
  const r = new Rng(7);
  const x = r.normalTensor([N, 30]) as tf.Tensor2D;
  const t = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: N }, (_, i) => i % 4), "int32"), 4).toFloat()) as tf.Tensor2D;
  return { x, t };
}

/** One epoch of the training loop (gather a batch, lossAndGrads, SGD step, dispose). */
function epoch(model: Model, opt: Optimizer, d: { x: tf.Tensor2D; t: tf.Tensor2D }, e: number): void {
  const order = new Rng(e).permutation(N);
  for (let s = 0; s < N; s += 16) {
    const idx = tf.tensor1d(order.slice(s, s + 16), "int32");
    const xb = tf.gather(d.x, idx), tb = tf.gather(d.t, idx);
    stepVariables(opt, model.params, () => model.lossAndGrads(xb, tb), { readLoss: false });
    tf.dispose([idx, xb, tb]);
  }
}

function counts() {
  const m = tf.memory();
  return { tensors: m.numTensors, buffers: m.numDataBuffers };
}

for (const kernels of ["stock", "fast"] as const) {
  for (const [name, Kind] of [["matrix", MatrixMlp], ["autodiff", AutodiffMlp], ["tf.layers lossAndGrads", LayersMlp]] as const) {
    test(`${name}, ${kernels} kernels: no tensors left behind across epochs`, () => {
      if (kernels === "fast") installFastWasmKernels();
      else uninstallFastWasmKernels();
      const d = dataset();
      const model = new Kind(spec, initMlp(spec, { rng: new Rng(1) }));
      const opt = sgd({ learningRate: 0.1 });
      epoch(model, opt, d, 1);
      const before = counts();
      for (let e = 2; e <= 4; e++) epoch(model, opt, d, e);
      assert.deepEqual(counts(), before);
      model.dispose();
      tf.dispose([d.x, d.t]);
    });
  }

  test(`tf.layers fit, ${kernels} kernels: no tensors left behind across epochs`, async () => {
    if (kernels === "fast") installFastWasmKernels();
    else uninstallFastWasmKernels();
    const d = dataset();
    const m = new LayersMlp(spec, initMlp(spec, { rng: new Rng(1) }));
    m.model.compile({ optimizer: tf.train.sgd(0.1), loss: "categoricalCrossentropy" });
    await m.model.fit(d.x, d.t, { batchSize: 16, epochs: 1, verbose: 0 });
    const before = counts();
    for (let e = 0; e < 3; e++) await m.model.fit(d.x, d.t, { batchSize: 16, epochs: 1, verbose: 0 });
    assert.deepEqual(counts(), before);
    m.dispose();
    tf.dispose([d.x, d.t]);
  });
}

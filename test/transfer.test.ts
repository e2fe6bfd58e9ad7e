// Lecture 13: transfer learning. Frozen layers do not move, get no gradient and stop the backward pass;
// freezing matches tf.layers' `trainable = false` on the same weights (same updates, same outputs); per-layer
// learning rates scale the optimizer's step; cutting a network keeps its layers and takes a new head; weights
// files round-trip and refuse damaged files and other architectures; the pretrained nets in data/pretrained
// match the code that made them (checksum, settings, the first recorded updates, the recorded accuracy).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import { Rng } from "../lib/random";
import { Network } from "../lib/nn/network";
import { Dense } from "../lib/nn/dense";
import { Layer } from "../lib/nn/layer";
import { lenet5 } from "../lib/nn/lenet";
import { freeze, freezeFirst, unfreeze, layerRates, cut, featureShape, countParams, parametricLayers } from "../lib/nn/freeze";
import { saveWeights, loadWeights, weightsToJson, weightsChecksum } from "../lib/nn/save";
import { sgd, adam, stepVariables } from "../lib/scratch/optimizers";
import { train } from "../lib/train/train";
import { layersTwin } from "../lib/tf/conv-twins";
import * as T from "../lib/diagnostics/transfer";

before(async () => {
  await initBackend();
});

const values = (vs: readonly tf.Tensor[]) => vs.map((v) => Array.from(v.dataSync()));
function maxAbs(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, i) => row.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j])))));
  return m;
}
function batch(r: Rng, shape: number[], classes: number, n: number) {
  const x = r.uniformTensor([n, ...shape]);
  const t = tf.oneHot(tf.tensor1d(Array.from({ length: n }, () => r.int(0, classes)), "int32"), classes).toFloat() as tf.Tensor2D;
  return { x, t };
}

test("frozen layers: no update, no gradient, backward stops at the lowest trainable layer", () => {
  const net = T.sourceNetwork("lenet5", new Rng(2));
  const all = net.params.length;
  const frozen = freezeFirst(net, 2); // C1, its activation and pool, C3
  assert.deepEqual(frozen, [0, 1, 2, 3]);
  assert.equal(net.params.length, all - 4);
  assert.ok(net.paramNames.every((n) => Number(n.split(".")[0]) > 5));
  const calls = net.layers.map(() => 0);
  net.layers.forEach((l: Layer, k) => {
    const orig = l.backward.bind(l);
    (l as { backward: Layer["backward"] }).backward = (d, c) => (calls[k]++, orig(d, c));
  });
  const before = values(Object.values(net.allParams));
  const { x, t } = batch(new Rng(3), [28, 28, 1], 5, 8);
  train(net, { x, t }, { epochs: 2, batchSize: 4, optimizer: adam({ learningRate: 0.01 }), rng: new Rng(1), logEvery: 0, progress: false });
  const after = values(Object.values(net.allParams));
  Object.keys(net.allParams).forEach((name, i) => {
    const moved = maxAbs([before[i]], [after[i]]) > 0;
    assert.equal(moved, Number(name.split(".")[0]) > 5, `${name} ${moved ? "moved" : "did not move"}`);
  });
  // Flatten (6) and below are never asked for a backward pass; F5 (7) uses its parameter gradients only.
  assert.deepEqual(calls.slice(0, 8), [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.ok(calls.slice(8).every((c) => c > 0));
  // The gradients of the trainable parameters are those of the unfrozen network.
  const g1 = net.lossAndGrads(x, t);
  unfreeze(net);
  const g2 = net.lossAndGrads(x, t);
  const names = net.paramNames;
  freezeFirst(net, 2);
  net.paramNames.forEach((n, i) => assert.ok(maxAbs(values([g1.grads[i]]), values([g2.grads[names.indexOf(n)]])) < 1e-6, n));
  assert.deepEqual(countParams(net), { trainable: 400 * 120 + 120 + 120 * 84 + 84 + 84 * 5 + 5, frozen: 5 * 5 * 6 + 6 + 5 * 5 * 6 * 16 + 16 });
  tf.dispose([x, t, g1.loss, ...g1.grads, g2.loss, ...g2.grads]);
  net.dispose();
});

test("freezing = tf.layers' trainable = false on the same weights: same updates, same outputs (MLP and LeNet-5)", async () => {
  for (const [kind, l] of [["mlp", 1], ["lenet5", 3]] as const) {
    const r = new Rng(4);
    const net = T.sourceNetwork(kind, r);
    freezeFirst(net, l);
    const twin = layersTwin(net);
    const weighted = twin.layers.filter((layer) => layer.getWeights().length > 0);
    weighted.slice(0, l).forEach((layer) => (layer.trainable = false));
    twin.compile({ optimizer: tf.train.sgd(0.1), loss: "categoricalCrossentropy" });
    assert.equal(twin.trainableWeights.length, net.params.length);
    const opt = sgd({ learningRate: 0.1 });
    for (let step = 0; step < 4; step++) {
      const { x, t } = batch(r, [...net.inputShape], 5, 6);
      stepVariables(opt, net.params, () => net.lossAndGrads(x, t));
      await twin.trainOnBatch(x, t);
      tf.dispose([x, t]);
    }
    // Every weight, frozen or not, agrees; the frozen ones are still the initial ones in both.
    const ours = values(Object.values(net.allParams));
    const theirs = values(weighted.flatMap((layer) => layer.getWeights()));
    assert.ok(maxAbs(ours, theirs) < 1e-5, `${kind}: weights differ by ${maxAbs(ours, theirs)}`);
    const { x } = batch(r, [...net.inputShape], 5, 6);
    const p1 = net.predict(x), p2 = twin.predict(x) as tf.Tensor;
    assert.ok(maxAbs(values([p1]), values([p2])) < 1e-5, `${kind}: outputs differ`);
    tf.dispose([x, p1, p2]);
    twin.dispose();
    net.dispose();
  }
});

test("per-layer learning rates: SGD with factor c_k on layer k moves it by −c_k ε g; factor 0 = frozen", () => {
  const net = T.sourceNetwork("mlp", new Rng(5));
  const { x, t } = batch(new Rng(6), [196], 5, 10);
  const g = net.lossAndGrads(x, t);
  const grads = values(g.grads), before = values(net.params);
  const factors = [0.1, 1, 0, 1, 0.5]; // layers 0, 2, 4 have parameters
  const opt = layerRates(sgd({ learningRate: 0.2 }), net, factors);
  stepVariables(opt, net.params, () => net.lossAndGrads(x, t));
  const after = values(net.params);
  net.paramNames.forEach((n, i) => {
    const c = factors[Number(n.split(".")[0])];
    const want = before[i].map((v, j) => v - c * 0.2 * grads[i][j]);
    assert.ok(maxAbs([after[i]], [want]) < 1e-6, n);
  });
  assert.throws(() => stepVariables(layerRates(sgd({ learningRate: 0.1 }), net, [-1]), net.params, () => net.lossAndGrads(x, t)), /factor of layer 0 must be a number ≥ 0/);
  tf.dispose([x, t, g.loss, ...g.grads]);
  net.dispose();
});

test("cut: the layers below the cut (shared) and a new head; features of LeNet-5's F6 are 84 numbers", () => {
  const src = lenet5({ rng: new Rng(7) });
  assert.deepEqual(featureShape(src, 11), [84]);
  freeze(src, [0, 1, 2]);
  const net = cut(src, 11, [Dense.init(84, 3, { rng: new Rng(8) })]);
  assert.equal(net.outputSize, 3);
  assert.equal(net.layers.length, 12);
  assert.deepEqual(net.frozen, [0, 1, 2]);
  assert.equal(net.layers[3], src.layers[3]);
  assert.deepEqual(parametricLayers(net), [0, 3, 7, 9, 11]);
  assert.throws(() => cut(src, 0, [Dense.init(84, 3)]), /layer index in 1\.\.12/);
  assert.throws(() => freezeFirst(src, 9), /l must be an integer in 0\.\.5/);
  src.dispose();
  (net.layers[11] as Dense).dispose();
});

test("weights files: round trip; damaged or foreign files and other architectures are refused by name", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "weights-"));
  const file = path.join(dir, "lenet.json");
  const a = T.sourceNetwork("lenet5", new Rng(9)), b = T.sourceNetwork("lenet5", new Rng(10));
  saveWeights(a, file, { note: "test" });
  const { x } = batch(new Rng(11), [28, 28, 1], 5, 3);
  const pa = values([a.predict(x)]);
  assert.ok(maxAbs(pa, values([b.predict(x)])) > 1e-3);
  assert.deepEqual(loadWeights(b, file), { note: "test" });
  assert.equal(maxAbs(pa, values([b.predict(x)])), 0);
  assert.deepEqual(values(Object.values(b.allParams)), values(Object.values(a.allParams)));

  const json = JSON.parse(fs.readFileSync(file, "utf8"));
  const flipped = { ...json, weights: (json.weights[0] === "A" ? "B" : "A") + json.weights.slice(1) };
  assert.throws(() => loadWeights(b, flipped), /checksum mismatch .* changed or damaged/);
  fs.writeFileSync(file, fs.readFileSync(file, "utf8").slice(0, 5000));
  assert.throws(() => loadWeights(b, file), /is not valid JSON .* damaged/);
  assert.throws(() => loadWeights(b, { hello: 1 } as never), /not a backprop-lab weights file/);
  const short = { ...json, weights: json.weights.slice(0, 400) };
  short.sha256 = weightsChecksum(short.architecture, short.weights);
  assert.throws(() => loadWeights(b, short), /holds 75 numbers, the network has \d+ parameters/);

  const wide = lenet5({ classes: 5, hidden: [100, 84], rng: new Rng(1) });
  assert.throws(() => loadWeights(wide, weightsToJson(a)), /layer 7: the file has Dense\(400→120\) \(W \[400, 120\], b \[120\]\), the network Dense\(400→100\)/);
  const mlp = T.sourceNetwork("mlp", new Rng(1));
  assert.throws(() => loadWeights(mlp, weightsToJson(a)), /the file has 12 layers .*, the network 5/);
  const ten = new Network([Dense.init(196, 100), ...mlp.layers.slice(1, 4), Dense.init(50, 10)], mlp.head);
  assert.throws(() => loadWeights(ten, weightsToJson(mlp)), /layer 4: the file has Dense\(50→5\)/);
  fs.rmSync(dir, { recursive: true });
  tf.dispose(x);
  [a, b, wide, mlp].forEach((n) => n.dispose());
});

for (const kind of T.SOURCE_KINDS) {
  test(`data/pretrained/${kind}-digits04.json: checksum, settings and the first updates of \`npm run pretrain\`, its recorded accuracy`, () => {
    const w = T.pretrainedWeights(kind); // verifies the checksum
    const p = w.provenance as Record<string, unknown>;
    assert.equal(p.command, `npm run pretrain -- ${kind}`);
    const settings = T.PRETRAIN_SETTINGS[kind];
    for (const [k, v] of Object.entries(settings)) assert.equal(p[k], v, `${k} recorded ${p[k]}, the code uses ${v}`);
    assert.equal(p.splitSeed, T.SPLIT_SEED);
    for (const key of ["backend", "commit", "task", "sizes"]) assert.ok(p[key], `provenance lacks ${key}`);
    const rerun = T.pretrain(kind, { ...settings, epochs: 0 });
    const recorded = p.firstLosses as number[];
    assert.equal(recorded.length, T.RECORDED_STEPS);
    rerun.firstLosses.forEach((l, k) => assert.ok(Math.abs(l - recorded[k]) < 1e-4 * Math.max(1, recorded[k]), `update ${k + 1}: loss ${l}, recorded ${recorded[k]}`));
    assert.deepEqual(rerun.sizes, p.sizes);
    rerun.net.dispose();
    const net = T.loadPretrained(kind);
    const test = T.taskTensors(kind, T.transferTask(kind, "source").test);
    const acc = T.testAccuracy(net, test);
    assert.ok(Math.abs(acc - (p.testAccuracy as number)) <= 2 / test.x.shape[0], `accuracy ${acc}, recorded ${p.testAccuracy}`);
    assert.ok(acc > 0.95);
    tf.dispose(test);
    net.dispose();
  });
}

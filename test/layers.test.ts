// The one layer contract: every layer passes the finite-difference check of its backward pass (dx and each
// parameter, through checkLayer) and agrees with its TensorFlow.js twin (a tf.layers layer, or tf.grad of
// the same forward pass) to float32 rounding.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import { Rng } from "../lib/random";
import { ACTIVATION_NAMES, ActivationName } from "../lib/scratch/activations";
import { checkLayer, layerGrads, tfLayerGrads } from "../lib/check/layer-check";
import { describeGradCheck } from "../lib/check/gradcheck";
import { compare } from "../lib/check/compare";
import { Layer, INFERENCE, trainingContext } from "../lib/nn/layer";
import { Dense } from "../lib/nn/dense";
import { Activation } from "../lib/nn/activation";
import { BatchNorm, LayerNorm } from "../lib/nn/normalization";
import { Residual, Sequential } from "../lib/nn/sequential";
import { Network } from "../lib/nn/network";
import { heads } from "../lib/nn/heads";

before(async () => {
  await initBackend();
});

const F32 = 1e-4; // float32 agreement with a twin (relative, compare's floor 1e-3)
const CHECK = 2e-2; // finite differences of a float32 forward pass (see lib/check/layer-check.ts)

function assertChecks(layer: Layer, x: tf.Tensor, opts: { training?: boolean } = {}) {
  const r = checkLayer(layer, x, { seed: 3, ...opts });
  assert.ok(r.maxRelError < CHECK, `${layer.name}\n${describeGradCheck(r)}`);
  // An honest check: it looked at x and at every parameter.
  assert.deepEqual(Object.keys(r.byTensor).sort(), ["x", ...Object.keys(layer.params)].sort());
  return r;
}

test("Dense: gradient check, and equal to tf.layers.dense with the same kernel and bias", () => {
  const r = new Rng(1);
  const layer = Dense.init(5, 3, { rng: r });
  layer.params.b.assign(tf.tensor1d([0.1, -0.4, 0.3]));
  const x = r.normalTensor([6, 5]), dout = r.normalTensor([6, 3]);
  assertChecks(layer, x);
  const twin = tf.layers.dense({ units: 3, inputShape: [5] });
  twin.build([null, 5]);
  twin.setWeights([layer.params.W, layer.params.b]);
  const ours = layerGrads(layer, x, dout, INFERENCE), theirs = tfLayerGrads(twin, x, dout);
  const c = compare([ours.out, ours.dx, ours.grads.W, ours.grads.b], [theirs.out, theirs.dx, ...theirs.grads]);
  assert.ok(c.maxRel < F32, JSON.stringify(c));
  tf.dispose([x, dout, ours, theirs]);
  layer.dispose();
});

/** Inputs away from the kinks (ReLU at 0, maxout ties), where no finite difference is valid. */
function awayFromKinks(r: Rng, shape: [number, number]): tf.Tensor {
  return tf.tensor2d(Array.from({ length: shape[0] * shape[1] }, () => {
    const v = r.normal();
    return Math.abs(v) < 0.05 ? v + 0.1 * Math.sign(v || 1) : v;
  }), shape);
}

/** The tf.layers twin of an activation, where tf.layers has one. */
function tfActivationLayer(name: ActivationName, units: number, layer: Activation): tf.layers.Layer | undefined {
  const builtIn: Partial<Record<ActivationName, string>> = { linear: "linear", sigmoid: "sigmoid", tanh: "tanh", relu: "relu", softsign: "softsign", softmax: "softmax" };
  let l: tf.layers.Layer | undefined;
  if (builtIn[name]) l = tf.layers.activation({ activation: builtIn[name] as "relu" });
  else if (name === "leakyRelu") l = tf.layers.leakyReLU({ alpha: 0.3 });
  else if (name === "elu") l = tf.layers.elu({ alpha: 1 });
  else if (name === "prelu") l = tf.layers.prelu({});
  if (!l) return undefined;
  l.build([null, units]);
  if (name === "prelu") l.setWeights([layer.params.alpha!]);
  return l;
}

test("every activation of the registry as a layer: gradient check, and equal to its tfjs twin", () => {
  const r = new Rng(2);
  for (const name of ACTIVATION_NAMES) {
    const units = 4;
    const layer = new Activation(name, name === "prelu" ? { alpha: [0.1, 0.2, 0.3, 0.4] } : name === "leakyRelu" ? { alpha: 0.3 } : {});
    const width = name === "maxout" ? units * layer.pieces : units;
    const x = awayFromKinks(r, [5, width]);
    if (name !== "step") assertChecks(layer, x);
    const dout = r.normalTensor(name === "maxout" ? [5, units] : [5, width]);
    const ours = layerGrads(layer, x, dout, INFERENCE);
    const twin = tfActivationLayer(name, width, layer);
    // Without a tf.layers twin (step, maxout, elu's α ≠ 1 is not used here): tf.grad of the same forward.
    const theirs = twin
      ? (() => { const g = tfLayerGrads(twin, x, dout); return { out: g.out, dx: g.dx, grads: g.grads }; })()
      : (() => {
          const f = (v: tf.Tensor) => layer.forward(v, INFERENCE).out;
          return { out: f(x), dx: tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v), dout)))(x), grads: [] as tf.Tensor[] };
        })();
    const c = compare([ours.out, ours.dx, ...Object.values(ours.grads)], [theirs.out, theirs.dx, ...theirs.grads]);
    assert.ok(c.maxRel < F32, `${name}: ${JSON.stringify(c)}`);
    tf.dispose([x, dout, ours, theirs]);
    layer.dispose();
  }
});

test("BatchNorm and LayerNorm: gradient check in training and inference, equal to tf.layers", () => {
  const r = new Rng(4);
  const x = tf.add(tf.mul(r.normalTensor([8, 4]), 2), 1);
  const dout = r.normalTensor([8, 4]);
  const gamma = tf.tensor1d([1.2, 0.8, 1.5, 0.5]), beta = tf.tensor1d([0.1, -0.2, 0, 0.3]);
  const bn = new BatchNorm(4, { momentum: 0.9 });
  bn.params.gamma.assign(gamma);
  bn.params.beta.assign(beta);
  assertChecks(bn, x);
  assertChecks(bn, x, { training: false });
  const ln = new LayerNorm(4);
  ln.params.gamma.assign(gamma);
  ln.params.beta.assign(beta);
  assertChecks(ln, x);
  const tfBn = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 });
  tfBn.build([null, 4]);
  tfBn.setWeights([gamma, beta, tf.zeros([4]), tf.ones([4])]);
  const tfLn = tf.layers.layerNormalization({ epsilon: 1e-3 });
  tfLn.build([null, 4]);
  tfLn.setWeights([gamma, beta]);
  for (const [ours, theirs] of [[bn, tfBn], [ln, tfLn]] as const) {
    const a = layerGrads(ours, x, dout, trainingContext(undefined, { frozenStats: true })), b = tfLayerGrads(theirs, x, dout);
    const c = compare([a.out, a.dx, a.grads.gamma, a.grads.beta], [b.out, b.dx, ...b.grads]);
    assert.ok(c.maxRel < F32, `${ours.name}: ${JSON.stringify(c)}`);
    tf.dispose([a, b]);
  }
  tf.dispose([x, dout, gamma, beta]);
  bn.dispose(); ln.dispose();
});

test("BatchNorm's running variance: biased (tf.layers) or unbiased (PyTorch); frozenStats leaves it alone", () => {
  const r = new Rng(5);
  const x = r.normalTensor([6, 3]);
  const variance = tf.tidy(() => tf.moments(x, 0).variance.dataSync());
  for (const [kind, factor] of [["biased", 1], ["unbiased", 6 / 5]] as const) {
    const bn = new BatchNorm(3, { momentum: 0.9, runningVariance: kind });
    tf.tidy(() => { bn.forward(x, trainingContext(undefined, { frozenStats: true })); });
    assert.deepEqual(Array.from(bn.runningVariance.dataSync()), [1, 1, 1], "frozenStats: running averages unchanged");
    tf.tidy(() => { bn.forward(x, trainingContext()); });
    const want = Array.from(variance, (v) => 0.9 + 0.1 * v * factor);
    assert.ok(compare(bn.runningVariance, want).maxRel < 1e-6, kind);
    bn.dispose();
  }
  assert.throws(() => new BatchNorm(3, { runningVariance: "sample" as never }), /"biased" \(tf\.layers\) or "unbiased" \(PyTorch\)/);
  x.dispose();
});

test("Residual and Sequential: gradient check; the residual block's dx is the block's plus dout", () => {
  const r = new Rng(6);
  const block = () => [Dense.init(4, 4, { rng: r }), new Activation("tanh")];
  const res = new Residual(block());
  const seq = new Sequential([Dense.init(4, 4, { rng: r }), new Activation("sigmoid"), new Residual(block())]);
  const x = r.normalTensor([5, 4]), dout = r.normalTensor([5, 4]);
  assertChecks(res, x);
  assertChecks(seq, x);
  const inner = layerGrads(res.block, x, dout, INFERENCE), outer = layerGrads(res, x, dout, INFERENCE);
  const expected = tf.add(inner.dx, dout);
  assert.ok(compare(outer.dx, expected).maxAbs < 1e-6);
  assert.deepEqual(Object.keys(seq.params), ["0.W", "0.b", "2.0.W", "2.0.b"]);
  assert.throws(() => new Residual([Dense.init(4, 3, { rng: r })]).forward(x, INFERENCE), /must keep the shape/);
  tf.dispose([x, dout, inner, outer, expected]);
  res.dispose(); seq.dispose();
});

test("Network: hand-written lossAndGrads equals tfjs autodiff of the same forward pass; taps line up", () => {
  const r = new Rng(7);
  const net = new Network([Dense.init(3, 5, { rng: r }), new BatchNorm(5), new Activation("relu"), new Residual([Dense.init(5, 5, { rng: r }), new Activation("tanh")]), Dense.init(5, 2, { rng: r })], heads.softmaxCrossEntropy());
  const x = r.normalTensor([7, 3]);
  const t = tf.oneHot(tf.tensor1d([0, 1, 1, 0, 1, 0, 0], "int32"), 2).toFloat() as tf.Tensor2D;
  const frozen = trainingContext(undefined, { frozenStats: true });
  const ours = net.lossAndGrads(x, t, frozen);
  const { value, grads } = tf.variableGrads(() => net.head.lossOf(net.forward(x, frozen).z, t), net.params);
  const c = compare([ours.loss, ...ours.grads], [value, ...net.params.map((p) => grads[p.name])]);
  assert.ok(c.maxRel < F32, JSON.stringify(c));
  const taps = net.taps(x, t, frozen);
  assert.equal(taps.layers.length, 5);
  assert.ok(compare(taps.layers[4].dOutput, taps.dz).maxAbs === 0, "the last layer receives the head's ∂q/∂z");
  assert.ok(compare(taps.layers[1].input, taps.layers[0].output).maxAbs === 0, "layer k's input is layer k−1's output");
  assert.deepEqual(net.paramNames, ["0.W", "0.b", "1.gamma", "1.beta", "3.0.W", "3.0.b", "4.W", "4.b"]);
  assert.deepEqual([...net.inputShape, net.outputSize], [3, 2]);
  assert.throws(() => net.predict(tf.zeros([2, 4])), /x should be \[N, 3\]/);
  tf.dispose([x, t, ours.loss, ...ours.grads, value, ...Object.values(grads), taps]);
  net.dispose();
});

test("checkLayer catches a wrong backward pass (a 10 % error in ∂q/∂W, a missing dx term)", () => {
  const r = new Rng(8);
  class OffByTenPercent extends Dense {
    override backward(dout: tf.Tensor, s: tf.Tensor2D) {
      const right = super.backward(dout, s);
      return { dx: right.dx, grads: { W: tf.mul(right.grads.W, 1.1), b: right.grads.b } };
    }
  }
  class ForgetsResidualPath extends Residual {
    override backward(dout: tf.Tensor, cache: Parameters<Residual["backward"]>[1]) {
      return this.block.backward(dout, cache);
    }
  }
  const x = r.normalTensor([6, 4]);
  const bad = Dense.init(4, 3, { rng: r });
  const wrong = new OffByTenPercent(bad.params.W, bad.params.b);
  const rw = checkLayer(wrong, x);
  assert.ok(rw.byTensor.W > 0.05 && rw.byTensor.x < CHECK && rw.byTensor.b < CHECK, describeGradCheck(rw));
  const forgets = new ForgetsResidualPath([Dense.init(4, 4, { rng: r }), new Activation("tanh")]);
  assert.ok(checkLayer(forgets, x).byTensor.x > 0.1);
  x.dispose(); wrong.dispose(); forgets.dispose();
});

/**
 * Normalization: every backward pass gradchecked in float64, the tensor form checked against the float64
 * form, and both against tf.layers.batchNormalization / layerNormalization (forward, backward, running
 * statistics, inference mode).
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import { Rng } from "../lib/random";
import { gradCheck, describeGradCheck } from "../lib/check/gradcheck";
import { compare } from "../lib/check/compare";
import { tfLayerGrads, layerGrads } from "../lib/check/layer-check";
import {
  normForward64, normBackward64, normForward, normBackward, disposeCache, fitStandardizer, NormAxis, VarianceKind,
} from "../lib/scratch/norm";
import { BatchNorm, LayerNorm } from "../lib/nn/normalization";
import { DeepMlp } from "../lib/nn/deep-mlp";
import { INFERENCE, trainingContext } from "../lib/nn/layer";

const rng = new Rng(7);
const B = 6, U = 4;
const matrix = (r: number, c: number, f: () => number) => Array.from({ length: r }, () => Array.from({ length: c }, f));
const x0 = matrix(B, U, () => rng.normal(1, 2));
const gamma0 = Array.from({ length: U }, () => rng.uniform(0.5, 1.5));
const beta0 = Array.from({ length: U }, () => rng.normal());
const dout0 = matrix(B, U, () => rng.normal());
const F32 = 2e-5; // float32 tolerance

before(async () => {
  await initBackend();
});

for (const axis of [0, 1] as NormAxis[]) {
  for (const variance of ["population", "sample"] as VarianceKind[]) {
    const what = `${axis === 0 ? "batch" : "layer"} norm (${variance} variance)`;
    test(`${what}: the float64 backward passes the gradient check`, (ctx) => {
      const params = { x: x0.map((r) => r.slice()), gamma: gamma0.slice(), beta: beta0.slice() };
      const q = (p: typeof params) => {
        const { out } = normForward64(p.x, p.gamma, p.beta, axis, { variance });
        return out.reduce((s, r, i) => s + r.reduce((t, v, j) => t + v * dout0[i][j], 0), 0);
      };
      const { cache } = normForward64(params.x, params.gamma, params.beta, axis, { variance });
      const { dx, dgamma, dbeta } = normBackward64(dout0, cache);
      const r = gradCheck(q, params, { x: dx, gamma: dgamma, beta: dbeta });
      ctx.diagnostic(describeGradCheck(r).split("\n")[0]);
      assert.ok(r.maxRelError < 1e-7, describeGradCheck(r));
    });

    test(`${what}: the tensor form agrees with the float64 form`, () => {
      const [x, g, b, dout] = [tf.tensor2d(x0), tf.tensor1d(gamma0), tf.tensor1d(beta0), tf.tensor2d(dout0)];
      const f = normForward(x, g, b, axis, { variance });
      const back = normBackward(dout, f.cache);
      const ref = normForward64(x0, gamma0, beta0, axis, { variance });
      const refBack = normBackward64(dout0, ref.cache);
      assert.ok(compare(f.out, ref.out).maxAbs < F32);
      assert.ok(compare([back.dx, back.dgamma, back.dbeta], [refBack.dx, refBack.dgamma, refBack.dbeta]).maxAbs < F32);
      disposeCache(f.cache);
      tf.dispose([x, g, b, dout, f.out, f.mean, f.variance, back.dx, back.dgamma, back.dbeta]);
    });
  }
}

/** Output and gradients (x, γ, β) of a tf.layers normalization layer with autodiff, for Σ dout ⊙ out. */
function tfjsLayer(layer: tf.layers.Layer, training: boolean) {
  const [x, dout] = [tf.tensor2d(x0), tf.tensor2d(dout0)];
  const r = tfLayerGrads(layer, x, dout, { training });
  const res = { out: r.out.arraySync(), dx: r.dx.arraySync(), dgamma: r.grads[0].arraySync(), dbeta: r.grads[1].arraySync() };
  tf.dispose([x, dout, r.out, r.dx, ...r.grads]);
  return res;
}

test("BatchNorm matches tf.layers.batchNormalization: training forward, backward, running stats, inference", (ctx) => {
  const momentum = 0.9, eps = 1e-3;
  const layer = tf.layers.batchNormalization({ momentum, epsilon: eps, inputShape: [U] });
  layer.build([null, U]);
  const mm = Array.from({ length: U }, () => rng.normal()), mv = Array.from({ length: U }, () => rng.uniform(0.5, 2));
  layer.setWeights([tf.tensor1d(gamma0), tf.tensor1d(beta0), tf.tensor1d(mm), tf.tensor1d(mv)]);
  const theirs = tfjsLayer(layer, true);
  const [, , theirMean, theirVar] = layer.getWeights();

  const bn = new BatchNorm(U, { momentum, eps });
  bn.params.gamma.assign(tf.tensor1d(gamma0));
  bn.params.beta.assign(tf.tensor1d(beta0));
  tf.dispose([bn.runningMean, bn.runningVariance]);
  bn.runningMean = tf.tensor1d(mm);
  bn.runningVariance = tf.tensor1d(mv);
  const x = tf.tensor2d(x0), dout = tf.tensor2d(dout0);
  const f = bn.forward(x, trainingContext());
  const back = bn.backward(dout, f.cache);
  const cOut = compare(f.out, theirs.out), cDx = compare(back.dx, theirs.dx);
  const cParams = compare([back.grads.gamma, back.grads.beta], [theirs.dgamma, theirs.dbeta]);
  const cRun = compare([bn.runningMean, bn.runningVariance], [theirMean, theirVar]);
  ctx.diagnostic(`batch norm vs tf.layers: out ${cOut.maxAbs.toExponential(2)}, dx ${cDx.maxAbs.toExponential(2)}, dγ/dβ ${cParams.maxAbs.toExponential(2)}, running stats ${cRun.maxAbs.toExponential(2)}`);
  for (const c of [cOut, cDx, cParams, cRun]) assert.ok(c.maxAbs < F32, JSON.stringify(c));

  // Inference: the running averages, the same in both.
  const inf = bn.forward(x, INFERENCE);
  const theirInf = layer.apply(x, { training: false }) as tf.Tensor;
  const cInf = compare(inf.out, theirInf);
  assert.ok(cInf.maxAbs < F32, JSON.stringify(cInf));
  // Inference backward: stats are constants, dx = dout γ / √(σ²_run + ε).
  const infBack = bn.backward(dout, inf.cache);
  const expected = dout0.map((r) => r.map((v, j) => (v * gamma0[j]) / Math.sqrt(theirVar.dataSync()[j] + eps)));
  assert.ok(compare(infBack.dx, expected).maxAbs < F32);
  disposeCache(f.cache);
  disposeCache(inf.cache);
  tf.dispose([x, dout, f.out, inf.out, theirInf, back.dx, back.grads, infBack.dx, infBack.grads, theirMean, theirVar]);
  bn.dispose();
});

test("layer norm matches tf.layers.layerNormalization (forward and backward)", (ctx) => {
  const layer = tf.layers.layerNormalization({ epsilon: 1e-3, inputShape: [U] });
  layer.build([null, U]);
  layer.setWeights([tf.tensor1d(gamma0), tf.tensor1d(beta0)]);
  const theirs = tfjsLayer(layer, true);
  const ln = new LayerNorm(U, { eps: 1e-3 });
  ln.params.gamma.assign(tf.tensor1d(gamma0));
  ln.params.beta.assign(tf.tensor1d(beta0));
  const [x, dout] = [tf.tensor2d(x0), tf.tensor2d(dout0)];
  const ours = layerGrads(ln, x, dout, trainingContext());
  const c = compare([ours.out, ours.dx, ours.grads.gamma, ours.grads.beta], [theirs.out, theirs.dx, theirs.dgamma, theirs.dbeta]);
  ctx.diagnostic(`layer norm vs tf.layers (out, dx, dγ, dβ): max abs ${c.maxAbs.toExponential(2)}`);
  assert.ok(c.maxAbs < F32, JSON.stringify(c));
  tf.dispose([x, dout, ours]);
  ln.dispose();
});

test("input standardization: 1/(N-1) variance and ε, as the lecture writes it", () => {
  const data = [[1, 10, 5], [2, 20, 5], [4, 60, 5], [5, 10, 5]];
  const x = tf.tensor2d(data);
  const s = fitStandardizer(x, { eps: 1e-8 });
  assert.deepEqual(Array.from(s.mean), [3, 25, 5]);
  assert.ok(Math.abs(s.variance[0] - 10 / 3) < 1e-12, "σ² of (1, 2, 4, 5) with N-1 is 10/3");
  const xs = s.apply(x);
  const cols = tf.tidy(() => tf.transpose(xs).arraySync() as number[][]);
  assert.ok(Math.abs(cols[0].reduce((a, v) => a + v, 0)) < 1e-5);
  assert.ok(Math.abs(cols[0].reduce((a, v) => a + v * v, 0) / 3 - 1) < 1e-5, "sample variance 1 after standardization");
  assert.deepEqual(cols[2], [0, 0, 0, 0], "a constant feature becomes 0, not NaN (ε)");
  assert.throws(() => fitStandardizer(tf.tensor2d([[1, 2]])), /cannot estimate a sample variance from 1 value/);
  assert.throws(() => s.apply(tf.tensor2d([[1, 2]])), /should be \[n, 3\]/);
  tf.dispose([x, xs]);
});

test("bad options get clear errors; no tensors leak", () => {
  assert.throws(() => new BatchNorm(3, { momentum: 1 }), /momentum must be in \[0, 1\)/);
  assert.throws(() => normForward64([[1, 2]], [1, 1], [0, 0], 0, { variance: "sample" }), /1 value; use a larger batch/);
  assert.throws(() => normForward64(x0, [1], [0], 0), /γ and β need 4 entries/);
  const before = tf.memory().numTensors;
  const bn = new BatchNorm(U);
  const x = tf.tensor2d(x0);
  for (let k = 0; k < 3; k++) tf.dispose(layerGrads(bn, x, x, trainingContext()));
  tf.dispose(x);
  bn.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test("deep MLP with batch norm and residual connections: hand-written backward = tfjs autodiff", (ctx) => {
  const r = new Rng(3);
  const x = tf.tensor2d(Float32Array.from(r.array(40, (g) => g.normal())), [8, 5]);
  const t = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], "int32"), 3) as tf.Tensor2D;
  const before = tf.memory().numTensors;
  for (const [batchNorm, residual, activation] of [[true, true, "sigmoid"], [false, true, "tanh"], [true, false, "relu"]] as const) {
    const net = new DeepMlp({ inputs: 5, width: 4, depth: 3, outputs: 3, batchNorm, residual, activation, rng: r });
    const ours = net.lossAndGrads(x, t);
    const frozen = trainingContext(undefined, { frozenStats: true });
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(t, net.forward(x, frozen).z) as tf.Scalar, net.params);
    const c = compare([ours.loss, ...ours.grads], [value, ...net.params.map((p) => grads[p.name])]);
    ctx.diagnostic(`${net.description}: max |hand-written - autodiff| = ${c.maxAbs.toExponential(2)}`);
    assert.ok(c.maxAbs < F32, `${net.description}: ${JSON.stringify(c)}`);
    assert.equal(net.lastGradNorms.length, 4);
    tf.dispose([ours.loss, ...ours.grads, value, ...Object.values(grads)]);
    net.dispose();
  }
  assert.equal(tf.memory().numTensors, before, "no tensors leaked");
  assert.throws(() => new DeepMlp({ inputs: 5, width: 4, depth: 0, outputs: 3, rng: r }), /depth must be a positive integer/);
  tf.dispose([x, t]);
});

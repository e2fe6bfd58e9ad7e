// Penalties, weight decay, max-norm (lib/nn/regularization.ts) and adversarial examples
// (lib/diagnostics/adversarial.ts) against TensorFlow.js: tf.regularizers.l1/l2 and tf.constraints.maxNorm
// with the same weights, tf.grad for the penalized loss and for the input gradient; weight decay equal to
// the L2 penalty under SGD and different under Adam.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import { Rng } from "../lib/random";
import { Dense } from "../lib/nn/dense";
import { Activation } from "../lib/nn/activation";
import { Network } from "../lib/nn/network";
import { heads } from "../lib/nn/heads";
import { Regularized, l1Penalty, l2Penalty, maxNorm, maxNormProjection, maxNormTensor, weightDecay, weightMask } from "../lib/nn/regularization";
import { AdversarialTraining, fgsm, fgsmAccuracy, inputGradient } from "../lib/diagnostics/adversarial";
import { adam, sgd, tensorsToVector, Optimizer } from "../lib/scratch/optimizers";
import { train } from "../lib/train/train";

before(async () => {
  await initBackend();
});

const maxAbs = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

function mlp(seed: number): Network {
  const r = new Rng(seed);
  return new Network([Dense.init(5, 8, { rng: r }), new Activation("tanh"), Dense.init(8, 3, { rng: r })], heads.softmaxCrossEntropy());
}

function data(seed: number, n = 24) {
  const r = new Rng(seed);
  const x = r.normalTensor([n, 5]) as tf.Tensor2D;
  const t = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: n }, () => r.int(0, 3)), "int32"), 3).toFloat() as tf.Tensor2D);
  return { x, t };
}

test("L2 and L1 penalties: value and gradient equal tf.regularizers.l2({l2: α/2}) and l1({l1: α}) by autodiff", () => {
  const r = new Rng(1);
  const w = [r.normalTensor([4, 3]), r.normalTensor([3, 2])];
  const alpha = 0.03;
  const ours2 = l2Penalty(w, alpha), ours1 = l1Penalty(w, alpha);
  const reg2 = tf.regularizers.l2({ l2: alpha / 2 }), reg1 = tf.regularizers.l1({ l1: alpha });
  const theirs = (reg: { apply(x: tf.Tensor): tf.Scalar }) => {
    const value = tf.tidy(() => tf.addN(w.map((v) => reg.apply(v))).dataSync()[0]);
    const grads = w.map((v) => tf.grad((u: tf.Tensor) => reg.apply(u))(v));
    return { value, grads };
  };
  const t2 = theirs(reg2), t1 = theirs(reg1);
  assert.ok(Math.abs(ours2.value.dataSync()[0] - t2.value) < 1e-6 * t2.value);
  assert.ok(Math.abs(ours1.value.dataSync()[0] - t1.value) < 1e-6 * t1.value);
  w.forEach((_, k) => {
    assert.ok(maxAbs(ours2.grads[k], t2.grads[k]) < 1e-7, "L2 gradient α w");
    assert.ok(maxAbs(ours1.grads[k], t1.grads[k]) < 1e-7, "L1 gradient α sign(w)");
  });
  // The L2 gradient is α w, not −α w: a sign error is visible.
  assert.ok(maxAbs(ours2.grads[0], tf.mul(-alpha, w[0])) > 1e-3);
  tf.dispose([w, ours2, ours1, t2.grads, t1.grads]);
});

test("Regularized: loss and gradients of J + α Ω equal tf.variableGrads of the same sum; biases are not penalized", () => {
  const net = mlp(2), { x, t } = data(3);
  const model = new Regularized(net, { l2: 0.05, l1: 0.01 });
  const ours = model.lossAndGrads(x, t);
  const W = [net.params[0], net.params[2]];
  const { value, grads } = tf.variableGrads(() =>
    tf.addN([net.loss(x, t), tf.regularizers.l2({ l2: 0.025 }).apply(W[0]), tf.regularizers.l2({ l2: 0.025 }).apply(W[1]),
      tf.regularizers.l1({ l1: 0.01 }).apply(W[0]), tf.regularizers.l1({ l1: 0.01 }).apply(W[1])]) as tf.Scalar, net.params);
  assert.ok(Math.abs(ours.loss.dataSync()[0] - value.dataSync()[0]) < 1e-5);
  net.params.forEach((p, k) => assert.ok(maxAbs(ours.grads[k], grads[p.name]) < 1e-5, `${net.paramNames[k]}: ${maxAbs(ours.grads[k], grads[p.name])}`));
  // The plain gradient of a bias is left alone; of a kernel it is not.
  const plain = net.lossAndGrads(x, t);
  assert.ok(maxAbs(plain.grads[1], ours.grads[1]) === 0);
  assert.ok(maxAbs(plain.grads[0], ours.grads[0]) > 1e-3);
  // loss() is the data loss J (what train() records), penalty() the rest.
  assert.ok(Math.abs(model.loss(x, t).dataSync()[0] + model.penalty() - ours.loss.dataSync()[0]) < 1e-5);
  tf.dispose([ours, plain, value, grads, x, t]);
  net.dispose();
});

function runSteps(makeOpt: (net: Network) => Optimizer, penalized: boolean): Float64Array {
  const net = mlp(4), d = data(5, 32);
  const model = penalized ? new Regularized(net, { l2: 0.1 }) : net;
  train(model, d, { epochs: 5, optimizer: makeOpt(net), mode: "batch", logEvery: 0 });
  const theta = tensorsToVector(net.params);
  net.dispose();
  tf.dispose(d);
  return theta;
}

const diff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

test("weight decay w ← (1 − εα) w − ε∇J equals the L2 penalty under SGD and differs under Adam", () => {
  const penaltySgd = runSteps(() => sgd({ learningRate: 0.3 }), true);
  const decaySgd = runSteps((net) => weightDecay(sgd({ learningRate: 0.3 }), { alpha: 0.1, mask: weightMask(net) }), false);
  const plainSgd = runSteps(() => sgd({ learningRate: 0.3 }), false);
  assert.ok(diff(penaltySgd, decaySgd) < 1e-5, `SGD: ${diff(penaltySgd, decaySgd)}`);
  assert.ok(diff(penaltySgd, plainSgd) > 1e-3, "the decay did something");
  const penaltyAdam = runSteps(() => adam({ learningRate: 0.05 }), true);
  const decayAdam = runSteps((net) => weightDecay(adam({ learningRate: 0.05 }), { alpha: 0.1, mask: weightMask(net) }), false);
  assert.ok(diff(penaltyAdam, decayAdam) > 1e-3, `Adam: ${diff(penaltyAdam, decayAdam)}`);
});

test("weightMask marks the kernels only, in the order optimizers see θ", () => {
  const net = mlp(1);
  const m = weightMask(net);
  assert.equal(m.length, 5 * 8 + 8 + 8 * 3 + 3);
  assert.deepEqual(Array.from(m.subarray(40, 48)), new Array(8).fill(0));
  assert.equal(m.reduce((s, v) => s + v, 0), 5 * 8 + 8 * 3);
  net.dispose();
});

test("max-norm equals tf.constraints.maxNorm({axis: 0}) with the same kernel; the flat projection equals the tensor one", () => {
  const W = new Rng(6).normalTensor([10, 7], 0, 1) as tf.Tensor2D;
  const c = 2.5;
  const ours = maxNormTensor(W, c);
  const theirs = tf.constraints.maxNorm({ maxValue: c, axis: 0 }).apply(W);
  // tfjs divides by (1e-7 + ‖w‖): relative agreement to float32 and that epsilon
  assert.ok(maxAbs(ours, theirs) < 1e-5, `${maxAbs(ours, theirs)}`);
  const norms = tf.tidy(() => tf.norm(ours, "euclidean", 0).dataSync());
  assert.ok(norms.every((n) => n <= c * (1 + 1e-6)));
  const before = tf.tidy(() => tf.norm(W, "euclidean", 0).dataSync());
  assert.ok(before.some((n) => n > c) && before.some((n) => n < c), "the test kernel has columns on both sides of c");
  // columns inside the ball are untouched
  before.forEach((n, j) => { if (n < c) assert.ok(Math.abs(norms[j] - n) < 1e-6); });
  // the same projection on the flat vector an optimizer sees
  const fake = { params: [tf.variable(W)], paramNames: ["0.W"] };
  const theta = Float64Array.from(W.dataSync());
  const shrunk = maxNormProjection(fake, c)(theta);
  assert.equal(shrunk, before.filter((n) => n > c).length);
  assert.ok(diff(theta, Float64Array.from(ours.dataSync())) < 1e-5);
  tf.dispose([W, ours, theirs, fake.params]);
});

test("training with maxNorm keeps every unit's incoming weights inside the ball, even at a large learning rate", () => {
  const net = mlp(7), d = data(8, 48);
  const c = 0.8;
  train(net, d, { epochs: 5, optimizer: maxNorm(sgd({ learningRate: 3 }), net, c), batchSize: 8, logEvery: 0, rng: new Rng(1) });
  for (const k of [0, 2]) {
    const n = tf.tidy(() => tf.norm(net.params[k], "euclidean", 0).dataSync());
    assert.ok(n.every((v) => v <= c * (1 + 1e-5)), `${net.paramNames[k]}: ${n}`);
    assert.ok(n.some((v) => v > c * 0.99), "the constraint was active");
  }
  net.dispose();
  tf.dispose(d);
});

test("input gradient ∂q/∂x equals tf.grad of the loss in x; FGSM moves each pixel by ±ε and raises the loss", () => {
  const net = mlp(9), { x, t } = data(10);
  const ours = inputGradient(net, x, t);
  const theirs = tf.grad((v: tf.Tensor) => net.loss(v, t))(x);
  assert.ok(maxAbs(ours, theirs) < 1e-6 * 10, `${maxAbs(ours, theirs)}`);
  assert.ok(tf.tidy(() => tf.max(tf.abs(theirs)).dataSync()[0]) > 1e-4);
  const eps = 0.1;
  const adv = fgsm(net, x, t, { epsilon: eps });
  const step = tf.tidy(() => tf.sub(adv, x));
  assert.ok(maxAbs(step, tf.mul(eps, tf.sign(theirs))) < 1e-6);
  const l0 = net.loss(x, t).dataSync()[0], l1 = net.loss(adv, t).dataSync()[0];
  assert.ok(l1 > l0, `loss ${l0} → ${l1}`);
  const clipped = fgsm(net, x, t, { epsilon: 5, clip: [0, 1] });
  assert.ok(tf.tidy(() => tf.min(clipped).dataSync()[0]) >= 0 && tf.tidy(() => tf.max(clipped).dataSync()[0]) <= 1);
  const accs = fgsmAccuracy(net, { x, t }, [0, 0.5]);
  assert.ok(accs[1] <= accs[0]);
  tf.dispose([ours, theirs, adv, step, clipped, x, t]);
  net.dispose();
});

test("adversarial training: loss and gradients are a·(clean) + (1 − a)·(FGSM batch)", () => {
  const net = mlp(11), { x, t } = data(12);
  const model = new AdversarialTraining(net, { epsilon: 0.2, alpha: 0.3 });
  const ours = model.lossAndGrads(x, t);
  const adv = fgsm(net, x, t, { epsilon: 0.2 });
  const clean = net.lossAndGrads(x, t), dirty = net.lossAndGrads(adv, t);
  assert.ok(Math.abs(ours.loss.dataSync()[0] - (0.3 * clean.loss.dataSync()[0] + 0.7 * dirty.loss.dataSync()[0])) < 1e-6);
  ours.grads.forEach((g, k) => assert.ok(maxAbs(g, tf.add(tf.mul(0.3, clean.grads[k]), tf.mul(0.7, dirty.grads[k]))) < 1e-6));
  assert.ok(maxAbs(ours.grads[0], clean.grads[0]) > 1e-4, "the FGSM half changes the gradient");
  tf.dispose([ours, adv, clean, dirty, x, t]);
  net.dispose();
});

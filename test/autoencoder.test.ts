// Autoencoders (lib/nn/autoencoder.ts, tied.ts, noise.ts): layer gradient checks of untied and tied bodies
// of any depth, the tied gradient against tf.grad (both uses of W summed), a tf.layers twin with copied
// weights (outputs and gradients to float32 rounding), a linear autoencoder that learns the PCA subspace
// (principal angles ≈ 0), input noise, greedy pretraining, and the errors for bad input.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import { Rng } from "../lib/random";
import { checkLayer, layerGrads } from "../lib/check/layer-check";
import { describeGradCheck } from "../lib/check/gradcheck";
import { compare } from "../lib/check/compare";
import { INFERENCE, trainingContext } from "../lib/nn/layer";
import { Dense } from "../lib/nn/dense";
import { Activation } from "../lib/nn/activation";
import { TiedPair } from "../lib/nn/tied";
import { InputNoise, corrupt } from "../lib/nn/noise";
import { Autoencoder, pretrainAutoencoders, reconstructionError, reconstructionHead } from "../lib/nn/autoencoder";
import { Network } from "../lib/nn/network";
import { heads } from "../lib/nn/heads";
import { train } from "../lib/train/train";
import { adam } from "../lib/scratch/optimizers";
import { Pca, principalAngles } from "../lib/scratch/pca";

before(async () => {
  await initBackend();
});

test("the autoencoder's body passes the layer gradient check: untied and tied, one and two hidden layers", () => {
  const r = new Rng(1);
  const x = r.uniformTensor([5, 7]);
  for (const tied of [false, true]) {
    for (const sizes of [[7, 3], [7, 4, 2]]) {
      const ae = new Autoencoder({ sizes, tied, activation: "tanh", codeActivation: "sigmoid", rng: r });
      const res = checkLayer(ae.network.body, x, { seed: 2, entries: 40 });
      assert.ok(res.maxRelError < 2e-2, `tied=${tied} sizes=${sizes}: ${describeGradCheck(res)}`);
      ae.dispose();
    }
  }
  x.dispose();
});

test("a tied pair's gradient of W is the sum of its encoder and decoder uses (tf.grad), and dropping one use fails", () => {
  const r = new Rng(3);
  const enc = Dense.init(6, 3, { rng: r });
  tf.tidy(() => enc.params.b.assign(r.normalTensor([3]) as tf.Tensor1D));
  const pair = new TiedPair(enc, new Activation("sigmoid"), tf.variable(r.normalTensor([6]) as tf.Tensor1D));
  const x = r.normalTensor([4, 6]), dout = r.normalTensor([4, 6]);
  const ours = layerGrads(pair, x, dout, INFERENCE);
  const f = (xv: tf.Tensor, W: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
    tf.sum(tf.mul(tf.add(tf.matMul(tf.sigmoid(tf.add(tf.matMul(xv, W), b)), tf.transpose(W)), c), dout));
  const [dx, dW, db, dc] = tf.grads(f)([x, enc.params.W, enc.params.b, pair.c]);
  const cmp = compare([ours.out, ours.dx, ours.grads.W, ours.grads.b, ours.grads.c], [tf.tidy(() => pair.forward(x, INFERENCE).out), dx, dW, db, dc]);
  assert.ok(cmp.maxRel < 1e-5, `tied pair vs tf.grad: ${JSON.stringify(cmp)}`);
  // The encoder use alone is not the gradient: the test can tell.
  const encoderOnly = tf.tidy(() => tf.sub(ours.grads.W, tf.matMul(tf.transpose(dout), tf.sigmoid(tf.add(tf.matMul(x, enc.params.W), enc.params.b)))));
  assert.ok(compare(encoderOnly, dW).maxRel > 1e-2);
  tf.dispose([x, dout, ours.out, ours.dx, ...Object.values(ours.grads), dx, dW, db, dc, encoderOnly]);
  pair.dispose();
});

test("a deep tied autoencoder trains on the loss through lossAndGrads equal to tf.grad of the same function", () => {
  const r = new Rng(4);
  const ae = new Autoencoder({ sizes: [8, 5, 3], tied: true, activation: "sigmoid", loss: "crossEntropy", rng: r });
  const x = r.uniformTensor([6, 8]) as tf.Tensor2D;
  const [W1, b1, c1, W2, b2, c2] = ["0.W", "0.b", "0.c", "0.inner.1.W", "0.inner.1.b", "0.inner.1.c"].map((n) => ae.network.body.params[n]);
  assert.ok(W1 && W2 && c2, `parameter names: ${ae.network.paramNames}`);
  const ours = ae.network.lossAndGrads(x, x, INFERENCE);
  const loss = () => {
    const h1 = tf.sigmoid(tf.add(tf.matMul(x, W1), b1));
    const h2 = tf.sigmoid(tf.add(tf.matMul(h1, W2), b2));
    const d2 = tf.sigmoid(tf.add(tf.matMul(h2, tf.transpose(W2)), c2));
    const s = tf.sigmoid(tf.add(tf.matMul(d2, tf.transpose(W1)), c1));
    const e = 1e-12;
    return tf.neg(tf.div(tf.sum(tf.add(tf.mul(x, tf.log(tf.maximum(s, e))), tf.mul(tf.sub(1, x), tf.log(tf.maximum(tf.sub(1, s), e))))), 6)) as tf.Scalar;
  };
  const { value, grads } = tf.variableGrads(loss, ae.network.params);
  const cmp = compare([ours.loss, ...ours.grads], [value, ...ae.network.params.map((p) => grads[p.name])]);
  assert.ok(cmp.maxRel < 1e-4, JSON.stringify(cmp));
  tf.dispose([x, ours.loss, ...ours.grads, value, ...Object.values(grads)]);
  ae.dispose();
});

test("the same deep autoencoder in tf.layers with copied weights gives the same reconstructions and gradients", () => {
  const r = new Rng(5);
  const ae = new Autoencoder({ sizes: [10, 6, 3], activation: "relu", codeActivation: "linear", output: "sigmoid", rng: r });
  const x = r.uniformTensor([9, 10]) as tf.Tensor2D;
  const twin = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [10], units: 6, activation: "relu" }),
      tf.layers.dense({ units: 3, activation: "linear" }),
      tf.layers.dense({ units: 6, activation: "relu" }),
      tf.layers.dense({ units: 10, activation: "sigmoid" }),
    ],
  });
  const ours = ae.network.params;
  twin.setWeights(ours.map((p) => p.clone()));
  const s1 = ae.reconstruct(x), s2 = twin.predict(x) as tf.Tensor2D;
  assert.ok(compare(s1, s2).maxRel < 1e-5, "reconstructions differ");
  const mine = ae.network.lossAndGrads(x, x, INFERENCE);
  const weights = twin.trainableWeights.map((w) => (w as unknown as { read(): tf.Variable }).read());
  const { value, grads } = tf.variableGrads(() => tf.div(tf.mul(0.5, tf.sum(tf.squaredDifference(twin.apply(x) as tf.Tensor, x))), 9) as tf.Scalar, weights);
  const cmp = compare([mine.loss, ...mine.grads], [value, ...weights.map((w) => grads[w.name])]);
  assert.ok(cmp.maxRel < 1e-4, JSON.stringify(cmp));
  // encode then decode is the same as reconstruct
  const c = ae.encode(x), d = ae.decode(c);
  assert.ok(compare(d, s1).maxAbs < 1e-6);
  tf.dispose([x, s1, s2, mine.loss, ...mine.grads, value, ...Object.values(grads), c, d]);
  twin.dispose();
  ae.dispose();
});

/** Rows of rank ~k + small noise in R^d with distinct variances along a random orthonormal basis. */
function lowRankData(r: Rng, n: number, d: number, scales: number[], offset = 1): tf.Tensor2D {
  return tf.tidy(() => {
    const q = tf.linalg.qr(r.normalTensor([d, d]) as tf.Tensor2D)[0];
    const z = tf.mul(r.normalTensor([n, d]), tf.tensor1d(scales));
    return tf.add(tf.matMul(z, tf.transpose(q)), tf.tensor1d(Array.from({ length: d }, (_, i) => offset * (i - d / 2)))) as tf.Tensor2D;
  });
}

test("a linear autoencoder with squared error learns the top-k PCA subspace: principal angles ≈ 0 after training, not before", () => {
  const r = new Rng(6);
  // A mean far from 0 slows the linear AE down (its first directions chase the mean until the biases learn
  // it: the notebook centres its inputs); a small one here.
  const x = lowRankData(r, 400, 8, [3, 2, 1.5, 0.3, 0.2, 0.15, 0.1, 0.05], 0.1);
  const k = 3;
  const ae = new Autoencoder({ sizes: [8, k], activation: "linear", codeActivation: "linear", rng: r });
  const pca = new Pca(x, k);
  const basis = pca.basis();
  const before = principalAngles(ae.outputBasis(), basis);
  train(ae.network, { x, t: x }, { epochs: 150, batchSize: 100, optimizer: adam({ learningRate: 0.01 }), rng: r, logEvery: 0, progress: false });
  const after = principalAngles(ae.outputBasis(), basis);
  const deg = (a: number[]) => a.map((v) => (v * 180) / Math.PI);
  assert.ok(Math.max(...deg(before)) > 20, `a random start is far from PCA: ${deg(before)}`);
  assert.ok(Math.max(...deg(after)) < 1, `after training the angles should be ≈ 0°, got ${deg(after)}`);
  // PCA's error is the sum of the discarded eigenvalues and no rank-k linear map beats it; the AE comes close.
  const xa = ae.reconstruct(x), xp = pca.reconstruct(x);
  const eAe = reconstructionError(x, xa), ePca = reconstructionError(x, xp);
  const tail = Array.from(pca.eigenvalues.slice(k)).reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(ePca - tail) < 1e-3 * tail + 1e-4, `PCA error ${ePca} vs Σ discarded λ ${tail}`);
  assert.ok(eAe >= ePca * 0.999 && eAe < ePca * 1.15, `AE ${eAe} vs PCA ${ePca}`);
  tf.dispose([x, basis, xa, xp]);
  ae.dispose();
});

test("masking noise zeroes about `level` of the inputs in training, none at inference; its backward uses the same mask", () => {
  const layer = new InputNoise({ kind: "mask", level: 0.3 });
  const x = tf.ones([100, 50]);
  const ctx = trainingContext(new Rng(7));
  const { out, cache } = layer.forward(x, ctx);
  const zeros = Array.from(out.dataSync()).filter((v) => v === 0).length / 5000;
  assert.ok(Math.abs(zeros - 0.3) < 0.03, `fraction zeroed ${zeros}`);
  const { dx } = layer.backward(tf.onesLike(x), cache);
  assert.deepEqual(Array.from(dx.dataSync()), Array.from(out.dataSync()));
  const inf = layer.forward(x, INFERENCE).out;
  assert.equal(tf.sum(inf).dataSync()[0], 5000);
  const g = corrupt(x, { kind: "gaussian", level: 0.5 }, new Rng(8));
  const sd = tf.moments(tf.sub(g, x)).variance.sqrt().dataSync()[0];
  assert.ok(Math.abs(sd - 0.5) < 0.02, `gaussian noise sd ${sd}`);
  const res = checkLayer(new InputNoise({ kind: "mask", level: 0.5 }), new Rng(9).normalTensor([4, 6]), { seed: 3 });
  assert.ok(res.maxRelError < 1e-2, describeGradCheck(res));
  tf.dispose([x, out, dx, inf, g]);
});

test("a denoising autoencoder reconstructs clean inputs from corrupted ones better than the corrupted inputs themselves", () => {
  const r = new Rng(10);
  const x = tf.tidy(() => tf.sigmoid(lowRankData(r, 300, 12, [3, 2, 1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]).div(4))) as tf.Tensor2D;
  const noise = { kind: "gaussian" as const, level: 0.2 };
  const ae = new Autoencoder({ sizes: [12, 3], activation: "linear", loss: "crossEntropy", noise, rng: r });
  train(ae.network, { x, t: x }, { epochs: 60, batchSize: 30, optimizer: adam({ learningRate: 0.02 }), rng: r, logEvery: 0, progress: false });
  const noisy = corrupt(x, noise, new Rng(11)) as tf.Tensor2D;
  const out = ae.reconstruct(noisy);
  const eNoisy = reconstructionError(x, noisy), eOut = reconstructionError(x, out);
  assert.ok(eOut < 0.5 * eNoisy, `denoised ${eOut} vs noisy ${eNoisy}`);
  tf.dispose([x, noisy, out]);
  ae.dispose();
});

test("greedy pretraining returns Dense/Activation encoder layers, each trained on the codes below (its loss fell), deterministic, ready to fine-tune", () => {
  const r = new Rng(12);
  const x = tf.tidy(() => tf.sigmoid(lowRankData(r, 200, 10, [3, 2, 1, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]))) as tf.Tensor2D;
  const seen: { index: number; first: number; last: number; codes: number[] }[] = [];
  const layers = pretrainAutoencoders(x, [6, 4], {
    rng: new Rng(13), epochs: 20, batchSize: 20, learningRate: 0.01, optimizer: "adam",
    onLayer: (index, h, codes) => seen.push({ index, first: h.loss[0], last: h.loss[h.loss.length - 1], codes: codes.shape }),
  });
  // Each layer's autoencoder was trained on the codes of the one below (its loss fell), and the codes have its width.
  assert.deepEqual(seen.map((s) => [s.index, ...s.codes]), [[0, 200, 6], [1, 200, 4]]);
  for (const s of seen) assert.ok(s.last < s.first, `layer ${s.index}: loss ${s.first} → ${s.last}`);
  assert.deepEqual(layers.map((l) => l.name), ["Dense(10→6)", "sigmoid", "Dense(6→4)", "sigmoid"]);
  // Same seed, same layers: deterministic.
  const again = pretrainAutoencoders(x, [6, 4], { rng: new Rng(13), epochs: 20, batchSize: 20, learningRate: 0.01, optimizer: "adam" });
  assert.ok(compare(layers[2].params.W, again[2].params.W).maxAbs === 0);
  const net = new Network([...layers, Dense.init(4, 3, { rng: r })], heads.softmaxCrossEntropy());
  const t = tf.oneHot(tf.tensor1d([...Array(200).keys()].map((i) => i % 3), "int32"), 3).toFloat() as tf.Tensor2D;
  const h = train(net, { x, t }, { epochs: 2, optimizer: adam({ learningRate: 0.01 }), rng: r, logEvery: 0, progress: false });
  assert.equal(h.epochs, 2);
  tf.dispose([x, t]);
  net.dispose();
  again.forEach((l) => l.dispose());
});

test("bad input gets errors that name the problem", () => {
  assert.throws(() => new Autoencoder({ sizes: [5] }), /sizes must be/);
  assert.throws(() => new Autoencoder({ sizes: [5, 2], activation: "softmax" }), /elementwise/);
  assert.throws(() => new InputNoise({ kind: "mask", level: 1 }), /fraction in \[0, 1\)/);
  assert.throws(() => new InputNoise({ kind: "salt" as "mask", level: 0.1 }), /"mask" or "gaussian"/);
  assert.throws(() => reconstructionHead("l1" as "squaredError"), /squaredError" or "crossEntropy/);
  const x = tf.zeros([3, 4]) as tf.Tensor2D;
  assert.throws(() => reconstructionError(x, tf.zeros([3, 5]) as tf.Tensor2D), /x̂ is \[3, 5\]/);
  assert.throws(() => pretrainAutoencoders(x, [], { rng: new Rng(1), epochs: 1, batchSize: 2, learningRate: 0.1 }), /hiddenSizes/);
  assert.throws(() => pretrainAutoencoders(x, [2], { epochs: 1, batchSize: 2, learningRate: 0.1 } as never), /options.rng/);
  x.dispose();
});

// Inverted dropout (lib/nn/dropout.ts): gradient check on 2-D and 4-D tensors, exact agreement with tf.grad
// of x ⊙ m / p for a given mask, mask statistics next to tf.layers.dropout's inside a binomial interval,
// inference identity, reproducible masks, and Monte Carlo dropout's spread.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import { Rng } from "../lib/random";
import { checkLayer, layerGrads } from "../lib/check/layer-check";
import { describeGradCheck } from "../lib/check/gradcheck";
import { INFERENCE, trainingContext } from "../lib/nn/layer";
import { Dense } from "../lib/nn/dense";
import { Activation } from "../lib/nn/activation";
import { Dropout, dropoutMask, mcDropoutContext, mcDropoutPredict } from "../lib/nn/dropout";
import { Network } from "../lib/nn/network";
import { heads } from "../lib/nn/heads";
import { train } from "../lib/train/train";
import { sgd } from "../lib/scratch/optimizers";

before(async () => {
  await initBackend();
});

test("Dropout passes the layer gradient check on [N, units] and on [N, h, w, c], and the check saw dropped units", () => {
  for (const shape of [[6, 10], [2, 4, 4, 3]]) {
    const layer = new Dropout({ keep: 0.5 });
    const x = new Rng(2).normalTensor(shape);
    const r = checkLayer(layer, x, { seed: 4, entries: 200 });
    assert.ok(r.maxRelError < 2e-2, describeGradCheck(r));
    // The same context checkLayer uses: some units dropped (a zero gradient there), others scaled by 2.
    const { dx } = layerGrads(layer, x, tf.onesLike(x), trainingContext(new Rng(4 + 7919)));
    const d = Array.from(dx.dataSync());
    assert.ok(d.some((v) => v === 0) && d.some((v) => v === 2), `dx should hold 0 and 1/p = 2, got ${d.slice(0, 12)}`);
    assert.ok(d.every((v) => v === 0 || v === 2));
    tf.dispose([x, dx]);
  }
});

test("Dropout with a given mask equals tf.grad of x ⊙ m / p, exactly (forward and backward)", () => {
  const r = new Rng(5);
  const keep = 0.8;
  const layer = new Dropout({ keep });
  const x = r.normalTensor([7, 9]), dout = r.normalTensor([7, 9]);
  const mask = dropoutMask([7, 9], keep, r);
  const ours = tf.tidy(() => {
    const { out, cache } = layer.forwardWithMask(x, mask);
    return { out: out.arraySync(), dx: layer.backward(dout, cache).dx.arraySync() };
  });
  const f = (v: tf.Tensor) => tf.sum(tf.mul(tf.mul(v, tf.div(mask, keep)), dout));
  const theirs = tf.tidy(() => ({ out: tf.mul(x, tf.div(mask, keep)).arraySync(), dx: tf.grad(f)(x).arraySync() }));
  assert.deepEqual(ours.out, theirs.out);
  assert.deepEqual(ours.dx, theirs.dx);
  tf.dispose([x, dout, mask]);
});

/** Wilson-free normal interval: |k − np| ≤ z √(np(1−p)) with z = 4 (a false alarm about once in 16 000 runs). */
function withinBinomial(k: number, n: number, p: number): boolean {
  return Math.abs(k - n * p) <= 4 * Math.sqrt(n * p * (1 - p));
}

test("mask statistics: kept fraction within a binomial interval around p, mean preserved, like tf.layers.dropout", () => {
  const n = 200 * 500;
  const x = tf.ones([200, 500]);
  for (const keep of [0.8, 0.5, 0.2]) {
    const ours = tf.tidy(() => new Dropout({ keep }).forward(x, trainingContext(new Rng(11))).out.dataSync() as Float32Array);
    const theirs = tf.tidy(() => (tf.layers.dropout({ rate: 1 - keep, seed: 3 }).apply(x, { training: true }) as tf.Tensor).dataSync() as Float32Array);
    const pairs: [string, Float32Array][] = [["ours", ours], ["tf.layers.dropout", theirs]];
    for (const [who, v] of pairs) {
      const kept = v.reduce((s, e) => s + (e !== 0 ? 1 : 0), 0);
      assert.ok(withinBinomial(kept, n, keep), `${who}, p=${keep}: kept ${kept} of ${n}`);
      // every kept entry is 1/p: the mean stays 1 within the binomial spread scaled by 1/p
      assert.ok(v.every((e) => e === 0 || Math.abs(e - 1 / keep) < 1e-6), `${who}: kept entries should be 1/p`);
      const mean = v.reduce((s, e) => s + e, 0) / n;
      assert.ok(Math.abs(mean - 1) <= (4 * Math.sqrt(keep * (1 - keep) / n)) / keep, `${who}, p=${keep}: mean ${mean}`);
    }
  }
  // A wrong keep (rate and keep confused) is caught by the same interval.
  const wrong = tf.tidy(() => new Dropout({ keep: 0.2 }).forward(x, trainingContext(new Rng(11))).out.dataSync() as Float32Array);
  assert.ok(!withinBinomial(wrong.reduce((s, e) => s + (e !== 0 ? 1 : 0), 0), n, 0.8));
  x.dispose();
});

test("inference is the identity; the same seed gives the same mask, another seed another; p = 1 never drops", () => {
  const x = new Rng(1).normalTensor([5, 20]);
  const layer = new Dropout({ keep: 0.5 });
  const inf = tf.tidy(() => layer.forward(x, INFERENCE).out.arraySync());
  assert.deepEqual(inf, x.arraySync());
  const a = tf.tidy(() => layer.forward(x, trainingContext(new Rng(9))).out.arraySync());
  const b = tf.tidy(() => layer.forward(x, trainingContext(new Rng(9))).out.arraySync());
  const c = tf.tidy(() => layer.forward(x, trainingContext(new Rng(10))).out.arraySync());
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.notDeepEqual(a, inf);
  const one = tf.tidy(() => new Dropout({ keep: 1 }).forward(x, trainingContext(new Rng(9))).out.arraySync());
  assert.deepEqual(one, x.arraySync());
  // Monte Carlo context: inference for the rest of the net, but dropout draws.
  const mc = tf.tidy(() => layer.forward(x, mcDropoutContext(new Rng(9))).out.arraySync());
  assert.deepEqual(mc, a);
  x.dispose();
});

test("Dropout refuses a keep outside (0, 1] and a training pass without a generator", () => {
  assert.throws(() => new Dropout({ keep: 0 }), /keep/);
  assert.throws(() => new Dropout({ keep: 1.5 }), /keep/);
  const x = tf.ones([2, 3]);
  assert.throws(() => new Dropout({ keep: 0.5 }).forward(x, trainingContext()), /generator/);
  x.dispose();
});

function dropoutNet(seed: number, keep: number): Network {
  const r = new Rng(seed);
  return new Network([
    new Dropout({ keep: 0.8 }), Dense.init(6, 16, { rng: r }), new Activation("relu"), new Dropout({ keep }), Dense.init(16, 3, { rng: r }),
  ], heads.softmaxCrossEntropy(), { inputShape: [6] });
}

test("a network with dropout trains reproducibly from the seed of train(), and its masks change its gradients", () => {
  const r = new Rng(3);
  const x = r.normalTensor([40, 6]);
  const t = tf.oneHot(tf.tensor1d(Array.from({ length: 40 }, (_, i) => i % 3), "int32"), 3).toFloat() as tf.Tensor2D;
  const run = (seed: number) => {
    const net = dropoutNet(1, 0.5);
    const h = train(net, { x, t }, { epochs: 3, optimizer: sgd({ learningRate: 0.1 }), batchSize: 8, rng: new Rng(seed), logEvery: 0 });
    const w = net.params[0].arraySync();
    net.dispose();
    return { loss: h.loss, w };
  };
  const a = run(7), b = run(7), c = run(8);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.w, c.w);
  tf.dispose([x, t]);
});

test("Monte Carlo dropout: spread > 0 with dropout, exactly 0 with p = 1; the mean is a distribution", () => {
  const x = new Rng(4).normalTensor([10, 6]);
  const withDrop = dropoutNet(2, 0.5), without = new Network(
    [new Dropout({ keep: 1 }), ...withDrop.layers.slice(1, 3), new Dropout({ keep: 1 }), withDrop.layers[4]], heads.softmaxCrossEntropy(), { inputShape: [6] });
  const a = mcDropoutPredict(withDrop, x, { samples: 20, rng: new Rng(1) });
  const b = mcDropoutPredict(without, x, { samples: 20, rng: new Rng(1) });
  assert.ok(Math.min(...a.spread) > 0, `spread ${a.spread}`);
  assert.ok(Math.max(...b.spread) < 1e-6, `spread ${b.spread}`);
  const sums = tf.tidy(() => tf.sum(a.mean, 1).dataSync());
  assert.ok(sums.every((s) => Math.abs(s - 1) < 1e-5));
  // Without dropout the MC mean is the plain prediction.
  const plain = without.predict(x);
  assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(plain, b.mean))).dataSync()[0]) < 1e-6);
  assert.throws(() => mcDropoutPredict(withDrop, x, { samples: 1, rng: new Rng(1) }), /samples/);
  tf.dispose([x, a.mean, a.std, b.mean, b.std, plain]);
  withDrop.dispose();
});

import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import {
  LOSSES, loss, LOSS_NAMES, isFusedOutput, squaredError, crossEntropy, klDivergence,
  softmaxCrossEntropy, softmaxCrossEntropyGrad,
} from "../lib/scratch/losses";
import { softmax } from "../lib/scratch/activations";

before(async () => {
  await initBackend();
});

// Outputs strictly inside (0, 1) so every loss (and its log) is defined; targets summing to 1.
const S = [[0.2, 0.5, 0.3], [0.7, 0.1, 0.2]];
const T = [[0, 1, 0], [0.6, 0.3, 0.1]];
const central = (f: (v: number) => number, h = 1e-6) => (f(h) - f(-h)) / (2 * h);

test("the lecture's formulas: ½Σ(t-s)², -Σ t log s, KL = cross-entropy - entropy(t)", () => {
  assert.equal(squaredError([1, 2], [0, 4]), 0.5 * (1 + 4));
  assert.ok(Math.abs(crossEntropy([0.25, 0.75], [0, 1]) + Math.log(0.75)) < 1e-15);
  const H = -T[1].reduce((a, t) => a + t * Math.log(t), 0);
  assert.ok(Math.abs(klDivergence(S[1], T[1]) - (crossEntropy(S[1], T[1]) - H)) < 1e-15);
  assert.equal(klDivergence(T[1], T[1]), 0);
  assert.ok(Number.isFinite(crossEntropy([0, 1], [1, 0]))); // log(0) is clipped, not -Infinity
});

test("scalar gradients match central differences for every loss", () => {
  for (const name of LOSS_NAMES) {
    const q = LOSSES[name];
    S.forEach((s, n) => {
      const g = q.grad(s, T[n]);
      s.forEach((_, i) => {
        const fd = central((d) => q.q(s.map((v, j) => (j === i ? v + d : v)), T[n]));
        assert.ok(Math.abs(g[i] - fd) < 1e-7 * Math.max(1, Math.abs(fd)), `${name} ∂q/∂s_${i}: ${g[i]} vs ${fd}`);
      });
    });
  }
});

test("softmax cross-entropy from logits: gradient softmax(z) - t", () => {
  const z = [0.3, -1.2, 2.0];
  const g = softmaxCrossEntropyGrad(z, T[1]);
  z.forEach((_, i) => {
    const fd = central((d) => softmaxCrossEntropy(z.map((v, j) => (j === i ? v + d : v)), T[1]));
    assert.ok(Math.abs(g[i] - fd) < 1e-8);
  });
  assert.deepEqual(g, softmax(z).map((s, i) => s - T[1][i]));
});

test("tensor forms: batch mean equals the scalar mean; tensorGrad equals tf.grad of the tensor loss", () => {
  const s = tf.tensor2d(S), t = tf.tensor2d(T);
  for (const name of LOSS_NAMES) {
    const q = LOSSES[name];
    const mean = (q.q(S[0], T[0]) + q.q(S[1], T[1])) / 2;
    const value = q.tensor(s, t);
    assert.ok(Math.abs(value.dataSync()[0] - mean) < 1e-6 * Math.max(1, mean), `${name}: ${value.dataSync()[0]} vs ${mean}`);
    const ours = q.tensorGrad(s, t);
    const auto = tf.grad((x: tf.Tensor) => q.tensor(x as tf.Tensor2D, t))(s);
    const scalar = S.map((row, n) => q.grad(row, T[n]).map((v) => v / 2));
    Array.from(ours.dataSync()).forEach((v, k) => {
      assert.ok(Math.abs(v - auto.dataSync()[k]) < 1e-5, `${name} tensorGrad vs tf.grad at ${k}`);
      assert.ok(Math.abs(v - scalar.flat()[k]) < 1e-5, `${name} tensorGrad vs scalar at ${k}`);
    });
    tf.dispose([value, ours, auto]);
  }
  tf.dispose([s, t]);
});

test("fused output layers and the registry", () => {
  assert.ok(isFusedOutput("softmax", "crossEntropy"));
  assert.ok(isFusedOutput("softmax", "kl"));
  assert.ok(isFusedOutput("sigmoid", "binaryCrossEntropy"));
  assert.ok(!isFusedOutput("sigmoid", "squaredError"));
  assert.ok(!isFusedOutput("linear", "crossEntropy"));
  assert.equal(loss("kl"), LOSSES.kl);
  assert.throws(() => loss("hinge"), /Unknown loss "hinge".*squaredError/);
  assert.throws(() => squaredError([1, 2], [1]), /output has 2 values but the target has 1/);
});

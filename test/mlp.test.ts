// Backprop three (four) ways: the scalar MLP passes a float64 gradient check, and the matrix (hand-written
// backward), autodiff (tf.variableGrads) and tf.layers MLPs, loaded with the same weights, agree with it.
// Relative errors between implementations are robust: |a - b| / max(|a|, |b|, 1e-3) (compare's default),
// since float32 rounding of a near-zero gradient is not a relative error of the method.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import { Rng } from "../lib/random";
import { ACTIVATION_NAMES, ActivationName, softmax } from "../lib/scratch/activations";
import { LossName } from "../lib/scratch/losses";
import { initMlp, MlpSpec, MlpWeights, fullSpec } from "../lib/scratch/init";
import { ScalarMlp } from "../lib/scratch/mlp-scalar";
import { MatrixMlp, weightsFromTensors } from "../lib/nn/mlp";
import { AutodiffMlp } from "../lib/tf/mlp-autodiff";
import { LayersMlp } from "../lib/tf/mlp-layers";
import { gradCheck, describeGradCheck } from "../lib/check/gradcheck";
import { compare } from "../lib/check/compare";
import { mlpAgreement } from "../lib/check/mlp-agreement";

before(async () => {
  await initBackend();
});

type Head = [ActivationName, LossName];
const HEADS: Head[] = [["linear", "squaredError"], ["softmax", "crossEntropy"], ["sigmoid", "binaryCrossEntropy"], ["tanh", "squaredError"], ["softmax", "kl"]];
const SHAPES = [[3, 4, 5, 3], [2, 3, 2], [4, 3, 3, 3, 2]];

interface Case {
  label: string;
  spec: MlpSpec;
  weights: MlpWeights;
  X: number[][];
  T: number[][];
}

/** A random MLP with random (non-zero) biases and PReLU slopes, and a batch of 6 samples with fitting targets. */
function makeCase(r: Rng, sizes: number[], hidden: ActivationName, [output, loss]: Head): Case {
  const spec: MlpSpec = { sizes, hidden, output, loss, ...(hidden === "leakyRelu" || hidden === "elu" ? { alpha: 0.3 } : {}) };
  const weights = initMlp(spec, { rng: r });
  for (const layer of weights) {
    layer.b = layer.b.map(() => r.normal(0, 0.5));
    if (layer.alpha) layer.alpha = layer.alpha.map(() => r.uniform(0.05, 0.5));
  }
  const M0 = sizes[0], ML = sizes[sizes.length - 1];
  const X = Array.from({ length: 6 }, () => Array.from({ length: M0 }, () => r.normal()));
  const T = X.map(() => {
    const z = Array.from({ length: ML }, () => r.normal());
    return output === "softmax" ? softmax(z) : loss === "binaryCrossEntropy" ? z.map(() => r.uniform()) : z;
  });
  return { label: `${JSON.stringify(sizes)} ${hidden} → ${output}/${loss}`, spec, weights, X, T };
}

function cases(): Case[] {
  const r = new Rng(2024);
  const out: Case[] = [];
  SHAPES.forEach((sizes, s) => {
    ACTIVATION_NAMES.forEach((hidden, k) => {
      const heads = sizes[sizes.length - 1] === 1 ? HEADS.filter(([o]) => o !== "softmax") : HEADS;
      out.push(makeCase(r, sizes, hidden, heads[(k + s) % heads.length]));
    });
  });
  // every activation at the output layer too
  for (const output of ACTIVATION_NAMES) out.push(makeCase(r, [3, 4, 2], "tanh", [output, "squaredError"]));
  return out;
}
const CASES = cases();

test("scalar BackProp passes the float64 gradient check (max rel error ≤ 1e-6) for every activation", () => {
  for (const c of CASES) {
    const { grads } = new ScalarMlp(c.spec, c.weights).backprop(c.X, c.T);
    const res = gradCheck((w: MlpWeights) => new ScalarMlp(c.spec, w).loss(c.X, c.T), c.weights, grads);
    assert.ok(res.maxRelError <= 1e-6, `${c.label}\n${describeGradCheck(res)}`);
    // an honest check: some gradients are well above the floor (a step output layer passes no gradient at all)
    const nonzero = grads.some((l) => l.W.some((row) => row.some((g) => Math.abs(g) > 1e-3)));
    assert.ok(nonzero || c.spec.output === "step", `${c.label}: all gradients ~0, the check would prove nothing`);
  }
});

test("matrix, autodiff and tf.layers MLPs agree with the scalar one: outputs, loss and gradients (rel ≤ 1e-4)", () => {
  for (const c of CASES) {
    for (const r of mlpAgreement(c.spec, c.weights, c.X, c.T)) {
      assert.ok(r.outputs.maxRel <= 1e-4, `${r.implementation} ${c.label}: outputs differ, max rel ${r.outputs.maxRel} at ${r.outputs.worst?.path} (${r.outputs.worst?.a} vs ${r.outputs.worst?.b})`);
      assert.ok(r.loss.maxRel <= 1e-4, `${r.implementation} ${c.label}: loss ${r.loss.worst?.b} vs ${r.loss.worst?.a}`);
      assert.ok(r.grads.maxRel <= 1e-4, `${r.implementation} ${c.label}: gradients differ, max rel ${r.grads.maxRel} at ${r.grads.worst?.path} (${r.grads.worst?.a} vs ${r.grads.worst?.b})`);
    }
  }
});

test("the comparison is not vacuous: a perturbed weight changes the matrix gradients beyond the tolerance", () => {
  const c = CASES[0];
  const ref = new ScalarMlp(c.spec, c.weights).backprop(c.X, c.T);
  const moved = c.weights.map((l) => ({ ...l, W: l.W.map((row) => row.map((v, i) => (i === 0 ? v * 1.01 : v))) }));
  const m = new MatrixMlp(c.spec, moved);
  const x = tf.tensor2d(c.X), t = tf.tensor2d(c.T);
  const { loss, grads } = m.lossAndGrads(x, t);
  assert.ok(compare(ref.grads, weightsFromTensors(c.spec, grads)).maxRel > 1e-3);
  tf.dispose([x, t, loss, ...grads]);
  m.dispose();
});

test("the lecture's worked example: Δθ^2_13 = ρ δ^2_1 s^1_3 and Δθ^1_34 = ρ δ^1_3 x_4 (M = 5, 3, 3; squared error)", () => {
  const spec: MlpSpec = { sizes: [5, 3, 3], hidden: "sigmoid", output: "sigmoid", loss: "squaredError" };
  const mlp = new ScalarMlp(spec, initMlp(spec, { rng: new Rng(7) }));
  const x = [0.5, -1, 0.25, 2, -0.5], t = [1, 0, 1];
  const { phi, s } = mlp.forward(x);
  const g = (z: number) => 1 / (1 + Math.exp(-z));
  const gp = (z: number) => g(z) * (1 - g(z));
  const delta2 = [1, 2, 3].map((i) => (t[i - 1] - s[2][i]) * gp(phi[2][i]));
  const delta1_3 = gp(phi[1][3]) * [1, 2, 3].reduce((acc, r) => acc + delta2[r - 1] * mlp.theta[2][r][3], 0);
  const rho = 0.1;
  const { grads } = mlp.backprop([x], [t]);
  // Δθ = -ρ ∂q/∂θ; θ^2_13 is W[2][0] of layer 2 and θ^1_34 is W[3][2] of layer 1 in the shared format
  assert.ok(Math.abs(-rho * grads[1].W[2][0] - rho * delta2[0] * s[1][3]) < 1e-15);
  assert.ok(Math.abs(-rho * grads[0].W[3][2] - rho * delta1_3 * x[3]) < 1e-15);
  assert.ok(Math.abs(-rho * grads[0].b[2] - rho * delta1_3 * 1) < 1e-15); // j = 0: the bias, s_0 = 1
});

test("weights round-trip through every implementation unchanged (float32 rounding only)", () => {
  const spec: MlpSpec = { sizes: [3, 4, 2], hidden: "prelu", output: "softmax", loss: "crossEntropy" };
  const w = initMlp(spec, { rng: new Rng(3) });
  assert.deepEqual(new ScalarMlp(spec, w).getWeights(), w);
  for (const Impl of [MatrixMlp, AutodiffMlp, LayersMlp]) {
    const m = new Impl(spec, w);
    assert.ok(compare(w, m.getWeights(), { floor: 1e-6 }).maxRel < 1e-6, Impl.name);
    const w2 = initMlp(spec, { rng: new Rng(4) });
    m.setWeights(w2);
    assert.ok(compare(w2, m.getWeights(), { floor: 1e-6 }).maxRel < 1e-6, `${Impl.name}.setWeights`);
    m.dispose();
  }
});

test("a scalar gradient step with small ρ lowers the loss", () => {
  const c = CASES[1];
  const mlp = new ScalarMlp(c.spec, c.weights);
  const before = mlp.loss(c.X, c.T);
  mlp.step(mlp.backprop(c.X, c.T).grads, 0.05);
  assert.ok(mlp.loss(c.X, c.T) < before);
  assert.throws(() => mlp.step(mlp.backprop(c.X, c.T).grads, -1), /learning rate ρ must be a positive number/);
});

test("wrong shapes and bad specs are explained", () => {
  const spec: MlpSpec = { sizes: [2, 3, 2], hidden: "relu", output: "softmax", loss: "crossEntropy" };
  const m = new MatrixMlp(spec, initMlp(spec, { rng: new Rng(1) }));
  const x = tf.zeros([5, 3]) as tf.Tensor2D, t = tf.zeros([5, 2]) as tf.Tensor2D, y = tf.zeros([5]);
  assert.throws(() => m.lossAndGrads(x, t), /x should be \[N, 2\].*got \[5, 3\]/);
  const x2 = tf.zeros([5, 2]) as tf.Tensor2D;
  assert.throws(() => m.lossAndGrads(x2, y as unknown as tf.Tensor2D), /targets should be \[N, 2\].*got \[5\].*one-hot/);
  tf.dispose([x, t, y, x2]);
  m.dispose();
  assert.throws(() => new ScalarMlp(spec, initMlp(spec, { rng: new Rng(1) })).forward([1, 2, 3]), /x has 3 values, expected M_0 = 2/);
  assert.throws(() => fullSpec({ sizes: [2] }), /sizes must be \[inputs, \.\.\.hidden, outputs\]/);
  assert.throws(() => fullSpec({ sizes: [2, 2], output: "linear", loss: "crossEntropy" }), /use output "softmax" or "sigmoid"/);
  assert.throws(() => fullSpec({ sizes: [2, 2], hidden: "swish" as ActivationName }), /unknown.*Valid names/);
  const w = initMlp(spec, { rng: new Rng(1) });
  w[1].W = w[1].W.slice(1);
  assert.throws(() => new ScalarMlp(spec, w), /layer 2 W should be \[3, 2\].*got \[2, 2\]/);
});

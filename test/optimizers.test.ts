/**
 * The scratch optimizers against tf.train: same problem, same start, 100 steps, same parameters
 * (float32 tolerance). Where the lecture's formula differs from tf.train's, the `tfjsLike` configuration
 * must agree and the lecture's own must measurably not.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import { Rng } from "../lib/random";
import { compare } from "../lib/check/compare";
import { train } from "../lib/train/train";
import type { Model } from "../lib/train/model";
import {
  Optimizer, sgd, momentum, nesterov, adagrad, rmsprop, rmspropNesterov, adam, tfjsLike, linearDecay,
  exponentialDecay, stepDecay, runOptimizer, stepVariables, tensorsToVector,
} from "../lib/scratch/optimizers";
import { newton, newtonStep, solveLinear, measureNewtonCost } from "../lib/scratch/newton";
import { quadratic, rosenbrock, saddleNet } from "../lib/scratch/surfaces";
import { eigenvalues2 } from "../lib/diagnostics/landscape";

const STEPS = 100;
// float32 tolerance on parameters of size ~1 after 100 steps. The rates keep every path in transit (far from
// θ*): near the minimum RMSProp's almost sign-like steps make it chaotic, and float32 rounding then grows
// to ~1e-3 whatever the formulas (we measured it with rate 0.002).
const TOL = 2e-5;

// Least squares J(W, b) = (1/m) Σ_n ½‖x_n W + b - y_n‖², m = 32 samples, 5 inputs, 3 outputs.
const M = 32, D = 5, K = 3;
const rng = new Rng(2024);
const X = Array.from({ length: M }, () => Array.from({ length: D }, () => rng.normal()));
const Y = Array.from({ length: M }, () => Array.from({ length: K }, () => rng.normal()));
const theta0 = Float64Array.from({ length: D * K + K }, () => rng.normal(0, 0.5));

/** ∇J in float64 for θ = [W (row-major D×K), b (K)]. */
function gradient(theta: Float64Array, scale = 1): Float64Array {
  const g = new Float64Array(theta.length);
  for (let n = 0; n < M; n++) {
    for (let k = 0; k < K; k++) {
      let out = theta[D * K + k];
      for (let d = 0; d < D; d++) out += X[n][d] * theta[d * K + k];
      const e = (scale * (out - Y[n][k])) / M;
      for (let d = 0; d < D; d++) g[d * K + k] += X[n][d] * e;
      g[D * K + k] += e;
    }
  }
  return g;
}

/** `scale` multiplies J (and ∇J): 1e-7 makes the gradients as small as δ, where δ's placement matters. */
function runScratch(opt: Optimizer, scale = 1): Float64Array {
  const theta = theta0.slice();
  for (let k = 0; k < STEPS; k++) opt.step(theta, (p) => gradient(p, scale));
  return theta;
}

function runTfjs(make: () => tf.Optimizer, scale = 1): Float64Array {
  const W = tf.variable(tf.tensor2d(Array.from(theta0.subarray(0, D * K)), [D, K]));
  const b = tf.variable(tf.tensor1d(Array.from(theta0.subarray(D * K))));
  const x = tf.tensor2d(X), y = tf.tensor2d(Y);
  const opt = make();
  for (let k = 0; k < STEPS; k++) {
    opt.minimize(() => tf.mul(0.5 * scale, tf.sum(tf.square(tf.sub(tf.add(tf.matMul(x, W), b), y)))).div(M) as tf.Scalar, false, [W, b]);
  }
  const out = tensorsToVector([W, b]);
  tf.dispose([W, b, x, y]);
  opt.dispose();
  return out;
}

before(async () => {
  await initBackend();
});

/** θ* by plain gradient descent run to convergence (the problem is convex). */
const optimum = (() => {
  const theta = theta0.slice();
  for (let k = 0; k < 20000; k++) {
    const g = gradient(theta);
    for (let i = 0; i < theta.length; i++) theta[i] -= 0.2 * g[i];
  }
  return theta;
})();
const distance = (a: Float64Array, b: Float64Array) => Math.hypot(...a.map((v, i) => v - b[i]));
/** How much of the way to θ* is still left: the comparison is only telling while the path is in transit. */
const left = (theta: Float64Array) => distance(theta, optimum) / distance(theta0, optimum);

const twins: { name: string; scratch: () => Optimizer; tfjs: () => tf.Optimizer }[] = [
  { name: "sgd", scratch: () => sgd({ learningRate: 0.01 }), tfjs: () => tf.train.sgd(0.01) },
  { name: "momentum (lecture form)", scratch: () => momentum({ learningRate: 0.002, momentum: 0.9 }), tfjs: () => tf.train.momentum(0.002, 0.9) },
  { name: "momentum (tfjsLike)", scratch: () => tfjsLike.momentum(0.002, 0.9), tfjs: () => tf.train.momentum(0.002, 0.9) },
  { name: "nesterov (tfjsLike: reformulated)", scratch: () => tfjsLike.momentum(0.002, 0.9, true), tfjs: () => tf.train.momentum(0.002, 0.9, true) },
  { name: "adagrad (tfjsLike)", scratch: () => tfjsLike.adagrad(0.05), tfjs: () => tf.train.adagrad(0.05) },
  { name: "rmsprop (tfjsLike)", scratch: () => tfjsLike.rmsprop(0.001), tfjs: () => tf.train.rmsprop(0.001) },
  { name: "rmsprop with momentum (tfjsLike)", scratch: () => tfjsLike.rmsprop(0.0005, 0.9, 0.8), tfjs: () => tf.train.rmsprop(0.0005, 0.9, 0.8) },
  { name: "adam (tfjsLike)", scratch: () => tfjsLike.adam(0.003), tfjs: () => tf.train.adam(0.003) },
];

for (const t of twins) {
  test(`${t.name} gives tf.train's parameters after ${STEPS} steps`, (ctx) => {
    const ours = runScratch(t.scratch());
    const theirs = runTfjs(t.tfjs);
    const c = compare(ours, theirs);
    const rest = left(ours);
    ctx.diagnostic(`max |Δθ| = ${c.maxAbs.toExponential(2)}, max rel = ${c.maxRel.toExponential(2)}, ${(100 * rest).toFixed(0)} % of the way to θ* left`);
    assert.ok(rest > 0.05 && rest < 0.95, `${t.name}: ${(100 * rest).toFixed(1)} % of the way left; pick a rate that leaves the path in transit`);
    assert.ok(c.maxAbs < TOL, `${t.name}: max |scratch - tf.train| = ${c.maxAbs.toExponential(2)} (worst ${JSON.stringify(c.worst)})`);
  });
}

test("the lecture's look-ahead Nesterov visits the points tf.train holds: θ_k + νv_k", () => {
  const nu = 0.9, opt = nesterov({ learningRate: 0.002, momentum: nu });
  const theta = theta0.slice();
  let previous = theta.slice();
  for (let k = 0; k < STEPS; k++) {
    previous = theta.slice();
    opt.step(theta, gradient);
  }
  const lookahead = theta.map((v, i) => v + nu * (v - previous[i])); // v_100 = θ_100 - θ_99
  const theirs = runTfjs(() => tf.train.momentum(0.002, nu, true));
  assert.ok(compare(lookahead, theirs).maxAbs < TOL, `max diff ${compare(lookahead, theirs).maxAbs}`);
  assert.ok(compare(theta, theirs).maxAbs > 1e-3, "θ itself differs from tf.train's variable by νv");
});

test("where the formulas differ, the lecture's defaults measurably differ from tf.train", (ctx) => {
  const diffs = {
    adagrad: compare(runScratch(adagrad({ learningRate: 0.05 })), runTfjs(() => tf.train.adagrad(0.05))).maxAbs,
    rmsprop: compare(runScratch(rmsprop({ learningRate: 0.001 })), runTfjs(() => tf.train.rmsprop(0.001))).maxAbs,
    adam: compare(runScratch(adam({ learningRate: 0.003 })), runTfjs(() => tf.train.adam(0.003))).maxAbs,
  };
  ctx.diagnostic(`lecture defaults vs tf.train, max |Δθ|: ${JSON.stringify(diffs)}`);
  // AdaGrad's initial accumulator (0 vs 0.1) changes the first steps a lot; δ's place in Adam barely.
  assert.ok(diffs.adagrad > 1e-3, `adagrad ${diffs.adagrad}`);
  assert.ok(diffs.adam < 1e-4, `adam ${diffs.adam}`);
});

test("with gradients as small as δ, δ's place matters: the lecture's forms differ, tfjsLike still agrees", (ctx) => {
  const tiny = 1e-7;
  const rows = [
    // Same (tiny) initial accumulator on both sides, so that only δ's place differs.
    { name: "adagrad", lecture: () => adagrad({ learningRate: 0.05, initialAccumulator: 1e-14 }), like: () => tfjsLike.adagrad(0.05, 1e-14), tfjs: () => tf.train.adagrad(0.05, 1e-14) },
    { name: "rmsprop", lecture: () => rmsprop({ learningRate: 0.001 }), like: () => tfjsLike.rmsprop(0.001), tfjs: () => tf.train.rmsprop(0.001) },
    { name: "adam", lecture: () => adam({ learningRate: 0.003 }), like: () => tfjsLike.adam(0.003), tfjs: () => tf.train.adam(0.003) },
  ];
  for (const r of rows) {
    const theirs = runTfjs(r.tfjs, tiny);
    const like = compare(runScratch(r.like(), tiny), theirs).maxAbs;
    const lecture = compare(runScratch(r.lecture(), tiny), theirs).maxAbs;
    ctx.diagnostic(`${r.name} with |g| ~ δ: tfjsLike vs tf.train ${like.toExponential(2)}, lecture form vs tf.train ${lecture.toExponential(2)}`);
    assert.ok(like < TOL, `${r.name}: tfjsLike differs by ${like}`);
    assert.ok(lecture > 5 * like, `${r.name}: the lecture's δ should matter here (${lecture} vs ${like})`);
  }
});

test("stepVariables and train() drive tf.Variables like the vector form, look-ahead Nesterov included", () => {
  const x = tf.tensor2d(X), y = tf.tensor2d(Y);
  const make = () => tf.tidy(() => [tf.variable(tf.tensor2d(Array.from(theta0.subarray(0, D * K)), [D, K])), tf.variable(tf.tensor1d(Array.from(theta0.subarray(D * K))))]);
  const lossFn = (W: tf.Tensor, b: tf.Tensor) => tf.mul(0.5, tf.sum(tf.square(tf.sub(tf.add(tf.matMul(x, W), b), y)))).div(M) as tf.Scalar;
  const lossAndGrads = (vars: tf.Variable[]) => () => {
    const { value, grads } = tf.variableGrads(() => lossFn(vars[0], vars[1]), vars);
    return { loss: value, grads: vars.map((v) => grads[v.name]) };
  };
  const before = tf.memory().numTensors;
  // Look-ahead Nesterov through stepVariables (the variables are moved to θ̃ for the gradient).
  const vars = make();
  const opt = nesterov({ learningRate: 0.02, momentum: 0.9 });
  for (let k = 0; k < 20; k++) stepVariables(opt, vars, lossAndGrads(vars));
  const ref = theta0.slice();
  const opt2 = nesterov({ learningRate: 0.02, momentum: 0.9 });
  for (let k = 0; k < 20; k++) opt2.step(ref, gradient);
  assert.ok(compare(tensorsToVector(vars), ref).maxAbs < 1e-5);
  // Look-ahead Nesterov and Adam through train(): the loop gives the gradient wherever the optimizer asks.
  const kept: tf.Variable[] = [];
  for (const make2 of [() => nesterov({ learningRate: 0.02, momentum: 0.9 }), () => adam({ learningRate: 0.02 })]) {
    const v2 = make();
    kept.push(...v2);
    const model: Model = {
      params: v2, inputShape: [D], outputSize: K,
      predict: (xx) => tf.add(tf.matMul(xx as tf.Tensor2D, v2[0]), v2[1]) as tf.Tensor2D,
      loss: () => lossFn(v2[0], v2[1]),
      lossAndGrads: () => lossAndGrads(v2)(),
    };
    train(model, { x, t: y }, { epochs: 20, optimizer: make2(), mode: "batch", logEvery: 0, accuracy: false });
    const ref2 = theta0.slice(), opt3 = make2();
    for (let k = 0; k < 20; k++) opt3.step(ref2, gradient);
    assert.ok(compare(tensorsToVector(v2), ref2).maxAbs < 1e-5, opt3.name);
  }
  tf.dispose([...vars, ...kept]);
  assert.equal(tf.memory().numTensors, before, "no tensors leaked");
  tf.dispose([x, y]);
});

test("the lecture's linear decay: ε_0 at k = 0, ε_τ from k = τ on, linear between", () => {
  const s = linearDecay({ initial: 0.1, final: 0.001, tau: 100 });
  assert.equal(s(0), 0.1);
  assert.ok(Math.abs(s(50) - 0.0505) < 1e-15);
  assert.equal(s(100), 0.001);
  assert.equal(s(500), 0.001);
  assert.ok(Math.abs(exponentialDecay({ initial: 1, gamma: 0.5 })(3) - 0.125) < 1e-15);
  assert.equal(stepDecay({ initial: 1, factor: 0.5, every: 10 })(25), 0.25);
  const opt = sgd({ learningRate: s });
  const theta = Float64Array.of(1);
  opt.step(theta, () => Float64Array.of(1));
  assert.equal(opt.currentLearningRate(), s(1));
  assert.ok(Math.abs(theta[0] - 0.9) < 1e-15);
});

test("Newton reaches the minimum of a quadratic in one step; solveLinear solves", () => {
  const q = quadratic(50, 0.4);
  const run = runOptimizer(newton({ hessianAt: q.hessian }), [2, -1.5], q.gradient, 1, q.f);
  assert.ok(Math.hypot(...run.path[1]) < 1e-12, `after one step: ${run.path[1]}`);
  const r = rosenbrock();
  const rr = runOptimizer(newton({ hessianAt: r.hessian }), [-1.2, 1], r.gradient, 10, r.f);
  assert.ok(Math.hypot(rr.path[10][0] - 1, rr.path[10][1] - 1) < 1e-8, `Rosenbrock after 10 Newton steps: ${rr.path[10]}`);
  const x = solveLinear([[4, 1, 0], [1, 3, 1], [0, 1, 2]], [1, 2, 3]);
  assert.ok(compare(Array.from(x), [2 / 9, 1 / 9, 13 / 9]).maxAbs < 1e-14);
  assert.throws(() => newtonStep([1, 1], [[1, 1], [1, 1]]), /singular.*damping/);
  assert.ok(measureNewtonCost(50, () => 0.3).hessianBytes === 8 * 2500);
});

test("saddleNet: a saddle at the origin, the fitted weights at the minimum, the gradient of its q", () => {
  const xs = Array.from({ length: 41 }, (_, i) => -2 + i / 10);
  const net = saddleNet(xs, xs.map((x) => 0.8 * Math.tanh(1.5 * x)));
  assert.deepEqual(Array.from(net.gradient([0, 0])), [0, 0]);
  const [lo, hi] = eigenvalues2(net.hessian([0, 0]));
  assert.ok(lo < 0 && hi > 0, `Hessian at the origin: eigenvalues ${lo} and ${hi}`);
  assert.ok(Math.hypot(net.minimum[0] - 1.5, net.minimum[1] - 0.8) < 1e-6, `minimum at ${net.minimum}`);
  assert.ok(net.f(net.minimum) < 1e-12);
  const t = [0.7, -0.3], h = 1e-6;
  const fd = [0, 1].map((i) => (net.f(t.map((v, j) => v + (i === j ? h : 0))) - net.f(t.map((v, j) => v - (i === j ? h : 0)))) / (2 * h));
  assert.ok(compare(Array.from(net.gradient(t)), fd).maxAbs < 1e-8, "gradient = central differences of f");
  assert.throws(() => saddleNet([1, 2], [1]), /as many targets as inputs/);
});

test("bad hyper-parameters get clear errors", () => {
  assert.throws(() => sgd({ learningRate: -1 }), /learning rate ε must be a positive number/);
  assert.throws(() => momentum({ learningRate: 0.1, momentum: 1 }), /ν must be in \[0, 1\)/);
  assert.throws(() => adam({ rho2: 1.5 }), /ρ₂ must be in \[0, 1\)/);
  assert.throws(() => adagrad({ learningRate: 0.1, delta: -1 }), /δ must be/);
  assert.throws(() => rmsprop({ learningRate: 0.1, nesterov: true }), /only applies with momentum > 0/);
  assert.throws(() => linearDecay({ initial: 0.1, final: 0.001, tau: 0 }), /τ must be a positive integer/);
  const opt = sgd({ learningRate: 0.1 });
  opt.step(new Float64Array(3), () => new Float64Array(3));
  assert.throws(() => opt.step(new Float64Array(4), () => new Float64Array(4)), /one optimizer per model/);
  assert.throws(() => sgd({ learningRate: 0.1 }).step(new Float64Array(3), () => new Float64Array(2)), /gradient has 2 entries/);
  // Every optimizer of the lecture runs on Rosenbrock without NaN.
  const r = rosenbrock();
  for (const o of [sgd({ learningRate: 1e-3 }), momentum({ learningRate: 1e-4 }), nesterov({ learningRate: 1e-4 }), adagrad({ learningRate: 0.1 }), rmsprop({ learningRate: 1e-2 }), rmspropNesterov({ learningRate: 1e-3 }), adam({ learningRate: 0.05 })]) {
    const run = runOptimizer(o, [-1.5, 2], r.gradient, 200, r.f);
    assert.equal(run.path.length, 201, `${o.name} diverged`);
    assert.ok(run.losses[200] < run.losses[0], `${o.name} did not descend`);
  }
});

test("RMSProp with Nesterov: the reformulated form holds the look-ahead points of the lecture's form", () => {
  const nu = 0.8, a = rmspropNesterov({ learningRate: 0.001, momentum: nu }), b = rmspropNesterov({ learningRate: 0.001, momentum: nu, nesterovForm: "reformulated" });
  const ta = theta0.slice(), tb = theta0.slice();
  let prev = ta.slice();
  for (let k = 0; k < STEPS; k++) {
    prev = ta.slice();
    a.step(ta, gradient);
    b.step(tb, gradient);
  }
  const lookahead = ta.map((v, i) => v + nu * (v - prev[i]));
  assert.ok(compare(lookahead, tb).maxAbs < 1e-12, `${compare(lookahead, tb).maxAbs}`);
});

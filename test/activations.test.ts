import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import {
  ACTIVATIONS, activation, ACTIVATION_NAMES, ElementwiseActivation, VectorActivation,
  sigmoid, sigmoidPrime, tanh, tanhPrime, softsign, softsignPrime, softmax, softmaxJacobian, softmaxJvp,
  maxout, maxoutGrad, prelu, preluAlphaPrime, relu, reluPrime, step, stepPrime, leakyRelu, elu,
} from "../lib/scratch/activations";

before(async () => {
  await initBackend();
});

// Points away from the kinks at 0 (ReLU, step, LeakyReLU, ELU), where no derivative is defined.
const Z = [-6, -3.2, -1.5, -0.7, -0.2, -0.03, 0.04, 0.3, 0.9, 1.7, 3.1, 7];
const central = (f: (z: number) => number, z: number, h = 1e-6) => (f(z + h) - f(z - h)) / (2 * h);
const elementwise = ACTIVATION_NAMES.map((n) => ACTIVATIONS[n]).filter((a): a is ElementwiseActivation => a.kind === "elementwise");
const ALPHA = 0.3; // a non-default α, so a forgotten argument shows

test("the registry holds every activation of lectures 01/05 under its name", () => {
  assert.deepEqual(Object.keys(ACTIVATIONS).sort(), [...ACTIVATION_NAMES].sort());
  for (const n of ACTIVATION_NAMES) assert.equal(ACTIVATIONS[n].name, n);
  assert.throws(() => activation("swish"), /Unknown activation "swish".*sigmoid/);
});

test("scalar g' matches central differences of g (float64)", () => {
  for (const a of elementwise) {
    for (const z of Z) {
      const fd = central((v) => a.g(v, ALPHA), z);
      assert.ok(Math.abs(a.gPrime(z, ALPHA) - fd) < 1e-8, `${a.name}'(${z}) = ${a.gPrime(z, ALPHA)}, finite difference ${fd}`);
    }
  }
});

test("lecture identities: σ' = σ(1-σ), tanh z = 2σ(2z) - 1, tanh' = 1 - tanh², rápida' = (g/z)²", () => {
  for (const z of Z) {
    assert.ok(Math.abs(sigmoidPrime(z) - sigmoid(z) * (1 - sigmoid(z))) < 1e-15);
    assert.ok(Math.abs(tanh(z) - (2 * sigmoid(2 * z) - 1)) < 1e-14);
    assert.ok(Math.abs(tanhPrime(z) - (1 - tanh(z) ** 2)) < 1e-15);
    assert.ok(Math.abs(softsignPrime(z) - (softsign(z) / z) ** 2) < 1e-14);
  }
  assert.equal(sigmoid(-800), 0); // no overflow warning, no NaN
  assert.equal(sigmoid(800), 1);
});

test("kinks and flat pieces take tfjs's values: relu'(0) = 0, step' = 0, sign(0) = 0", () => {
  assert.equal(reluPrime(0), 0);
  assert.equal(relu(-2), 0);
  assert.equal(stepPrime(5), 0);
  assert.deepEqual([step(-2), step(0), step(3)], [-1, 0, 1]);
  assert.equal(leakyRelu(-2, 0.1), -0.2);
  assert.ok(Math.abs(elu(-1, 2) - 2 * (Math.exp(-1) - 1)) < 1e-15);
});

test("tensor g equals scalar g; tensor g' equals scalar g' and tfjs autodiff (tf.grad)", () => {
  const z = tf.tensor1d(Z);
  for (const a of elementwise) {
    const g = a.tensor(z, ALPHA);
    const gp = a.tensorPrime(z, ALPHA);
    const auto = tf.grad((v: tf.Tensor) => a.tensor(v, ALPHA))(z);
    const [gv, gpv, autov] = [g, gp, auto].map((t) => Array.from(t.dataSync()));
    Z.forEach((zi, k) => {
      const tol = 2e-6 * Math.max(1, Math.abs(a.g(zi, ALPHA)));
      assert.ok(Math.abs(gv[k] - a.g(zi, ALPHA)) < tol, `${a.name}(${zi}): tensor ${gv[k]} vs scalar ${a.g(zi, ALPHA)}`);
      assert.ok(Math.abs(gpv[k] - a.gPrime(zi, ALPHA)) < 2e-6, `${a.name}'(${zi}): tensor ${gpv[k]} vs scalar ${a.gPrime(zi, ALPHA)}`);
      assert.ok(Math.abs(autov[k] - a.gPrime(zi, ALPHA)) < 2e-6, `${a.name}'(${zi}): tf.grad ${autov[k]} vs scalar ${a.gPrime(zi, ALPHA)}`);
    });
    tf.dispose([g, gp, auto]);
  }
  z.dispose();
});

test("ELU's tensor form has finite gradients for large inputs", () => {
  const z = tf.tensor1d([-200, 200]);
  const grad = tf.grad((v: tf.Tensor) => ACTIVATIONS.elu.kind === "elementwise" ? ACTIVATIONS.elu.tensor(v) : v)(z);
  assert.deepEqual(Array.from(grad.dataSync()), [0, 1]);
  tf.dispose([z, grad]);
});

test("PReLU: ∂g/∂α = min(z, 0), by finite differences and by tfjs (per-unit α tensor)", () => {
  for (const z of Z) {
    const fd = central((a) => prelu(z, a), 0.25);
    assert.ok(Math.abs(preluAlphaPrime(z) - fd) < 1e-9, `∂PReLU/∂α at z=${z}: ${preluAlphaPrime(z)} vs ${fd}`);
  }
  const p = ACTIVATIONS.prelu as ElementwiseActivation;
  const z = tf.tensor2d([[-1.5, 0.7, -0.2], [2.0, -3.0, 0.4]]);
  const alpha = tf.tensor1d([0.1, 0.2, 0.3]);
  const [, dAlpha] = tf.grads((zz: tf.Tensor, aa: tf.Tensor) => p.tensor(zz, aa))([z, alpha]);
  const ours = tf.sum(p.tensorAlphaPrime!(z), 0);
  assert.deepEqual(Array.from(dAlpha.dataSync()).map((v) => +v.toFixed(5)), Array.from(ours.dataSync()).map((v) => +v.toFixed(5)));
  assert.deepEqual(Array.from(ours.dataSync()).map((v) => +v.toFixed(5)), [-1.5, -3, -0.2]);
  tf.dispose([z, alpha, dAlpha, ours]);
});

test("softmax: probabilities, Jacobian diagonal s(1-s), JVP = J v, against finite differences and tfjs", () => {
  const z = [1.2, -0.4, 0.3, 2.5];
  const v = [0.5, -1.0, 2.0, 0.25];
  const s = softmax(z);
  assert.ok(Math.abs(s.reduce((a, b) => a + b, 0) - 1) < 1e-15);
  assert.deepEqual(softmax([1000, 1000]), [0.5, 0.5]); // shifted by the max: no overflow
  const J = softmaxJacobian(z);
  J.forEach((row, i) => assert.ok(Math.abs(row[i] - s[i] * (1 - s[i])) < 1e-15));
  const jv = softmaxJvp(z, v);
  const Jv = J.map((row) => row.reduce((acc, jij, j) => acc + jij * v[j], 0));
  jv.forEach((x, i) => assert.ok(Math.abs(x - Jv[i]) < 1e-15));
  // finite differences of z ↦ v·softmax(z)
  z.forEach((_, i) => {
    const f = (d: number) => softmax(z.map((zj, j) => (j === i ? zj + d : zj))).reduce((acc, sj, j) => acc + sj * v[j], 0);
    assert.ok(Math.abs(central(f, 0) - jv[i]) < 1e-9);
  });
  const sm = ACTIVATIONS.softmax as VectorActivation;
  const zt = tf.tensor2d([z]), vt = tf.tensor2d([v]);
  const ours = sm.tensorBackward(zt, vt);
  const auto = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(sm.tensor(x as tf.Tensor2D), vt)))(zt);
  Array.from(ours.dataSync()).forEach((x, i) => {
    assert.ok(Math.abs(x - jv[i]) < 1e-6);
    assert.ok(Math.abs(x - auto.dataSync()[i]) < 1e-6);
  });
  tf.dispose([zt, vt, ours, auto]);
  assert.throws(() => softmaxJvp([1, 2], [1]), /lengths differ/);
});

test("maxout: max of k pieces per unit; the gradient goes only to the winning piece", () => {
  const z = [0.3, -1.0, 2.0, 0.5, -0.2, -0.1];
  assert.deepEqual(maxout(z, 2), [0.3, 2.0, -0.1]);
  assert.deepEqual(maxout(z, 3), [2.0, 0.5]);
  const ds = [1.5, -2.0, 0.7];
  const dz = maxoutGrad(z, ds, 2);
  assert.deepEqual(dz, [1.5, 0, -2.0, 0, 0, 0.7]);
  z.forEach((_, i) => {
    const f = (d: number) => maxout(z.map((zj, j) => (j === i ? zj + d : zj)), 2).reduce((acc, sj, j) => acc + sj * ds[j], 0);
    assert.ok(Math.abs(central(f, 0) - dz[i]) < 1e-9);
  });
  const mo = ACTIVATIONS.maxout as VectorActivation;
  const zt = tf.tensor2d([z, z.map((v) => -v)]), dt = tf.tensor2d([ds, ds]);
  const out = mo.tensor(zt, 2);
  assert.deepEqual(out.shape, [2, 3]);
  const ours = mo.tensorBackward(zt, dt, 2);
  const auto = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(mo.tensor(x as tf.Tensor2D, 2), dt)))(zt);
  assert.deepEqual(Array.from(ours.dataSync()), Array.from(auto.dataSync()));
  assert.deepEqual(Array.from(ours.dataSync()).slice(0, 6).map((v) => +v.toFixed(6)), dz);
  tf.dispose([zt, dt, out, ours, auto]);
  assert.throws(() => maxout([1, 2, 3], 2), /cannot be split into groups of 2/);
});

test("maxout ties: the gradient goes to ONE piece, the first maximum, in the scalar and the tensor path", () => {
  // The issue's case: z = [1, 1], ds = 1 → [1, 0] (PyTorch 1.13's max(dim) gives the same), not [1, 1].
  assert.deepEqual(maxoutGrad([1, 1], [1], 2), [1, 0]);
  // Ties of 2 and 3 pieces, at the start, the middle and the end of a group, and all pieces tied.
  const cases: { z: number[]; ds: number[]; k: number; want: number[] }[] = [
    { z: [1, 1], ds: [1], k: 2, want: [1, 0] },
    { z: [-0.5, 2, 2], ds: [3], k: 3, want: [0, 3, 0] },
    { z: [2, -1, 2], ds: [-1.5], k: 3, want: [-1.5, 0, 0] },
    { z: [0, 0, 0, 0.25, 0.25, 0.25], ds: [2, -4], k: 3, want: [2, 0, 0, -4, 0, 0] },
    { z: [0, 0, 5, 1, 7, 7], ds: [1, 2, 3], k: 2, want: [1, 0, 2, 0, 3, 0] },
  ];
  const mo = ACTIVATIONS.maxout as VectorActivation;
  for (const { z, ds, k, want } of cases) {
    assert.deepEqual(maxoutGrad(z, ds, k), want, `scalar path, z = [${z}]`);
    assert.deepEqual(mo.backward(z, ds, k), want, `registry scalar path, z = [${z}]`);
    // Two rows, the second with the tie broken the other way round, so a row mix-up shows.
    const zt = tf.tensor2d([z, z.map((v, j) => (j % k === k - 1 ? v + 1 : v))]);
    const dt = tf.tensor2d([ds, ds]);
    const got = mo.tensorBackward(zt, dt, k);
    const rows = (got.arraySync() as number[][]).map((r) => r.map((v) => v + 0)); // -0 (0 × negative ds) → 0
    assert.deepEqual(rows[0], want, `tensor path, z = [${z}]`);
    assert.deepEqual(rows[1], maxoutGrad(zt.arraySync()[1], ds, k), `tensor path, second row`);
    // Exactly one piece per unit carries ds: the sum over a unit's pieces is ds, never k·ds.
    for (let u = 0; u < ds.length; u++) {
      assert.equal(rows[0].slice(u * k, u * k + k).filter((v) => v !== 0).length, 1);
    }
    tf.dispose([zt, dt, got]);
  }
});

test("no tensors are left behind by the tensor forms", () => {
  const z = tf.tensor2d([[0.5, -1, 2, -0.3]]);
  const ds = tf.tensor2d([[1, -2]]);
  const dsFull = tf.tensor2d([[1, -2, 0.5, 3]]);
  const before = tf.memory().numTensors;
  for (const a of ACTIVATION_NAMES.map((n) => ACTIVATIONS[n])) {
    if (a.kind === "elementwise") tf.dispose([a.tensor(z, 0.2), a.tensorPrime(z, 0.2)]);
    else tf.dispose([a.tensor(z, 2), a.tensorBackward(z, a.name === "maxout" ? ds : dsFull, 2)]);
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([z, ds, dsFull]);
});

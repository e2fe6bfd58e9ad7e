// RBMs (lib/nn/rbm-exact.ts, rbm.ts, rbm-train.ts, dbn.ts): on tiny RBMs, the free energy against brute-force
// enumeration of E(v,h), log p(v) summing to one, the exact gradient against finite differences of the exact
// log-likelihood (Bernoulli and Gaussian visible units), CD-k's bias against the exact gradient shrinking with
// k (1, 5, 25) and PCD's; tf.grad of the free energy against the positive-phase statistic; the tensor form
// against the float64 one; pseudo-likelihood estimate against the exact sum; training lowers the
// reconstruction error; the unrolled DBN's forward equals the stack of p(h|v).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import { Rng } from "../lib/random";
import * as ex from "../lib/nn/rbm-exact";
import { Rbm } from "../lib/nn/rbm";
import { trainRbm } from "../lib/nn/rbm-train";
import { pretrainRbms, trainRbmStack, unrollRbms } from "../lib/nn/dbn";
import { cdBias } from "../lib/diagnostics/cd-bias";
import { INFERENCE } from "../lib/nn/layer";

before(async () => {
  await initBackend();
});

const randomRbm = (r: Rng, I: number, J: number, std: number, visible: ex.VisibleUnits = "bernoulli") => ex.randomParams(r, I, J, { std, visible });
const binaryRows = ex.randomBinaryRows;

test("F(v) = −log Σ_h e^{−E(v,h)} by brute force, and Σ_v p(v) = 1 with log p(v) = −F(v) − log Z", () => {
  const p = randomRbm(new Rng(1), 5, 3, 1);
  const hs = ex.binaryStates(3);
  let total = 0;
  for (const v of ex.binaryStates(5)) {
    const brute = -ex.logSumExp(hs.map((h) => -ex.energy(p, v, h)));
    assert.ok(Math.abs(ex.freeEnergy(p, v) - brute) < 1e-12, `F(${v}) = ${ex.freeEnergy(p, v)}, brute force ${brute}`);
    total += Math.exp(ex.exactLogProb(p, v));
  }
  assert.ok(Math.abs(total - 1) < 1e-12, `Σ_v p(v) = ${total}`);
  // log Z from all (v, h) pairs, independently of the hidden-side sum exactLogZ uses.
  const pairs = ex.binaryStates(5).flatMap((v) => hs.map((h) => -ex.energy(p, v, h)));
  assert.ok(Math.abs(ex.logSumExp(pairs) - ex.exactLogZ(p)) < 1e-12);
});

test("Gaussian–Bernoulli: log Z in closed form matches a numerical integral over v (one visible unit)", () => {
  const p = randomRbm(new Rng(2), 1, 3, 1, "gaussian");
  // ∫ Σ_h e^{−E(v,h)} dv by the trapezoid rule on [−20, 20].
  const hs = ex.binaryStates(3);
  const dv = 1e-3;
  let z = 0;
  for (let v = -20; v <= 20; v += dv) z += hs.reduce((s, h) => s + Math.exp(-ex.energy(p, [v], h)), 0) * dv;
  assert.ok(Math.abs(Math.log(z) - ex.exactLogZ(p)) < 1e-6, `log ∫ = ${Math.log(z)}, closed form ${ex.exactLogZ(p)}`);
});

test("the exact gradient equals central differences of the exact log-likelihood (Bernoulli and Gaussian)", () => {
  for (const visible of ["bernoulli", "gaussian"] as const) {
    const r = new Rng(3);
    const p = randomRbm(r, 4, 3, 0.8, visible);
    const data = visible === "gaussian" ? Array.from({ length: 6 }, () => [0, 1, 2, 3].map(() => r.normal(0, 1))) : binaryRows(r, 6, 4);
    const g = ex.exactGradient(p, data);
    const h = 1e-5;
    const fd = (edit: (q: ex.RbmParams, d: number) => void) => {
      const plus = structuredClone(p), minus = structuredClone(p);
      edit(plus, h);
      edit(minus, -h);
      return (ex.exactLogLikelihood(plus, data) - ex.exactLogLikelihood(minus, data)) / (2 * h);
    };
    for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) {
      const d = fd((q, e) => { q.W[i][j] += e; });
      assert.ok(Math.abs(d - g.W[i][j]) < 1e-7, `${visible} ∂/∂w_${i}${j}: exact ${g.W[i][j]}, differences ${d}`);
    }
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(fd((q, e) => { q.b[i] += e; }) - g.b[i]) < 1e-7, `${visible} ∂/∂b_${i}`);
    for (let j = 0; j < 3; j++) assert.ok(Math.abs(fd((q, e) => { q.a[j] += e; }) - g.a[j]) < 1e-7, `${visible} ∂/∂a_${j}`);
  }
});

test("the tensor RBM agrees with the float64 form: p(h|v), E[v|h], F(v)", () => {
  for (const visible of ["bernoulli", "gaussian"] as const) {
    const r = new Rng(4);
    const p = randomRbm(r, 6, 4, 1, visible);
    const rbm = Rbm.fromParams(p);
    const vs = binaryRows(r, 5, 6);
    const hs = binaryRows(r, 5, 4);
    const v = tf.tensor2d(vs), h = tf.tensor2d(hs);
    const [ph, mv, f] = [rbm.hiddenProbs(v).arraySync(), rbm.visibleMean(h).arraySync(), rbm.freeEnergy(v).arraySync()];
    vs.forEach((row, n) => {
      ex.hiddenProbs(p, row).forEach((x, j) => assert.ok(Math.abs(x - ph[n][j]) < 1e-5));
      ex.visibleMean(p, hs[n]).forEach((x, i) => assert.ok(Math.abs(x - mv[n][i]) < 1e-5));
      assert.ok(Math.abs(ex.freeEnergy(p, row) - f[n]) < 1e-4, `${visible} F: ${ex.freeEnergy(p, row)} vs ${f[n]}`);
    });
    tf.dispose([v, h]);
    rbm.dispose();
  }
});

test("∂F/∂W by tf.grad on the free energy is minus the positive-phase statistic v0ᵀ p(h|v0) / N", () => {
  const r = new Rng(5);
  const p = randomRbm(r, 7, 4, 1);
  const rbm = Rbm.fromParams(p);
  const v = tf.tensor2d(binaryRows(r, 9, 7));
  const dF = tf.grad((W: tf.Tensor) => tf.mean(tf.sub(tf.neg(tf.sum(tf.mul(v, rbm.b), 1)), tf.sum(tf.softplus(tf.add(tf.matMul(v, W), rbm.a)), 1))))(rbm.W);
  // The free energy tf.grad differentiated is the one the class computes.
  assert.ok(tf.max(tf.abs(tf.sub(rbm.freeEnergy(v), tf.sub(tf.neg(tf.sum(tf.mul(v, rbm.b), 1)), tf.sum(tf.softplus(tf.add(tf.matMul(v, rbm.W), rbm.a)), 1))))).dataSync()[0] < 1e-5);
  const positive = ex.positiveStatistics(p, v.arraySync()).W;
  const d = dF.arraySync() as number[][];
  positive.forEach((row, i) => row.forEach((x, j) => assert.ok(Math.abs(-d[i][j] - x) < 1e-5, `w_${i}${j}: −∂F/∂W ${-d[i][j]}, positive phase ${x}`)));
  tf.dispose([v, dF]);
  rbm.dispose();
});

test("CD-k's bias against the exact gradient shrinks with k (1 > 5 > 25) and PCD's is as small as CD-25's", () => {
  const p = randomRbm(new Rng(3), 8, 5, 2);
  const data = binaryRows(new Rng(6), 10, 8);
  const { rows } = cdBias(p, data, { rng: new Rng(1), chainsPerRow: 600, pcdSteps: 150 });
  const [cd1, cd5, cd25, pcd] = rows;
  const table = rows.map((r) => `${r.method}: ${r.relativeBias.toFixed(3)} (noise ${r.noise.toFixed(3)})`).join(", ");
  assert.ok(cd1.bias > 1.2 * cd5.bias && cd5.bias > 2 * cd25.bias, table);
  assert.ok(cd1.relativeBias > 0.3, table);
  // CD-25 and PCD are near the exact gradient: within a few Monte Carlo errors.
  assert.ok(cd25.bias < 5 * cd25.noise + 0.05 && pcd.bias < 5 * pcd.noise, table);
});

test("with W = 0 one Gibbs step samples the model exactly: CD-1's bias is at the Monte Carlo noise level", () => {
  // With W = 0 visible and hidden units are independent: one Gibbs step samples the model exactly.
  const r = new Rng(7);
  const p = randomRbm(r, 4, 3, 0);
  const data = binaryRows(r, 4, 4);
  const { rows } = cdBias(p, data, { rng: new Rng(2), ks: [1], chainsPerRow: 2000, pcdSteps: 0 });
  assert.ok(rows[0].bias < 4 * rows[0].noise + 1e-3, `CD-1 with W = 0: bias ${rows[0].bias}, noise ${rows[0].noise}`);
});

test("the pseudo-log-likelihood estimate averages over the flipped unit to the exact Σ_i log p(v_i | v_−i)", () => {
  const r = new Rng(8);
  const p = randomRbm(r, 6, 4, 1);
  const rbm = Rbm.fromParams(p);
  const row = binaryRows(r, 1, 6)[0];
  const v = tf.tensor2d([row]);
  const mean = [0, 1, 2, 3, 4, 5].reduce((s, i) => s + rbm.pseudoLogLikelihood(v, { units: [i] }), 0) / 6;
  assert.ok(Math.abs(mean - ex.exactPseudoLogLikelihood(p, row)) < 1e-4, `${mean} vs ${ex.exactPseudoLogLikelihood(p, row)}`);
  assert.throws(() => rbm.pseudoLogLikelihood(v, {}), /pass \{ rng \} or \{ units \}/);
  v.dispose();
  rbm.dispose();
});

test("CD-1 training raises the exact log-likelihood of a tiny RBM and lowers the reconstruction error; PCD too", () => {
  for (const persistent of [false, true]) {
    const r = new Rng(9);
    // Data: two prototypes with bit noise.
    const rows = Array.from({ length: 200 }, (_, n) => [1, 1, 1, 0, 0, 0, 1, 0].map((x) => (n % 2 ? 1 - x : x)).map((x) => (r.random() < 0.05 ? 1 - x : x)));
    const x = tf.tensor2d(rows);
    const rbm = Rbm.init(8, 4, { rng: r, std: 0.1 });
    const before = ex.exactLogLikelihood(rbm.toParams(), rows);
    // PCD's chains drift with the parameters: it wants a smaller step and less momentum than CD-1.
    const h = trainRbm(rbm, x, { rng: r, epochs: 30, batchSize: 10, learningRate: persistent ? 0.02 : 0.1, momentum: persistent ? 0.5 : undefined, persistent });
    const after = ex.exactLogLikelihood(rbm.toParams(), rows);
    assert.ok(after > before + 1, `${persistent ? "PCD" : "CD-1"}: log-likelihood ${before} → ${after}`);
    assert.ok(h.reconstructionError.at(-1)! < 0.5 * h.reconstructionError[0], `reconstruction ${h.reconstructionError}`);
    assert.equal(h.pseudoLogLikelihood.length, 30);
    x.dispose();
    rbm.dispose();
  }
});

test("Gibbs sampling's long-run visible frequencies match p(v) of a tiny RBM", () => {
  const p = randomRbm(new Rng(10), 3, 2, 1);
  const rbm = Rbm.fromParams(p);
  const v = rbm.gibbs(tf.zeros([4000, 3]) as tf.Tensor2D, 30, new Rng(11));
  const counts = new Array<number>(8).fill(0);
  for (const row of v.arraySync()) counts[row[0] * 4 + row[1] * 2 + row[2]]++;
  ex.binaryStates(3).forEach((s, k) => {
    const pv = Math.exp(ex.exactLogProb(p, s));
    assert.ok(Math.abs(counts[k] / 4000 - pv) < 4 * Math.sqrt(pv * (1 - pv) / 4000) + 1e-3, `state ${s}: frequency ${counts[k] / 4000}, p(v) ${pv}`);
  });
  v.dispose();
  rbm.dispose();
});

test("the unrolled DBN's forward equals the stack of p(h|v) of its RBMs; pretrainRbms returns Dense + sigmoid pairs", () => {
  const r = new Rng(12);
  const x = tf.tensor2d(binaryRows(r, 60, 10));
  const rbms = trainRbmStack(x, [6, 4, 3], { rng: r, epochs: 2, batchSize: 10, learningRate: 0.1 });
  const layers = unrollRbms(rbms);
  let out: tf.Tensor = x, stack: tf.Tensor2D = x;
  for (const layer of layers) out = layer.forward(out, INFERENCE).out;
  for (const rbm of rbms) stack = rbm.hiddenProbs(stack);
  assert.ok(tf.max(tf.abs(tf.sub(out, stack))).dataSync()[0] < 1e-6);
  // The layers hold copies: training the network leaves the RBMs alone.
  (layers[0].params.W as tf.Variable).assign(tf.zerosLike(layers[0].params.W));
  assert.ok(tf.max(tf.abs(rbms[0].W)).dataSync()[0] > 0);
  const pre = pretrainRbms(x, [5, 3], { rng: new Rng(1), epochs: 1, batchSize: 10, learningRate: 0.1 });
  assert.deepEqual(pre.map((l) => l.name), ["Dense(10→5)", "sigmoid", "Dense(5→3)", "sigmoid"]);
  assert.throws(() => pretrainRbms(x, [5], { rng: new Rng(1), epochs: 1, batchSize: 10, learningRate: 0.1, activation: "relu" }), /sigmoid/);
  assert.throws(() => pretrainRbms(x, [], { rng: new Rng(1), epochs: 1, batchSize: 10, learningRate: 0.1 }), /hiddenSizes/);
  rbms.forEach((rb) => rb.dispose());
  layers.concat(pre).forEach((l) => l.dispose());
  x.dispose();
});

test("bad input gets errors that name the problem", () => {
  assert.throws(() => new Rbm([[1, 2]], [0, 0], [0, 0]), /W must be \[I, J\]/);
  assert.throws(() => Rbm.init(3, 2, {} as never), /rng/);
  assert.throws(() => ex.exactLogZ({ W: [[1]], b: [0, 1], a: [0] }), /b needs 1 entries/);
  const rbm = Rbm.init(3, 2, { rng: new Rng(1) });
  assert.throws(() => rbm.hiddenProbs(tf.zeros([2, 4]) as tf.Tensor2D), /v should be \[N, 3\]/);
  assert.throws(() => rbm.gibbs(tf.zeros([2, 3]) as tf.Tensor2D, -1, new Rng(1)), /k must be/);
  const g = Rbm.init(3, 2, { rng: new Rng(1), visible: "gaussian" });
  assert.throws(() => g.pseudoLogLikelihood(tf.zeros([2, 3]) as tf.Tensor2D, { rng: new Rng(1) }), /Bernoulli/);
  rbm.dispose();
  g.dispose();
});

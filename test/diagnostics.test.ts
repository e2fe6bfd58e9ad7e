/**
 * Diagnostics: known inputs give known fractions and percentiles; a scratch MLP and the same MLP in
 * TensorFlow.js (autodiff and tf.layers) give the same per-layer statistics; the recorder and the layer
 * figures are well-formed; and the scratch initializers have the statistics of tf.initializers.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import { Rng } from "../lib/random";
import {
  mean, variance, l2Norm, percentile, percentiles, summarize, saturatedFraction, deadFraction, zeroFraction, meanStd,
} from "../lib/diagnostics/stats";
import { probe, LayerProbe } from "../lib/diagnostics/probe";
import { layerStats, describeLayers } from "../lib/diagnostics/layer-stats";
import { Recorder } from "../lib/diagnostics/recorder";
import { deepSpec, runExperiment, headOf } from "../lib/diagnostics/experiments";
import { smallMnist } from "../lib/data/mnist";
import { layerBands, layerLines, layerProfile } from "../lib/plot/layers";
import { MlpSpec, initMlp, initializers, InitName } from "../lib/scratch/init";
import { MatrixMlp } from "../lib/nn/mlp";
import { AutodiffMlp } from "../lib/tf/mlp-autodiff";
import { LayersMlp } from "../lib/tf/mlp-layers";
import { sgd } from "../lib/scratch/optimizers";
import { train } from "../lib/train/train";

before(async () => {
  await initBackend();
});

const near = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tolerance ${tol})`);

test("mean, variance, norm and percentiles of known numbers (NumPy's linear interpolation)", () => {
  const v = [1, 2, 3, 4];
  assert.equal(mean(v), 2.5);
  assert.equal(variance(v), 1.25);
  assert.equal(l2Norm([3, 4]), 5);
  // numpy.percentile([1,2,3,4], [0, 25, 50, 90, 100]) = [1, 1.75, 2.5, 3.7, 4]
  const p = percentiles([4, 1, 3, 2], [0, 25, 50, 90, 100]);
  [1, 1.75, 2.5, 3.7, 4].forEach((want, k) => near(p[k], want, 1e-12, `p${[0, 25, 50, 90, 100][k]}`));
  assert.equal(percentile(Array.from({ length: 101 }, (_, i) => i), 37), 37);
  const s = summarize([0, 10], [50]);
  assert.deepEqual([s.n, s.mean, s.variance, s.std, s.min, s.max, s.percentiles[0]], [2, 5, 25, 5, 0, 10, 5]);
  const ms = meanStd([1, 2, 3]);
  near(ms.std, 1, 1e-12, "sample std of 1, 2, 3");
  assert.throws(() => percentile([], 50), /no values/);
  assert.throws(() => percentile([1], 101), /\[0, 100\]/);
  assert.throws(() => summarize([1, NaN]), /NaN/);
});

test("saturated fraction: sigmoid near 0 or 1, tanh and softsign near ±1, threshold a parameter", () => {
  const sig = [0.001, 0.005, 0.02, 0.5, 0.98, 0.995, 0.999, 0.3];
  assert.equal(saturatedFraction(sig, "sigmoid"), 4 / 8); // 0.001, 0.005, 0.995, 0.999 with ε = 0.01
  assert.equal(saturatedFraction(sig, "sigmoid", 0.05), 6 / 8); // + 0.02 and 0.98
  const th = [-0.999, -0.5, 0, 0.2, 0.995, 0.9];
  assert.equal(saturatedFraction(th, "tanh"), 2 / 6);
  assert.equal(saturatedFraction(th, "softsign", 0.2), 3 / 6);
  assert.throws(() => saturatedFraction(sig, "relu"), /deadFraction/);
  assert.throws(() => saturatedFraction(sig, "sigmoid", 0.6), /threshold/);
});

test("dead fraction: units (columns) with output ≤ 0 on every sample", () => {
  // 3 samples × 4 units: unit 0 always 0 (dead), unit 1 alive once, unit 2 always alive, unit 3 negative (leaky coma).
  const s = [
    0, 0, 1, -0.01,
    0, 2, 1, -0.02,
    0, 0, 1, -0.03,
  ];
  assert.equal(deadFraction(s, 4), 2 / 4);
  assert.equal(deadFraction(s, 4, "leakyRelu"), 2 / 4);
  assert.equal(zeroFraction(s), 5 / 12);
  assert.throws(() => deadFraction(s, 5), /rows of 5/);
  assert.throws(() => deadFraction(s, 4, "sigmoid"), /saturatedFraction/);
});

/** A small deep net and a batch, for the scratch-vs-tfjs comparisons. */
function setup(hidden: MlpSpec["hidden"], seed: number, opts: Partial<MlpSpec> = {}) {
  const spec: MlpSpec = { sizes: [12, 9, 8, 7, 4], hidden, output: "softmax", loss: "crossEntropy", ...opts };
  const rng = new Rng(seed);
  const weights = initMlp(spec, { init: "glorotNormal", rng });
  const n = 40;
  const x = tf.tensor2d(Array.from({ length: n * 12 }, () => rng.normal(0, 1.5)), [n, 12]);
  const t = tf.oneHot(tf.tensor1d(Array.from({ length: n }, () => rng.int(0, 4)), "int32"), 4).toFloat() as tf.Tensor2D;
  return { spec, weights, x, t };
}

function assertProbesAgree(a: LayerProbe[], b: LayerProbe[], tol: number, label: string) {
  assert.equal(a.length, b.length);
  a.forEach((pa, k) => {
    const pb = b[k];
    for (const key of ["pre", "post", "dPre", "dPost", "W", "dW"] as const) {
      assert.equal(pa[key].length, pb[key].length, `${label} layer ${k + 1} ${key} length`);
      const scale = Math.max(1e-30, ...Array.from(pa[key], Math.abs));
      let err = 0;
      for (let i = 0; i < pa[key].length; i++) err = Math.max(err, Math.abs(pa[key][i] - pb[key][i]));
      assert.ok(err <= tol * scale, `${label} layer ${k + 1} ${key}: max abs diff ${err} for values up to ${scale}`);
    }
  });
}

for (const hidden of ["sigmoid", "tanh", "relu", "leakyRelu", "elu", "prelu", "softsign", "maxout"] as const) {
  test(`scratch (hand-written backward) and tfjs (autodiff, tf.layers) probes agree: ${hidden}`, () => {
    const { spec, weights, x, t } = setup(hidden, 7);
    const scratch = new MatrixMlp(spec, weights);
    const auto = new AutodiffMlp(spec, weights);
    const layers = new LayersMlp(spec, weights);
    const before = tf.memory().numTensors;
    const ps = probe(scratch, x, t), pa = probe(auto, x, t), pl = probe(layers, x, t);
    assert.equal(tf.memory().numTensors, before, "probe leaks no tensors");
    assertProbesAgree(ps, pa, 1e-5, "autodiff");
    assertProbesAgree(ps, pl, 1e-5, "tf.layers");
    // The probe's forward pass is the model's own: last S equals predict().
    const out = layers.predict(x);
    const o = out.dataSync();
    ps[ps.length - 1].post.forEach((v, i) => near(v, o[i], 1e-6, "output"));
    // ∂q/∂W from the probe equals the model's own gradient.
    const { loss, grads } = scratch.lossAndGrads(x, t);
    const g0 = grads[0].dataSync();
    ps[0].dW.forEach((v, i) => near(v, g0[i], 1e-7, "dW^1 vs lossAndGrads"));
    // Same statistics.
    const ss = layerStats(ps), sl = layerStats(pl);
    ss.forEach((s, k) => {
      const o2 = sl[k];
      near(s.act.mean, o2.act.mean, 1e-6, `act mean layer ${k + 1}`);
      near(s.act.std, o2.act.std, 1e-6, `act std layer ${k + 1}`);
      s.act.percentiles.forEach((p, i) => near(p, o2.act.percentiles[i], 1e-6, `act p${s.act.ps[i]} layer ${k + 1}`));
      near(s.grad.norm, o2.grad.norm, 1e-5 * s.grad.norm, `grad norm layer ${k + 1}`);
      near(s.weightGrad.norm, o2.weightGrad.norm, 1e-5 * s.weightGrad.norm, `dW norm layer ${k + 1}`);
      assert.ok(Object.is(s.saturated, o2.saturated) || Math.abs(s.saturated - o2.saturated) <= 1 / s.act.n, `saturated layer ${k + 1}`);
      assert.ok(Object.is(s.dead, o2.dead) || s.dead === o2.dead, `dead layer ${k + 1}`);
    });
    assert.match(describeLayers(ss), /capa/);
    tf.dispose([loss, ...grads, out, x, t]);
    scratch.dispose(); auto.dispose(); layers.dispose();
  });
}

test("stats on a constructed net: a saturated sigmoid layer and a dead ReLU layer are counted exactly", () => {
  // One input x ∈ {1, 2}; layer 1 has 4 sigmoid units with weights (20, -20, 0, 0.1) → outputs ≈ 1, ≈ 0, 0.5, ≈ 0.5.
  const spec: MlpSpec = { sizes: [1, 4, 2], hidden: "sigmoid", output: "softmax", loss: "crossEntropy" };
  const w = [{ W: [[20, -20, 0, 0.1]], b: [0, 0, 0, 0] }, { W: [[1, 0], [0, 1], [1, 1], [0, 0]], b: [0, 0] }];
  const x = tf.tensor2d([[1], [2]]), t = tf.tensor2d([[1, 0], [0, 1]]);
  for (const m of [new MatrixMlp(spec, w), new LayersMlp(spec, w)]) {
    const [s1] = layerStats(probe(m, x, t));
    assert.equal(s1.saturated, 4 / 8);
    assert.ok(Number.isNaN(s1.dead));
    m.dispose();
  }
  const reluSpec: MlpSpec = { ...spec, hidden: "relu" };
  const wr = [{ W: [[1, -1, -3, 2]], b: [0, 0, 1, -3] }, w[1]]; // unit 2: −x < 0; unit 3: 1 − 3x < 0; unit 4: alive for x = 2
  for (const m of [new MatrixMlp(reluSpec, wr), new LayersMlp(reluSpec, wr)]) {
    const [s1] = layerStats(probe(m, x, t));
    assert.equal(s1.dead, 2 / 4);
    // A dead unit passes no gradient: its column of ∂q/∂Φ is 0.
    const p = probe(m, x, t)[0];
    assert.ok(p.dPre[1] === 0 && p.dPre[5] === 0, "no gradient through a dead ReLU");
    m.dispose();
  }
  tf.dispose([x, t]);
});

test("Recorder: snapshots every k updates, update-to-weight ratio = ρ‖∂q/∂W‖/‖W‖ for SGD, no leaks", () => {
  const { spec, weights, x, t } = setup("tanh", 3);
  const model = new MatrixMlp(spec, weights);
  const rec = new Recorder(model, { x, t }, { every: 2 });
  const before = tf.memory().numTensors;
  const rho = 0.1;
  // Full-batch updates on the probe batch itself: the ratio of the first update is known.
  const s0 = rec.record();
  rec.snapshots.pop();
  train(model, { x, t }, { epochs: 5, optimizer: rec.wrap(sgd({ learningRate: rho })), mode: "batch", logEvery: 0 });
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(rec.stepAxis(), [0, 2, 4]);
  rec.snapshots[0].layers.forEach((s, l) => near(s.act.mean, s0.layers[l].act.mean, 1e-7, "first snapshot = before training"));
  rec.snapshots[0].updateRatio.forEach((r, l) => {
    const want = (rho * s0.layers[l].weightGrad.norm) / s0.layers[l].weight.norm;
    near(r, want, 1e-4 * want, `update ratio layer ${l + 1}`);
  });
  const series = rec.series((s) => s.grad.norm);
  assert.equal(series.length, 4);
  assert.equal(series[0].length, 3);
  const bands = rec.bands();
  assert.equal(bands.length, 3); // hidden layers
  assert.equal(bands[0].mid.length, 3);
  assert.throws(() => rec.bands({ lo: 1 }), /not recorded/);
  rec.dispose();
  model.dispose();
  tf.dispose([x, t]);
});

test("layer figures: bands, lines and profiles have axis titles and one value per x", () => {
  const fig = layerBands([0, 1, 2], [{ name: "capa 1", lo: [0, 0, 0], mid: [0.5, 0.4, 0.3], hi: [1, 1, 1] }], { title: "t", yTitle: "S" });
  assert.equal(fig.data.length, 3);
  assert.equal((fig.layout.xaxis as { title: { text: string } }).title.text, "actualizaciones");
  assert.equal((fig.layout.yaxis as { title: { text: string } }).title.text, "S");
  assert.throws(() => layerBands([0, 1], [{ name: "capa 1", lo: [0], mid: [0, 0], hi: [0, 0] }]), /one value per x/);
  const lines = layerLines([1, 2], [[1, 2], [3, 4]], { yTitle: "‖∂q/∂Φ‖", logY: true });
  assert.equal((lines.layout.yaxis as { type: string }).type, "log");
  const prof = layerProfile({ a: [1, 2, 3] }, { yTitle: "Var" });
  assert.deepEqual(prof.data[0].x, [1, 2, 3]);
  assert.equal((prof.layout.xaxis as { title: { text: string } }).title.text, "capa l");
});

/** Sample mean and variance of a tensor's entries. */
function tensorStats(w: tf.Tensor): { mean: number; variance: number; min: number; max: number } {
  const v = Array.from(w.dataSync());
  return { mean: mean(v), variance: variance(v), min: Math.min(...v), max: Math.max(...v) };
}

test("scratch initializers have the sample statistics of tf.initializers (mean, variance, range)", () => {
  const fanIn = 300, fanOut = 100; // 30 000 draws: variance within ~2.5 % (4 standard errors)
  const rng = new Rng(11);
  const cases: [InitName, { apply(shape: number[]): tf.Tensor }, number, number | undefined][] = [
    // name, tfjs initializer, expected variance, bound of the support (uniform) or undefined
    ["glorotUniform", tf.initializers.glorotUniform({ seed: 1 }), 2 / (fanIn + fanOut), Math.sqrt(6 / (fanIn + fanOut))],
    ["heUniform", tf.initializers.heUniform({ seed: 1 }), 2 / fanIn, Math.sqrt(6 / fanIn)],
    ["lecunUniform", tf.initializers.leCunUniform({ seed: 1 }), 1 / fanIn, Math.sqrt(3 / fanIn)],
    ["standardNormal", tf.initializers.randomNormal({ mean: 0, stddev: 1, seed: 1 }), 1, undefined],
  ];
  for (const [name, tfInit, want, bound] of cases) {
    const mine = initializers[name](fanIn, fanOut, rng).flat();
    const theirs = tfInit.apply([fanIn, fanOut]);
    const a = { mean: mean(mine), variance: variance(mine), min: Math.min(...mine), max: Math.max(...mine) };
    const b = tensorStats(theirs);
    theirs.dispose();
    for (const s of [a, b]) {
      near(s.variance, want, 0.025 * want, `${name} variance`);
      near(s.mean, 0, 4 * Math.sqrt(want / (fanIn * fanOut)), `${name} mean`);
      if (bound !== undefined) assert.ok(s.min >= -bound && s.max <= bound && s.max > 0.99 * bound, `${name} support ±${bound}`);
    }
    near(a.variance, b.variance, 0.05 * want, `${name}: scratch vs tfjs variance`);
  }
});

/** Variance of a normal truncated at ±2σ, as a fraction of σ²: 1 − 4φ(2)/(2Φ(2) − 1). */
const TRUNC2_VARIANCE = 0.7737413;

test("Glorot normal N(0, 1/fan_avg), He and LeCun normal vs tfjs's truncated normals", () => {
  // tfjs 4 (like Keras 2.2) draws the "normal" ones from a normal with σ² = the target variance truncated
  // at 2σ, and does not rescale σ (Keras ≥ 2.3 divides it by 0.8796): its sample variance is 0.774 of the
  // target. The scratch ones are untruncated normals with exactly the target variance.
  const fanIn = 300, fanOut = 100, rng = new Rng(5);
  const cases: [InitName, { apply(shape: number[]): tf.Tensor }, number][] = [
    ["glorotNormal", tf.initializers.glorotNormal({ seed: 2 }), 2 / (fanIn + fanOut)],
    ["heNormal", tf.initializers.heNormal({ seed: 2 }), 2 / fanIn],
    ["lecunNormal", tf.initializers.leCunNormal({ seed: 2 }), 1 / fanIn],
  ];
  for (const [name, tfInit, want] of cases) {
    const mine = initializers[name](fanIn, fanOut, rng).flat();
    const theirs = tfInit.apply([fanIn, fanOut]);
    const b = tensorStats(theirs);
    theirs.dispose();
    near(variance(mine), want, 0.025 * want, `${name} scratch variance`);
    near(b.variance, TRUNC2_VARIANCE * want, 0.025 * want, `${name} tfjs variance (truncated at 2σ)`);
    // The truncation shows in the support: tfjs never goes past 2σ, the full normal does.
    const sigma = Math.sqrt(want);
    assert.ok(b.max <= 2 * sigma + 1e-6 && b.min >= -2 * sigma - 1e-6, `${name}: tfjs is truncated at 2σ`);
    assert.ok(Math.max(...mine.map(Math.abs)) > 3 * sigma, `${name}: scratch is a full normal`);
    // Truncating the scratch sample at 2σ gives tfjs's variance: same distribution before truncation.
    const cut = mine.filter((v) => Math.abs(v) <= 2 * sigma);
    near(variance(cut), b.variance, 0.03 * want, `${name}: scratch truncated at 2σ vs tfjs`);
  }
});

test("deepSpec: depth hidden layers of width units, softmax + cross-entropy; depth must be positive", () => {
  const spec = deepSpec({ inputs: 6, depth: 3, width: 5, hidden: "prelu" });
  assert.deepEqual(spec, { sizes: [6, 5, 5, 5, 10], hidden: "prelu", output: "softmax", loss: "crossEntropy" });
  assert.throws(() => deepSpec({ inputs: 6, depth: 0, width: 5, hidden: "relu" }), /depth/);
});

test("runExperiment: a diverging run returns its partial history and diverged, a sound one its test error; no leaks", () => {
  const data = smallMnist({ limit: 300, seed: 1 });
  assert.equal(data.inputs, 196);
  const probe = headOf(data.train, 50);
  const before = tf.memory().numTensors;
  const boom = runExperiment({ spec: deepSpec({ inputs: 196, depth: 6, width: 64, hidden: "relu" }), init: "standardNormal", seed: 2, data, epochs: 3, learningRate: 0.01 });
  assert.equal(boom.diverged, true);
  assert.equal(boom.history.diverged, true);
  assert.ok(Number.isNaN(boom.testError));
  assert.equal(boom.history.loss.length, boom.history.epochs);
  assert.ok(boom.history.epochs < 3);
  const ok = runExperiment({ spec: deepSpec({ inputs: 196, depth: 2, width: 16, hidden: "tanh" }), init: "glorotUniform", seed: 1, data, epochs: 2, learningRate: 0.1,
    record: { batch: probe, every: 5 } });
  assert.equal(ok.diverged, false);
  assert.equal(ok.history.diverged, false);
  assert.deepEqual([ok.history.epochs, ok.history.loss.length, ok.history.valLoss.length], [2, 2, 2]);
  assert.ok(ok.testError >= 0 && ok.testError < 0.9, `test error ${ok.testError}`);
  assert.ok(ok.recorder!.snapshots.length > 1);
  assert.equal(tf.memory().numTensors, before, "runExperiment left tensors behind");
  tf.dispose([probe.x, probe.t]);
  tf.dispose([data.train, data.validation, data.test]);
});

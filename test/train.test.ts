import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import { Rng } from "../lib/random";
import { initMlp, MlpSpec } from "../lib/scratch/init";
import { MatrixMlp } from "../lib/nn/mlp";
import { AutodiffMlp } from "../lib/tf/mlp-autodiff";
import { LayersMlp } from "../lib/tf/mlp-layers";
import { Model } from "../lib/train/model";
import { Optimizer, sgd } from "../lib/scratch/optimizers";
import { train, TrainData, TRAIN_MODES, accuracy, isClassTargets, DivergedError } from "../lib/train/train";
import { xor, spirals, moons, regression1d, regressionTensors } from "../lib/data/toy2d";
import { datasetToTensors } from "../lib/data/mnist";
import { LabeledSet } from "../lib/data/mnist";

before(async () => {
  await initBackend();
});

/** x and one-hot targets of a labelled set (the caller disposes them). */
function tensors(set: LabeledSet): TrainData {
  const { x, t, labels } = datasetToTensors(set);
  labels.dispose();
  return { x, t };
}

function mlp(spec: MlpSpec, seed: number): MatrixMlp {
  return new MatrixMlp(spec, initMlp(spec, { rng: new Rng(seed) }));
}

test("XOR: a 2-4-2 tanh MLP reaches 100 % training accuracy (batch BackProp, ρ = 1, seed 1)", () => {
  const d = tensors(xor(4));
  const m = mlp({ sizes: [2, 4, 2], hidden: "tanh", output: "softmax", loss: "crossEntropy" }, 1);
  const h = train(m, d, { epochs: 100, optimizer: sgd({ learningRate: 1 }), mode: "batch", logEvery: 0 });
  assert.equal(h.accuracy[h.epochs - 1], 1, `accuracy ${h.accuracy[h.epochs - 1]}`);
  assert.ok(h.loss[h.epochs - 1] < 0.05, `loss ${h.loss[h.epochs - 1]}`);
  assert.equal(h.accuracy[0] < 1, true, "not already solved at the start");
  tf.dispose(d);
  m.dispose();
});

test("spirals: a 2-16-16-2 tanh MLP reaches ≥ 95 % training accuracy (mini-batches of 32, ρ = 0.5, seed 0)", () => {
  const d = tensors(spirals(200, { rng: new Rng(1) }));
  const m = mlp({ sizes: [2, 16, 16, 2], hidden: "tanh", output: "softmax", loss: "crossEntropy" }, 0);
  const h = train(m, d, { epochs: 300, optimizer: sgd({ learningRate: 0.5 }), mode: "minibatch", batchSize: 32, rng: new Rng(2), logEvery: 0 });
  const acc = h.accuracy[h.epochs - 1];
  assert.ok(acc >= 0.95, `spirals accuracy ${acc}`);
  assert.ok(h.accuracy[0] < 0.7, "spirals are not solved at the start");
  tf.dispose(d);
  m.dispose();
});

test("no tensor leaks: tf.memory().numTensors is the same after every epoch (every mode, model, validation, early stopping)", () => {
  const d = tensors(moons(40, { rng: new Rng(1) }));
  const v = tensors(moons(20, { rng: new Rng(2) }));
  const spec: MlpSpec = { sizes: [2, 5, 2], hidden: "prelu", output: "softmax", loss: "crossEntropy" };
  for (const Impl of [MatrixMlp, AutodiffMlp, LayersMlp]) {
    for (const mode of TRAIN_MODES) {
      const m = new Impl(spec, initMlp(spec, { rng: new Rng(3) }));
      const counts: number[] = [];
      const start = tf.memory().numTensors;
      train(m, d, {
        epochs: 4, optimizer: sgd({ learningRate: 0.1 }), mode, rng: new Rng(1), validation: v, logEvery: 0,
        earlyStopping: { patience: 10 }, onEpoch: () => counts.push(tf.memory().numTensors),
      });
      assert.ok(counts.every((c) => c === counts[0]), `${Impl.name} ${mode}: tensors per epoch ${counts}`);
      assert.equal(tf.memory().numTensors, start, `${Impl.name} ${mode}: train() left tensors behind`);
      m.dispose();
    }
  }
  tf.dispose([d, v]);
});

/** A model that records which rows it was given and trains a counter; loss per epoch is scripted. */
class Recorder implements Model {
  readonly inputShape = [1];
  readonly outputSize = 1;
  readonly params = [tf.variable(tf.scalar(0))];
  batches: number[][] = [];
  epochLosses: number[] = [];
  private epoch = 0;
  predict(x: tf.Tensor2D): tf.Tensor2D {
    return tf.clone(x);
  }
  loss(): tf.Scalar {
    return tf.scalar(this.epochLosses[this.epoch++] ?? 0);
  }
  lossAndGrads(x: tf.Tensor2D): { loss: tf.Scalar; grads: tf.Tensor[] } {
    this.batches.push(Array.from(x.dataSync()));
    return { loss: tf.scalar(0), grads: [tf.scalar(1)] };
  }
}
/** θ ← θ + 1 per update, so θ tells how many updates ran. */
const counter: Optimizer = {
  name: "counter", iterations: 0, currentLearningRate: () => 1, reset: () => undefined,
  step: (theta, gradientAt) => { gradientAt(theta); theta.forEach((_, i) => { theta[i] += 1; }); },
};
const rows = (n: number) => ({ x: tf.tensor2d(Array.from({ length: n }, (_, i) => [i])), t: tf.zeros([n, 1]) as tf.Tensor2D });

test("the four modes as the lecture defines them: updates per epoch and sample order", () => {
  const d = rows(10);
  const run = (mode: (typeof TRAIN_MODES)[number], batchSize?: number) => {
    const m = new Recorder();
    const h = train(m, d, { epochs: 2, optimizer: counter, mode, batchSize, rng: new Rng(5), logEvery: 0, accuracy: false });
    return { m, h };
  };
  const batch = run("batch");
  assert.deepEqual(batch.m.batches, [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
  const mini = run("minibatch", 4);
  assert.deepEqual(mini.m.batches.map((b) => b.length), [4, 4, 2, 4, 4, 2]);
  assert.notDeepEqual(mini.m.batches.slice(0, 3).flat(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], "mini-batches are shuffled");
  assert.deepEqual([...mini.m.batches.slice(0, 3).flat()].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], "each sample once per epoch");
  const inc = run("incremental");
  assert.equal(inc.m.batches.length, 20);
  const firstPass = inc.m.batches.slice(0, 10).flat(), secondPass = inc.m.batches.slice(10).flat();
  assert.notDeepEqual(firstPass, secondPass, "a new random order every epoch");
  const online = run("online");
  assert.deepEqual(online.m.batches.flat(), [...Array(10).keys(), ...Array(10).keys()], "online: samples in arrival order");
  assert.equal(online.m.params[0].dataSync()[0], 20);
  for (const r of [batch, mini, inc, online]) r.m.params[0].dispose();
  tf.dispose(d);
});

test("early stopping: stops `patience` epochs after the best one and restores its weights", () => {
  const d = rows(3);
  const m = new Recorder();
  m.epochLosses = [5, 4, 3, 3.5, 3.2, 3.1, 0.1];
  const lines: string[] = [];
  const h = train(m, d, { epochs: 7, optimizer: counter, mode: "batch", logEvery: 1, log: (l) => lines.push(l), earlyStopping: { patience: 3 }, accuracy: false });
  assert.equal(h.epochs, 6);
  assert.equal(h.stoppedEarly, true);
  assert.equal(h.bestEpoch, 3);
  assert.equal(m.params[0].dataSync()[0], 3, "weights after 3 updates (epoch 3) are back");
  assert.match(lines[lines.length - 1], /early stopping at epoch 6: loss did not improve for 3 epochs \(best 3\.000000 at epoch 3\); restored the weights of epoch 3/);
  assert.throws(() => train(new Recorder(), d, { epochs: 2, optimizer: counter, earlyStopping: { patience: 1, monitor: "valLoss" } }), /monitors "valLoss" but no validation data/);
  tf.dispose(d);
  m.params[0].dispose();
});

test("same seed, same history; progress lines every k epochs, quiet with logEvery 0", () => {
  const d = tensors(moons(30, { rng: new Rng(1) }));
  const spec: MlpSpec = { sizes: [2, 6, 2], hidden: "relu", output: "softmax", loss: "crossEntropy" };
  const run = (seed: number, logEvery: number, lines: string[] = []) => {
    const m = mlp(spec, 1);
    const h = train(m, d, { epochs: 10, optimizer: sgd({ learningRate: 0.3 }), batchSize: 8, rng: new Rng(seed), logEvery, log: (l) => lines.push(l), validation: d });
    m.dispose();
    return h;
  };
  const lines: string[] = [];
  const a = run(7, 4, lines), b = run(7, 0), c = run(8, 0);
  assert.deepEqual(a.loss, b.loss);
  assert.notDeepEqual(a.loss, c.loss);
  assert.deepEqual(lines.map((l) => l.slice(0, 11)), ["epoch  1/10", "epoch  4/10", "epoch  8/10", "epoch 10/10"]);
  assert.match(lines[0], /^epoch  1\/10  loss \d\.\d{6}  acc +\d+\.\d%  val_loss \d\.\d{6}  val_acc +\d+\.\d%  \d+\.\d ms$/);
  assert.equal(a.valLoss.length, 10);
  tf.dispose(d);
});

test("a diverging run stops with an error that suggests a smaller learning rate", () => {
  const r = regressionTensors(regression1d(20, { rng: new Rng(1), range: [-30, 30] }));
  const m = mlp({ sizes: [1, 8, 1], hidden: "relu" }, 1);
  assert.throws(() => train(m, r, { epochs: 50, optimizer: sgd({ learningRate: 10 }), mode: "batch", logEvery: 0 }),
    /loss diverged at epoch \d+ .*learning rate is probably too large.*SGD\(ε=10\)/);
  tf.dispose(r);
  m.dispose();
});

test("onDiverge \"stop\": the same run ends at the diverged epoch and returns the epochs before it", () => {
  const r = regressionTensors(regression1d(20, { rng: new Rng(1), range: [-30, 30] }));
  const spec: MlpSpec = { sizes: [1, 8, 1], hidden: "relu" };
  const opts = { epochs: 50, optimizer: sgd({ learningRate: 10 }), mode: "batch" as const, logEvery: 0 };
  // The default is "throw", with the message of the test above; it says at which epoch.
  const m1 = mlp(spec, 1);
  let message = "";
  assert.throws(() => train(m1, r, { ...opts, onDiverge: "throw" }), (e: Error) => ((message = e.message), true));
  assert.match(message, /^train: the loss diverged at epoch \d+ .*learning rate is probably too large.*SGD\(ε=10\)/);
  const at = Number(/epoch (\d+)/.exec(message)![1]);
  assert.ok(at > 1, `diverges after a few epochs (at ${at})`);
  m1.dispose();
  // "stop": no error; the curves of epochs 1..at-1, all finite, as onEpoch saw them; one line says why.
  const m2 = mlp(spec, 1);
  const seen: number[] = [], lines: string[] = [];
  const before = tf.memory().numTensors;
  const h = train(m2, r, { ...opts, onDiverge: "stop", logEvery: 100, log: (l) => lines.push(l), onEpoch: (s) => seen.push(s.loss) });
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");
  assert.equal(h.diverged, true);
  assert.equal(h.epochs, at - 1);
  assert.equal(h.loss.length, at - 1);
  assert.equal(h.ms.length, at - 1);
  assert.deepEqual(h.loss, seen);
  assert.ok(h.loss.every(Number.isFinite));
  assert.equal(h.stoppedEarly, false);
  assert.equal(h.bestEpoch, at - 1);
  assert.equal(lines[lines.length - 1], `stopped: ${message.slice("train: ".length)}`);
  m2.dispose();
  // With early stopping, the weights of the best epoch come back.
  const m3 = mlp(spec, 1);
  const h3 = train(m3, r, { ...opts, onDiverge: "stop", earlyStopping: { patience: 100 } });
  assert.equal(h3.diverged, true);
  assert.equal(h3.bestEpoch, 1 + h3.loss.indexOf(Math.min(...h3.loss)));
  assert.ok(m3.params.every((p) => p.dataSync().every(Number.isFinite)), "finite weights restored");
  m3.dispose();
  // A run that does not diverge says so; a wrong value is an error.
  const m4 = mlp(spec, 1);
  assert.equal(train(m4, r, { ...opts, epochs: 2, optimizer: sgd({ learningRate: 1e-4 }), onDiverge: "stop" }).diverged, false);
  assert.equal(train(m4, r, { ...opts, epochs: 2, optimizer: sgd({ learningRate: 1e-4 }) }).diverged, false);
  assert.throws(() => train(m4, r, { ...opts, onDiverge: "ignore" as never }), /onDiverge must be "throw" or "stop", got "ignore"/);
  m4.dispose();
  tf.dispose(r);
});

test("onDiverge \"stop\" also ends on a DivergedError thrown during an update (e.g. a Recorder that finds NaN)", () => {
  const d = rows(4);
  const nanAt = (k: number, error: () => Error): Optimizer => {
    let steps = 0;
    return { ...counter, name: "nan", step: (theta, g) => { if (++steps === k) throw error(); counter.step(theta, g); } };
  };
  const diverged = () => new DivergedError("summarize: the values contain NaN (did training diverge?)");
  const m = new Recorder();
  m.epochLosses = [3, 2, 1, 0.5];
  const lines: string[] = [];
  const h = train(m, d, { epochs: 4, optimizer: nanAt(3, diverged), mode: "batch", accuracy: false, onDiverge: "stop", logEvery: 1, log: (l) => lines.push(l) });
  assert.deepEqual([h.diverged, h.epochs, h.loss, h.bestEpoch], [true, 2, [3, 2], 2]);
  assert.equal(lines[lines.length - 1], "stopped at epoch 3: summarize: the values contain NaN (did training diverge?)");
  // "throw" passes it on; other errors are never taken for divergence.
  assert.throws(() => train(new Recorder(), d, { epochs: 4, optimizer: nanAt(3, diverged), mode: "batch", accuracy: false, logEvery: 0 }), DivergedError);
  assert.throws(() => train(new Recorder(), d, { epochs: 4, optimizer: nanAt(2, () => new Error("disk full")), mode: "batch", accuracy: false, logEvery: 0, onDiverge: "stop" }), /disk full/);
  // train's own divergence error is a DivergedError too (same message as ever).
  const r = regressionTensors(regression1d(20, { rng: new Rng(1), range: [-30, 30] }));
  const net = mlp({ sizes: [1, 8, 1], hidden: "relu" }, 1);
  assert.throws(() => train(net, r, { epochs: 50, optimizer: sgd({ learningRate: 10 }), mode: "batch", logEvery: 0 }), DivergedError);
  net.dispose();
  tf.dispose([d, r]);
  m.params[0].dispose();
});

test("wrong shapes and options name what was expected and what was given", () => {
  const m = mlp({ sizes: [2, 3, 2], output: "softmax", loss: "crossEntropy" }, 1);
  const x = tf.zeros([4, 2]) as tf.Tensor2D, t = tf.zeros([4, 2]) as tf.Tensor2D;
  const x3 = tf.zeros([4, 3]) as tf.Tensor2D, t1 = tf.zeros([4, 1]) as tf.Tensor2D, t5 = tf.zeros([5, 2]) as tf.Tensor2D;
  const opt = { epochs: 1, optimizer: sgd({ learningRate: 0.1 }), logEvery: 0 };
  assert.throws(() => train(m, { x: x3, t }, opt), /train: x should be \[N, 2\] \(N samples of \[2\]\), got \[4, 3\]/);
  assert.throws(() => train(m, { x, t: t1 }, opt), /targets should be \[N, 2\].*got \[4, 1\]/);
  assert.throws(() => train(m, { x, t: t5 }, opt), /x has 4 samples but targets have 5/);
  assert.throws(() => train(m, { x, t }, { ...opt, validation: { x: x3, t } }), /validation data.*got \[4, 3\]/);
  assert.throws(() => train(m, { x, t }, { ...opt, mode: "batch", batchSize: 2 }), /batchSize applies to mode "minibatch" only/);
  assert.throws(() => train(m, { x, t }, { ...opt, mode: "stochastic" as never }), /unknown mode "stochastic". Valid modes: batch, minibatch, incremental, online/);
  assert.throws(() => sgd({ learningRate: 0 }), /learning rate ε must be a positive number/);
  tf.dispose([x, t, x3, t1, t5]);
  m.dispose();
});

test("accuracy: argmax for several outputs, threshold 0.5 for 0/1 and 0 for ±1 targets; class targets detected", () => {
  const s = tf.tensor2d([[0.9, 0.1], [0.4, 0.6], [0.7, 0.3]]), t = tf.tensor2d([[1, 0], [1, 0], [1, 0]]);
  assert.ok(Math.abs(accuracy(s, t) - 2 / 3) < 1e-6);
  const s1 = tf.tensor2d([[0.8], [0.2], [0.6]]), t01 = tf.tensor2d([[1], [0], [0]]), tpm = tf.tensor2d([[1], [-1], [-1]]);
  assert.ok(Math.abs(accuracy(s1, t01) - 2 / 3) < 1e-6);
  assert.ok(Math.abs(accuracy(s1, tpm) - 1 / 3) < 1e-6);
  assert.ok(isClassTargets(t) && isClassTargets(t01) && isClassTargets(tpm));
  assert.ok(!isClassTargets(s1));
  tf.dispose([s, t, s1, t01, tpm]);
});

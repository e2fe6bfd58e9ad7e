/**
 * lib/perf/variable-bridge.ts: stepVariables through the wasm bridge (θ kept between steps, gradients read
 * from the heap, θ written into fresh heap buffers) leaves exactly the float32 values of the plain route
 * (dataSync + Float32Array.from + tf.tensor + assign) after every step, for every optimizer of the lecture,
 * when outside code reassigns the variables between steps, when layers are frozen and unfrozen, and after a
 * step that failed half-way; it leaves no tensor behind; other backends take the plain route.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { installFastWasmKernels } from "../lib/perf/fast-grads";
import { useVariableBridge, variableBridge, takeBridgeCounts } from "../lib/perf/variable-bridge";
import { nativeAddon, nativeStatus } from "../lib/perf/native";
import { MatrixMlp } from "../lib/nn/mlp";
import { freezeFirst, unfreeze } from "../lib/nn/freeze";
import { initMlp, MlpSpec } from "../lib/scratch/init";
import { Rng } from "../lib/random";
import {
  Optimizer, sgd, momentum, nesterov, adagrad, rmspropNesterov, adam, linearDecay, tfjsLike, stepVariables,
} from "../lib/scratch/optimizers";

const spec: MlpSpec = { sizes: [30, 12, 10, 4], hidden: "relu", output: "softmax", loss: "crossEntropy" };
const N = 64, BATCH = 16, STEPS = 8;

before(async () => {
  assert.ok(await tf.setBackend("wasm"), "the wasm backend must initialize");
  installFastWasmKernels();
});

function dataset() {
  const r = new Rng(7);
  const x = r.normalTensor([N, 30]) as tf.Tensor2D;
  const t = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: N }, (_, i) => (i * 7) % 4), "int32"), 4).toFloat()) as tf.Tensor2D;
  return { x, t };
}

/** What happens between two steps (k = steps done so far) or before a step (a failing step). */
interface Scenario {
  between?: (net: MatrixMlp, k: number, opt: Optimizer) => void;
  /** Makes step k fail after the gradient call (the optimizer may have moved the variables already). */
  failAt?: number;
}

/** Float32 values of every variable (all layers, frozen ones too) after each step. */
function run(bridge: boolean, makeOpt: () => Optimizer, sc: Scenario = {}): Float32Array[][] {
  const was = useVariableBridge(bridge);
  const d = dataset();
  const net = new MatrixMlp(spec, initMlp(spec, { rng: new Rng(1) }));
  const opt = makeOpt();
  const order = new Rng(3).permutation(N);
  const after: Float32Array[][] = [];
  try {
    for (let k = 0; k < STEPS; k++) {
      sc.between?.(net, k, opt);
      const s = (k * BATCH) % N;
      const idx = tf.tensor1d(order.slice(s, s + BATCH), "int32");
      const xb = tf.gather(d.x, idx), tb = tf.gather(d.t, idx);
      try {
        const lossAndGrads = () => {
          const r = net.lossAndGrads(xb, tb);
          if (k !== sc.failAt) return r;
          r.grads[0].dispose();
          return { loss: r.loss, grads: r.grads.slice(1) }; // one gradient short: stepVariables throws
        };
        if (k === sc.failAt) assert.throws(() => stepVariables(opt, net.params, lossAndGrads), /gradients for/);
        else stepVariables(opt, net.params, lossAndGrads);
      } finally {
        tf.dispose([idx, xb, tb]);
      }
      after.push(Object.values(net.allParams).map((p) => p.dataSync() as Float32Array));
    }
  } finally {
    net.dispose();
    tf.dispose([d.x, d.t]);
    useVariableBridge(was);
  }
  return after;
}

/** Every float32 value equal (===, no tolerance) after every step. */
function assertSame(plain: Float32Array[][], fast: Float32Array[][], what: string): void {
  assert.equal(fast.length, plain.length);
  plain.forEach((vars, k) => vars.forEach((p, v) => {
    const q = fast[k][v];
    assert.equal(q.length, p.length);
    for (let i = 0; i < p.length; i++) {
      if (p[i] !== q[i]) assert.fail(`${what}: after step ${k + 1}, variable ${v}[${i}] is ${q[i]} through the bridge, ${p[i]} the plain way`);
    }
  }));
}

const OPTIMIZERS: [string, () => Optimizer][] = [
  ["sgd", () => sgd({ learningRate: 0.1 })],
  ["momentum", () => momentum({ learningRate: 0.05, momentum: 0.9 })],
  ["Nesterov look-ahead", () => nesterov({ learningRate: 0.05, momentum: 0.9 })],
  ["Nesterov reformulated (tfjsLike)", () => tfjsLike.momentum(0.05, 0.9, true)],
  ["adagrad", () => adagrad({ learningRate: 0.05 })],
  ["rmsprop + Nesterov", () => rmspropNesterov({ learningRate: 0.01, momentum: 0.9 })],
  ["adam", () => adam({ learningRate: 0.01 })],
  ["sgd with a linear-decay schedule", () => sgd({ learningRate: linearDecay({ initial: 0.2, final: 0.002, tau: 5 }) })],
];

for (const [name, make] of OPTIMIZERS) {
  test(`${name}: the bridge gives the plain route's float32 values after every step`, () => {
    const plain = run(false, make);
    takeBridgeCounts();
    const fast = run(true, make);
    const c = takeBridgeCounts();
    assert.equal(c.steps, STEPS, "every step went through the bridge");
    // 6 variables read once at the first step; the look-ahead moves them, so Nesterov re-reads none either
    assert.equal(c.reads, 6, "the kept θ serves every later step without re-reading a variable");
    assertSame(plain, fast, name);
    // and the plain route itself moved: the comparison is not between two untouched nets
    assert.notEqual(plain[0][0][0], plain[STEPS - 1][0][0]);
  });
}

/**
 * An optimizer from outside the library (as a student would write one) that keeps last step's θ and ∇J by
 * reference: it must see them unchanged at the next step, as the plain route's fresh vectors guarantee.
 */
function keepsItsVectors(): Optimizer {
  let prevG: Float64Array | undefined, prevTheta: Float64Array | undefined, k = 0;
  return {
    name: "keeps-its-vectors", get iterations() { return k; }, currentLearningRate: () => 0.1, reset: () => { k = 0; },
    step(theta, gradientAt) {
      const g = gradientAt(theta);
      for (let i = 0; i < theta.length; i++) {
        // uses the previous step's vectors: wrong values if they were overwritten in the meantime
        const back = prevTheta ? 0.01 * (prevTheta[i] - theta[i]) : 0;
        theta[i] -= 0.1 * g[i] + 0.05 * (prevG ? prevG[i] : 0) - back;
      }
      prevG = g;
      prevTheta = theta;
      k++;
    },
  };
}

test("an optimizer from outside the library gets fresh θ and ∇J vectors: what it keeps stays unchanged", () => {
  const plain = run(false, keepsItsVectors);
  takeBridgeCounts();
  const fast = run(true, keepsItsVectors);
  assert.equal(takeBridgeCounts().steps, STEPS, "every step went through the bridge");
  assertSame(plain, fast, "keeps-its-vectors");
});

test("variables reassigned by outside code between steps are re-read (and only those)", () => {
  const halve = (net: MatrixMlp, k: number) => {
    if (k === 3) tf.tidy(() => net.params[2].assign(tf.mul(net.params[2], 0.5)));
    if (k === 5) net.setWeights(initMlp(spec, { rng: new Rng(9) }));
  };
  for (const [name, make] of [OPTIMIZERS[2], OPTIMIZERS[6]]) {
    const plain = run(false, make, { between: halve });
    takeBridgeCounts();
    const fast = run(true, make, { between: halve });
    assert.equal(takeBridgeCounts().reads, 6 + 1 + 6, "first step, the one halved W², every variable after setWeights");
    assertSame(plain, fast, `${name}, reassigned`);
  }
});

test("frozen layers: the trainable subset changes between steps and the bridge follows it", () => {
  // θ changes size with the trainable subset: the optimizer starts over (reset) each time
  const freezing = (net: MatrixMlp, k: number, opt: Optimizer) => {
    if (k === 0) freezeFirst(net, 2);
    if (k === 3) (freezeFirst(net, 1), opt.reset());
    if (k === 6) (unfreeze(net), opt.reset());
  };
  for (const [name, make] of [OPTIMIZERS[0], OPTIMIZERS[6]]) {
    const plain = run(false, make, { between: freezing });
    // the frozen layers did not move in the plain route
    assert.deepEqual(Array.from(plain[2][0]), Array.from(plain[0][0]));
    const fast = run(true, make, { between: freezing });
    assertSame(plain, fast, `${name}, frozen`);
  }
});

test("a step that fails half-way (look-ahead already taken) leaves the next steps equal too", () => {
  const plain = run(false, OPTIMIZERS[2][1], { failAt: 3 });
  const fast = run(true, OPTIMIZERS[2][1], { failAt: 3 });
  assertSame(plain, fast, "Nesterov, failed step");
});

test("no tensor left behind: tf.memory() counts are stable across steps through the bridge", () => {
  const d = dataset();
  const net = new MatrixMlp(spec, initMlp(spec, { rng: new Rng(1) }));
  const opt = nesterov({ learningRate: 0.05 });
  const step = () => {
    const idx = tf.tensor1d([0, 5, 9, 11], "int32");
    const xb = tf.gather(d.x, idx), tb = tf.gather(d.t, idx);
    stepVariables(opt, net.params, () => net.lossAndGrads(xb, tb));
    tf.dispose([idx, xb, tb]);
  };
  takeBridgeCounts();
  step();
  const m0 = tf.memory();
  for (let k = 0; k < 5; k++) step();
  const m1 = tf.memory();
  assert.equal(takeBridgeCounts().steps, 6);
  assert.equal(m1.numTensors, m0.numTensors);
  assert.equal(m1.numDataBuffers, m0.numDataBuffers);
  assert.equal(m1.numBytes, m0.numBytes);
  net.dispose();
  tf.dispose([d.x, d.t]);
});

test("on the cpu backend the bridge steps aside and stepVariables takes the plain route", async () => {
  assert.ok(await tf.setBackend("cpu"));
  try {
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    assert.equal(variableBridge({}, [v], { lend: true }), null);
    takeBridgeCounts();
    stepVariables(sgd({ learningRate: 0.5 }), [v], () => ({ loss: tf.scalar(0), grads: [tf.tensor1d([1, 1, 2])] }));
    assert.deepEqual(Array.from(v.dataSync()), [0.5, 1.5, 2]);
    assert.equal(takeBridgeCounts().steps, 0);
    v.dispose();
  } finally {
    assert.ok(await tf.setBackend("wasm"));
  }
});

test("the native conversions give Float32Array's and Float64Array's values: ties, subnormals, overflow, ±0, ±inf, NaN", (t) => {
  const native = nativeAddon();
  if (!native) return t.skip(`native addon: ${nativeStatus().why}`);
  const r = new Rng(21);
  const v = Float64Array.from({ length: 4099 }, (_, i) => [0, -0, Infinity, -Infinity, NaN, 1e-40, -3e-45, 1e-46, 3.5e38, -3.4028235677973366e38,
    1 + 2 ** -24, 1 + 3 * 2 ** -24, 2 ** -149 * 1.5][i % 16] ?? r.normal() * 10 ** Math.floor(r.uniform() * 20 - 10));
  const out = new Float32Array(v.length), back = new Float64Array(v.length);
  native.toFloat32(v, out, back);
  const want = Float32Array.from(v);
  for (let i = 0; i < v.length; i++) {
    assert.ok(Object.is(out[i], want[i]), `toFloat32 [${i}] ${v[i]}: ${out[i]} vs ${want[i]}`);
    assert.ok(Object.is(back[i], want[i]), `back [${i}]: ${back[i]} vs ${want[i]}`);
  }
  const alone = new Float32Array(v.length);
  native.toFloat32(v, alone, undefined);   // no back vector (the bridge's unrounded writes)
  assert.deepEqual(alone, want);
  const wide = new Float64Array(v.length);
  native.toFloat64(want, wide);
  for (let i = 0; i < v.length; i++) assert.ok(Object.is(wide[i], Float64Array.from(want)[i]), `toFloat64 [${i}]`);
  assert.throws(() => native.toFloat32(v, new Float32Array(3)), /at least as long/);
  assert.throws(() => native.toFloat64(want, new Float64Array(3)), /at least as long/);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../lib/random";
import { initializers, INIT_NAMES, glorotUniform, standardUniform, initMlp, checkWeights, cloneWeights, fullSpec, MlpSpec, Initializer } from "../lib/scratch/init";

const stats = (m: number[][]) => {
  const v = m.flat();
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean, variance: v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length, min: Math.min(...v), max: Math.max(...v) };
};

test("every initializer has the variance of its formula (fan_in 200, fan_out 300: 60 000 draws)", () => {
  const fanIn = 200, fanOut = 300, avg = (fanIn + fanOut) / 2;
  const want: Record<string, number> = {
    standardNormal: 1, standardUniform: 1 / (3 * fanIn), glorotNormal: 1 / avg, glorotUniform: 1 / avg, heNormal: 2 / fanIn, heUniform: 2 / fanIn,
    lecunNormal: 1 / fanIn, lecunUniform: 1 / fanIn,
  };
  assert.deepEqual([...INIT_NAMES].sort(), Object.keys(want).sort());
  for (const name of INIT_NAMES) {
    const s = stats(initializers[name](fanIn, fanOut, new Rng(1)));
    assert.ok(Math.abs(s.variance / want[name] - 1) < 0.03, `${name}: variance ${s.variance}, want ${want[name]}`);
    assert.ok(Math.abs(s.mean) < 0.02 * Math.sqrt(want[name]) * 3, `${name}: mean ${s.mean}`);
  }
  const u = stats(glorotUniform(fanIn, fanOut, new Rng(2)));
  const limit = Math.sqrt(3 / avg);
  assert.ok(u.max <= limit && u.min >= -limit && u.max > 0.99 * limit, "Glorot uniform stays in ±√(3/fan_avg)");
});

test("initializers are seeded and shaped fanIn × fanOut", () => {
  const a = glorotUniform(3, 5, new Rng(9)), b = glorotUniform(3, 5, new Rng(9));
  assert.deepEqual(a, b);
  assert.equal(a.length, 3);
  assert.equal(a[0].length, 5);
  assert.notDeepEqual(a, glorotUniform(3, 5, new Rng(10)));
  assert.throws(() => glorotUniform(0, 5), /fanIn must be a positive integer/);
});

test("initMlp: shapes per layer (maxout has k columns per unit, PReLU gets α), zero biases", () => {
  const spec: MlpSpec = { sizes: [2, 4, 3, 1], hidden: "maxout", pieces: 3 };
  const w = initMlp(spec, { rng: new Rng(1), init: "heNormal" });
  assert.deepEqual(w.map((l) => [l.W.length, l.W[0].length, l.b.length]), [[2, 12, 12], [4, 9, 9], [3, 1, 1]]);
  assert.ok(w.every((l) => l.b.every((v) => v === 0) && l.alpha === undefined));
  const p = initMlp({ sizes: [2, 3, 1], hidden: "prelu" }, { rng: new Rng(1) });
  assert.deepEqual(p[0].alpha, [0.25, 0.25, 0.25]);
  assert.equal(p[1].alpha, undefined);
  assert.deepEqual(initMlp(spec, { rng: new Rng(5) }), initMlp(spec, { rng: new Rng(5) }));
  assert.throws(() => initMlp(spec, { init: "zeros" as never }), /Unknown initializer "zeros"/);
});

test("Glorot & Bengio's standard init U[−1/√n, 1/√n], by name or as a function, in initMlp", () => {
  const w = standardUniform(400, 50, new Rng(1)).flat();
  const s = stats([w]);
  assert.ok(Math.max(...w.map(Math.abs)) <= 1 / 20, "stays in ±1/√fan_in");
  assert.ok(Math.abs(s.variance / (1 / (3 * 400)) - 1) <= 0.03, `variance 1/(3n): ${s.variance}`);
  assert.ok(Math.abs(s.mean) < 0.02 * Math.sqrt(1 / (3 * 400)) * 3, `mean ${s.mean}`);
  assert.equal(initializers.standardUniform, standardUniform);
  // By name: shapes, zero biases and PReLU α as for every initializer; W from U[±1/√fan_in] of each layer.
  const spec: MlpSpec = { sizes: [6, 5, 5, 5, 10], hidden: "prelu", output: "softmax", loss: "crossEntropy" };
  const ws = initMlp(spec, { init: "standardUniform", rng: new Rng(2) });
  assert.equal(ws.length, 4);
  assert.deepEqual(ws[0].alpha, [0.25, 0.25, 0.25, 0.25, 0.25]);
  assert.ok(ws[0].W.flat().every((v) => Math.abs(v) <= 1 / Math.sqrt(6)));
  assert.ok(ws[1].W.flat().every((v) => Math.abs(v) <= 1 / Math.sqrt(5)));
  assert.ok(ws.every((l) => l.b.every((v) => v === 0)));
  // As a function: the same draws as the name; any Initializer works, e.g. a scaled one.
  assert.deepEqual(initMlp(spec, { init: standardUniform, rng: new Rng(2) }), ws);
  assert.deepEqual(initMlp(spec, { init: initializers.heNormal, rng: new Rng(3) }), initMlp(spec, { init: "heNormal", rng: new Rng(3) }));
  const half: Initializer = (fanIn, fanOut, r) => glorotUniform(fanIn, fanOut, r).map((row) => row.map((v) => v / 2));
  const big = initMlp({ sizes: [200, 300] }, { init: half, rng: new Rng(4) });
  const h = stats(big[0].W);
  assert.ok(Math.abs(h.variance / (1 / 4 / 250) - 1) < 0.03, `a custom initializer: variance ${h.variance}, want ${1 / 4 / 250}`);
  assert.deepEqual(big[0].b, new Array<number>(300).fill(0));
});

test("specs get defaults; weights are checked against them; clones are deep", () => {
  const full = fullSpec({ sizes: [2, 3, 1] });
  assert.deepEqual([full.hidden, full.output, full.loss, full.pieces], ["sigmoid", "linear", "squaredError", 2]);
  assert.equal(fullSpec({ sizes: [2, 1], hidden: "leakyRelu" }).alpha, 0.01);
  assert.equal(fullSpec({ sizes: [2, 1], hidden: "elu" }).alpha, 1);
  assert.throws(() => fullSpec({ sizes: [2, 1], hidden: "maxout", pieces: 1 }), /pieces .* must be an integer ≥ 2/);
  const spec: MlpSpec = { sizes: [2, 3, 1], hidden: "prelu" };
  const w = initMlp(spec, { rng: new Rng(1) });
  const c = cloneWeights(w);
  c[0].W[0][0] += 1;
  assert.notEqual(c[0].W[0][0], w[0].W[0][0]);
  delete w[0].alpha;
  assert.throws(() => checkWeights(spec, w), /layer 1 is PReLU and needs alpha with 3 entries/);
  assert.throws(() => checkWeights(spec, [w[0]]), /expected 2 layers/);
});

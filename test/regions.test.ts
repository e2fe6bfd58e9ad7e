// Linear regions of ReLU nets: the exact counter against brute force (float64 scans and a tfjs grid) on random
// nets with 1-, 2- and 10-dimensional inputs, known answers (shallow nets, the sawtooth, line arrangements),
// and the counting formulas of lecture 09.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as bp from "../lib/index";

const sizesOf = (inputs: number, hidden: number[]) => [inputs, ...hidden, 1];

/** Random points a, b at distance 3 from the origin (random directions): a segment across the biases' scale. */
function segment(rng: bp.Rng, d: number): { a: number[]; b: number[] } {
  const point = () => {
    const u = Array.from({ length: d }, () => rng.normal());
    const norm = Math.hypot(...u);
    return u.map((v) => (3 * v) / norm);
  };
  return { a: point(), b: point() };
}
const pointAt = (a: number[], b: number[], t: number) => a.map((v, j) => v + t * (b[j] - v));

const SHAPES: { name: string; inputs: number; hidden: number[] }[] = [
  { name: "1-D shallow", inputs: 1, hidden: [12] },
  { name: "1-D 3 × 6", inputs: 1, hidden: [6, 6, 6] },
  { name: "1-D 5 × 10", inputs: 1, hidden: [10, 10, 10, 10, 10] },
  { name: "2-D 2 × 8", inputs: 2, hidden: [8, 8] },
  { name: "2-D 16-8-4", inputs: 2, hidden: [16, 8, 4] },
  { name: "10-D 3 × 20", inputs: 10, hidden: [20, 20, 20] },
  { name: "10-D 50-50", inputs: 10, hidden: [50, 50] },
];

test("exact regions along a segment agree with a dense float64 scan, point by point (1-D, 2-D, 10-D)", () => {
  const rng = new bp.Rng(15);
  for (const shape of SHAPES) {
    for (let trial = 0; trial < 3; trial++) {
      const w = bp.diagnostics.randomReluNet(sizesOf(shape.inputs, shape.hidden), rng);
      const { a, b } = shape.inputs === 1 ? { a: [-3], b: [3] } : segment(rng, shape.inputs);
      const r = bp.diagnostics.regionsOnSegment(w, a, b);
      const label = `${shape.name}, trial ${trial}`;
      // The intervals tile [0, 1] in order; neighbours differ; every pattern occurs once (regions are convex).
      assert.equal(r.intervals[0].t0, 0, label);
      assert.equal(r.intervals[r.intervals.length - 1].t1, 1, label);
      r.intervals.forEach((iv, k) => {
        assert.ok(iv.t1 > iv.t0, `${label}: empty interval ${k}`);
        if (k > 0) assert.equal(iv.t0, r.intervals[k - 1].t1, `${label}: gap before interval ${k}`);
      });
      assert.equal(r.regions, r.intervals.length, `${label}: a pattern occurs on two intervals`);
      assert.ok(r.regions > 1, `${label}: a random net should cut this segment at least once`);
      // Inside every interval: the pattern of a plain forward pass is the interval's, and y is its affine map.
      for (const iv of r.intervals) {
        for (const f of [0.1, 0.5, 0.9]) {
          const t = iv.t0 + f * (iv.t1 - iv.t0);
          const { pattern, y } = bp.diagnostics.activationPattern(w, pointAt(a, b, t));
          assert.equal(pattern, iv.pattern, `${label}: pattern at t = ${t}`);
          const predicted = iv.intercept[0] + iv.slope[0] * t;
          assert.ok(Math.abs(predicted - y[0]) <= 1e-9 * (1 + Math.abs(y[0])), `${label}: affine map off at t = ${t}: ${predicted} vs ${y[0]}`);
        }
      }
      // A dense scan never meets a pattern the counter did not list, and finds every interval wider than its step.
      const n = 20000;
      const exact = new Set(r.intervals.map((iv) => iv.pattern));
      const seen = new Set<string>();
      for (let k = 0; k <= n; k++) {
        const p = bp.diagnostics.activationPattern(w, pointAt(a, b, k / n)).pattern;
        assert.ok(exact.has(p) || r.breakpoints.some((t) => Math.abs(t - k / n) < 1e-9), `${label}: the scan found a pattern the counter missed at t = ${k / n}`);
        seen.add(p);
      }
      for (const iv of r.intervals) if (iv.t1 - iv.t0 > 2 / n) assert.ok(seen.has(iv.pattern), `${label}: interval [${iv.t0}, ${iv.t1}] not seen by the scan`);
      // The maximum is a bound on what any net realizes.
      assert.ok(BigInt(r.regions) <= bp.diagnostics.deepMaxRegions(shape.hidden, shape.inputs), `${label}: ${r.regions} regions beat the bound`);
    }
  }
});

test("a fine tfjs forward grid (float32) gives the exact count when no interval is shorter than its spacing", () => {
  const rng = new bp.Rng(7);
  const n = 20001;
  let compared = 0;
  for (const shape of SHAPES) {
    const w = bp.diagnostics.randomReluNet(sizesOf(shape.inputs, shape.hidden), rng);
    const { a, b } = shape.inputs === 1 ? { a: [-3], b: [3] } : segment(rng, shape.inputs);
    const exact = bp.diagnostics.regionsOnSegment(w, a, b);
    const grid = bp.diagnostics.regionsOnGrid(w, a, b, n);
    assert.ok(grid.regions <= exact.regions, `${shape.name}: the grid found more regions (${grid.regions}) than exist (${exact.regions})`);
    // Point by point, away from breakpoints (float32 rounding): the grid's pattern is the exact interval's.
    let k = 0;
    grid.t.forEach((t, g) => {
      while (exact.intervals[k].t1 < t) k++;
      const near = Math.min(t - exact.intervals[k].t0, exact.intervals[k].t1 - t) < 1e-4;
      if (!near) assert.equal(grid.patterns[g], exact.intervals[k].pattern, `${shape.name}: tfjs pattern at t = ${t}`);
    });
    const shortest = Math.min(...exact.intervals.map((iv) => iv.t1 - iv.t0));
    if (shortest > 3 / (n - 1)) {
      assert.equal(grid.regions, exact.regions, `${shape.name}: grid ${grid.regions} vs exact ${exact.regions}`);
      assert.equal(grid.runs, exact.regions, `${shape.name}: runs`);
      compared++;
    }
  }
  assert.ok(compared >= 4, `only ${compared} nets had intervals wide enough to compare counts; the test would say little`);
});

test("a shallow net on one input has 1 + (distinct kinks −b_i/w_i inside the interval) regions", () => {
  const rng = new bp.Rng(3);
  for (let trial = 0; trial < 20; trial++) {
    const D = 1 + rng.int(0, 15);
    const w = bp.diagnostics.randomReluNet([1, D, 1], rng);
    const kinks = new Set(w[0].b.map((bi, i) => -bi / w[0].W[0][i]).filter((x) => x > -2 && x < 2));
    const r = bp.diagnostics.regionsOnInterval(w, -2, 2);
    assert.equal(r.regions, 1 + kinks.size, `D = ${D}`);
    assert.deepEqual(r.xBreakpoints.map((x) => x.toFixed(9)), [...kinks].sort((x, y) => x - y).map((x) => x.toFixed(9)));
  }
});

test("the sawtooth: K layers of 2 units make 2^K pieces on [0, 1]; a shallow net needs 2^K units for it", () => {
  for (let K = 1; K <= 10; K++) {
    const deep = bp.diagnostics.sawtoothNet(K);
    const r = bp.diagnostics.regionsOnInterval(deep, 0, 1);
    assert.equal(r.regions, 2 ** K, `K = ${K} regions`);
    assert.equal(r.linearPieces, 2 ** K, `K = ${K} pieces`);
    assert.equal(bp.diagnostics.mlpParamCount([1, ...new Array(K).fill(2), 1]), 6 * K + 1);
    // Teeth: 0 at even multiples of 2^-K, 1 at odd ones; slopes ±2^K.
    for (let k = 0; k <= 2 ** K; k++) assert.ok(Math.abs(bp.diagnostics.activationPattern(deep, [k / 2 ** K]).y[0] - (k % 2)) < 1e-12, `K = ${K}, x = ${k}/2^K`);
    r.intervals.forEach((iv) => assert.equal(Math.abs(iv.slope[0]), 2 ** K));
    const xs = Array.from({ length: 2 ** K + 1 }, (_, k) => k / 2 ** K);
    const shallow = bp.diagnostics.shallowInterpolant(xs, xs.map((_, k) => k % 2));
    assert.equal(shallow[0].W[0].length, 2 ** K);
    for (let k = 0; k <= 1000; k++) {
      const x = k / 1000;
      assert.ok(Math.abs(bp.diagnostics.activationPattern(shallow, [x]).y[0] - bp.diagnostics.activationPattern(deep, [x]).y[0]) < 1e-9, `K = ${K}, x = ${x}`);
    }
    assert.equal(bp.diagnostics.regionsOnInterval(shallow, 0, 1).linearPieces, 2 ** K);
  }
});

test("degenerate units: a dead unit adds no region, two identical units flip together", () => {
  const base: bp.MlpWeights = [{ W: [[1, 1, 0]], b: [-0.5, -0.5, -1] }, { W: [[1], [2], [3]], b: [0] }];
  const r = bp.diagnostics.regionsOnInterval(base, 0, 1);
  assert.equal(r.regions, 2);
  assert.deepEqual(r.intervals.map((iv) => iv.pattern), ["000", "110"]);
  assert.equal(r.xBreakpoints.length, 1);
  assert.ok(Math.abs(r.xBreakpoints[0] - 0.5) < 1e-15);
  // Breakpoints exactly at the ends are not regions.
  assert.equal(bp.diagnostics.regionsOnInterval([{ W: [[1]], b: [0] }, { W: [[1]], b: [0] }], 0, 1).regions, 1);
  // A unit whose pre-activation only touches 0 (the sawtooth's first unit of layer 3 at x = ½) adds nothing.
  assert.equal(bp.diagnostics.regionsOnInterval(bp.diagnostics.sawtoothNet(3), 0, 1).regions, 8);
});

test("2-D region map: three lines in general position cut the square into 7 regions", () => {
  // Units relu(x), relu(y), relu(x + y − ½): lines x = 0, y = 0, x + y = ½ meet at three points inside [−1, 1]².
  const w: bp.MlpWeights = [{ W: [[1, 0, 1], [0, 1, 1]], b: [0, 0, -0.5] }, { W: [[1], [1], [1]], b: [0] }];
  const map = bp.diagnostics.regionMap2d(w, { x: [-1, 1], y: [-1, 1], n: 201 });
  assert.equal(map.regions, 7);
  assert.equal(bp.diagnostics.shallowMaxRegions(3, 2), 7n);
  assert.equal(map.ids.length, 201);
  assert.equal(new Set(map.ids.flat()).size, 7);
  // Parallel lines are not in general position: 3 parallel lines make 4 regions, below the bound.
  const parallel: bp.MlpWeights = [{ W: [[1, 1, 1], [0, 0, 0]], b: [0, -0.3, 0.3] }, { W: [[1], [1], [1]], b: [0] }];
  assert.equal(bp.diagnostics.regionMap2d(parallel, { n: 201 }).regions, 4);
});

test("counting formulas: shallow Σ C(D, j), deep products, parameters (lecture 09's examples)", () => {
  // Pascal's rule, and Σ_j C(D, j) = 2^D once D_i ≥ D.
  for (let n = 1; n <= 30; n++) for (let k = 1; k < n; k++) assert.equal(bp.diagnostics.binomial(n, k), bp.diagnostics.binomial(n - 1, k - 1) + bp.diagnostics.binomial(n - 1, k));
  for (let D = 0; D <= 20; D++) {
    assert.equal(bp.diagnostics.shallowMaxRegions(D, 1), BigInt(D + 1));
    assert.equal(bp.diagnostics.shallowMaxRegions(D, D + 3), 2n ** BigInt(D));
  }
  assert.equal(bp.diagnostics.shallowMaxRegions(4, 2), 11n);
  // One input, K layers of D: R = (D + 1)^K and P = 3D + 1 + (K − 1)(D² + D).
  for (let D = 1; D <= 60; D += 7) {
    for (let K = 1; K <= 6; K++) {
      assert.equal(bp.diagnostics.deepMaxRegions(new Array(K).fill(D), 1), BigInt(D + 1) ** BigInt(K));
      assert.equal(bp.diagnostics.mlpParamCount(sizesOf(1, new Array(K).fill(D))), 3 * D + 1 + (K - 1) * (D * D + D));
    }
  }
  assert.equal(bp.diagnostics.mlpParamCount([1, 10, 10, 10, 10, 10, 1]), 471);
  assert.equal(bp.diagnostics.deepMaxRegions([10, 10, 10, 10, 10], 1), 161051n);
  assert.equal(bp.diagnostics.mlpParamCount([1, 50, 50, 50, 50, 50, 1]), 10351);
  assert.equal(bp.diagnostics.deepMaxRegions([50, 50, 50, 50, 50], 1), 345025251n);
  assert.equal(bp.diagnostics.mlpParamCount([10, 50, 50, 50, 50, 50, 1]), 10801);
  assert.ok(bp.diagnostics.log10Big(bp.diagnostics.deepMaxRegions([50, 50, 50, 50, 50], 10)) > 40);
  // A narrow layer limits every later one: d_k = min(D_i, D_1, ..., D_k).
  assert.equal(bp.diagnostics.deepMaxRegions([3, 10], 5), 8n * bp.diagnostics.shallowMaxRegions(10, 3));
  // Prince Fig. 20.2's nets (his caption prints 15 139 for the last: 41·63 + 3·64·63 + 64·10 = 15 319).
  assert.deepEqual(bp.diagnostics.FIG20_2_NETS.map(({ depth, width }) => bp.diagnostics.mlpParamCount(bp.diagnostics.randomLabelSizes(depth, width))), [15208, 15210, 15235, 15319]);
  assert.equal(bp.diagnostics.log10Big(10n ** 40n), 40);
  assert.ok(Math.abs(bp.diagnostics.log10Big(161051n) - Math.log10(161051)) < 1e-12);
  assert.equal(bp.diagnostics.groupDigits(161051n), "161\u202f051");
  assert.equal(bp.diagnostics.groupDigits(471), "471");
});

test("clear errors for wrong shapes and arguments", () => {
  const w = bp.diagnostics.randomReluNet([2, 3, 1], new bp.Rng(1));
  assert.throws(() => bp.diagnostics.regionsOnSegment(w, [0], [1]), /layer 1 W should have 1 rows/);
  assert.throws(() => bp.diagnostics.regionsOnSegment(w, [0, 0], [1]), /same input size/);
  assert.throws(() => bp.diagnostics.regionsOnSegment([w[0]], [0, 0], [1, 1]), /at least one hidden layer/);
  assert.throws(() => bp.diagnostics.regionsOnSegment([w[0], { W: [[1], [1]], b: [0] }], [0, 0], [1, 1]), /layer 2 W should have 3 rows/);
  assert.throws(() => bp.diagnostics.regionsOnInterval(bp.diagnostics.sawtoothNet(2), 1, 0), /lo < hi/);
  assert.throws(() => bp.diagnostics.shallowMaxRegions(-1), /D must be an integer/);
  assert.throws(() => bp.diagnostics.deepMaxRegions([]), /widths/);
  assert.throws(() => bp.diagnostics.mlpParamCount([3]), /sizes/);
  assert.throws(() => bp.diagnostics.regionsOnGrid(w, [0, 0], [1, 1], 1), /n must be/);
  // output: false counts every layer as ReLU.
  assert.equal(bp.diagnostics.regionsOnSegment([w[0]], [-5, 0], [5, 0], { output: false }).intervals[0].slope.length, 3);
});

import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import { gradCheck, describeGradCheck } from "../lib/check/gradcheck";
import { compare } from "../lib/check/compare";
import { leaves } from "../lib/check/flatten";

before(async () => {
  await initBackend();
});

// q(a, B) = Σ a_i² + Σ_ij sin(B_ij) a_j  — a smooth function with known gradients.
const q = (p: { a: number[]; B: number[][] }) =>
  p.a.reduce((s, v) => s + v * v, 0) + p.B.reduce((s, row) => s + row.reduce((t, b, j) => t + Math.sin(b) * p.a[j], 0), 0);
const grad = (p: { a: number[]; B: number[][] }) => ({
  a: p.a.map((v, j) => 2 * v + p.B.reduce((s, row) => s + Math.sin(row[j]), 0)),
  B: p.B.map((row) => row.map((b, j) => Math.cos(b) * p.a[j])),
});

test("gradCheck passes a correct gradient (float64, rel ≤ 1e-8 here) and leaves the parameters as they were", () => {
  const p = { a: [0.5, -1.2, 2.0], B: [[0.1, 0.7, -0.3], [1.5, -2.0, 0.4]] };
  const copy = JSON.parse(JSON.stringify(p));
  const r = gradCheck(q, p, grad(p));
  assert.equal(r.checked, 9);
  assert.ok(r.maxRelError < 1e-8, describeGradCheck(r));
  assert.deepEqual(p, copy);
});

test("gradCheck catches a wrong gradient and names the worst entry", () => {
  const p = { a: [0.5, -1.2, 2.0], B: [[0.1, 0.7, -0.3], [1.5, -2.0, 0.4]] };
  const g = grad(p);
  g.B[1][2] *= 1.001; // a 0.1 % error in one entry
  const r = gradCheck(q, p, g, { worst: 2 });
  assert.ok(r.maxRelError > 5e-4 && r.maxRelError < 2e-3, `rel ${r.maxRelError}`);
  assert.equal(r.worst.length, 2);
  assert.equal(r.worst[0].path, ".B[1][2]");
  assert.match(describeGradCheck(r), /\.B\[1\]\[2\]: analytic .* numeric .* rel/);
  assert.throws(() => gradCheck(q, p, { a: g.a }), /params have 9 numbers but grads have 3/);
});

test("gradCheck's floor: a gradient that is 0 up to 1e-12 passes, one off by 1e-6 does not", () => {
  const flat = (p: number[]) => 1 + 0 * p[0];
  assert.equal(gradCheck(flat, [0.3], [1e-12]).maxRelError < 1e-6, true);
  assert.equal(gradCheck(flat, [0.3], [1e-6]).maxRelError > 1e-3, true);
});

test("compare: max abs and robust max rel over arrays, typed arrays, tensors and objects", () => {
  const a = { W: [[1, 2], [3, 4]], b: [0, 1e-9] };
  const b = { W: [[1, 2.002], [3, 4]], b: [0, 2e-9] };
  const c = compare(a, b);
  assert.equal(c.count, 6);
  assert.ok(Math.abs(c.maxAbs - 0.002) < 1e-12);
  assert.ok(Math.abs(c.maxRel - 0.002 / 2.002) < 1e-12);
  assert.equal(c.worst?.path, ".W[0][1]");
  const t = tf.tensor2d([[1, 2], [3, 4]]);
  assert.equal(compare(t, new Float64Array([1, 2, 3, 4])).maxAbs, 0);
  assert.equal(compare([[1, 2], [3, 4]], t).maxRel, 0);
  assert.equal(compare(1, Number.NaN).maxRel, Infinity);
  assert.throws(() => compare([1, 2], [1, 2, 3]), /first has 2 numbers and the second 3/);
  t.dispose();
  assert.deepEqual(leaves({ x: [1, [2, 3]] }).map((l) => l.path), [".x[0]", ".x[1][0]", ".x[1][1]"]);
});

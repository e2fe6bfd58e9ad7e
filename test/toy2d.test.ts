import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../lib/random";
import { xor, circles, moons, spirals, blobs, toy2d, regression1d } from "../lib/data/toy2d";

const counts = (labels: Int32Array, k: number) => Array.from({ length: k }, (_, c) => labels.filter((l) => l === c).length);

test("xor(4) is the lecture's four points with XOR labels", () => {
  const s = xor(4);
  assert.deepEqual(Array.from(s.x), [0, 0, 0, 1, 1, 1, 1, 0]);
  assert.deepEqual(Array.from(s.labels), [0, 1, 0, 1]);
  assert.deepEqual([s.n, s.features, s.numClasses], [4, 2, 2]);
  assert.deepEqual(Array.from(s.oneHot.slice(0, 4)), [1, 0, 0, 1]);
});

test("every 2-D set: n points of 2 coordinates, balanced classes, same seed same points", () => {
  for (const [name, make] of Object.entries(toy2d)) {
    const a = make(101, { rng: new Rng(3) }), b = make(101, { rng: new Rng(3) }), c = make(101, { rng: new Rng(4) });
    assert.equal(a.n, 101, name);
    assert.equal(a.x.length, 202, name);
    assert.deepEqual(a.x, b.x, `${name} is seeded`);
    if (name !== "xor") assert.notDeepEqual(a.x, c.x, `${name} depends on the seed`);
    const k = counts(a.labels, a.numClasses);
    assert.ok(Math.max(...k) - Math.min(...k) <= 1, `${name} classes ${k}`);
    assert.ok(Array.from(a.x).every(Number.isFinite), name);
  }
});

test("the geometry is right: circle radii, moons, spiral arms, blob centres", () => {
  const c = circles(400, { noise: 0, factor: 0.3, rng: new Rng(1) });
  for (let i = 0; i < c.n; i++) {
    const r = Math.hypot(c.x[2 * i], c.x[2 * i + 1]);
    assert.ok(Math.abs(r - (c.labels[i] === 0 ? 1 : 0.3)) < 1e-6);
  }
  const m = moons(200, { noise: 0, rng: new Rng(1) });
  for (let i = 0; i < m.n; i++) {
    const [x, y] = [m.x[2 * i], m.x[2 * i + 1]];
    const r = m.labels[i] === 0 ? Math.hypot(x, y) : Math.hypot(x - 1, y - 0.5);
    assert.ok(Math.abs(r - 1) < 1e-6);
  }
  const s = spirals(300, { classes: 3, noise: 0, rng: new Rng(1) });
  assert.equal(s.numClasses, 3);
  assert.ok(Array.from(s.x).every((v) => Math.abs(v) <= 1));
  const b = blobs(3000, { centers: [[5, 5], [-5, 0]], noise: 0.5, rng: new Rng(1) });
  const meanX = (label: number) => { let sx = 0, k = 0; for (let i = 0; i < b.n; i++) if (b.labels[i] === label) { sx += b.x[2 * i]; k++; } return sx / k; };
  assert.ok(Math.abs(meanX(0) - 5) < 0.05 && Math.abs(meanX(1) + 5) < 0.05);
});

test("regression1d: sorted x in the range, y = f(x) + noise with the asked std", () => {
  const r = regression1d(2000, { rng: new Rng(2), noise: 0.2, range: [0, 3], f: (x) => x * x });
  assert.ok(r.x.every((v, i) => v >= 0 && v < 3 && (i === 0 || v >= r.x[i - 1])));
  const res = Array.from(r.y, (y, i) => y - r.f(r.x[i]));
  const sd = Math.sqrt(res.reduce((a, v) => a + v * v, 0) / res.length);
  assert.ok(Math.abs(sd - 0.2) < 0.01, `noise std ${sd}`);
});

test("bad arguments are explained", () => {
  assert.throws(() => circles(10, { factor: 2 }), /factor .* must be in \(0, 1\)/);
  assert.throws(() => moons(10, { noise: -1 }), /noise must be a number ≥ 0/);
  assert.throws(() => spirals(1), /n must be an integer ≥ 2/);
  assert.throws(() => blobs(10, { centers: [[0, 0]] }), /at least 2 centres/);
  assert.throws(() => regression1d(5, { range: [1, 0] }), /low < high/);
});

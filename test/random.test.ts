import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng, seed, rng } from "../lib/random";

test("same seed, same stream; different seeds differ", () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const xa = a.array(5, (r) => r.random());
  assert.deepEqual(xa, b.array(5, (r) => r.random()));
  assert.notDeepEqual(xa, c.array(5, (r) => r.random()));
});

test("uniform, normal and int have the right moments and ranges", () => {
  const r = new Rng(7);
  const n = 200_000;
  const u = r.array(n, (g) => g.random());
  const z = r.array(n, (g) => g.normal(2, 3));
  const mean = (x: Float64Array) => x.reduce((a, b) => a + b, 0) / x.length;
  const variance = (x: Float64Array) => { const m = mean(x); return x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length; };
  assert.ok(u.every((v) => v >= 0 && v < 1));
  assert.ok(Math.abs(mean(u) - 0.5) < 0.005);
  assert.ok(Math.abs(variance(u) - 1 / 12) < 0.002);
  assert.ok(Math.abs(mean(z) - 2) < 0.03);
  assert.ok(Math.abs(Math.sqrt(variance(z)) - 3) < 0.03);
  const counts = new Array(5).fill(0);
  for (let i = 0; i < 50_000; i++) counts[r.int(0, 5)]++;
  for (const k of counts) assert.ok(Math.abs(k - 10_000) < 400, `int(0,5) count ${k}`);
  assert.throws(() => r.int(3, 3), /lo < hi/);
});

test("permutation is a permutation; seed() resets the shared generator", () => {
  const p = new Rng(1).permutation(100);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  seed(5);
  const first = rng().random();
  seed(5);
  assert.equal(rng().random(), first);
});

test("tensors drawn from the same seed are equal, with the requested shape and moments", async () => {
  const { initBackend } = await import("../lib/backend");
  await initBackend();
  const a = new Rng(9).normalTensor([200, 50], 1, 2);
  const b = new Rng(9).normalTensor([200, 50], 1, 2);
  const u = new Rng(9).uniformTensor([1000], -1, 1);
  assert.deepEqual(a.shape, [200, 50]);
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  const m = a.mean().dataSync()[0];
  assert.ok(Math.abs(m - 1) < 0.1, `mean ${m}`);
  const ud = u.dataSync();
  assert.ok(ud.every((v) => v >= -1 && v < 1));
  a.dispose(); b.dispose(); u.dispose();
});

import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import {
  loadMnist,
  loadMnistTensors,
  clearMnistCache,
  classCounts,
  datasetToTensors,
  labelsToOneHot,
  makeLabeledSet,
  stratifiedSplit,
  subset,
  example,
  LabeledSet,
} from "../lib/data/mnist";
import { Rng } from "../lib/random";

before(async () => {
  await initBackend();
});

/** A hash of a set's contents, to compare splits without keeping copies. */
function fingerprint(s: LabeledSet): string {
  let h = 0;
  for (let i = 0; i < s.x.length; i += 97) h = (h * 31 + Math.round(s.x[i] * 1000)) | 0;
  for (let i = 0; i < s.n; i++) h = (h * 31 + s.labels[i]) | 0;
  return `${s.n}:${h}`;
}

/** Each example's pixels as a string key, to test that splits do not overlap. */
function keys(s: LabeledSet): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < s.n; i++) out.add(Array.from(example(s, i).x, (v) => Math.round(v * 1000)).join(","));
  return out;
}

test("first load reads the package; cached loads are well under a second", () => {
  clearMnistCache();
  let t = performance.now();
  const first = loadMnist();
  const firstMs = performance.now() - t;
  t = performance.now();
  const again = loadMnist();
  const cachedMs = performance.now() - t;
  console.log(`# loadMnist: first ${firstMs.toFixed(0)} ms, cached ${cachedMs.toFixed(0)} ms`);
  assert.ok(cachedMs < 500, `cached loadMnist took ${cachedMs.toFixed(0)} ms`);
  assert.ok(firstMs < 5000, `first loadMnist took ${firstMs.toFixed(0)} ms`);
  assert.equal(fingerprint(first.train), fingerprint(again.train));
});

test("10 000 digits, 28×28 in [0, 1], integer and one-hot labels that agree", () => {
  const d = loadMnist();
  assert.equal(d.train.n + d.validation.n + d.test.n, 10_000);
  assert.deepEqual([d.train.n, d.validation.n, d.test.n], [7000, 1000, 2000]);
  for (const s of [d.train, d.validation, d.test]) {
    assert.deepEqual(s.shape, [28, 28]);
    assert.equal(s.features, 784);
    assert.equal(s.x.length, s.n * 784);
    assert.ok(s.x instanceof Float32Array && s.labels instanceof Int32Array && s.oneHot instanceof Float32Array);
    let min = Infinity, max = -Infinity;
    for (const v of s.x) { if (v < min) min = v; if (v > max) max = v; }
    assert.ok(min >= 0 && max <= 1 && max > 0.9, `pixel range [${min}, ${max}]`);
    for (let i = 0; i < s.n; i++) {
      const row = s.oneHot.subarray(i * 10, i * 10 + 10);
      assert.equal(row.reduce((a, b) => a + b, 0), 1);
      assert.equal(row[s.labels[i]], 1);
    }
  }
  // Every class present, roughly 1 000 per class overall (the package has 863..1127).
  const total = classCounts(d.train).map((c, k) => c + classCounts(d.validation)[k] + classCounts(d.test)[k]);
  assert.equal(total.reduce((a, b) => a + b, 0), 10_000);
  assert.ok(total.every((c) => c > 800 && c < 1200), `per-class counts ${total}`);
});

test("the split is stratified and disjoint", () => {
  const d = loadMnist({ seed: 3 });
  const all = classCounts(d.train).map((c, k) => c + classCounts(d.validation)[k] + classCounts(d.test)[k]);
  for (const [s, frac] of [[d.train, 0.7], [d.validation, 0.1], [d.test, 0.2]] as const) {
    classCounts(s).forEach((c, k) => assert.ok(Math.abs(c - all[k] * frac) <= 1.01, `class ${k}: ${c} vs ${all[k] * frac}`));
  }
  const test = keys(d.test);
  const val = keys(d.validation);
  let overlap = 0;
  for (const k of keys(d.train)) if (test.has(k) || val.has(k)) overlap++;
  for (const k of val) if (test.has(k)) overlap++;
  // The package has no two identical digits, so any shared one is a leak between splits.
  assert.equal(overlap, 0, `${overlap} digits appear in two splits`);
});

test("same seed, same split; another seed, another split; examples are shuffled", () => {
  const a = loadMnist({ seed: 11, limit: 3000 });
  const b = loadMnist({ seed: 11, limit: 3000 });
  const c = loadMnist({ seed: 12, limit: 3000 });
  assert.equal(fingerprint(a.train), fingerprint(b.train));
  assert.equal(fingerprint(a.test), fingerprint(b.test));
  assert.notEqual(fingerprint(a.train), fingerprint(c.train));
  // Not sorted by class: a run of 50 equal labels would mean no shuffle.
  assert.ok(new Set(Array.from(a.train.labels.subarray(0, 50))).size > 5);
});

test("limit keeps a stratified sample of exactly that size; fractions are configurable", () => {
  const d = loadMnist({ limit: 500, seed: 1 });
  assert.deepEqual([d.train.n, d.validation.n, d.test.n], [350, 50, 100]);
  for (const c of classCounts(d.test)) assert.ok(c >= 7 && c <= 13, `test class count ${c}`);
  const e = loadMnist({ limit: 1000, validation: 0, test: 0.5 });
  assert.deepEqual([e.train.n, e.validation.n, e.test.n], [500, 0, 500]);
  assert.match(d.source, /500 of 10000/);
});

test("returned arrays are fresh copies: changing them does not change the next load", () => {
  const a = loadMnist({ limit: 100 });
  a.train.x.fill(7);
  const b = loadMnist({ limit: 100 });
  assert.ok(b.train.x.every((v) => v <= 1));
});

test("bad options give a clear error", () => {
  assert.throws(() => loadMnist({ limit: 0 }), /limit must be an integer between 1 and 10000/);
  assert.throws(() => loadMnist({ limit: 20_000 }), /limit must be an integer between 1 and 10000/);
  assert.throws(() => loadMnist({ limit: 10.5 }), /limit/);
  assert.throws(() => loadMnist({ validation: 0.5, test: 0.5 }), /leaves no training data/);
  assert.throws(() => loadMnist({ test: -0.1 }), /test must be a fraction/);
  assert.throws(() => makeLabeledSet(new Float32Array(5), [0, 1], [3], 2), /2 labels need 2 × 3 = 6/);
  assert.throws(() => labelsToOneHot([0, 3], 3), /label 3 at index 1/);
  assert.throws(() => subset(loadMnist({ limit: 10 }).train, [99]), /out of range/);
});

test("pool averages each image over pool × pool blocks: same split, 14 × 14 with pool 2", async () => {
  const full = loadMnist({ limit: 300, seed: 2 });
  const d = loadMnist({ limit: 300, seed: 2, pool: 2 });
  for (const k of ["train", "validation", "test"] as const) {
    assert.equal(d[k].n, full[k].n);
    assert.deepEqual(d[k].shape, [14, 14]);
    assert.equal(d[k].features, 196);
    assert.equal(d[k].x.length, d[k].n * 196);
    assert.deepEqual(d[k].labels, full[k].labels);
    assert.deepEqual(d[k].oneHot, full[k].oneHot);
  }
  // Pooled pixel (r, c) of image i is the mean of the 2 × 2 block at rows 2r, 2r+1 and columns 2c, 2c+1.
  const { x } = full.train, px = d.train.x;
  let worst = 0;
  for (let i = 0; i < full.train.n; i++) {
    for (let r = 0; r < 14; r++) {
      for (let c = 0; c < 14; c++) {
        const o = i * 784 + 2 * r * 28 + 2 * c;
        const mean = (x[o] + x[o + 1] + x[o + 28] + x[o + 29]) / 4;
        worst = Math.max(worst, Math.abs(px[i * 196 + r * 14 + c] - mean));
      }
    }
  }
  assert.ok(worst <= 1e-7, `pooled pixel vs mean of its block: off by ${worst}`);
  // The same numbers as tf.avgPool over the 28 × 28 images.
  const ref = tf.tidy(() => tf.avgPool(tf.tensor4d(full.train.x, [full.train.n, 28, 28, 1]), 2, 2, "valid").dataSync());
  assert.ok(ref.every((v, k) => Math.abs(v - px[k]) <= 1e-7), "pooled pixels = tf.avgPool");
  assert.match(d.source, /averaged over 2×2 blocks: 14×14/);
  const q = loadMnist({ limit: 300, seed: 2, pool: 4 }).test;
  assert.deepEqual([q.shape, q.features], [[7, 7], 49]);
  const k = 5, block = [0, 1, 2, 3].flatMap((dr) => [0, 1, 2, 3].map((dc) => full.test.x[k * 784 + (4 + dr) * 28 + 8 + dc]));
  assert.ok(Math.abs(q.x[k * 49 + 7 + 2] - block.reduce((a, b) => a + b, 0) / 16) <= 1e-7, "pool 4: mean of the 4 × 4 block");
  // As tensors: [n, 196], or [n, 14, 14, 1] as images.
  const t = await loadMnistTensors({ limit: 300, seed: 2, pool: 2, image: true });
  assert.deepEqual(t.train.x.shape, [d.train.n, 14, 14, 1]);
  tf.dispose(t);
});

test("a pool that does not divide 28 is an error that lists the ones that do", () => {
  for (const pool of [3, 5, 0, -2, 1.5, 56]) {
    assert.throws(() => loadMnist({ limit: 100, pool }), /pool must be a block size that divides 28 \(1, 2, 4, 7, 14, 28\), got/);
  }
  assert.deepEqual(loadMnist({ limit: 100, pool: 1 }).train.shape, [28, 28]);
  assert.deepEqual(loadMnist({ limit: 100, pool: 28 }).train.shape, [1, 1]);
});

test("stratifiedSplit: exact sizes, class proportions, no index used twice", () => {
  const labels = Array.from({ length: 1000 }, (_, i) => (i < 700 ? 0 : i < 900 ? 1 : 2));
  const parts = stratifiedSplit(labels, 3, [100, 200, 650], new Rng(5));
  assert.deepEqual(parts.map((p) => p.length), [100, 200, 650]);
  const used = new Set(parts.flat());
  assert.equal(used.size, 950);
  const counts = (p: number[]) => [0, 1, 2].map((c) => p.filter((i) => labels[i] === c).length);
  assert.deepEqual(counts(parts[0]), [70, 20, 10]);
  assert.deepEqual(counts(parts[1]), [140, 40, 20]);
  assert.throws(() => stratifiedSplit(labels, 3, [600, 600], new Rng(1)), /at most the 1000 examples/);
});

test("datasetToTensors and loadMnistTensors give the same numbers as the arrays", async () => {
  const d = loadMnist({ limit: 200, seed: 4 });
  const t = datasetToTensors(d.test, { image: true });
  assert.deepEqual(t.x.shape, [d.test.n, 28, 28, 1]);
  assert.deepEqual(t.t.shape, [d.test.n, 10]);
  assert.equal(t.labels.dtype, "int32");
  assert.deepEqual(Array.from(await t.labels.data()), Array.from(d.test.labels));
  assert.deepEqual(await t.x.data(), d.test.x);
  tf.dispose(t);
  const before = tf.memory().numTensors;
  const all = await loadMnistTensors({ limit: 200, seed: 4 });
  assert.deepEqual(all.train.x.shape, [140, 784]);
  const argmax = all.test.t.argMax(1);
  assert.deepEqual(Array.from(await argmax.data()), Array.from(d.test.labels));
  tf.dispose([argmax, all]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => datasetToTensors(makeLabeledSet(new Float32Array(4), [0, 1], [2], 2), { image: true }), /image: true needs 2-D/);
});

test("the mnist package is where the design says", () => {
  // The loader reads the raw JSON files directly: if the package layout changes, say so here first.
  for (let d = 0; d < 10; d++) assert.ok(fs.existsSync(require.resolve(`mnist/src/digits/${d}.json`)));
});

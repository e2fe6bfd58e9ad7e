import { test } from "node:test";
import assert from "node:assert/strict";
import {
  selectClasses,
  splitByClasses,
  samplePerClass,
  concatSets,
  shiftImage,
  rotateImage,
  addGaussianNoise,
  augmentSet,
} from "../lib/data/augment";
import { loadMnist, makeLabeledSet, classCounts, example } from "../lib/data/mnist";
import { makeMnist1d } from "../lib/data/mnist1d";
import { Rng } from "../lib/random";

const mnist = loadMnist({ limit: 1000, seed: 2 });

/** A 5×5 image with a single lit pixel at (row, col). */
function dot(row: number, col: number, size = 5): Float32Array {
  const img = new Float32Array(size * size);
  img[row * size + col] = 1;
  return img;
}
const litAt = (img: Float32Array, size = 5) => {
  const i = img.findIndex((v) => v > 0.5);
  return [Math.floor(i / size), i % size];
};

test("digits 0–4 vs 5–9: disjoint, complete, relabelled in the order given", () => {
  const { selected, rest } = splitByClasses(mnist.train, [0, 1, 2, 3, 4], { relabel: true });
  assert.equal(selected.n + rest.n, mnist.train.n);
  assert.equal(selected.numClasses, 5);
  assert.equal(rest.numClasses, 5);
  const counts = classCounts(mnist.train);
  assert.deepEqual(classCounts(selected), counts.slice(0, 5));
  assert.deepEqual(classCounts(rest), counts.slice(5));
  // Digit 7 becomes label 2 in the 5–9 group, with its pixels intact and a matching one-hot row.
  const i7 = Array.from(mnist.train.labels).indexOf(7);
  const k = Array.from(mnist.train.labels.subarray(0, i7)).filter((c) => c >= 5).length;
  assert.equal(rest.labels[k], 2);
  assert.deepEqual(example(rest, k).x, example(mnist.train, i7).x);
  assert.equal(rest.oneHot[k * 5 + 2], 1);
  // Without relabel the digits keep their names.
  const kept = selectClasses(mnist.train, [9, 3]);
  assert.deepEqual([...new Set(kept.labels)].sort(), [3, 9]);
  assert.equal(kept.numClasses, 10);
  const swapped = selectClasses(mnist.train, [9, 3], { relabel: true });
  assert.deepEqual(Array.from(swapped.labels), Array.from(kept.labels, (c) => (c === 9 ? 0 : 1)));
});

test("class selection errors name the problem", () => {
  assert.throws(() => selectClasses(mnist.train, []), /at least one class/);
  assert.throws(() => selectClasses(mnist.train, [10]), /class 10 is not an integer in \[0, 10\)/);
  assert.throws(() => selectClasses(mnist.train, [1, 1]), /listed twice/);
  assert.throws(() => splitByClasses(mnist.train, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), /nothing is left/);
});

test("samplePerClass: k of every class, seeded, shuffled", () => {
  const a = samplePerClass(mnist.train, 5, 1);
  assert.deepEqual(classCounts(a), new Array(10).fill(5));
  assert.deepEqual(samplePerClass(mnist.train, 5, 1).x, a.x);
  assert.notDeepEqual(samplePerClass(mnist.train, 5, 2).x, a.x);
  assert.ok(new Set(Array.from(a.labels.subarray(0, 10))).size > 3);
  assert.throws(() => samplePerClass(mnist.test, 1000), /class \d has only \d+ examples, fewer than perClass = 1000/);
});

test("concatSets keeps order and checks shapes", () => {
  const c = concatSets(mnist.validation, mnist.test);
  assert.equal(c.n, mnist.validation.n + mnist.test.n);
  assert.deepEqual(example(c, mnist.validation.n).x, example(mnist.test, 0).x);
  assert.throws(() => concatSets(mnist.test, makeMnist1d({ numSamples: 10 }).train), /example shapes differ/);
});

test("shiftImage moves right/down with zero fill; rotateImage turns counter-clockwise", () => {
  assert.deepEqual(litAt(shiftImage(dot(2, 2), 5, 5, 1, 0)), [2, 3]);
  assert.deepEqual(litAt(shiftImage(dot(2, 2), 5, 5, 0, -2)), [0, 2]);
  assert.ok(shiftImage(dot(2, 4), 5, 5, 1, 0).every((v) => v === 0), "a pixel shifted out is gone");
  // A pixel right of the centre goes above it after +90°, left after 180°, below after 270°.
  assert.deepEqual(litAt(rotateImage(dot(2, 4), 5, 5, 90)), [0, 2]);
  assert.deepEqual(litAt(rotateImage(dot(2, 4), 5, 5, 180)), [2, 0]);
  assert.deepEqual(litAt(rotateImage(dot(2, 4), 5, 5, -90)), [4, 2]);
  const digit = example(mnist.train, 0).x;
  const back = rotateImage(rotateImage(digit, 28, 28, 90), 28, 28, -90);
  assert.ok(back.every((v, i) => Math.abs(v - digit[i]) < 1e-6), "90° and back is the identity");
  assert.deepEqual(rotateImage(digit, 28, 28, 0), digit);
  // A small rotation keeps the ink (bilinear, interior digit): total intensity within a few per cent.
  const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(sum(rotateImage(digit, 28, 28, 10)) / sum(digit) - 1) < 0.05);
  assert.throws(() => shiftImage(digit, 28, 27, 1, 0), /needs 756 values, got 784/);
  assert.throws(() => shiftImage(digit, 28, 28, 0.5, 0), /integers/);
});

test("addGaussianNoise: the requested std, optional clipping", () => {
  const zero = new Float32Array(20_000);
  const n = addGaussianNoise(zero, 0.3, new Rng(1));
  const mean = n.reduce((a, b) => a + b, 0) / n.length;
  const std = Math.sqrt(n.reduce((a, b) => a + (b - mean) ** 2, 0) / n.length);
  assert.ok(Math.abs(mean) < 0.01 && Math.abs(std - 0.3) < 0.01, `mean ${mean}, std ${std}`);
  const c = addGaussianNoise(zero, 0.3, new Rng(1), [0, 1]);
  assert.ok(c.every((v) => v >= 0 && v <= 1));
  assert.throws(() => addGaussianNoise(zero, -1, new Rng(1)), /std must be a finite number ≥ 0/);
});

test("augmentSet: seeded, labels kept, originals first when asked, pixels clipped", () => {
  const small = samplePerClass(mnist.train, 3, 0);
  const opts = { seed: 5, shift: 2, rotation: 15, noise: 0.1, clip: [0, 1] as [number, number], copies: 2, keepOriginals: true };
  const a = augmentSet(small, opts);
  assert.equal(a.n, small.n * 3);
  assert.deepEqual(a.x.subarray(0, small.x.length), small.x);
  assert.deepEqual(Array.from(a.labels), [...small.labels, ...small.labels, ...small.labels]);
  assert.ok(a.x.every((v) => v >= 0 && v <= 1));
  assert.deepEqual(augmentSet(small, opts).x, a.x);
  assert.notDeepEqual(augmentSet(small, { ...opts, seed: 6 }).x, a.x);
  // Copies really differ from their originals.
  const diff = a.x.subarray(small.x.length, 2 * small.x.length).reduce((s, v, i) => s + Math.abs(v - small.x[i]), 0);
  assert.ok(diff / small.x.length > 0.05);
  // Shift only: every augmented digit is an integer shift of its original, at most 2 pixels each way.
  const s = augmentSet(small, { seed: 1, shift: 2 });
  for (let i = 0; i < small.n; i++) {
    const orig = example(small, i).x;
    const got = example(s, i).x;
    let found = false;
    for (let dy = -2; dy <= 2 && !found; dy++) {
      for (let dx = -2; dx <= 2 && !found; dx++) found = shiftImage(orig, 28, 28, dx, dy).every((v, k) => v === got[k]);
    }
    assert.ok(found, `example ${i} is not a shift of its original`);
  }
});

test("augmentSet on 1-D sequences shifts along the sequence and refuses rotation", () => {
  const d = makeMnist1d({ numSamples: 100 });
  const a = augmentSet(d.train, { seed: 2, shift: 3, noise: 0.05 });
  assert.equal(a.n, d.train.n);
  assert.deepEqual(a.shape, [40]);
  assert.throws(() => augmentSet(d.train, { rotation: 10 }), /rotation needs 2-D examples/);
  assert.throws(() => augmentSet(d.train, { shift: 1.5 }), /whole number of pixels/);
  assert.throws(() => augmentSet(d.train, { copies: 0 }), /copies must be a positive integer/);
  const three = makeLabeledSet(new Float32Array(8), [0], [2, 2, 2], 1);
  assert.throws(() => augmentSet(three, { shift: 1 }), /not images or sequences/);
});

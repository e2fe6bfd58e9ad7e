import { test } from "node:test";
import assert from "node:assert/strict";
import {
  makeMnist1d,
  mnist1dTemplates,
  resampleLinear,
  gaussianFilter1d,
  MNIST1D_TEMPLATES,
} from "../lib/data/mnist1d";
import { classCounts, LabeledSet } from "../lib/data/mnist";
import { Rng } from "../lib/random";

const data = makeMnist1d();

test("defaults: 4000 train / 1000 test sequences of length 40, ten classes", () => {
  assert.deepEqual([data.train.n, data.validation.n, data.test.n], [4000, 0, 1000]);
  for (const s of [data.train, data.test]) {
    assert.deepEqual(s.shape, [40]);
    assert.equal(s.x.length, s.n * 40);
    assert.equal(s.numClasses, 10);
    assert.ok(s.x.every(Number.isFinite));
  }
  assert.equal(data.t.length, 40);
  assert.equal(data.options.seed, 42);
  assert.deepEqual(data.options.padding, [36, 60]);
  assert.equal(data.seqPermutation, undefined);
});

test("class balance: exactly 500 per class overall, shuffled between train and test", () => {
  const train = classCounts(data.train);
  const testCounts = classCounts(data.test);
  assert.deepEqual(train.map((c, k) => c + testCounts[k]), new Array(10).fill(500));
  for (const c of testCounts) assert.ok(c > 70 && c < 130, `test class count ${c}`);
  // Shuffled: the first 100 training labels are not one class.
  assert.ok(new Set(Array.from(data.train.labels.subarray(0, 100))).size === 10);
});

test("global standardization: mean 0 and std 1 over train and test together", () => {
  let sum = 0, sq = 0, n = 0;
  for (const s of [data.train, data.test]) for (const v of s.x) { sum += v; sq += v * v; n++; }
  const mean = sum / n;
  const std = Math.sqrt(sq / n - mean * mean);
  assert.ok(Math.abs(mean) < 1e-5, `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 1e-5, `std ${std}`);
  // Train alone is close but not exactly standardized (one set of statistics for both parts).
  assert.ok(data.std > 0 && Number.isFinite(data.mean));
});

test("same seed gives the same data; another seed differs", () => {
  const again = makeMnist1d();
  assert.deepEqual(again.train.x, data.train.x);
  assert.deepEqual(again.test.labels, data.test.labels);
  const other = makeMnist1d({ seed: 7 });
  assert.notDeepEqual(other.train.x.subarray(0, 400), data.train.x.subarray(0, 400));
});

test("templates: standardized rows that start at 0, divided by 6; time axis on [-5, 5] / 6", () => {
  const { x, t } = mnist1dTemplates();
  assert.equal(x.length, 10);
  for (let c = 0; c < 10; c++) {
    assert.equal(x[c].length, 12);
    assert.equal(x[c][0], 0);
    const row = MNIST1D_TEMPLATES[c];
    const m = row.reduce((a, b) => a + b, 0) / 12;
    const sd = Math.sqrt(row.reduce((a, b) => a + (b - m) ** 2, 0) / 12);
    // Shape kept: x is an affine function of the raw row with slope 1 / (6 sd).
    for (let i = 0; i < 12; i++) assert.ok(Math.abs(x[c][i] - (row[i] - row[0]) / (6 * sd)) < 1e-12);
  }
  assert.ok(Math.abs(t[0] + 5 / 6) < 1e-12 && Math.abs(t[11] - 5 / 6) < 1e-12);
});

test("resampling and the Gaussian filter behave like NumPy/SciPy's", () => {
  assert.deepEqual(Array.from(resampleLinear([0, 10], 5)), [0, 2.5, 5, 7.5, 10]);
  assert.deepEqual(Array.from(resampleLinear([1, 1, 0, 0, 0], 9)).slice(5), [0, 0, 0, 0]);
  // Impulse response: the normalized Gaussian kernel, radius 4σ = 8.
  const imp = new Array(41).fill(0);
  imp[20] = 1;
  const g = gaussianFilter1d(imp, 2);
  const w = (k: number) => Math.exp(-k * k / 8);
  let z = 0;
  for (let k = -8; k <= 8; k++) z += w(k);
  assert.ok(Math.abs(g[20] - 1 / z) < 1e-15);
  assert.ok(Math.abs(g[23] - w(3) / z) < 1e-15);
  assert.equal(g[11], 0);
  // "reflect" borders (d c b a | a b c d): a constant stays constant, and a ramp's end is pulled back.
  assert.ok(Array.from(gaussianFilter1d(new Array(10).fill(3), 2)).every((v) => Math.abs(v - 3) < 1e-12));
  // Reference values from scipy.ndimage.gaussian_filter1d(np.arange(10.0), sigma) (SciPy 1.17).
  const ramp = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const s1 = gaussianFilter1d(ramp, 1), s2 = gaussianFilter1d(ramp, 2);
  [0.42704095, 1.06795587, 2.00483335].forEach((v, i) => assert.ok(Math.abs(s1[i] - v) < 1e-8, `σ=1 [${i}] ${s1[i]}`));
  [1.16170023, 1.53721064, 2.20967738].forEach((v, i) => assert.ok(Math.abs(s2[i] - v) < 1e-8, `σ=2 [${i}] ${s2[i]}`));
});

test("with every random transformation off, each class is its resampled template", () => {
  const d = makeMnist1d({
    numSamples: 50, padding: [0, 0], scaleCoeff: 0, maxTranslation: 1, corrNoiseScale: 0, iidNoiseScale: 0, shearScale: 0, trainSplit: 0.8,
  });
  const seen = new Map<number, string>();
  for (const s of [d.train, d.test]) {
    for (let i = 0; i < s.n; i++) {
      const key = Array.from(s.x.subarray(i * 40, (i + 1) * 40), (v) => v.toFixed(5)).join(",");
      const c = s.labels[i];
      if (seen.has(c)) assert.equal(key, seen.get(c), `class ${c} varies with no randomness`);
      seen.set(c, key);
    }
  }
  // And it is the template, stretched to 40 points, then standardized.
  const tpl = resampleLinear(mnist1dTemplates().x[3].map((v) => v + 1e-8), 40);
  const i3 = Array.from(d.train.labels).indexOf(3);
  for (let j = 0; j < 40; j++) assert.ok(Math.abs(d.train.x[i3 * 40 + j] - (tpl[j] - d.mean) / d.std) < 1e-4);
});

test("options: sample count, sequence length, validation, shuffled positions", () => {
  const d = makeMnist1d({ numSamples: 1000, finalSeqLength: 60, validation: 0.25, seed: 3 });
  assert.deepEqual([d.train.n, d.validation.n, d.test.n], [600, 200, 200]);
  assert.deepEqual(d.train.shape, [60]);
  assert.equal(d.t.length, 60);
  const plain = makeMnist1d({ numSamples: 200, seed: 5 });
  const shuf = makeMnist1d({ numSamples: 200, seed: 5, shuffleSeq: true });
  const perm = shuf.seqPermutation!;
  assert.deepEqual([...perm].sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
  assert.deepEqual(shuf.train.labels, plain.train.labels);
  // One permutation for every sequence: shuffled[i][j] = plain[i][perm[j]].
  for (let i = 0; i < plain.train.n; i++) {
    for (let j = 0; j < 40; j++) assert.equal(shuf.train.x[i * 40 + j], plain.train.x[i * 40 + perm[j]]);
  }
});

test("bad options give a clear error", () => {
  assert.throws(() => makeMnist1d({ numSamples: 1005 }), /numSamples must be a positive multiple of 10/);
  assert.throws(() => makeMnist1d({ trainSplit: 1 }), /trainSplit must be in \(0, 1\)/);
  assert.throws(() => makeMnist1d({ padding: [60, 36] }), /padding must be two integers 0 ≤ low ≤ high/);
  assert.throws(() => makeMnist1d({ maxTranslation: 0 }), /maxTranslation must be an integer ≥ 1/);
  assert.throws(() => makeMnist1d({ finalSeqLength: 1 }), /finalSeqLength must be an integer ≥ 2/);
  assert.throws(() => makeMnist1d({ iidNoiseScale: -1 }), /iidNoiseScale must be a finite number ≥ 0/);
});

// ---------------------------------------------------------------------------------------------------------
// Reference difficulty. A small dense net with softmax cross-entropy and Adam, in plain Float64Arrays
// (the library's own MLP is tested elsewhere; this file must not depend on it).
// ---------------------------------------------------------------------------------------------------------

interface Trained {
  accuracy(s: LabeledSet): number;
}

function trainDense(train: LabeledSet, hidden: number[], epochs: number, lr: number, seed: number): Trained {
  const sizes = [train.features, ...hidden, train.numClasses];
  const L = sizes.length - 1;
  const rng = new Rng(seed);
  const W = sizes.slice(0, L).map((fi, l) => {
    const std = l === L - 1 ? Math.sqrt(1 / fi) : Math.sqrt(2 / fi); // He init for ReLU layers
    return Float64Array.from({ length: fi * sizes[l + 1] }, () => rng.normal(0, std));
  });
  const B = sizes.slice(1).map((fo) => new Float64Array(fo));
  const params = [...W, ...B];
  const m1 = params.map((p) => new Float64Array(p.length));
  const m2 = params.map((p) => new Float64Array(p.length));
  let step = 0;

  const forward = (x: Float64Array, nb: number): Float64Array[] => {
    const acts = [x];
    for (let l = 0; l < L; l++) {
      const fi = sizes[l], fo = sizes[l + 1], a = acts[l], w = W[l];
      const z = new Float64Array(nb * fo);
      for (let i = 0; i < nb; i++) {
        for (let o = 0; o < fo; o++) z[i * fo + o] = B[l][o];
        for (let k = 0; k < fi; k++) {
          const av = a[i * fi + k];
          if (av === 0) continue;
          for (let o = 0; o < fo; o++) z[i * fo + o] += av * w[k * fo + o];
        }
      }
      if (l < L - 1) for (let i = 0; i < z.length; i++) if (z[i] < 0) z[i] = 0;
      acts.push(z);
    }
    return acts;
  };

  const batch = 100, d = train.features, K = train.numClasses;
  for (let ep = 0; ep < epochs; ep++) {
    const order = rng.permutation(train.n);
    for (let s0 = 0; s0 < train.n; s0 += batch) {
      const idx = order.slice(s0, s0 + batch);
      const nb = idx.length;
      const xb = new Float64Array(nb * d);
      idx.forEach((r, i) => xb.set(train.x.subarray(r * d, (r + 1) * d), i * d));
      const acts = forward(xb, nb);
      const out = acts[L];
      let g = new Float64Array(nb * K); // d loss / d logits = (softmax - onehot) / nb
      for (let i = 0; i < nb; i++) {
        let mx = -Infinity;
        for (let o = 0; o < K; o++) mx = Math.max(mx, out[i * K + o]);
        let se = 0;
        for (let o = 0; o < K; o++) se += g[i * K + o] = Math.exp(out[i * K + o] - mx);
        for (let o = 0; o < K; o++) g[i * K + o] /= se * nb;
        g[i * K + train.labels[idx[i]]] -= 1 / nb;
      }
      const grads: Float64Array[] = new Array(2 * L);
      for (let l = L - 1; l >= 0; l--) {
        const fi = sizes[l], fo = sizes[l + 1], a = acts[l], w = W[l];
        const gw = new Float64Array(fi * fo), gb = new Float64Array(fo);
        for (let i = 0; i < nb; i++) {
          for (let o = 0; o < fo; o++) gb[o] += g[i * fo + o];
          for (let k = 0; k < fi; k++) {
            const av = a[i * fi + k];
            if (av !== 0) for (let o = 0; o < fo; o++) gw[k * fo + o] += av * g[i * fo + o];
          }
        }
        grads[l] = gw;
        grads[L + l] = gb;
        if (l > 0) {
          const ga = new Float64Array(nb * fi);
          for (let i = 0; i < nb; i++) {
            for (let k = 0; k < fi; k++) {
              if (a[i * fi + k] <= 0) continue; // ReLU'
              let acc = 0;
              for (let o = 0; o < fo; o++) acc += w[k * fo + o] * g[i * fo + o];
              ga[i * fi + k] = acc;
            }
          }
          g = ga;
        }
      }
      step++;
      const b1 = 0.9, b2 = 0.999, lrt = (lr * Math.sqrt(1 - b2 ** step)) / (1 - b1 ** step);
      params.forEach((P, p) => {
        const G = grads[p], M = m1[p], V = m2[p];
        for (let i = 0; i < P.length; i++) {
          M[i] = b1 * M[i] + (1 - b1) * G[i];
          V[i] = b2 * V[i] + (1 - b2) * G[i] * G[i];
          P[i] -= (lrt * M[i]) / (Math.sqrt(V[i]) + 1e-8);
        }
      });
    }
  }
  return {
    accuracy(s: LabeledSet): number {
      const out = forward(Float64Array.from(s.x), s.n)[L];
      let ok = 0;
      for (let i = 0; i < s.n; i++) {
        let best = 0;
        for (let o = 1; o < K; o++) if (out[i * K + o] > out[i * K + best]) best = o;
        if (best === s.labels[i]) ok++;
      }
      return ok / s.n;
    },
  };
}

test("reference difficulty: logistic regression lands in 30–40 %, a small MLP clearly higher", () => {
  let t0 = performance.now();
  const logreg = trainDense(data.train, [], 60, 0.01, 0);
  const linTest = logreg.accuracy(data.test);
  const linMs = performance.now() - t0;
  t0 = performance.now();
  const mlp = trainDense(data.train, [64, 64], 30, 0.003, 0);
  const mlpTest = mlp.accuracy(data.test);
  const mlpMs = performance.now() - t0;
  console.log(
    `# MNIST-1D test accuracy: logistic regression ${(100 * linTest).toFixed(1)} % ` +
      `(train ${(100 * logreg.accuracy(data.train)).toFixed(1)} %, ${linMs.toFixed(0)} ms); ` +
      `MLP 40-64-64-10 ${(100 * mlpTest).toFixed(1)} % (train ${(100 * mlp.accuracy(data.train)).toFixed(1)} %, ${mlpMs.toFixed(0)} ms)`,
  );
  assert.ok(linTest >= 0.3 && linTest <= 0.4, `logistic regression test accuracy ${linTest}`);
  assert.ok(mlpTest >= 0.5 && mlpTest >= linTest + 0.15, `MLP test accuracy ${mlpTest} vs linear ${linTest}`);
});

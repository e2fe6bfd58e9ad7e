// PCA in float64 (lib/scratch/pca.ts): Jacobi eigenvectors against the eigen identity (C v = λ v,
// orthonormal, Σ λ = trace C), the reconstruction error equal to the sum of the discarded eigenvalues,
// a known 2-D case, principal angles of known subspaces, and errors for bad input.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import { Rng } from "../lib/random";
import { Pca, covariance, jacobiEigen, orthonormalColumns, principalAngles } from "../lib/scratch/pca";
import { reconstructionError } from "../lib/nn/autoencoder";
import { eigenResiduals } from "../lib/check/eigen";

before(async () => {
  await initBackend();
});

function randomRows(r: Rng, n: number, d: number): number[][] {
  // correlated columns, two of them constant (like MNIST's border pixels)
  return Array.from({ length: n }, () => {
    const z = Array.from({ length: d }, () => r.normal());
    return z.map((v, j) => (j === 1 || j === d - 1 ? 0.5 : v * (j + 1) + 0.5 * z[0]));
  });
}

test("Jacobi eigenvectors of a covariance satisfy C v = λ v, are orthonormal, and the λ's sum to trace C", () => {
  const x = randomRows(new Rng(1), 60, 9);
  const { cov, d } = covariance(x);
  const p = new Pca(x, d);
  const { residual, orthogonality, traceGap } = eigenResiduals(cov, d, p.eigenvalues, p.components);
  assert.ok(residual < 1e-10, `|C v − λ v| = ${residual}`);
  assert.ok(orthogonality < 1e-12, `|VᵀV − I| = ${orthogonality}`);
  const trace = Array.from({ length: d }, (_, i) => cov[i * d + i]).reduce((s, v) => s + v, 0);
  assert.ok(traceGap! < 1e-9 * trace && Math.abs(p.totalVariance - trace) < 1e-9 * trace);
  for (let j = 1; j < d; j++) assert.ok(p.eigenvalues[j - 1] >= p.eigenvalues[j], "eigenvalues descend");
  assert.ok(Math.abs(p.explainedVarianceRatio().reduce((s, v) => s + v, 0) - 1) < 1e-12);
  // the constant columns carry no variance: two eigenvalues 0
  assert.equal(Array.from(p.eigenvalues).filter((v) => Math.abs(v) < 1e-12).length, 2);
});

test("jacobiEigen of a random symmetric matrix (negative eigenvalues too) reconstructs it as V Λ Vᵀ", () => {
  const r = new Rng(2), n = 12;
  const b = Array.from({ length: n * n }, () => r.normal());
  const a = Float64Array.from({ length: n * n }, (_, k) => b[k] + b[(k % n) * n + Math.floor(k / n)]);
  const { values, vectors } = jacobiEigen(a, n);
  let worst = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const v = vectors.reduce((s, u, k) => s + u[i] * values[k] * u[j], 0);
    worst = Math.max(worst, Math.abs(v - a[i * n + j]));
  }
  assert.ok(worst < 1e-12, `|A − VΛVᵀ| = ${worst}`);
  assert.ok(values[n - 1] < 0);
});

test("a known 2-D cloud: the first component is the long axis, with its variance", () => {
  // x = (3u, 0.5w) rotated by 30°: λ = (9, 0.25) up to sampling, v₁ = (cos 30°, sin 30°)
  const r = new Rng(3), th = Math.PI / 6;
  const rows = Array.from({ length: 4000 }, () => {
    const a = 3 * r.normal(), b = 0.5 * r.normal();
    return [a * Math.cos(th) - b * Math.sin(th) + 1, a * Math.sin(th) + b * Math.cos(th) - 2];
  });
  const p = new Pca(rows, 1);
  assert.ok(Math.abs(p.eigenvalues[0] - 9) < 0.5 && Math.abs(p.eigenvalues[1] - 0.25) < 0.02, `λ = ${p.eigenvalues}`);
  assert.ok(Math.abs(Math.abs(p.components[0][0]) - Math.cos(th)) < 0.01);
  assert.ok(Math.abs(p.mean[0] - 1) < 0.15 && Math.abs(p.mean[1] + 2) < 0.15);
});

test("PCA's mean squared reconstruction error with k components is the sum of the discarded eigenvalues", () => {
  const rows = randomRows(new Rng(4), 200, 8);
  const x = tf.tensor2d(rows);
  const p = new Pca(x, 8);
  for (const k of [1, 3, 6]) {
    const xh = p.reconstruct(x, k);
    const e = reconstructionError(x, xh);
    const tail = Array.from(p.eigenvalues.slice(k)).reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(e - tail) < 1e-4 * p.totalVariance, `k=${k}: error ${e} vs Σ discarded λ ${tail}`);
    xh.dispose();
  }
  x.dispose();
});

test("principal angles: 0 for the same subspace in another basis, θ for a plane tilted by θ, 90° for orthogonal ones", () => {
  const deg = (v: number[]) => v.map((a) => (a * 180) / Math.PI);
  const a = [[1, 0], [0, 1], [0, 0], [0, 0]];
  const same = [[2, 1], [1, -3], [0, 0], [0, 0]];
  assert.ok(Math.max(...deg(principalAngles(a, same))) < 1e-6);
  const th = 0.3;
  const tilted = [[1, 0], [0, Math.cos(th)], [0, Math.sin(th)], [0, 0]];
  const got = principalAngles(a, tilted);
  assert.ok(Math.abs(got[0]) < 1e-7 && Math.abs(got[1] - th) < 1e-12, `angles ${got}`);
  assert.deepEqual(deg(principalAngles([[1], [0], [0], [0]], [[0], [0], [1], [0]])).map(Math.round), [90]);
  const q = orthonormalColumns(tilted);
  assert.ok(Math.abs(q[0].reduce((s, v, i) => s + v * q[1][i], 0)) < 1e-15);
});

test("eigenResiduals sees a wrong eigenpair and a non-orthogonal basis", () => {
  const a = [2, 1, 1, 2]; // eigenpairs (3, (1, 1)/√2) and (1, (1, −1)/√2)
  const s = Math.SQRT1_2;
  const right = eigenResiduals(a, 2, [3, 1], [[s, s], [s, -s]]);
  assert.ok(right.residual < 1e-15 && right.orthogonality < 1e-15 && right.traceGap! < 1e-15);
  const wrong = eigenResiduals(a, 2, [3, 2], [[s, s], [1, 0]]);
  assert.ok(wrong.residual > 0.5 && wrong.orthogonality > 0.5 && wrong.traceGap! > 0.5);
});

test("bad input gets errors that name the problem", () => {
  assert.throws(() => new Pca([[1, 2], [3, 4]], 3), /k must be an integer in \[1, 2\]/);
  assert.throws(() => jacobiEigen([1, 2, 3, 4], 2), /not symmetric/);
  assert.throws(() => jacobiEigen([1, 2, 3], 2), /2×2 = 4 entries/);
  assert.throws(() => orthonormalColumns([[1, 2], [2, 4]]), /column 1 depends/);
  assert.throws(() => principalAngles([[1], [0]], [[1], [0], [0]]), /different spaces/);
});

/**
 * Principal component analysis in float64 (seed 003: the undercomplete linear autoencoder learns the PCA
 * subspace). For data rows x_n ∈ R^d:
 *
 *   centre       μ = (1/N) Σ x_n,   X̄ = X − μ
 *   covariance   C = X̄ᵀ X̄ / N                                        (d × d, symmetric, ≥ 0)
 *   eigen        C v_j = λ_j v_j,  λ_1 ≥ λ_2 ≥ ... ≥ 0,  vᵢᵀ v_j = δ_ij
 *   code         c = Vₖᵀ (x − μ),   reconstruction x̂ = μ + Vₖ c        Vₖ = [v_1 ... v_k]
 *   explained    λ_j / Σ_i λ_i (Σ_i λ_i = trace C, the total variance)
 *
 * The eigenvectors come from the cyclic Jacobi method: each step picks an off-diagonal entry C_pq and
 * rotates the plane (p, q) by the angle that makes it zero, C ← Gᵀ C G; sweeps over all pairs drive the
 * off-diagonal part to zero (quadratically, once small), the diagonal becomes the λ's and the product of
 * the rotations the eigenvectors. Every rotation is orthogonal, so V stays orthonormal to rounding.
 * Cost: O(d³) per sweep, a handful of sweeps: a fraction of a second for d = 196, seconds for d = 784.
 */
import * as tf from "@tensorflow/tfjs";

/** Eigenvalues (descending) and eigenvectors (vectors[j] for values[j]) of a symmetric matrix. */
export interface SymmetricEigen {
  values: Float64Array;
  vectors: Float64Array[];
  /** Jacobi sweeps used. */
  sweeps: number;
}

/** Row-major n × n symmetric matrix `a` (not modified) → eigen-decomposition by cyclic Jacobi rotations. */
export function jacobiEigen(a: ArrayLike<number>, n: number, opts: { tol?: number; maxSweeps?: number } = {}): SymmetricEigen {
  if (a.length !== n * n) throw new Error(`jacobiEigen: the matrix should have ${n}×${n} = ${n * n} entries, got ${a.length}`);
  const A = Float64Array.from(a);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) {
    const s = Math.abs(A[i * n + j] - A[j * n + i]);
    if (s > 1e-9 * (Math.abs(A[i * n + j]) + Math.abs(A[j * n + i]) + 1e-300)) throw new Error(`jacobiEigen: the matrix is not symmetric (entries [${i}, ${j}] and [${j}, ${i}] differ)`);
  }
  const Vt = new Float64Array(n * n); // rows are the eigenvectors
  for (let i = 0; i < n; i++) Vt[i * n + i] = 1;
  const tol = opts.tol ?? 1e-14, maxSweeps = opts.maxSweeps ?? 50;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale += A[i] * A[i];
  let sweeps = 0;
  for (; sweeps < maxSweeps; sweeps++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q] ** 2;
    if (off <= tol * tol * scale) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        // The angle that zeroes A_pq: tan 2θ = 2 A_pq / (A_qq − A_pp); the smaller root t = tan θ is stable.
        const theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        // A ← Gᵀ A G touches rows and columns p, q only. Rows are updated in place (contiguous), columns are
        // copied from them by symmetry, and the 2 × 2 block is set directly (A_pq = 0).
        const app = A[p * n + p], aqq = A[q * n + q];
        const rp = p * n, rq = q * n;
        for (let k = 0; k < n; k++) {
          const apk = A[rp + k], aqk = A[rq + k];
          A[rp + k] = c * apk - s * aqk;
          A[rq + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          A[k * n + p] = A[rp + k];
          A[k * n + q] = A[rq + k];
        }
        A[rp + p] = app - t * apq;
        A[rq + q] = aqq + t * apq;
        A[rp + q] = 0;
        A[rq + p] = 0;
        for (let k = 0; k < n; k++) { // eigenvectors as rows of Vᵀ: Vᵀ ← Gᵀ Vᵀ
          const vpk = Vt[rp + k], vqk = Vt[rq + k];
          Vt[rp + k] = c * vpk - s * vqk;
          Vt[rq + k] = s * vpk + c * vqk;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j * n + j] - A[i * n + i]);
  const values = Float64Array.from(order, (i) => A[i * n + i]);
  const vectors = order.map((j) => Vt.slice(j * n, (j + 1) * n));
  return { values, vectors, sweeps };
}

/** Rows of x as float64 [N][d] data, from a tensor, nested arrays or a flat array with its row count. */
function rowsOf(where: string, x: tf.Tensor2D | number[][]): { data: Float64Array; n: number; d: number } {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new Error(`${where}: x should be [N, d], got [${x.shape.join(", ")}]`);
    return { data: Float64Array.from(x.dataSync()), n: x.shape[0], d: x.shape[1] };
  }
  if (!Array.isArray(x) || x.length === 0 || !Array.isArray(x[0])) throw new Error(`${where}: x should be a [N, d] tensor or an array of rows`);
  const d = x[0].length;
  if (!x.every((r) => r.length === d)) throw new Error(`${where}: every row of x should have ${d} entries`);
  return { data: Float64Array.from(x.flat()), n: x.length, d };
}

/** Mean μ and covariance C = X̄ᵀX̄ / N (row-major d × d) of the rows, in float64. */
export function covariance(x: tf.Tensor2D | number[][]): { mean: Float64Array; cov: Float64Array; d: number; n: number } {
  const { data, n, d } = rowsOf("covariance", x);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] -= mean[j];
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    const off = i * d;
    for (let a = 0; a < d; a++) {
      const xa = data[off + a];
      if (xa === 0) continue; // MNIST's empty border pixels
      const row = a * d;
      for (let b = a; b < d; b++) cov[row + b] += xa * data[off + b];
    }
  }
  for (let a = 0; a < d; a++) for (let b = a; b < d; b++) {
    const v = cov[a * d + b] / n;
    cov[a * d + b] = v;
    cov[b * d + a] = v;
  }
  return { mean, cov, d, n };
}

/**
 * Jacobi on the dimensions that vary: a constant input (MNIST's border pixels) has a zero row and column
 * in C, hence the eigenvalue 0 with a coordinate eigenvector; leaving those out saves the cubic cost.
 */
function eigenSkippingConstants(cov: Float64Array, d: number): SymmetricEigen {
  const live = Array.from({ length: d }, (_, i) => i).filter((i) => cov[i * d + i] > 0);
  const m = live.length;
  if (m === d || m === 0) return jacobiEigen(cov, d);
  const sub = new Float64Array(m * m);
  live.forEach((i, a) => live.forEach((j, b) => (sub[a * m + b] = cov[i * d + j])));
  const e = jacobiEigen(sub, m);
  const dead = Array.from({ length: d }, (_, i) => i).filter((i) => !(cov[i * d + i] > 0));
  const vectors = e.vectors.map((v) => { const full = new Float64Array(d); live.forEach((i, a) => (full[i] = v[a])); return full; });
  for (const i of dead) { const u = new Float64Array(d); u[i] = 1; vectors.push(u); }
  const values = new Float64Array(d);
  values.set(e.values);
  return { values, vectors, sweeps: e.sweeps };
}

export class Pca {
  /** μ [d]. */
  readonly mean: Float64Array;
  /** v_1 ... v_k, each [d], orthonormal, by decreasing eigenvalue. */
  readonly components: Float64Array[];
  /** All d eigenvalues λ of C, descending (variances along the components). */
  readonly eigenvalues: Float64Array;
  /** trace C = Σ λ, the total variance. */
  readonly totalVariance: number;
  readonly d: number;
  readonly k: number;
  /** The covariance, kept for checks (C v = λ v). */
  readonly cov: Float64Array;

  /** The top-k principal components of the rows of x (k ≤ d). */
  constructor(x: tf.Tensor2D | number[][], k: number) {
    const { mean, cov, d } = covariance(x);
    if (!Number.isInteger(k) || k < 1 || k > d) throw new Error(`Pca: k must be an integer in [1, ${d}] (the data's dimension), got ${k}`);
    const eig = eigenSkippingConstants(cov, d);
    this.mean = mean;
    this.cov = cov;
    this.d = d;
    this.k = k;
    this.eigenvalues = eig.values;
    this.components = eig.vectors.slice(0, k);
    this.totalVariance = eig.values.reduce((s, v) => s + v, 0);
  }

  /** λ_j / Σ λ for the k components. */
  explainedVarianceRatio(): number[] {
    return Array.from(this.eigenvalues.slice(0, this.k), (v) => v / this.totalVariance);
  }

  /** Vₖ as a [d, k] float32 tensor (columns are the components). The caller disposes it. */
  basis(k = this.k): tf.Tensor2D {
    if (k > this.k) throw new Error(`Pca.basis: this PCA kept ${this.k} components, asked for ${k}`);
    const m = new Float32Array(this.d * k);
    for (let j = 0; j < k; j++) for (let i = 0; i < this.d; i++) m[i * k + j] = this.components[j][i];
    return tf.tensor2d(m, [this.d, k]);
  }

  /** Codes c = (x − μ) Vₖ [N, k] with the first k (default all kept) components. The caller disposes them. */
  encode(x: tf.Tensor2D, k = this.k): tf.Tensor2D {
    return tf.tidy(() => tf.matMul(tf.sub(x, tf.tensor1d(Float32Array.from(this.mean))), this.basis(k)));
  }

  /** x̂ = μ + c Vₖᵀ from codes [N, k]. The caller disposes it. */
  decode(c: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.add(tf.matMul(c, tf.transpose(this.basis(c.shape[1]))), tf.tensor1d(Float32Array.from(this.mean))) as tf.Tensor2D);
  }

  /** x̂ through k components (default all kept). The caller disposes it. */
  reconstruct(x: tf.Tensor2D, k = this.k): tf.Tensor2D {
    return tf.tidy(() => this.decode(this.encode(x, k)));
  }
}

/** Modified Gram–Schmidt on the columns of a [d, p] matrix (float64); throws when they are dependent. */
export function orthonormalColumns(m: tf.Tensor2D | number[][]): Float64Array[] {
  const { data, n: d, d: p } = rowsOf("orthonormalColumns", m);
  const q: Float64Array[] = [];
  for (let j = 0; j < p; j++) {
    const v = Float64Array.from({ length: d }, (_, i) => data[i * p + j]);
    const norm0 = Math.hypot(...v);
    for (const u of q) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += u[i] * v[i];
      for (let i = 0; i < d; i++) v[i] -= dot * u[i];
    }
    const norm = Math.hypot(...v);
    if (!(norm > 1e-10 * Math.max(norm0, 1e-300))) throw new Error(`orthonormalColumns: column ${j} depends on the ones before; the columns do not span a ${p}-dimensional subspace`);
    for (let i = 0; i < d; i++) v[i] /= norm;
    q.push(v);
  }
  return q;
}

/**
 * Principal angles (radians, ascending) between the column spaces of A [d, p] and B [d, q]: with
 * orthonormal bases Q_A, Q_B, cos θ_i are the singular values of Q_Aᵀ Q_B (Björck & Golub 1973); here the
 * square roots of the eigenvalues of MᵀM, M = Q_Aᵀ Q_B. min(p, q) angles; all 0 when the spaces coincide.
 */
export function principalAngles(a: tf.Tensor2D | number[][], b: tf.Tensor2D | number[][]): number[] {
  const qa = orthonormalColumns(a), qb = orthonormalColumns(b);
  if (qa[0].length !== qb[0].length) throw new Error(`principalAngles: A and B live in different spaces (${qa[0].length} and ${qb[0].length} rows)`);
  const [small, large] = qa.length <= qb.length ? [qa, qb] : [qb, qa];
  const p = small.length, d = small[0].length;
  // G = M Mᵀ over the smaller side: G_ij = Σ_l (u_iᵀ w_l)(u_jᵀ w_l)
  const m = small.map((u) => large.map((w) => { let s = 0; for (let i = 0; i < d; i++) s += u[i] * w[i]; return s; }));
  const g = new Float64Array(p * p);
  for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) g[i * p + j] = m[i].reduce((s, v, l) => s + v * m[j][l], 0);
  const { values } = jacobiEigen(g, p);
  return Array.from(values, (v) => Math.acos(Math.min(1, Math.sqrt(Math.max(0, v))))).sort((x, y) => x - y);
}

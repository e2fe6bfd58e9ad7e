/**
 * Newton's method (seed 003, algorithm 8.8): from the second-order Taylor expansion
 *   J(θ) ≈ J(θ_0) + (θ - θ_0)ᵗ∇J(θ_0) + ½(θ - θ_0)ᵗ H (θ - θ_0),
 * the minimum of the model is θ* = θ_0 - H⁻¹∇J(θ_0). On a quadratic the model is exact: one step.
 *
 * We solve H Δθ = -g by Gaussian elimination instead of forming H⁻¹ (same O(n³) time, fewer rounding
 * errors); the Hessian itself needs n² numbers, which is what rules the method out for networks.
 */
import type { GradientAt, Optimizer } from "./optimizers";

/** H(θ), the n×n Hessian at θ (rows as arrays). */
export type HessianAt = (theta: Float64Array) => ArrayLike<number>[];

/**
 * Solves A x = b by Gaussian elimination with partial pivoting (float64). A is n×n, not modified.
 * Throws when A is singular to working precision.
 */
export function solveLinear(A: ArrayLike<number>[], b: ArrayLike<number>): Float64Array {
  const n = b.length;
  if (A.length !== n || !A.every((row) => row.length === n)) {
    throw new Error(`solveLinear: A must be ${n}×${n} to match b (${n} entries), got ${A.length} rows`);
  }
  const M = A.map((row) => Float64Array.from(row));
  const x = Float64Array.from(b);
  const scale = Math.max(1e-300, ...M.map((row) => row.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    if (Math.abs(M[p][c]) <= 1e-14 * scale) throw new Error(`solveLinear: the matrix is singular (pivot ${c} is ~0); add damping λI`);
    [M[c], M[p]] = [M[p], M[c]];
    [x[c], x[p]] = [x[p], x[c]];
    const pivotRow = M[c];
    for (let r = c + 1; r < n; r++) {
      const row = M[r];
      const f = row[c] / pivotRow[c];
      if (f === 0) continue;
      for (let k = c; k < n; k++) row[k] -= f * pivotRow[k];
      x[r] -= f * x[c];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

/** Δθ = -(H + λI)⁻¹ g: the Newton step for gradient g and Hessian H (λ = damping ≥ 0). */
export function newtonStep(gradient: ArrayLike<number>, hessian: ArrayLike<number>[], damping = 0): Float64Array {
  if (!(damping >= 0)) throw new Error(`newtonStep: damping λ must be ≥ 0, got ${damping}`);
  const H = damping > 0 ? hessian.map((row, i) => Array.from(row, (v, j) => v + (i === j ? damping : 0))) : hessian;
  const step = solveLinear(H, gradient);
  for (let i = 0; i < step.length; i++) step[i] = -step[i];
  return step;
}

export interface NewtonOptions {
  /** H(θ). */
  hessianAt: HessianAt;
  /** Step length (1 = the full Newton step). */
  learningRate?: number;
  /** λ in (H + λI): keeps the step defined (and a descent direction) where H is not positive definite. */
  damping?: number;
}

class NewtonOptimizer implements Optimizer {
  readonly name: string;
  private k = 0;
  constructor(private readonly opts: NewtonOptions) {
    if (typeof opts.hessianAt !== "function") throw new Error("Newton: give hessianAt(θ), the function that returns the Hessian");
    const lr = opts.learningRate ?? 1;
    if (!(lr > 0 && Number.isFinite(lr))) throw new Error(`Newton: the step length must be a positive number, got ${lr}`);
    this.name = `Newton${opts.damping ? `(λ=${opts.damping})` : ""}`;
  }
  get iterations(): number {
    return this.k;
  }
  currentLearningRate(): number {
    return this.opts.learningRate ?? 1;
  }
  step(theta: Float64Array, gradientAt: GradientAt): void {
    const d = newtonStep(gradientAt(theta), this.opts.hessianAt(theta), this.opts.damping ?? 0);
    const lr = this.currentLearningRate();
    for (let i = 0; i < theta.length; i++) theta[i] += lr * d[i];
    this.k++;
  }
  reset(): void {
    this.k = 0;
  }
}

/** Algorithm 8.8 as an optimizer: θ ← θ - (H + λI)⁻¹ g. */
export function newton(opts: NewtonOptions): Optimizer {
  return new NewtonOptimizer(opts);
}

export interface NewtonCost {
  /** Number of parameters n. */
  n: number;
  /** Bytes of the Hessian in float64: 8n². */
  hessianBytes: number;
  /** Milliseconds of one solve H Δθ = -g (O(n³)), measured. */
  solveMs: number;
}

/**
 * Measures one Newton solve for a random well-conditioned n×n Hessian: what a step costs as n grows.
 * `random` gives numbers in [0, 1) (pass a seeded Rng's `() => rng.random()`).
 */
export function measureNewtonCost(n: number, random: () => number): NewtonCost {
  if (!Number.isInteger(n) || n < 1) throw new Error(`measureNewtonCost: n must be a positive integer, got ${n}`);
  const H = Array.from({ length: n }, (_, i) => Float64Array.from({ length: n }, (_, j) => (i === j ? n : 0) + random() - 0.5));
  const g = Float64Array.from({ length: n }, random);
  const t0 = performance.now();
  newtonStep(g, H);
  return { n, hessianBytes: 8 * n * n, solveMs: performance.now() - t0 };
}

/**
 * Two-parameter test surfaces for optimizers: the value J(θ), the gradient and the Hessian in float64,
 * and a grid of J for contour plots. Besides the quadratic and Rosenbrock's banana, the loss of the
 * smallest deep net, with a saddle point at the origin (lecture 03).
 */

export interface Surface {
  /** Name for legends and titles. */
  name: string;
  /** J(θ). */
  f(theta: ArrayLike<number>): number;
  /** ∇J(θ). */
  gradient(theta: ArrayLike<number>): Float64Array;
  /** The Hessian H(θ) (2×2 rows). */
  hessian(theta: ArrayLike<number>): Float64Array[];
  /** Where the minimum is. */
  minimum: number[];
}

/**
 * The ill-conditioned quadratic J(θ) = ½ θᵗAθ with A = R diag(1, κ) Rᵗ (eigenvalues 1 and κ, the
 * condition number; R rotates by `angle` radians so the valley is not aligned with the axes).
 */
export function quadratic(condition: number, angle = 0): Surface {
  if (!(condition >= 1 && Number.isFinite(condition))) throw new Error(`quadratic: the condition number κ must be ≥ 1, got ${condition}`);
  const c = Math.cos(angle), s = Math.sin(angle);
  // A = R diag(1, κ) Rᵗ with R = [[c, -s], [s, c]].
  const a = c * c + condition * s * s, b = (1 - condition) * c * s, d = s * s + condition * c * c;
  const A = [Float64Array.of(a, b), Float64Array.of(b, d)];
  return {
    name: `cuadrática (κ=${condition})`,
    f: (t) => 0.5 * (a * t[0] * t[0] + 2 * b * t[0] * t[1] + d * t[1] * t[1]),
    gradient: (t) => Float64Array.of(a * t[0] + b * t[1], b * t[0] + d * t[1]),
    hessian: () => A.map((row) => row.slice()),
    minimum: [0, 0],
  };
}

/** Rosenbrock's banana J(x, y) = (a - x)² + b(y - x²)², minimum at (a, a²); a = 1, b = 100 by default. */
export function rosenbrock(a = 1, b = 100): Surface {
  return {
    name: "Rosenbrock",
    f: (t) => (a - t[0]) ** 2 + b * (t[1] - t[0] ** 2) ** 2,
    gradient: (t) => Float64Array.of(-2 * (a - t[0]) - 4 * b * t[0] * (t[1] - t[0] ** 2), 2 * b * (t[1] - t[0] ** 2)),
    hessian: (t) => [Float64Array.of(2 - 4 * b * (t[1] - 3 * t[0] ** 2), -4 * b * t[0]), Float64Array.of(-4 * b * t[0], 2 * b)],
    minimum: [a, a * a],
  };
}

/**
 * The smallest deep net: s = w₂ · tanh(w₁ x), fitted by squared error to (x_n, y_n):
 *   q(w₁, w₂) = 1/N Σ_n ½ (y_n − w₂ tanh(w₁ x_n))².
 * At (0, 0) both partial derivatives vanish (tanh 0 = 0) and the Hessian has eigenvalues of both signs:
 * a saddle point. (w₁, w₂) and (−w₁, −w₂) give the same net, so minima come in symmetric pairs.
 */
export function saddleNet(xs: readonly number[], ys: readonly number[]): Surface {
  if (xs.length === 0 || xs.length !== ys.length) throw new Error(`saddleNet: give as many targets as inputs (got ${xs.length} and ${ys.length}), at least one`);
  const N = xs.length;
  const f = (t: ArrayLike<number>) => {
    let q = 0;
    for (let n = 0; n < N; n++) q += 0.5 * (ys[n] - t[1] * Math.tanh(t[0] * xs[n])) ** 2;
    return q / N;
  };
  const gradient = (t: ArrayLike<number>) => {
    let g1 = 0, g2 = 0;
    for (let n = 0; n < N; n++) {
      const h = Math.tanh(t[0] * xs[n]);
      const e = t[1] * h - ys[n]; // ∂q_n/∂s
      g1 += e * t[1] * (1 - h * h) * xs[n];
      g2 += e * h;
    }
    return Float64Array.of(g1 / N, g2 / N);
  };
  const hessian = (t: ArrayLike<number>) => {
    // Central differences of the exact gradient (h = 1e-5), symmetrized.
    const h = 1e-5;
    const col = (i: number) => {
      const p = Float64Array.from(t), m = Float64Array.from(t);
      p[i] += h;
      m[i] -= h;
      const gp = gradient(p), gm = gradient(m);
      return [(gp[0] - gm[0]) / (2 * h), (gp[1] - gm[1]) / (2 * h)];
    };
    const [c0, c1] = [col(0), col(1)];
    const off = (c0[1] + c1[0]) / 2;
    return [Float64Array.of(c0[0], off), Float64Array.of(off, c1[1])];
  };
  // A minimum by plain gradient descent from (1, 1) (the surface is cheap).
  const theta = Float64Array.of(1, 1);
  for (let k = 0; k < 20000; k++) {
    const g = gradient(theta);
    theta[0] -= 0.5 * g[0];
    theta[1] -= 0.5 * g[1];
  }
  return { name: "s = w₂·tanh(w₁x)", f, gradient, hessian, minimum: Array.from(theta) };
}

/** J on an nx × ny grid over [x0, x1] × [y0, y1]: rows are y, columns x (as `contour` wants), with the axes. */
export function surfaceGrid(surface: Pick<Surface, "f">, x: [number, number], y: [number, number], n = 80, transform: (v: number) => number = (v) => v): { z: number[][]; xs: number[]; ys: number[] } {
  const xs = Array.from({ length: n }, (_, i) => x[0] + ((x[1] - x[0]) * i) / (n - 1));
  const ys = Array.from({ length: n }, (_, i) => y[0] + ((y[1] - y[0]) * i) / (n - 1));
  return { z: ys.map((yv) => xs.map((xv) => transform(surface.f([xv, yv])))), xs, ys };
}

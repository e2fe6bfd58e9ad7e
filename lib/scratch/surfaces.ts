/**
 * Two-parameter test surfaces for optimizers: the value J(θ), the gradient and the Hessian in float64,
 * and a grid of J for contour plots.
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

/** J on an nx × ny grid over [x0, x1] × [y0, y1]: rows are y, columns x (as `contour` wants), with the axes. */
export function surfaceGrid(surface: Pick<Surface, "f">, x: [number, number], y: [number, number], n = 80, transform: (v: number) => number = (v) => v): { z: number[][]; xs: number[]; ys: number[] } {
  const xs = Array.from({ length: n }, (_, i) => x[0] + ((x[1] - x[0]) * i) / (n - 1));
  const ys = Array.from({ length: n }, (_, i) => y[0] + ((y[1] - y[0]) * i) / (n - 1));
  return { z: ys.map((yv) => xs.map((xv) => transform(surface.f([xv, yv])))), xs, ys };
}

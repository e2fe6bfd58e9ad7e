/**
 * Central-difference gradient check in float64: for every parameter θ, the fourth-order central difference
 *   numeric = [8 (q(θ+h) - q(θ-h)) - (q(θ+2h) - q(θ-2h))] / 12h      (truncation error O(h⁴))
 *   relError = |analytic - numeric| / max(|analytic|, |numeric|, floor).
 * Defaults h = 3e-5, floor = 1e-4. Rounding in q (≈1e-16·|q|) divided by h leaves the numeric derivative
 * an absolute error of ~1e-11..1e-10, so gradients smaller than the floor (dead ReLUs, step units, tiny
 * entries) are judged by their absolute error instead of producing 0/0-like ratios. A correct float64
 * gradient then gives relError ≲ 1e-6; a wrong one gives ≳ 1e-2. A small h keeps the stencil from
 * straddling a kink (ReLU at 0, maxout ties), where no finite difference is valid.
 */
import { leaves } from "./flatten";

export interface GradCheckEntry {
  /** Where the parameter is, e.g. "[1].W[0][2]" (layer 2's θ_{3,1}). */
  path: string;
  analytic: number;
  numeric: number;
  absError: number;
  relError: number;
}

export interface GradCheckResult {
  /** The largest relative error over all checked parameters. */
  maxRelError: number;
  /** The largest absolute error. */
  maxAbsError: number;
  /** Number of parameters checked. */
  checked: number;
  /** The worst entries, largest relative error first. */
  worst: GradCheckEntry[];
}

export interface GradCheckOptions {
  /** Step of the central difference (default 3e-5). */
  h?: number;
  /** Denominator floor of the relative error (default 1e-4). */
  floor?: number;
  /** How many of the worst entries to report (default 5). */
  worst?: number;
}

/**
 * Checks `grads` against central differences of `q` at `params`. `q(params)` must compute the loss from the
 * structure it is given; gradCheck perturbs each number of `params` in place (and restores it), so
 * `params` and `grads` must have the same shape (e.g. both MlpWeights).
 */
export function gradCheck<P>(q: (params: P) => number, params: P, grads: unknown, opts: GradCheckOptions = {}): GradCheckResult {
  const h = opts.h ?? 3e-5;
  const floor = opts.floor ?? 1e-4;
  const ps = leaves(params);
  const gs = leaves(grads);
  if (ps.length !== gs.length) {
    throw new Error(`gradCheck: params have ${ps.length} numbers but grads have ${gs.length}; they must have the same structure`);
  }
  const entries: GradCheckEntry[] = ps.map((p, k) => {
    const v = p.get();
    const at = (d: number) => { p.set(v + d); return q(params); };
    const numeric = (8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h);
    p.set(v);
    const analytic = gs[k].get();
    const absError = Math.abs(analytic - numeric);
    const relError = absError / Math.max(Math.abs(analytic), Math.abs(numeric), floor);
    return { path: p.path, analytic, numeric, absError, relError: Number.isNaN(relError) ? Infinity : relError };
  });
  const sorted = entries.slice().sort((a, b) => b.relError - a.relError);
  return {
    maxRelError: sorted.length ? sorted[0].relError : 0,
    maxAbsError: entries.reduce((m, e) => Math.max(m, e.absError), 0),
    checked: entries.length,
    worst: sorted.slice(0, opts.worst ?? 5),
  };
}

/** A few lines for a notebook or a failing test: the max errors and the worst entries. */
export function describeGradCheck(r: GradCheckResult): string {
  const fmt = (v: number) => v.toExponential(2);
  const lines = [`gradient check: ${r.checked} parameters, max rel error ${fmt(r.maxRelError)}, max abs error ${fmt(r.maxAbsError)}`];
  for (const e of r.worst) lines.push(`  ${e.path}: analytic ${e.analytic.toPrecision(8)}, numeric ${e.numeric.toPrecision(8)}, rel ${fmt(e.relError)}`);
  return lines.join("\n");
}

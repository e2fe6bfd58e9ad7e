/**
 * compare(a, b): how far two implementations' numbers are apart, entry by entry.
 *   maxAbs = max |a - b|,   maxRel = max |a - b| / max(|a|, |b|, floor).
 * The floor (default 1e-3) makes the relative error robust: entries that are ~0 in both (float32 rounding
 * of a vanishing gradient) are measured in absolute terms instead of blowing up as 1e-9/1e-12.
 */
import { leaves, Numeric } from "./flatten";

export interface Comparison {
  maxAbs: number;
  maxRel: number;
  /** Number of entries compared. */
  count: number;
  /** The entry with the largest relative error. */
  worst: { path: string; a: number; b: number } | undefined;
}

/**
 * Compares two structures of numbers of the same size: numbers, arrays, typed arrays, MlpWeights,
 * tensors (read with dataSync; the caller still owns and disposes them), in any mix.
 */
export function compare(a: Numeric, b: Numeric, opts: { floor?: number } = {}): Comparison {
  const floor = opts.floor ?? 1e-3;
  const la = leaves(a), lb = leaves(b);
  if (la.length !== lb.length) {
    throw new Error(`compare: the first has ${la.length} numbers and the second ${lb.length}; compare results of the same shape`);
  }
  let maxAbs = 0, maxRel = 0;
  let worst: Comparison["worst"];
  la.forEach((x, k) => {
    const va = x.get(), vb = lb[k].get();
    const abs = Math.abs(va - vb);
    const rel = abs / Math.max(Math.abs(va), Math.abs(vb), floor);
    const relOrInf = Number.isNaN(rel) ? Infinity : rel; // NaN on either side is never "close"
    maxAbs = Math.max(maxAbs, Number.isNaN(abs) ? Infinity : abs);
    if (worst === undefined || relOrInf > maxRel) {
      maxRel = Math.max(maxRel, relOrInf);
      worst = { path: x.path, a: va, b: vb };
    }
  });
  return { maxAbs, maxRel, count: la.length, worst };
}

/**
 * Walks nested numbers (arrays, typed arrays, objects such as MlpWeights, tfjs tensors) in a fixed order,
 * naming each number by its path ("[0].W[2][1]"), so two implementations' results can be compared entry
 * by entry and a parameter can be perturbed in place.
 */
import * as tf from "@tensorflow/tfjs";

/** Anything made of numbers: a number, arrays or typed arrays of them, objects of them, tensors. */
export type Numeric = number | tf.Tensor | ArrayLike<unknown> | { [key: string]: unknown };

/** One number inside a structure: where it is, and how to read and write it. */
export interface Leaf {
  path: string;
  get(): number;
  set(v: number): void;
}

/** Every number in `x`, in order. Tensors are read (not writable); arrays and objects are writable in place. */
export function leaves(x: unknown, path = ""): Leaf[] {
  const out: Leaf[] = [];
  walk(x, path, out);
  return out;
}

function walk(x: unknown, path: string, out: Leaf[]): void {
  if (x instanceof tf.Tensor) {
    const values = x.dataSync();
    const shape = x.shape;
    values.forEach((v, k) => {
      out.push({ path: `${path}${indexPath(k, shape)}`, get: () => v, set: () => { throw new Error(`${path}: a tensor cannot be perturbed in place`); } });
    });
    return;
  }
  if (ArrayBuffer.isView(x) || Array.isArray(x)) {
    const arr = x as unknown as { [k: number]: unknown; length: number };
    for (let k = 0; k < arr.length; k++) {
      const v = arr[k];
      if (typeof v === "number") out.push({ path: `${path}[${k}]`, get: () => arr[k] as number, set: (nv) => { arr[k] = nv; } });
      else walk(v, `${path}[${k}]`, out);
    }
    return;
  }
  if (typeof x === "number") {
    out.push({ path: path || "value", get: () => x, set: () => { throw new Error("a bare number cannot be perturbed in place; wrap it in an array"); } });
    return;
  }
  if (x !== null && typeof x === "object") {
    for (const key of Object.keys(x).sort()) walk((x as Record<string, unknown>)[key], `${path}.${key}`, out);
    return;
  }
  if (x === undefined) return;
  throw new Error(`${path || "value"}: expected numbers, arrays, objects or tensors, got ${typeof x}`);
}

/** "[i][j]" of flat index k in a tensor of the given shape. */
function indexPath(k: number, shape: number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(k % shape[d]);
    k = Math.floor(k / shape[d]);
  }
  return idx.map((i) => `[${i}]`).join("");
}

/**
 * Tanh and Sigmoid on wasm remember their last outputs by input. The hand-written activation layer computes
 * g(z) in its forward pass and again in its backward pass (g'(z) = 1 − tanh²(z), σ(z)(1 − σ(z)):
 * lib/scratch/activations.ts keeps the lecture's formula), so every step ran each of these kernels twice on
 * the same z. A tensor's data never changes (tensors are immutable; a variable's `assign` gives it a new
 * dataId), so the same input dataId always holds the same values and the kept output is the answer: the
 * kernel then returns it the way wasm's Reshape returns its input (one more reference, the same dataId),
 * bit for bit what a second run would give.
 *
 * A few outputs are kept (least recently used first out); each entry holds one backend reference of its own,
 * released when it is evicted, when its input is gone (checked at every call), or by `clearElementwiseMemo()`.
 *
 * For the same reason Identity (tf.clone, and the gradient tape's pass-through of ∂q/∂y: 38–51 calls per
 * LeNet-5 step in autodiff and tf.layers fit) returns its input's dataId with one more reference instead of a
 * copy, as tfjs's cpu and webgl backends do; wasm's own kernel copies.
 */
import * as tf from "@tensorflow/tfjs";

type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };
interface WasmBackend {
  incRef(dataId: object): void;
  refCount(dataId: object): number;
  disposeData(dataId: object): boolean;
}
interface KernelArgs {
  inputs: { x: TensorInfo };
  backend: WasmBackend;
  attrs: Record<string, unknown>;
}
type KernelFunc = (args: KernelArgs) => TensorInfo;

const KERNELS = ["Tanh", "Sigmoid"] as const;
/** LeNet-5 has 4 tanh layers per step; a deep sigmoid MLP 5. */
const CAPACITY = 8;

type Entry = { input: object; out: object; backend: WasmBackend };
/** Per kernel, most recently used first. */
const memo = new Map<string, Entry[]>();
const wrapped = new Map<string, tf.KernelConfig>();
const counts = { runs: 0, hits: 0, shared: 0 };

function release(e: Entry): void {
  // the engine keeps a dataId's bookkeeping while the backend says the data is still referenced; when our
  // reference was the last one, drop it there too (what engine.disposeTensor does after disposeData)
  if (e.backend.disposeData(e.out)) tf.engine().removeDataId(e.out, e.backend as never);
}

function memoized(name: string, kernel: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs: { x }, backend } = args;
    const entries = memo.get(name) ?? [];
    memo.set(name, entries);
    for (let i = entries.length - 1; i >= 0; i--) {
      if (entries[i].backend !== backend || backend.refCount(entries[i].input) === 0) release(entries.splice(i, 1)[0]);
    }
    const at = entries.findIndex((e) => e.input === x.dataId);
    if (at >= 0) {
      const [hit] = entries.splice(at, 1);
      entries.unshift(hit);
      backend.incRef(hit.out);
      counts.hits++;
      return { dataId: hit.out, shape: x.shape.slice(), dtype: x.dtype };
    }
    const out = kernel(args);
    counts.runs++;
    if (x.dtype !== "float32" || out.dtype !== "float32") return out;
    backend.incRef(out.dataId);
    entries.unshift({ input: x.dataId, out: out.dataId, backend });
    if (entries.length > CAPACITY) release(entries.pop()!);
    return out;
  };
}

/** Identity as the cpu backend has it: the same data, one more reference (no copy). */
function sharedIdentity(kernel: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs: { x }, backend } = args;
    if (x.dtype === "string" || x.dtype === "complex64") return kernel(args);
    counts.shared++;
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
}

/**
 * Wraps the Tanh and Sigmoid kernels registered on wasm now (stock or native) with the memo, and shares Identity's data. Call it after
 * any other replacement of those kernels; a second call does nothing. False when wasm is not registered.
 */
export function installElementwiseMemo(): boolean {
  if (wrapped.size > 0) return true;
  for (const name of KERNELS) {
    const k = tf.getKernel(name, "wasm");
    if (!k) continue;
    wrapped.set(name, k);
    tf.unregisterKernel(name, "wasm");   // registerKernel over an existing kernel logs a warning
    tf.registerKernel({ ...k, kernelFunc: memoized(name, k.kernelFunc as unknown as KernelFunc) as never });
  }
  const identity = tf.getKernel("Identity", "wasm");
  if (identity) {
    wrapped.set("Identity", identity);
    tf.unregisterKernel("Identity", "wasm");
    tf.registerKernel({ ...identity, kernelFunc: sharedIdentity(identity.kernelFunc as unknown as KernelFunc) as never });
  }
  return wrapped.size > 0;
}

/** Releases every kept output (their inputs may still be alive: the next call computes again). */
export function clearElementwiseMemo(): void {
  for (const entries of memo.values()) entries.splice(0).forEach(release);
}

/** Puts the wrapped kernels back and releases what was kept. */
export function uninstallElementwiseMemo(): void {
  clearElementwiseMemo();
  for (const [name, k] of wrapped) {
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel(k);
  }
  wrapped.clear();
}

/** Tanh/Sigmoid runs and memo hits, shared Identity calls since the previous call (which resets them), and the outputs kept now. */
export function takeElementwiseMemoCounts(): { runs: number; hits: number; shared: number; kept: number } {
  const taken = { ...counts, kept: [...memo.values()].reduce((n, e) => n + e.length, 0) };
  counts.runs = counts.hits = counts.shared = 0;
  return taken;
}

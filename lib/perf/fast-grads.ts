/**
 * Fast autodiff on the wasm backend: kernel registrations that replace the slow paths tfjs's gradients hit.
 *
 * Why autodiff is slow on wasm. The gradient of Φ = X W that tfjs registers is
 *   ∂q/∂X = ∂q/∂Φ Wᵀ  → matMul(dy, W, transposeA = false, transposeB = true)
 *   ∂q/∂W = Xᵀ ∂q/∂Φ  → matMul(X, dy, transposeA = true,  transposeB = false)
 * The wasm backend sends a matMul with a transpose flag to a plain C++ triple loop instead of XNNPACK's
 * SIMD kernel: ~10× slower than transposing first and multiplying without flags (same numbers).
 * tf.layers (Dense uses a fused matMul with bias) and every model built with tfjs ops hit the same path.
 *
 * The fix here is one level below the gradients: the wasm kernels `BatchMatMul` and `_FusedMatMul` are
 * re-registered so that a transpose flag becomes an explicit Transpose kernel followed by the flagless
 * XNNPACK kernel. Every gradient (tfjs's own, tf.layers', custom ones) then runs fast without being
 * rewritten, and the values are the same as before up to float32 rounding (the sum order of XNNPACK's
 * kernel differs from the loop's).
 *
 * One more kernel is slow on wasm for the training loop: `GatherV2`, which picks a mini-batch's rows
 * (tf.gather(x, indices)); its generic strided loop copies float by float. Gathering whole rows along
 * axis 0 is replaced by a row-by-row memcpy on the wasm heap (same values, bit for bit).
 *
 * `installFastWasmKernels()` does all of it once per process (later calls do nothing) and
 * `uninstallFastWasmKernels()` puts the original kernels back (the tests compare both).
 * Both act on the wasm backend only; other backends are untouched.
 */
import * as tf from "@tensorflow/tfjs";
import { blasMatMul } from "./blas";
import { zerosIfUnused } from "./unused-grads";

type KernelConfig = ReturnType<typeof tf.getKernel> & {};
type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };
/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  readSync(dataId: object): ArrayLike<number>;
  disposeData(dataId: object): boolean;
}
interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  backend: WasmBackend;
  attrs: Record<string, unknown>;
}

const BACKEND = "wasm";
const REPLACED = ["BatchMatMul", "_FusedMatMul", "GatherV2"] as const;
type ReplacedName = (typeof REPLACED)[number];

/** The original wasm kernels, kept while ours are installed. */
let originals: Map<ReplacedName, KernelConfig> | undefined;

/** True while the fast kernels replace the original ones. */
export function fastWasmKernelsInstalled(): boolean {
  return originals !== undefined;
}

/** Transposes the last two axes of `t` with the wasm Transpose kernel; the caller disposes the result. */
function transposeLastTwo(t: TensorInfo, backend: WasmBackend): TensorInfo {
  const transpose = tf.getKernel("Transpose", BACKEND);
  if (!transpose) throw new Error("fast-grads: the wasm backend has no Transpose kernel");
  const r = t.shape.length;
  const perm = [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2];
  return transpose.kernelFunc({ inputs: { x: t }, backend, attrs: { perm } } as never) as TensorInfo;
}

/**
 * A matMul kernel that turns transpose flags into explicit transposes, then calls the original kernel
 * without flags (XNNPACK). Works for BatchMatMul and _FusedMatMul (whose other inputs pass through).
 */
function flaglessMatMul(original: KernelConfig) {
  return (args: KernelArgs): TensorInfo => {
    const { inputs, backend, attrs } = args;
    if (!attrs.transposeA && !attrs.transposeB) return original.kernelFunc(args as never) as TensorInfo;
    const temporaries: TensorInfo[] = [];
    const explicit = (t: TensorInfo) => {
      const tt = transposeLastTwo(t, backend);
      temporaries.push(tt);
      return tt;
    };
    try {
      const a = attrs.transposeA ? explicit(inputs.a!) : inputs.a;
      const b = attrs.transposeB ? explicit(inputs.b!) : inputs.b;
      return original.kernelFunc({ ...args, inputs: { ...inputs, a, b }, attrs: { ...attrs, transposeA: false, transposeB: false } } as never) as TensorInfo;
    } finally {
      temporaries.forEach((t) => backend.disposeData(t.dataId));
    }
  };
}

/** dataIds XNNPACK has already packed as the weights operand (B) of a matMul: its operator cache holds them. */
const packedAsWeights = new WeakSet<object>();
/** Relative CPU cost per element, measured on wasm: XNNPACK packing a fresh B, and a Transpose. */
const PACK_COST = 4, TRANSPOSE_COST = 1.5;

/**
 * Why a matMul may be computed as (Bᵀ Aᵀ)ᵀ. XNNPACK treats B as the weights: the first time a tensor is B,
 * it packs it (~4× the cost of copying it) and caches the packed copy until the tensor is disposed. In
 * training every weight matrix is new after each update, so X·W repacks W at each step: for the MNIST
 * input layer (W 784×300, batch 64) that is as long as the product itself. Computed as (Wᵀ Xᵀ)ᵀ, the
 * packed operand is Xᵀ (64×784) instead; the three transposes cost less than the packing they save.
 * Chosen per call from the element counts when B has not been packed before (same values up to float32
 * rounding). Rank-2 BatchMatMul only.
 */
function swapPays(a: TensorInfo, b: TensorInfo, tA: boolean, tB: boolean): boolean {
  if (a.shape.length !== 2 || b.shape.length !== 2 || packedAsWeights.has(b.dataId)) return false;
  const [M, K] = tA ? [a.shape[1], a.shape[0]] : a.shape;
  const N = tB ? b.shape[0] : b.shape[1];
  const direct = (tA ? TRANSPOSE_COST * M * K : 0) + (tB ? TRANSPOSE_COST * K * N : 0) + PACK_COST * K * N;
  const swapped = (tB ? 0 : TRANSPOSE_COST * K * N) + (tA ? 0 : TRANSPOSE_COST * M * K) + (tA && packedAsWeights.has(a.dataId) ? 0 : PACK_COST * M * K) + TRANSPOSE_COST * M * N;
  return swapped < direct;
}

/** BatchMatMul calls by path since the last `takeMatMulPathCounts()`: direct A·B, or swapped (Bᵀ Aᵀ)ᵀ. */
const pathCounts = { direct: 0, swapped: 0 };

/**
 * How many BatchMatMul calls the fast kernel ran directly and how many swapped since the previous call
 * (which it resets), so that a test can tell which path ran; the values alone cannot (they agree).
 */
export function takeMatMulPathCounts(): { direct: number; swapped: number } {
  const taken = { ...pathCounts };
  pathCounts.direct = pathCounts.swapped = 0;
  return taken;
}

/** The shape of BatchMatMul's output: the broadcast batch axes, then op(A)'s rows and op(B)'s columns. */
function productShape({ inputs, attrs }: KernelArgs): number[] {
  const a = inputs.a!.shape, b = inputs.b!.shape;
  const batch = tf.broadcast_util.assertAndGetBroadcastShape(a.slice(0, -2), b.slice(0, -2));
  return [...batch, attrs.transposeA ? a[a.length - 1] : a[a.length - 2], attrs.transposeB ? b[b.length - 2] : b[b.length - 1]];
}

/** BatchMatMul: flags become explicit transposes (flaglessMatMul), and a product may run swapped (swapPays). */
function batchMatMul(original: KernelConfig) {
  const flagless = flaglessMatMul(original);
  return (args: KernelArgs): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a!, b = inputs.b!;
    const tA = Boolean(attrs.transposeA), tB = Boolean(attrs.transposeB);
    if (!swapPays(a, b, tA, tB)) {
      pathCounts.direct++;
      if (!tB) packedAsWeights.add(b.dataId);
      return flagless(args);
    }
    pathCounts.swapped++;
    if (tA) packedAsWeights.add(a.dataId);
    // Cᵀ = op(B)ᵀ op(A)ᵀ: op(B)ᵀ is B when transposeB, op(A)ᵀ is A when transposeA.
    const ct = flagless({ ...args, inputs: { a: b, b: a }, attrs: { ...attrs, transposeA: !tB, transposeB: !tA } });
    try {
      return transposeLastTwo(ct, backend);
    } finally {
      backend.disposeData(ct.dataId);
    }
  };
}

/**
 * GatherV2 along axis 0 (whole rows, the mini-batch case) as one heap copy per row; anything else
 * (another axis, batchDims, bool/complex/string tensors) goes to the original kernel.
 */
function rowGather(original: KernelConfig) {
  return (args: KernelArgs): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x!, indices = inputs.indices!;
    const axis = Number(attrs.axis ?? 0);
    const rowsOnly = (axis === 0 || axis === -x.shape.length) && !attrs.batchDims && x.shape.length >= 1 &&
      (x.dtype === "float32" || x.dtype === "int32");
    if (!rowsOnly) return original.kernelFunc(args as never) as TensorInfo;
    const idx = backend.readSync(indices.dataId);
    const rows = x.shape[0];
    const rowSize = x.shape.slice(1).reduce((p, d) => p * d, 1);
    for (let i = 0; i < idx.length; i++) {
      const k = idx[i];
      if (!(Number.isInteger(k) && k >= 0 && k < rows)) {
        throw new Error(`GatherV2: the index value ${k} is not in [0, ${rows - 1}]`);
      }
    }
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    if (rowSize === 0 || idx.length === 0) return out;
    const src = backend.typedArrayFromHeap(x), dst = backend.typedArrayFromHeap(out);
    for (let i = 0; i < idx.length; i++) {
      const from = idx[i] * rowSize;
      dst.set(src.subarray(from, from + rowSize), i * rowSize);
    }
    return out;
  };
}

/**
 * Replaces the wasm kernels BatchMatMul, _FusedMatMul (transpose flags → explicit transposes) and
 * GatherV2 (row gathers → heap copies). Call it once the wasm backend is registered (importing
 * @tensorflow/tfjs-backend-wasm registers its kernels; initBackend does that); it is a no-op when wasm
 * is not registered or the kernels are already installed. Returns true when the fast kernels are active.
 */
export function installFastWasmKernels(): boolean {
  if (originals) return true;
  const found = new Map<ReplacedName, KernelConfig>();
  for (const name of REPLACED) {
    const k = tf.getKernel(name, BACKEND);
    if (k) found.set(name, k);
  }
  if (found.size !== REPLACED.length) return false; // wasm backend not loaded (or a future tfjs renamed them)
  originals = found;
  // OpenBLAS (lib/perf/blas.ts) takes the products it can when its addon is built; the rest go on as above.
  const orBlas = (k: (args: KernelArgs) => TensorInfo) => (args: KernelArgs) => (blasMatMul(args as never) as TensorInfo | null) ?? k(args);
  const replacement: Record<ReplacedName, (k: KernelConfig) => (args: KernelArgs) => TensorInfo> = {
    // tf.layers.dense's ∂q/∂x of the data is dropped unread: zeros (lib/perf/unused-grads.ts)
    BatchMatMul: (k) => {
      const product = orBlas(batchMatMul(k));
      return (args) => zerosIfUnused("BatchMatMul", () => productShape(args), args.backend as never) ?? product(args);
    },
    _FusedMatMul: (k) => orBlas(flaglessMatMul(k)),
    GatherV2: rowGather,
  };
  for (const [name, original] of found) {
    // unregister first: registerKernel over an existing kernel logs a warning
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({ ...original, kernelFunc: replacement[name](original) as never });
  }
  return true;
}

/** Puts back the original wasm kernels (for comparisons and tests). */
export function uninstallFastWasmKernels(): void {
  if (!originals) return;
  for (const [name, original] of originals) {
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel(original);
  }
  originals = undefined;
}

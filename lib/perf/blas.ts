/**
 * Optional native matrix products for the wasm backend: OpenBLAS's sgemm (native/blas, an N-API addon built by
 * `npm install` where a C compiler and libopenblas-dev exist; tools/build-native.js) called on views of the
 * wasm heap, so a tensor's data is multiplied in place without a copy. XNNPACK on wasm runs one thread at
 * ~14–35 GFLOP/s and repacks every weight matrix after each update (see bench/RESULTS.md); sgemm needs no
 * packed copy. Where the addon is missing the wasm kernels run as before and `blasStatus()` says why.
 * BACKPROP_BLAS=0 turns it off. The addon is loaded by lib/perf/native.ts.
 */
import { nativeAddon, nativeStatus } from "./native";

type TensorInfo = { dataId: object; shape: number[]; dtype: string };
interface WasmBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}
interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  backend: WasmBackend;
  attrs: Record<string, unknown>;
}

let calls = 0;

/** Two reusable buffers for transposed operands (grown when a product needs more). */
const scratchBuffers: Float32Array[] = [new Float32Array(0), new Float32Array(0)];
function scratch(which: 0 | 1, n: number): Float32Array {
  if (scratchBuffers[which].length < n) scratchBuffers[which] = new Float32Array(n);
  return scratchBuffers[which].subarray(0, n);
}

/** How many products sgemm computed since the previous call (which resets it): tests tell the paths apart. */
export function takeBlasCalls(): number {
  const n = calls;
  calls = 0;
  return n;
}

/** Whether OpenBLAS serves the wasm backend's matrix products, and if not, why. */
export function blasStatus(): { active: boolean; why: string } {
  return nativeStatus();
}

/** Size of a matrix operand: [batch, rows, cols], or null when it is not a float32 tensor of rank ≥ 2. */
function dims(t: TensorInfo | undefined): [number, number, number] | null {
  if (!t || t.dtype !== "float32" || t.shape.length < 2) return null;
  const r = t.shape.length;
  return [t.shape.slice(0, r - 2).reduce((p, d) => p * d, 1), t.shape[r - 2], t.shape[r - 1]];
}

/**
 * op(A)·op(B) (+ bias, then linear or ReLU activation for _FusedMatMul) with sgemm, or null when the call is
 * not one it handles (then the caller's kernel runs): float32, same batch for A and B (or a rank-2 B shared
 * by every batch), bias of N values or absent, activation linear/relu, no PReLU weights.
 */
export function blasMatMul(args: KernelArgs): TensorInfo | null {
  const blas = nativeAddon();
  if (!blas) return null;
  const { inputs, backend, attrs } = args;
  const da = dims(inputs.a), db = dims(inputs.b);
  if (!da || !db) return null;
  const tA = Boolean(attrs.transposeA), tB = Boolean(attrs.transposeB);
  const [batchA, M, K] = tA ? [da[0], da[2], da[1]] : da;
  const [batchB, KB, N] = tB ? [db[0], db[2], db[1]] : db;
  if (K !== KB || !(batchA === batchB || batchB === 1) || M * N === 0 || K === 0) return null;
  const activation = (attrs.activation as string | undefined) ?? "linear";
  const bias = inputs.bias;
  if (inputs.preluActivationWeights || (activation !== "linear" && activation !== "relu")) return null;
  if (bias && (bias.dtype !== "float32" || bias.shape.reduce((p, d) => p * d, 1) !== N || bias.shape[bias.shape.length - 1] !== N)) return null;
  calls++;
  const shape = [...inputs.a!.shape.slice(0, -2), M, N];
  // makeOutput may grow the heap, which detaches earlier views: take the views after it
  const out = backend.makeOutput(shape, "float32");
  const a = backend.typedArrayFromHeap(inputs.a!) as Float32Array;
  const b = backend.typedArrayFromHeap(inputs.b!) as Float32Array;
  const c = backend.typedArrayFromHeap(out) as Float32Array;
  const bv = bias ? (backend.typedArrayFromHeap(bias) as Float32Array) : null;
  // matMul(a, b, false, true) must give exactly what matMul(a, tf.transpose(b)) gives, so that the layers can
  // use the flags without changing a bit. sgemm's own transposed forms do on most shapes but round differently
  // on some (OpenBLAS's small-matrix kernels): the addon checks each shape once, and where they differ a
  // transposed operand is copied into a plain row-major one first.
  const direct = (tA || tB) && blas.sameAsTransposed(tA, tB, M, N, K);
  const sa = tA && !direct ? scratch(0, M * K) : null, sb = tB && !direct ? scratch(1, K * N) : null;
  if (sb && batchB === 1) blas.transpose2d(b, N, K, sb);
  for (let i = 0; i < batchA; i++) {
    const ci = c.subarray(i * M * N, (i + 1) * M * N);
    if (bv) for (let r = 0; r < M; r++) ci.set(bv, r * N);
    let ai = a.subarray(i * M * K, (i + 1) * M * K);
    let bi = batchB === 1 ? b : b.subarray(i * K * N, (i + 1) * K * N);
    if (sa) {
      blas.transpose2d(ai, K, M, sa);
      ai = sa;
    }
    if (sb) {
      if (batchB !== 1) blas.transpose2d(bi, N, K, sb);
      bi = sb;
    }
    blas.sgemm(direct && tA, direct && tB, M, N, K, ai, bi, ci, bv ? 1 : 0);
  }
  if (activation === "relu") for (let i = 0; i < c.length; i++) if (!(c[i] > 0)) c[i] = c[i] !== c[i] ? c[i] : 0;
  return out;
}

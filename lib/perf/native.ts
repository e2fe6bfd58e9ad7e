/**
 * The one native addon of the library (native/blas, built by tools/build-native.js in `npm install` where a C
 * compiler and libopenblas-dev exist): OpenBLAS's sgemm (lib/perf/blas.ts), the window kernels im2col, col2im
 * and the pooling way back (lib/perf/windows.ts), a transpose, musl's tanh, a bias addition, one-axis sums and
 * means and the elementwise arithmetic (lib/perf/conv-grads.ts), tfjs's σ gradient in one pass
 * (lib/perf/fused-grads.ts), all working on views of the wasm heap, the large ones on two threads
 * (native/blas/pool.c). Loaded once; where it is missing the callers keep their wasm/JavaScript routes and
 * `nativeStatus()` says why. BACKPROP_BLAS=0 turns it off.
 */
import * as os from "os";
import * as path from "path";

export interface NativeAddon {
  sgemm(tA: boolean, tB: boolean, M: number, N: number, K: number, a: Float32Array, b: Float32Array, c: Float32Array, beta: number): void;
  setThreads(n: number): void;
  /** C = Aᵀ B (A stored K × M, B K × N) as the sum of two halves of K, one per lane (same bits on one lane). */
  sgemmTnHalves(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array): void;
  /** Whether sgemm's transposed form gives the bits of the plain form on explicit transposes for this shape. */
  sameAsTransposed(tA: boolean, tB: boolean, M: number, N: number, K: number): boolean;
  /**
   * 1 or 2 lanes for the kernels that split their work (native/blas/pool.h): same bits either way. patient
   * (tests): the caller always waits for the worker's half instead of taking it back when the worker is late.
   */
  setLanes(n: 1 | 2, patient?: boolean): void;
  lanes(): number;
  /** How many kernel calls used both lanes since the previous call. */
  takeSplits(): number;
  /** geometry: [N, H, W, C, KH, KW, stride, top, left, OH, OW] (lib/perf/windows.ts windowGeometry). */
  im2col(x: Float32Array, geometry: Int32Array, out: Float32Array): void;
  col2im(cols: Float32Array, geometry: Int32Array, dx: Float32Array): void;
  poolBackward(d: Float32Array, winner: Int32Array | null, N: number, H: number, W: number, C: number, OH: number, OW: number, k: number, stride: number, dx: Float32Array): void;
  transpose2d(a: Float32Array, rows: number, cols: number, out: Float32Array): void;
  /** musl's tanhf on 16 lanes where the CPU has AVX-512, else 8; `lanes` 8 keeps to the 8-lane loop (tests). */
  tanh(x: Float32Array, out: Float32Array, lanes?: 8 | 16): void;
  /** The lanes a plain tanh call uses on this CPU: 16 (AVX-512) or 8. */
  tanhLanes(): 8 | 16;
  /** out = x + b, b added to every row of x (x.length a multiple of b.length). */
  addRows(x: Float32Array, b: Float32Array, out: Float32Array): void;
  /** x as [A, R, B]: out[a, b] = Σ_r x[a, r, b] in float32, r in order (÷ R when mean). */
  reduceAxis(x: Float32Array, A: number, R: number, B: number, mean: boolean, out: Float32Array): void;
  /** out = a + b (op 0), a − b (1), a · b (2) or a² (3); a or b may be a single value. */
  binary(op: 0 | 1 | 2 | 3, a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** out[i] = float32(v[i]) (round to nearest); with `back` (not undefined), back[i] = out[i] too (lib/perf/variable-bridge.ts). */
  toFloat32(v: Float64Array, out: Float32Array, back?: Float64Array): void;
  /** out[i] = x[i] as float64 (exact). */
  toFloat64(x: Float32Array, out: Float64Array): void;
  /** out = dy·(y·(1 − y)), float32 step by step (lib/perf/fused-grads.ts). */
  sigmoidGrad(dy: Float32Array, y: Float32Array, out: Float32Array): void;
}

let addon: NativeAddon | null | undefined;
let why = "";

/**
 * How many lanes the addon's kernels use: BACKPROP_THREADS=1 keeps them on the calling thread, 2 (the default
 * where the machine has two cores or more) lets each large kernel hand half of its rows, images or values to
 * one worker thread. Every kernel computes each output value in one lane, in the one-lane order, and a product
 * is split only where OpenBLAS was seen to give the whole product's bits (native/blas/blas.c), so the values
 * never depend on this setting (test/lanes.test.ts).
 */
export function lanesFromEnv(v: string | undefined): 1 | 2 {
  if (v === undefined || v === "") return os.availableParallelism() >= 2 ? 2 : 1;
  if (v === "1" || v === "2") return Number(v) as 1 | 2;
  throw new Error(`BACKPROP_THREADS=${v} is not understood: use 1 (native kernels on the calling thread) or 2 (two threads, the default on a machine with two cores or more)`);
}

/**
 * The addon, or null. OpenBLAS itself stays on one thread (its own threading splits the sums of small
 * products and changes their bits; the addon splits rows instead, see lanesFromEnv).
 */
export function nativeAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  const lanes = lanesFromEnv(process.env.BACKPROP_THREADS);
  if (process.env.BACKPROP_BLAS === "0") {
    why = "turned off by BACKPROP_BLAS=0";
    return null;
  }
  // lib/perf/ and .lib-build/perf/ are both two folders below the project root
  const file = path.join(__dirname, "..", "..", "native", "blas", "build", "Release", "bp_blas.node");
  try {
    const a = require(file) as NativeAddon;
    if (typeof a.im2col !== "function" || typeof a.sigmoidGrad !== "function" || typeof a.setLanes !== "function" || typeof a.tanhLanes !== "function" || typeof a.toFloat32 !== "function") throw new Error("an older build of native/blas: run `npm run build-native`");
    a.setThreads(1);
    a.setLanes(lanes);
    addon = a;
  } catch (e) {
    why = /Cannot find module|ENOENT/.test(String((e as Error).message))
      ? "not built (needs a C compiler and libopenblas-dev; then `npm run build-native`)"
      : `could not load native/blas: ${(e as Error).message.split("\n")[0]}`;
  }
  return addon;
}

/** Whether the addon is loaded, and if not, why. */
export function nativeStatus(): { active: boolean; why: string } {
  return nativeAddon() ? { active: true, why: "" } : { active: false, why };
}

/** How many threads the native kernels use (1 without the addon). */
export function nativeLanes(): number {
  return nativeAddon()?.lanes() ?? 1;
}

/**
 * Sets the native kernels' lanes (tests and benchmarks compare 1 and 2; BACKPROP_THREADS sets the default).
 * `patient` makes every split kernel wait for the worker (tests of the two-lane path on a busy machine).
 */
export function setNativeLanes(n: 1 | 2, opts: { patient?: boolean } = {}): void {
  if (n !== 1 && n !== 2) throw new Error(`setNativeLanes(${n}): use 1 or 2`);
  nativeAddon()?.setLanes(n, opts.patient ?? false);
}

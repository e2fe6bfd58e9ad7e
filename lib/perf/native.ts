/**
 * The one native addon of the library (native/blas, built by tools/build-native.js in `npm install` where a C
 * compiler and libopenblas-dev exist): OpenBLAS's sgemm (lib/perf/blas.ts), the window kernels im2col,
 * col2im and the pooling way back (lib/perf/windows.ts), a transpose, musl's tanh, a bias addition and one-axis sums and means (lib/perf/conv-grads.ts),
 * all working on views of the wasm heap. Loaded once;
 * where it is missing the callers keep their wasm/JavaScript routes and `nativeStatus()` says why.
 * BACKPROP_BLAS=0 turns it off.
 */
import * as path from "path";

export interface NativeAddon {
  sgemm(tA: boolean, tB: boolean, M: number, N: number, K: number, a: Float32Array, b: Float32Array, c: Float32Array, beta: number): void;
  setThreads(n: number): void;
  /** geometry: [N, H, W, C, KH, KW, stride, top, left, OH, OW] (lib/perf/windows.ts windowGeometry). */
  im2col(x: Float32Array, geometry: Int32Array, out: Float32Array): void;
  col2im(cols: Float32Array, geometry: Int32Array, dx: Float32Array): void;
  poolBackward(d: Float32Array, winner: Int32Array | null, N: number, H: number, W: number, C: number, OH: number, OW: number, k: number, stride: number, dx: Float32Array): void;
  transpose2d(a: Float32Array, rows: number, cols: number, out: Float32Array): void;
  tanh(x: Float32Array, out: Float32Array): void;
  /** out = x + b, b added to every row of x (x.length a multiple of b.length). */
  addRows(x: Float32Array, b: Float32Array, out: Float32Array): void;
  /** x as [A, R, B]: out[a, b] = Σ_r x[a, r, b] in float32, r in order (÷ R when mean). */
  reduceAxis(x: Float32Array, A: number, R: number, B: number, mean: boolean, out: Float32Array): void;
  sigmoidGrad?(dy: Float32Array, y: Float32Array, out: Float32Array): void;   // out = dy·(y·(1 − y)), float32 step by step (lib/perf/fused-grads.ts); absent in older builds
}

let addon: NativeAddon | null | undefined;
let why = "";

/** The addon (OpenBLAS on one thread: at batch 64 a second thread costs more than it gives), or null. */
export function nativeAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env.BACKPROP_BLAS === "0") {
    why = "turned off by BACKPROP_BLAS=0";
    return null;
  }
  // lib/perf/ and .lib-build/perf/ are both two folders below the project root
  const file = path.join(__dirname, "..", "..", "native", "blas", "build", "Release", "bp_blas.node");
  try {
    const a = require(file) as NativeAddon;
    if (typeof a.im2col !== "function" || typeof a.tanh !== "function" || typeof a.reduceAxis !== "function") throw new Error("an older build without the window kernels: run `npm run build-native`");
    a.setThreads(1);
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

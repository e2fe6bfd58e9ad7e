/**
 * Engine code for the conv and pooling layers: im2col and col2im as plain loops over the tensors' data.
 *
 *   im2col   X̃[(n, i, j), (a, c, ci)] = xp[n, s·i + a, s·j + c, ci]     every KH × KW × CI window as one row
 *   col2im   dx[n, p, r, ci] = Σ over the windows that contain (p, r) of X̃'s matching entry   (the way back)
 *
 * with xp the input with `pads` zeros around (they are never materialized). Built from tfjs ops (k² slices
 * and a concat) the same thing is ~20× slower on wasm, whose Slice and Concat kernels copy tensors with few
 * channels element by element; here one read of the data, one loop and one tensor made from it. The values
 * are copies: no arithmetic, so the result is the same on every backend. Not differentiable by tfjs autodiff
 * (the layers that use it have their own backward passes).
 *
 * On the wasm backend with the native addon (lib/perf/native.ts) the same loops run in C (native/blas/windows.c)
 * on the wasm heap: the output is allocated there and filled in place, no dataSync copy out and no tensor copy
 * back in; C walks the windows directly (one contiguous run of x per window row) instead of through the map.
 * The C loops add in the same order and round the same way, so both routes give the same bits
 * (test/windows-native.test.ts); `windowsRoute()` says which one runs.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon, nativeStatus } from "./native";

/** Zeros before and after, rows then columns: [[top, bottom], [left, right]]. */
export type Pads = [[number, number], [number, number]];
const NO_PADS: Pads = [[0, 0], [0, 0]];

function geometry(shape: readonly number[], kh: number, kw: number, stride: number, pads: Pads) {
  const [N, H, W, C] = shape;
  const OH = Math.floor((H + pads[0][0] + pads[0][1] - kh) / stride) + 1;
  const OW = Math.floor((W + pads[1][0] + pads[1][1] - kw) / stride) + 1;
  if (!(OH >= 1 && OW >= 1)) throw new Error(`im2col: a ${kh}×${kw} window does not fit in ${H}×${W} with padding ${JSON.stringify(pads)}`);
  return { N, H, W, C, OH, OW, top: pads[0][0], left: pads[1][0] };
}

/**
 * The window geometry as the native kernels take it, [N, H, W, C, KH, KW, stride, top, left, OH, OW], with
 * the sizes of im2col's output (P rows of K): they walk the windows directly, no map needed.
 */
export function windowGeometry(shape: readonly number[], kh: number, kw: number, stride: number, pads: Pads) {
  const g = geometry(shape, kh, kw, stride, pads);
  const ints = Int32Array.from([g.N, g.H, g.W, g.C, kh, kw, stride, g.top, g.left, g.OH, g.OW]);
  return { ...g, K: kh * kw * g.C, P: g.N * g.OH * g.OW, ints };
}

/**
 * Where each window entry of im2col comes from: `src[w]` is the offset in x's data of the C values of entry w
 * (entries in im2col's order: n, i, j, a, c), or −1 for padding. im2col reads through it and col2im adds back
 * through it, so the two are adjoint by construction. A layer asks for the same geometry at every step: the
 * last few maps are kept.
 */
function windowSources(shape: readonly number[], kh: number, kw: number, stride: number, pads: Pads) {
  const key = `${shape.join(",")}|${kh},${kw},${stride}|${pads.flat().join(",")}`;
  const hit = sourceMaps.get(key);
  if (hit) return hit;
  const g = geometry(shape, kh, kw, stride, pads);
  const { N, H, W, C, OH, OW, top, left } = g;
  const src = new Int32Array(N * OH * OW * kh * kw);
  let w = 0;
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < OH; i++) {
      for (let j = 0; j < OW; j++) {
        for (let a = 0; a < kh; a++) {
          const r = i * stride + a - top;
          for (let c = 0; c < kw; c++, w++) {
            const q = j * stride + c - left;
            src[w] = r < 0 || r >= H || q < 0 || q >= W ? -1 : ((n * H + r) * W + q) * C;
          }
        }
      }
    }
  }
  const map = { ...g, K: kh * kw * C, src };
  if (sourceMaps.size >= 16) sourceMaps.delete(sourceMaps.keys().next().value as string);
  sourceMaps.set(key, map);
  return map;
}
const sourceMaps = new Map<string, ReturnType<typeof geometry> & { K: number; src: Int32Array }>();

type Info = { dataId: object; shape: number[]; dtype: string };
/** The parts of tfjs's wasm backend used here (makeOutput, then views: makeOutput can grow the heap). */
export interface WasmHeap {
  makeOutput(shape: number[], dtype: string): Info;
  typedArrayFromHeap(t: Info): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object): boolean;
  dataIdMap?: { has(dataId: object): boolean };
}

let jsOnly = process.env.BACKPROP_WINDOWS === "js";

/** Forces the JavaScript loops (true) or lets the native route run where it can (false): tests compare the two. */
export function forceJsWindows(on: boolean): void {
  jsOnly = on;
}

/** Which route the window loops take: "native" (C on the wasm heap) or JavaScript, and why. */
export function windowsRoute(): string {
  if (jsOnly) return "JavaScript (forced: BACKPROP_WINDOWS=js or forceJsWindows)";
  const s = nativeStatus();
  return s.active ? "native (C on the wasm heap)" : `JavaScript (native addon ${s.why})`;
}

/** The wasm backend when the addon is loaded and every tensor given lives on it (float32 or int32), else null. */
function nativeHeap(...ts: tf.Tensor[]): WasmHeap | null {
  if (jsOnly || !nativeAddon() || tf.getBackend() !== "wasm") return null;
  const b = tf.backend() as unknown as WasmHeap;
  if (!b.dataIdMap) return null;
  return ts.every((t) => t.size > 0 && (t.dtype === "float32" || t.dtype === "int32") && b.dataIdMap!.has(t.dataId)) ? b : null;
}

function f32(b: WasmHeap, t: Info): Float32Array {
  return b.typedArrayFromHeap(t) as Float32Array;
}

/** A tensor owning a kernel-style output made with makeOutput. */
function adopt(info: Info): tf.Tensor {
  return tf.engine().makeTensorFromTensorInfo(info as never);
}

/** The windows of x [N, H, W, C] as rows: [N·OH·OW, KH·KW·C], columns in the order (a, c, ci). */
export function im2col(x: tf.Tensor, kh: number, kw: number, stride: number, pads: Pads = NO_PADS): tf.Tensor2D {
  if (x.rank !== 4) throw new Error(`im2col: x should be [N, H, W, C], got [${x.shape.join(", ")}]`);
  const b = x.dtype === "float32" ? nativeHeap(x) : null;
  if (b) {
    const g = windowGeometry(x.shape, kh, kw, stride, pads);
    const out = b.makeOutput([g.P, g.K], "float32");
    nativeAddon()!.im2col(f32(b, x), g.ints, f32(b, out));
    return adopt(out) as tf.Tensor2D;
  }
  const { N, C, OH, OW, K, src } = windowSources(x.shape, kh, kw, stride, pads);
  const xs = x.dataSync() as Float32Array;
  const out = new Float32Array(N * OH * OW * K);   // zeros: the padding
  for (let w = 0, k = 0; w < src.length; w++, k += C) {
    const from = src[w];
    if (from < 0) continue;
    if (C === 1) out[k] = xs[from];
    else out.set(xs.subarray(from, from + C), k);
  }
  return tf.tensor2d(out, [N * OH * OW, K]);
}

/** The adjoint of `im2col`: every row's entries added back to the input position they came from. */
export function col2im(cols: tf.Tensor, xShape: readonly number[], kh: number, kw: number, stride: number, pads: Pads = NO_PADS): tf.Tensor4D {
  const g = windowGeometry(xShape, kh, kw, stride, pads);
  if (cols.size !== g.P * g.K) throw new Error(`col2im: ${cols.size} values, expected [${g.P}, ${g.K}]`);
  const b = cols.dtype === "float32" ? nativeHeap(cols) : null;
  if (b) {
    const out = b.makeOutput(xShape.slice(), "float32");
    nativeAddon()!.col2im(f32(b, cols), g.ints, f32(b, out));
    return adopt(out) as tf.Tensor4D;
  }
  const { N, H, W, C, src } = windowSources(xShape, kh, kw, stride, pads);
  const cs = cols.dataSync() as Float32Array;
  const dx = new Float32Array(N * H * W * C);
  for (let w = 0, k = 0; w < src.length; w++, k += C) {
    const to = src[w];
    if (to < 0) continue;
    for (let ci = 0; ci < C; ci++) dx[to + ci] += cs[k + ci];
  }
  return tf.tensor4d(dx, xShape as [number, number, number, number]);
}

/**
 * The way back of k × k pooling windows taken every `stride` pixels, without the [N·OH·OW, k², C] matrix:
 * avg: dx[n, s·i + a, s·j + b, c] += dout[n, i, j, c] / k²;  max: dout[n, i, j, c] goes to the window's
 * winner, `winner[n, i, j, c]` ∈ 0..k²−1 (row-major in the window). Same values as col2im of the matrix.
 */
export function poolBackward(dout: tf.Tensor, xShape: readonly number[], k: number, stride: number, winner?: tf.Tensor): tf.Tensor4D {
  const [N, H, W, C] = xShape, [, OH, OW] = dout.shape;
  const b = dout.dtype === "float32" && (!winner || winner.dtype === "int32") ? (winner ? nativeHeap(dout, winner) : nativeHeap(dout)) : null;
  if (b) {
    const out = b.makeOutput(xShape.slice(), "float32");
    const win = winner ? (b.typedArrayFromHeap(winner) as Int32Array) : null;
    nativeAddon()!.poolBackward(f32(b, dout), win, N, H, W, C, OH, OW, k, stride, f32(b, out));
    return adopt(out) as tf.Tensor4D;
  }
  const d = dout.dataSync() as Float32Array;
  const win = winner ? (winner.dataSync() as Int32Array) : undefined;
  const dx = new Float32Array(N * H * W * C);
  const share = 1 / (k * k);
  let o = 0;
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < OH; i++) {
      for (let j = 0; j < OW; j++) {
        for (let c = 0; c < C; c++, o++) {
          if (win) {
            const p = win[o], a = Math.floor(p / k), b = p - a * k;
            dx[((n * H + i * stride + a) * W + j * stride + b) * C + c] += d[o];
          } else {
            const v = d[o] * share;
            for (let a = 0; a < k; a++) {
              const row = ((n * H + i * stride + a) * W + j * stride) * C + c;
              for (let b = 0; b < k; b++) dx[row + b * C] += v;
            }
          }
        }
      }
    }
  }
  return tf.tensor4d(dx, xShape as [number, number, number, number]);
}

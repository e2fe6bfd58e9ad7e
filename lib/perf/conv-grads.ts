/**
 * What tfjs autodiff of a convolution needs on the wasm backend. tf.grad of tf.conv2d asks for two
 * kernels: Conv2DBackpropInput (∂q/∂x, which wasm has) and Conv2DBackpropFilter (∂q/∂W, which
 * @tensorflow/tfjs-backend-wasm 4.22 does not register: "Kernel 'Conv2DBackpropFilter' not registered for
 * backend 'wasm'"). tf.layers.conv2d training and any autodiff of a conv net stop there.
 *
 * `installWasmConvGrads()` registers it: the kernel gradient as one matrix product (im2col, lecture 12),
 *
 *   ∂q/∂W̃ = X̃ᵀ ∂q/∂out      X̃ [N·OH·OW, KH·KW·CI] the windows of the padded input, ∂q/∂out [N·OH·OW, CO]
 *
 * X̃ is filled in JavaScript on the wasm heap and the product runs in the wasm BatchMatMul kernel
 * (XNNPACK). NHWC only, dilation 1 (what tfjs's own gradient of conv2d asks for when the forward pass
 * has no dilation). It is checked against the cpu backend's kernel in test/conv.test.ts.
 *
 * Where the native addon is loaded (lib/perf/native.ts) the convolution kernels of the wasm backend run as
 * im2col + OpenBLAS sgemm instead (XNNPACK's Conv2DBackpropInput took 14–26 ms of a 47–62 ms LeNet-5 step):
 *
 *   Conv2D / FusedConv2D    out = X̃ W̃ (+ b, linear or ReLU)
 *   Conv2DBackpropInput     ∂q/∂x = col2im(∂q/∂out W̃ᵀ)   (zeros where tfjs drops it unread: lib/perf/unused-grads.ts)
 *   Conv2DBackpropFilter    ∂q/∂W̃ = X̃ᵀ ∂q/∂out, summed over two halves of X̃'s rows (one per thread)
 *   AvgPoolGrad             ∂q/∂out / k² spread over each window (valid windows, square, one stride)
 *   Transpose               of the last two axes (a copy: same bits)
 *   Tanh                    musl's tanhf, the code the wasm kernel runs, 16 or 8 lanes at a time (same bits)
 *   Add                     a row of biases added to every row (same bits: one float32 addition each)
 *   Sum, Mean               over neighbouring axes, in the wasm kernels' order (same bits)
 *
 * with X̃ filled in C on the wasm heap (native/blas/windows.c). What they do not handle (NCHW, dilation,
 * unequal strides, PReLU, other activations, padded pooling) goes to the stock kernel. The conv and pooling
 * kernels equal the cpu backend's within float32 rounding; Transpose, Tanh, Add, Sum and Mean give the stock wasm kernels'
 * bits, so the hand-written layers (which use them) keep their values (test/windows-native.test.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { installElementwiseMemo, uninstallElementwiseMemo } from "./elementwise-memo";
import { nativeAddon } from "./native";
import { zerosIfUnused } from "./unused-grads";
import { Pads, windowGeometry } from "./windows";

type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object): boolean;
}
type ConvAttrs = {
  strides: number | [number, number]; pad: "valid" | "same" | number; dataFormat?: string; dimRoundingMode?: "floor" | "round" | "ceil";
  dilations?: number | [number, number]; filterShape: [number, number, number, number]; inputShape: [number, number, number, number];
  activation?: string; leakyreluAlpha?: number; filterSize: number | [number, number];
};
interface KernelArgs {
  inputs: { x: TensorInfo; dy: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo; input: TensorInfo };
  backend: WasmBackend;
  attrs: ConvAttrs;
}
type KernelFunc = (args: KernelArgs) => TensorInfo;

const KERNEL = "Conv2DBackpropFilter";
let installed = false;

function backpropFilter(args: KernelArgs): TensorInfo {
  const fast = nativeConv(args, "filter");
  if (fast) return fast;
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  if (attrs.dataFormat && attrs.dataFormat !== "NHWC") throw new Error(`${KERNEL} (wasm, lib/perf/conv-grads.ts): only NHWC, got ${attrs.dataFormat}`);
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, "channelsLast");
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO, filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
  const top = info.padInfo.top, left = info.padInfo.left;
  const K = KH * KW * CI, P = N * OH * OW;
  const cols = backend.makeOutput([1, P, K], "float32");
  try {
    const xs = backend.typedArrayFromHeap(x), cs = backend.typedArrayFromHeap(cols);
    let row = 0;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < OH; i++) {
        for (let j = 0; j < OW; j++, row++) {
          let k = row * K;
          for (let a = 0; a < KH; a++) {
            const r = i * sh + a - top;
            for (let c = 0; c < KW; c++) {
              const q = j * sw + c - left;
              if (r < 0 || r >= H || q < 0 || q >= W) {
                cs.fill(0, k, k + CI);   // a zero of the padding
              } else {
                const from = ((n * H + r) * W + q) * CI;
                for (let ci = 0; ci < CI; ci++) cs[k + ci] = xs[from + ci];
              }
              k += CI;
            }
          }
        }
      }
    }
    const matMul = tf.getKernel("BatchMatMul", "wasm");
    if (!matMul) throw new Error(`${KERNEL} (wasm): the wasm backend has no BatchMatMul kernel`);
    const dy3: TensorInfo = { dataId: dy.dataId, shape: [1, P, CO], dtype: dy.dtype };
    const dw = matMul.kernelFunc({ inputs: { a: cols, b: dy3 }, backend, attrs: { transposeA: true, transposeB: false } } as never) as TensorInfo;
    return { dataId: dw.dataId, shape: [KH, KW, CI, CO], dtype: "float32" };
  } finally {
    backend.disposeData(cols.dataId);
  }
}

/**
 * The geometry of a conv kernel call when the native route can take it (NHWC, float32, dilation 1, one
 * stride for both axes, the addon loaded), else null. `xShape` is the input's shape, `W` the filter's.
 */
function nativeGeometry(xShape: number[], filterShape: number[], attrs: ConvAttrs, dtypes: string[]) {
  if (!nativeAddon() || dtypes.some((d) => d !== "float32")) return null;
  if (attrs.dataFormat && attrs.dataFormat !== "NHWC") return null;
  const dil = attrs.dilations ?? 1;
  if (!(dil === 1 || (Array.isArray(dil) && dil[0] === 1 && dil[1] === 1))) return null;
  const info = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, "channelsLast");
  if (info.strideHeight !== info.strideWidth) return null;
  const p = info.padInfo;
  const pads: Pads = [[p.top, p.bottom], [p.left, p.right]];
  if (p.top < 0 || p.bottom < 0 || p.left < 0 || p.right < 0) return null;
  const map = windowGeometry(xShape, info.filterHeight, info.filterWidth, info.strideHeight, pads);
  if (map.OH !== info.outHeight || map.OW !== info.outWidth) return null;
  return { map, CO: info.outChannels, P: map.P };
}

/**
 * X̃ of recent forward convolutions run under a gradient, kept for their ∂q/∂W̃ = X̃ᵀ δ: autodiff (tf.grad of
 * tf.conv2d, tf.layers' fit) asks Conv2DBackpropFilter for the windows of the same x a little later, and x's data
 * never changes (a tfjs tensor's data is immutable: the same dataId, the same values). One entry per window
 * geometry (the layers of a net differ), the oldest dropped beyond KEPT_MAX or KEPT_BYTES; an entry is used once,
 * by the filter gradient of the same x, or replaced by the next forward call of its geometry. Only for inputs of
 * one or two channels: their im2col copies runs of a few floats (LeNet-5's C1: 5), slow enough that reading the
 * kept X̃ back from memory wins (C1's filter gradient 1.3–1.7 → 0.85 ms); from C3's 6 channels on, im2col from an x
 * still in cache is as fast as reading back a cold X̃ (C3's filter gradient 0.55–0.64 ms recomputed, 0.92 kept).
 */
const kept = new Map<string, { x: object; cols: TensorInfo; bytes: number; backend: WasmBackend }>();
const KEPT_MAX = 4, KEPT_BYTES = 64 << 20;
const COLS_MAX_BYTES = 64 << 20;
let keptHits = 0;

function dropKept(key: string): void {
  const k = kept.get(key);
  if (!k) return;
  kept.delete(key);
  k.backend.disposeData(k.cols.dataId);
}

/** Keeps `cols` (the windows of x's data `x`, C channels) for the filter gradient; false when not kept (the caller disposes it). */
function keepWindows(key: string, x: object, C: number, cols: TensorInfo, backend: WasmBackend): boolean {
  const bytes = 4 * tf.util.sizeFromShape(cols.shape);
  if (C > 2 || bytes > KEPT_BYTES / 4 || (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth === 0) return false;
  dropKept(key);
  kept.set(key, { x, cols, bytes, backend });
  let total = 0;
  for (const k of kept.values()) total += k.bytes;
  for (const oldest of kept.keys()) {
    if (kept.size <= KEPT_MAX && total <= KEPT_BYTES) break;
    total -= kept.get(oldest)!.bytes;
    dropKept(oldest);
  }
  return true;
}

/** The kept windows of x's data `x` in geometry `key`, taken out of the cache (the caller disposes them), or null. */
function takeWindows(key: string, x: object): TensorInfo | null {
  const k = kept.get(key);
  if (!k || k.x !== x) return null;
  kept.delete(key);
  keptHits++;
  return k.cols;
}

/** Filter gradients that used the forward pass's windows since the previous call (tests). */
export function takeKeptWindowCounts(): { hits: number; kept: number } {
  const taken = { hits: keptHits, kept: kept.size };
  keptHits = 0;
  return taken;
}

/**
 * Conv2D / FusedConv2D ("forward"), Conv2DBackpropInput ("input") and Conv2DBackpropFilter ("filter") as
 * im2col/col2im + sgemm on the wasm heap, or null when the call is not one it takes (the caller's kernel runs).
 */
function nativeConv({ inputs, backend, attrs }: KernelArgs, which: "forward" | "input" | "filter"): TensorInfo | null {
  const blas = nativeAddon();
  if (!blas) return null;
  const x = which === "input" ? null : inputs.x;
  const xShape = which === "input" ? attrs.inputShape : x!.shape;
  const filterShape = which === "filter" ? attrs.filterShape : inputs.filter.shape;
  const other = which === "forward" ? inputs.filter : inputs.dy;
  const g = nativeGeometry(xShape, filterShape, attrs, [other.dtype, ...(x ? [x.dtype] : []), ...(which === "input" ? [inputs.filter.dtype] : [])]);
  if (!g) return null;
  const { map, CO, P } = g, { K } = map;
  let bias: TensorInfo | undefined;
  const activation = attrs.activation ?? "linear";
  // an X̃ over 64 MB (C1 of LeNet-5 on 860+ images at once): the stock kernels, which need none (XNNPACK's direct
  // convolution for the forward pass), rather than a wasm heap that may not grow that far
  if (which !== "filter" && P * K * 4 > COLS_MAX_BYTES) return null;
  if (which === "forward") {
    bias = inputs.bias;
    if (inputs.preluActivationWeights || (activation !== "linear" && activation !== "relu")) return null;
    if (bias && (bias.dtype !== "float32" || tf.util.sizeFromShape(bias.shape) !== CO)) return null;
  }
  // outputs first: makeOutput can grow the heap and detach views taken before it
  const outShape = which === "forward" ? [map.N, map.OH, map.OW, CO] : which === "input" ? xShape.slice() : filterShape.slice();
  const out = backend.makeOutput(outShape, "float32");
  const key = map.ints.join(",");
  const reused = which === "filter" ? takeWindows(key, x!.dataId) : null;
  let cols: TensorInfo | null = reused ?? backend.makeOutput([P, K], "float32");
  try {
    const cs = backend.typedArrayFromHeap(cols), os = backend.typedArrayFromHeap(out);
    if (which === "input") {
      // ∂q/∂X̃ = δ W̃ᵀ [P, K], then added back into the windows
      blas.sgemm(false, true, P, K, CO, backend.typedArrayFromHeap(inputs.dy), backend.typedArrayFromHeap(inputs.filter), cs, 0);
      blas.col2im(cs, map.ints, os);
      return out;
    }
    if (!reused) blas.im2col(backend.typedArrayFromHeap(x!), map.ints, cs);
    if (which === "filter") {
      // X̃ᵀ δ, summed over two halves of X̃'s rows, one per lane (tfjs's values need only float32 rounding here)
      blas.sgemmTnHalves(K, CO, P, cs, backend.typedArrayFromHeap(inputs.dy), os);
      return out;
    }
    if (bias) {
      const bv = backend.typedArrayFromHeap(bias);
      os.set(bv.subarray(0, CO), 0);   // b in every row: the first row, then doubling copies
      for (let n = CO, end = P * CO; n < end; n *= 2) os.copyWithin(n, 0, Math.min(n, end - n));
    }
    blas.sgemm(false, false, P, CO, K, cs, backend.typedArrayFromHeap(inputs.filter), os, bias ? 1 : 0);   // X̃ W̃ (+ b)
    if (activation === "relu") for (let i = 0; i < os.length; i++) if (!(os[i] > 0)) os[i] = os[i] !== os[i] ? os[i] : 0;
    if (keepWindows(key, x!.dataId, map.C, cols, backend)) cols = null;
    return out;
  } finally {
    if (cols) backend.disposeData(cols.dataId);
  }
}

/** AvgPoolGrad with the native pooling way back: valid square windows, one stride, else null. */
function nativeAvgPoolGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const blas = nativeAddon();
  const { dy, input } = inputs;
  if (!blas || dy.dtype !== "float32" || input.dtype !== "float32") return null;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const p = info.padInfo;
  if (p.top || p.bottom || p.left || p.right || info.filterHeight !== info.filterWidth || info.strideHeight !== info.strideWidth) return null;
  const [N, H, W, C] = input.shape;
  const out = backend.makeOutput(input.shape.slice(), "float32");
  blas.poolBackward(backend.typedArrayFromHeap(dy), null, N, H, W, C, info.outHeight, info.outWidth, info.filterHeight, info.strideHeight, backend.typedArrayFromHeap(out));
  return out;
}

/**
 * Transpose of a matrix (or of the last two axes of a batch of them): a tiled copy in C, same bits as the
 * stock kernel. The hand-written conv layer's ∂q/∂W̃ = X̃ᵀ δ transposes X̃ [N·OH·OW, KH·KW·CI] every step.
 */
function nativeTranspose({ inputs, backend, attrs }: KernelArgs & { attrs: { perm?: number[] } }): TensorInfo | null {
  const blas = nativeAddon();
  const x = inputs.x, perm = (attrs as { perm?: number[] }).perm ?? [];
  const r = x.shape.length;
  if (!blas || x.dtype !== "float32" || r < 2 || perm.length !== r || perm.some((p, i) => p !== (i < r - 2 ? i : i === r - 2 ? r - 1 : r - 2))) return null;
  const rows = x.shape[r - 2], cols = x.shape[r - 1], batch = tf.util.sizeFromShape(x.shape.slice(0, r - 2));
  const out = backend.makeOutput([...x.shape.slice(0, r - 2), cols, rows], "float32");
  const xs = backend.typedArrayFromHeap(x), os = backend.typedArrayFromHeap(out), m = rows * cols;
  for (let i = 0; i < batch; i++) blas.transpose2d(xs.subarray(i * m, (i + 1) * m), rows, cols, os.subarray(i * m, (i + 1) * m));
  return out;
}

/**
 * Tanh with musl's tanhf transcribed in C (native/blas/elementwise.c): the wasm kernel runs the same code
 * compiled to wasm, so the bits are the same (checked on every float32 once, sampled in the tests), here
 * without branches on 16 lanes (AVX-512) or 8. LeNet-5's tanh layers are its largest kernel after the windows (8 calls —
 * the backward pass recomputes tanh — 13 ms of a 33 ms step).
 */
function nativeTanh({ inputs, backend }: KernelArgs): TensorInfo | null {
  const blas = nativeAddon(), x = inputs.x;
  if (!blas || x.dtype !== "float32") return null;
  const out = backend.makeOutput(x.shape.slice(), "float32");
  blas.tanh(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out));
  return out;
}

/** The number of values of a tensor. */
const size = (t: TensorInfo) => tf.util.sizeFromShape(t.shape);

/**
 * Add of a row of biases to every row ([..., n] + [n], either order): wasm's broadcasting loop took 0.8 ms for
 * LeNet-5's C1 (50 176 × 6 + 6), a plain loop takes a fraction. One float32 addition per entry either way (the
 * same IEEE operation, commutative): same bits. Other adds (same shapes, other broadcasts) go to the stock one.
 */
function nativeAddRows({ inputs, backend }: KernelArgs & { inputs: { a: TensorInfo; b: TensorInfo } }): TensorInfo | null {
  const blas = nativeAddon();
  const { a, b } = inputs as unknown as { a: TensorInfo; b: TensorInfo };
  if (!blas || !a || !b || a.dtype !== "float32" || b.dtype !== "float32") return null;
  const [big, row] = size(a) >= size(b) ? [a, b] : [b, a];
  const n = big.shape[big.shape.length - 1];
  const isRow = row.shape.length >= 1 && row.shape.length <= big.shape.length && row.shape[row.shape.length - 1] === n && size(row) === n;
  if (!isRow || size(big) === n || n === 0) return null;
  const out = backend.makeOutput(big.shape.slice(), "float32");
  blas.addRows(backend.typedArrayFromHeap(big), backend.typedArrayFromHeap(row), backend.typedArrayFromHeap(out));
  return out;
}

/**
 * Sum or Mean over one axis or a run of neighbouring axes (the bias gradients Σ_rows ∂q/∂out, the average pooling's means): wasm transposes
 * the axis innermost first (a copy of the whole tensor), then adds each run; here one pass over the data in
 * the same order, each sum in float32 from 0, the mean divided by the count (same bits).
 */
function nativeReduce(mean: boolean, { inputs, backend, attrs }: KernelArgs & { attrs: { axis?: number | number[]; keepDims?: boolean } }): TensorInfo | null {
  const blas = nativeAddon(), x = inputs.x;
  const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims?: boolean };
  const r = x.shape.length;
  const given = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + r : a));
  const axes = [...new Set(given)].sort((a, b) => a - b);
  const k = axes[0], l = axes[axes.length - 1];
  // one run of neighbouring axes [k..l]: wasm moves them innermost in their order, so their flattened index is
  // the order of its sums, the same as [A, R, B] with R = the run's size
  if (!blas || x.dtype !== "float32" || axes.length === 0 || axes.length !== given.length || !axes.every((a, i) => Number.isInteger(a) && a >= 0 && a < r && a === k + i)) return null;
  const A = tf.util.sizeFromShape(x.shape.slice(0, k)), R = tf.util.sizeFromShape(x.shape.slice(k, l + 1)), B = tf.util.sizeFromShape(x.shape.slice(l + 1));
  if (A * R * B === 0) return null;
  const out = backend.makeOutput(keepDims ? x.shape.map((d, i) => (i >= k && i <= l ? 1 : d)) : x.shape.filter((_, i) => i < k || i > l), "float32");
  blas.reduceAxis(backend.typedArrayFromHeap(x), A, R, B, mean, backend.typedArrayFromHeap(out));
  return out;
}

/**
 * Add, Sub, Multiply of two float32 tensors of one shape or of a tensor and a single value, and Square: one
 * pass in C (split over two lanes), one IEEE float32 operation per value like the wasm kernels (same bits).
 * The activations' way back (1 − y², δ ⊙ g'(z)) and the losses are made of these. Other broadcasts go to the
 * stock kernels.
 */
function nativeBinary(op: 0 | 1 | 2 | 3, { inputs, backend }: KernelArgs): TensorInfo | null {
  const blas = nativeAddon();
  const ab = inputs as unknown as { a?: TensorInfo; b?: TensorInfo };
  const a = op === 3 ? inputs.x : ab.a, b = op === 3 ? inputs.x : ab.b;
  if (!blas || !a || !b || a.dtype !== "float32" || b.dtype !== "float32") return null;
  const sameShape = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  // a single value broadcasts to the other's shape only when its rank is not higher
  const shape = sameShape ? a.shape : size(b) === 1 && b.shape.length <= a.shape.length ? a.shape : size(a) === 1 && a.shape.length <= b.shape.length ? b.shape : null;
  if (!shape || size(a) === 0 || size(b) === 0) return null;
  const out = backend.makeOutput(shape.slice(), "float32");
  blas.binary(op, backend.typedArrayFromHeap(a), backend.typedArrayFromHeap(b), backend.typedArrayFromHeap(out));
  return out;
}

/** The stock wasm kernels replaced by native ones, with the replacement built from the stock one. */
const NATIVE: Record<string, (stock: KernelFunc) => KernelFunc> = {
  Conv2D: (stock) => (a) => nativeConv(a, "forward") ?? stock(a),
  FusedConv2D: (stock) => (a) => nativeConv(a, "forward") ?? stock(a),
  Conv2DBackpropInput: (stock) => (a) => zerosIfUnused("Conv2DBackpropInput", () => a.attrs.inputShape.slice(), a.backend) ?? nativeConv(a, "input") ?? stock(a),
  AvgPoolGrad: (stock) => (a) => nativeAvgPoolGrad(a) ?? stock(a),
  Transpose: (stock) => (a) => nativeTranspose(a) ?? stock(a),
  Tanh: (stock) => (a) => nativeTanh(a) ?? stock(a),
  Add: (stock) => (a) => nativeAddRows(a as never) ?? nativeBinary(0, a) ?? stock(a),
  Sub: (stock) => (a) => nativeBinary(1, a) ?? stock(a),
  Multiply: (stock) => (a) => nativeBinary(2, a) ?? stock(a),
  Square: (stock) => (a) => nativeBinary(3, a) ?? stock(a),
  Sum: (stock) => (a) => nativeReduce(false, a as never) ?? stock(a),
  Mean: (stock) => (a) => nativeReduce(true, a as never) ?? stock(a),
};
const replaced = new Map<string, tf.KernelConfig>();

/**
 * Registers Conv2DBackpropFilter on wasm when the backend is loaded and lacks it, and where the native addon
 * is loaded puts the native convolution kernels in place of the stock ones. True when the backend is there.
 */
export function installWasmConvGrads(): boolean {
  if (!tf.findBackendFactory("wasm")) return false;
  if (!installed && !tf.getKernel(KERNEL, "wasm")) {   // a later tfjs may have its own
    tf.registerKernel({ kernelName: KERNEL, backendName: "wasm", kernelFunc: backpropFilter as never });
    installed = true;
  }
  if (nativeAddon() && replaced.size === 0) {
    for (const [name, make] of Object.entries(NATIVE)) {
      const stock = tf.getKernel(name, "wasm");
      if (!stock) continue;
      replaced.set(name, stock);
      tf.unregisterKernel(name, "wasm");   // registerKernel over an existing kernel logs a warning
      tf.registerKernel({ ...stock, kernelFunc: make(stock.kernelFunc as unknown as KernelFunc) as never });
    }
  }
  // last: the memo wraps whichever Tanh/Sigmoid is registered (native or stock); BACKPROP_MEMO=0 leaves it off
  if (process.env.BACKPROP_MEMO !== "0") installElementwiseMemo();
  return true;
}

/** True when this module's Conv2DBackpropFilter is the one registered. */
export function wasmConvGradsInstalled(): boolean {
  return installed;
}

/** The stock kernels this module replaced by native ones (empty without the addon). */
export function nativeConvKernels(): string[] {
  return [...replaced.keys()];
}

/** Removes the kernels again and puts the stock ones back (tests). */
export function uninstallWasmConvGrads(): void {
  for (const key of [...kept.keys()]) dropKept(key);
  uninstallElementwiseMemo();   // it wraps the native Tanh: unwrap first
  for (const [name, stock] of replaced) {
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel(stock);
  }
  replaced.clear();
  if (!installed) return;
  tf.unregisterKernel(KERNEL, "wasm");
  installed = false;
}

/**
 * Runs f on the backend in use and on tfjs's reference `cpu` backend and compares what it returns (inputs
 * must be made inside f, or be plain arrays): the largest |difference| and the largest |value| on cpu.
 * The backend in use is restored afterwards.
 */
export async function againstCpu(f: () => tf.Tensor): Promise<{ backend: string; maxAbsDiff: number; maxAbs: number }> {
  const here = tf.getBackend();
  const run = () => tf.tidy(() => Float32Array.from(f().dataSync()));
  const mine = run();
  tf.env().set("PROD", true);   // no "install the node backend" banner when cpu starts
  await tf.setBackend("cpu");
  let ref: Float32Array;
  try {
    ref = run();
  } finally {
    await tf.setBackend(here);
  }
  if (ref.length !== mine.length) throw new Error(`againstCpu: ${mine.length} values on ${here}, ${ref.length} on cpu`);
  let maxAbsDiff = 0, maxAbs = 0;
  for (let i = 0; i < ref.length; i++) {
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(mine[i] - ref[i]));
    maxAbs = Math.max(maxAbs, Math.abs(ref[i]));
  }
  return { backend: here, maxAbsDiff, maxAbs };
}

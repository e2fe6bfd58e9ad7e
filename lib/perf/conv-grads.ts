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
 */
import * as tf from "@tensorflow/tfjs";

type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object): boolean;
}
interface KernelArgs {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: WasmBackend;
  attrs: { strides: number | [number, number]; pad: "valid" | "same" | number; dataFormat?: string; dimRoundingMode?: "floor" | "round" | "ceil"; filterShape: [number, number, number, number] };
}

const KERNEL = "Conv2DBackpropFilter";
let installed = false;

function backpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo {
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

/** Registers Conv2DBackpropFilter on wasm when the backend is loaded and lacks it. True when it is there. */
export function installWasmConvGrads(): boolean {
  if (installed) return true;
  if (!tf.findBackendFactory("wasm")) return false;
  if (tf.getKernel(KERNEL, "wasm")) return true;   // a later tfjs may have its own
  tf.registerKernel({ kernelName: KERNEL, backendName: "wasm", kernelFunc: backpropFilter as never });
  installed = true;
  return true;
}

/** True when this module's kernel is the one registered. */
export function wasmConvGradsInstalled(): boolean {
  return installed;
}

/** Removes the kernel again (tests). */
export function uninstallWasmConvGrads(): void {
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

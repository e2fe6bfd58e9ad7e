/**
 * tfjs's gradient of σ in one kernel on wasm. tfjs differentiates y = σ(x) (the Sigmoid kernel) as
 *
 *   ∂q/∂x = ∂q/∂y · (y · (1 − y))      mul(dy, mul(y, sub(1, y)))
 *
 * three wasm kernels (Sub, Multiply, Multiply), two temporaries and a scalar tensor per sigmoid layer and step.
 * Where the native addon is loaded, `installFusedGrads()` registers a kernel of our own that computes the same
 * three float32 operations per entry in the same order in one pass (native/blas/elementwise.c), and points tfjs's
 * Sigmoid gradient at it: the same bits, in one dispatch. The gradient takes the fused kernel only on the wasm
 * backend, for float32, and when no tape is recording (a gradient of a gradient differentiates the stock
 * formula, which tfjs knows how to differentiate); everywhere else it runs tfjs's own formula.
 * `uninstallFusedGrads()` puts tfjs's gradient back (the tests compare both).
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon } from "./native";

type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };
interface KernelArgs {
  inputs: { dy: TensorInfo; y: TensorInfo };
  backend: { makeOutput(shape: number[], dtype: tf.DataType): TensorInfo; typedArrayFromHeap(t: TensorInfo): Float32Array };
}
type GradConfig = NonNullable<ReturnType<typeof tf.getGradient>>;

/** Our kernel's name (not a tfjs kernel: no gradient of its own, hence the tape check below). */
export const FUSED_SIGMOID_GRAD = "BackpropSigmoidGrad";

/** tfjs's Sigmoid gradient while ours is installed. */
let stock: GradConfig | undefined;
/** Runs of the fused kernel since the last `takeFusedGradCounts()`. */
let runs = 0;

function sigmoidGradKernel({ inputs: { dy, y }, backend }: KernelArgs): TensorInfo {
  const out = backend.makeOutput(y.shape.slice(), "float32");
  nativeAddon()!.sigmoidGrad(backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(y), backend.typedArrayFromHeap(out));
  runs++;
  return out;
}

/** The fused kernel applies: wasm in use, float32 of one size, and nothing records this gradient for a second one. */
function fused(dy: tf.Tensor, y: tf.Tensor): boolean {
  return tf.getBackend() === "wasm" && dy.dtype === "float32" && y.dtype === "float32" && dy.size === y.size && !tf.engine().isTapeOn();
}

/** tfjs's gradient of σ, with the fused kernel where it applies and tfjs's own gradient function elsewhere. */
function sigmoidGrad(original: GradConfig): GradConfig {
  return {
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const d = dy as tf.Tensor, [y] = saved;
      if (!fused(d, y)) return original.gradFunc(dy, saved, attrs);
      return { x: () => tf.engine().runKernel(FUSED_SIGMOID_GRAD, { dy: d, y }) as tf.Tensor };
    },
  };
}

/**
 * Registers the fused kernel on wasm and tfjs's Sigmoid gradient that uses it, where the addon has it; a no-op
 * otherwise (tfjs's gradient stays) and on a second call. True when the fused gradient is active.
 */
export function installFusedGrads(): boolean {
  if (stock) return true;
  const original = tf.getGradient("Sigmoid");
  if (typeof nativeAddon()?.sigmoidGrad !== "function" || !tf.findBackendFactory("wasm") || !original) return false;
  stock = original;
  if (!tf.getKernel(FUSED_SIGMOID_GRAD, "wasm")) tf.registerKernel({ kernelName: FUSED_SIGMOID_GRAD, backendName: "wasm", kernelFunc: sigmoidGradKernel as never });
  tf.registerGradient(sigmoidGrad(original));
  return true;
}

/** Puts tfjs's Sigmoid gradient back (the kernel stays registered, unused). */
export function uninstallFusedGrads(): void {
  if (!stock) return;
  tf.registerGradient(stock);
  stock = undefined;
}

/** True while the fused Sigmoid gradient is installed. */
export function fusedGradsInstalled(): boolean {
  return stock !== undefined;
}

/** Fused kernel runs since the previous call (which resets the count): tests check that it ran. */
export function takeFusedGradCounts(): { sigmoid: number } {
  const taken = { sigmoid: runs };
  runs = 0;
  return taken;
}

/**
 * tf.layers without the gradient of a layer's input when nothing needs it (wasm).
 *
 * tf.layers.conv2d and tf.layers.dense run tfjs's fused ops (conv or product + bias in one FusedConv2D or
 * _FusedMatMul kernel). Their gradient is a custom gradient (tfjs-core's customGrad) that computes every input's
 * gradient at once,
 *
 *   conv:   ∂q/∂x = Conv2DBackpropInput(δ, W)   ∂q/∂W = Conv2DBackpropFilter(x, δ)   ∂q/∂b = Σ δ
 *   dense:  ∂q/∂x = δ Wᵀ (BatchMatMul)          ∂q/∂W = xᵀ δ (BatchMatMul)            ∂q/∂b = Σ δ
 *
 * while tfjs's other kernels hand tfjs one function per input, which it calls only for inputs on a path from the
 * variables (tfjs-core's getFilteredNodesXToY). For a network's first layer x is the data: under `fit` LeNet-5's
 * C1 computes a 64 × 28 × 28 ∂q/∂x at every step, the deep sigmoid MLP's first dense layer a 64 × 784 one, and
 * both are thrown away. (tf.layers fuses the product only with a linear, ReLU or ELU activation, and under a
 * gradient only the linear one: tanh and sigmoid layers take it as a linear product plus an activation; ReLU layers
 * run unfused, with tfjs's per-input gradients.)
 *
 * `installUnusedGrads()` wraps the engine's customGrad and gradients (on the engine instance, as
 * lib/perf/lean-tape.ts does). When one of these tfjs gradients runs in the outermost gradient (no tape
 * recording) and its input x is not a function of the variables being differentiated (the same walk over the tape
 * as tfjs's getFilteredNodesXToY), the first call of the kernel that computes ∂q/∂x in that gradient (the first
 * Conv2DBackpropInput, the first BatchMatMul: tfjs's code computes ∂q/∂x first) gives zeros instead
 * (lib/perf/conv-grads.ts and lib/perf/fast-grads.ts ask `zerosIfUnused`). tfjs then drops that tensor unread,
 * as it would have dropped the real one: every gradient tfjs uses keeps its bits. tfjs's gradient functions are
 * recognized by their source text, taken from one tiny fused op of each kind at install time, so a custom
 * gradient of someone else's is never touched.
 */
import * as tf from "@tensorflow/tfjs";

type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
type CustomResult = { value: tf.Tensor; gradFunc: GradFunc };
type CustomFunc = (...args: unknown[]) => CustomResult;
interface TapeNode { inputs: Record<string, tf.Tensor>; outputs: tf.Tensor[] }
/** The parts of tfjs-core's Engine this module uses (internal, stable across tfjs 4.x). */
interface GradEngine {
  customGrad(f: CustomFunc): (...inputs: tf.Tensor[]) => tf.Tensor;
  gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): unknown;
  isTapeOn(): boolean;
  state: { activeTape: TapeNode[] | null };
}

/** One gradients() call in progress: its xs, and (once asked) the ids of every tensor that is a function of them. */
type Call = { xs: tf.Tensor[]; fromX?: Set<number> };
const calls: Call[] = [];
/** tfjs's methods while ours are in place, and whether the instance had them as its own properties. */
let stock: { customGrad: GradEngine["customGrad"]; gradients: GradEngine["gradients"]; own: boolean[] } | undefined;
/** tfjs's fused ops with an all-at-once gradient: a tiny call of each, and the kernel that computes its ∂q/∂x. */
const FUSED: { kernel: string; run: () => unknown }[] = [
  { kernel: "Conv2DBackpropInput", run: () => tf.fused.conv2d({ x: tf.zeros([1, 1, 1, 1]) as tf.Tensor4D, filter: tf.zeros([1, 1, 1, 1]) as tf.Tensor4D, strides: 1, pad: "valid" }) },
  { kernel: "BatchMatMul", run: () => tf.fused.matMul({ a: tf.zeros([1, 1]), b: tf.zeros([1, 1]) }) },
];
/** The source text of each of those gradient functions → its ∂q/∂x kernel (filled once, at the first install). */
let gradSources: Map<string, string> | undefined;
/** While one of those gradients runs for an x nothing needs: the kernel whose next call is skipped. */
let skipNext: string | null = null;
let skipped = 0;

function engine(): GradEngine {
  return tf.engine() as unknown as GradEngine;
}

/** The ids of the tensors that are a function of xs on the tape, walked as tfjs's getFilteredNodesXToY walks it. */
function tensorsFromX(xs: tf.Tensor[], tape: TapeNode[]): Set<number> {
  const from = new Set(xs.map((x) => x.id));
  for (const node of tape) {
    for (const name in node.inputs) {
      if (from.has(node.inputs[name].id)) {
        for (const o of node.outputs) from.add(o.id);
        break;
      }
    }
  }
  return from;
}

/** True when `x` can get no gradient in the gradients() call in progress (false when unsure). */
function unused(e: GradEngine, x: tf.Tensor): boolean {
  const call = calls[calls.length - 1];
  if (!call || e.isTapeOn() || !e.state.activeTape) return false;
  call.fromX ??= tensorsFromX(call.xs, e.state.activeTape);
  return !call.fromX.has(x.id);
}

type Info = { dataId: object; shape: number[]; dtype: tf.DataType };
/** The wasm backend's parts used for the zeros. */
interface Heap { makeOutput(shape: number[], dtype: tf.DataType): Info; typedArrayFromHeap(t: Info): ArrayLike<number> & { fill(v: number): unknown } }

/**
 * Called by the kernels `kernel` on wasm: zeros of `shape()` (once) when the ∂q/∂x this call computes will not be
 * read, else null (the kernel computes as usual).
 */
export function zerosIfUnused(kernel: string, shape: () => number[], backend: Heap): Info | null {
  if (skipNext !== kernel) return null;
  skipNext = null;
  skipped++;
  const out = backend.makeOutput(shape(), "float32");
  backend.typedArrayFromHeap(out).fill(0);
  return out;
}

/** Puts the wrappers in place (on the engine instance). A second call does nothing; false on a tfjs without these internals. */
export function installUnusedGrads(): boolean {
  if (stock) return true;
  const e = engine();
  if (typeof e.customGrad !== "function" || typeof e.gradients !== "function" || typeof e.isTapeOn !== "function" || !e.state) return false;
  const own = ["customGrad", "gradients"].map((m) => Object.prototype.hasOwnProperty.call(e, m));
  const { customGrad, gradients } = e;
  // tfjs's gradient functions, as they print themselves: from one tiny fused op of each kind (once)
  if (!gradSources) {
    gradSources = new Map();
    for (const { kernel, run } of FUSED) {
      let source: string | undefined;
      e.customGrad = function (this: GradEngine, f: CustomFunc) {
        return customGrad.call(this, (...args: unknown[]) => {
          const res = f(...args);
          source = res.gradFunc.toString();
          return res;
        });
      };
      try {
        tf.tidy(() => void run());
      } catch {
        // a backend without this fused kernel: nothing to skip there
      } finally {
        e.customGrad = customGrad;
      }
      if (source) gradSources.set(source, kernel);
    }
  }
  stock = { customGrad, gradients, own };
  const sources = gradSources;
  e.gradients = function (this: GradEngine, f, xs, dy, allowNoGradients) {
    calls.push({ xs });
    try {
      return gradients.call(this, f, xs, dy, allowNoGradients);
    } finally {
      calls.pop();
    }
  };
  e.customGrad = function (this: GradEngine, f: CustomFunc) {
    return customGrad.call(this, (...args: unknown[]) => {
      const res = f(...args);
      // outside a gradients() call no tape node is made and the gradient never runs: nothing to look up
      // (inference, predict); inside one, tfjs's own gradient functions by their text
      const kernel = calls.length > 0 ? sources.get(res.gradFunc.toString()) : undefined;
      if (!kernel) return res;
      const x = args[0] as tf.Tensor, grad = res.gradFunc;
      return {
        value: res.value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          skipNext = unused(engine(), x) ? kernel : null;
          try {
            return grad(dy, saved);
          } finally {
            skipNext = null;
          }
        },
      };
    });
  };
  return true;
}

/** Puts tfjs's own methods back (the tests compare both). */
export function uninstallUnusedGrads(): void {
  if (!stock) return;
  const e = engine() as unknown as Record<string, unknown>;
  (["customGrad", "gradients"] as const).forEach((m, i) => {
    if (stock!.own[i]) e[m] = stock![m];
    else delete e[m];
  });
  stock = undefined;
}

/** Gradients skipped since the previous call (which resets the count): tests check that it ran. */
export function takeUnusedGradCounts(): { skipped: number } {
  const taken = { skipped };
  skipped = 0;
  return taken;
}

/**
 * tf.layers' conv layers without the gradient of their input when nothing needs it (wasm with the native addon).
 *
 * tf.layers.conv2d runs tfjs's fused convolution (conv + bias in one FusedConv2D kernel). Its gradient is a
 * custom gradient (tfjs-core's customGrad) that computes all three gradients at once,
 *
 *   ∂q/∂x = Conv2DBackpropInput(δ, W)     ∂q/∂W = Conv2DBackpropFilter(x, δ)     ∂q/∂b = Σ δ
 *
 * while tfjs's other kernels hand tfjs one function per input, which it calls only for inputs on a path from the
 * variables (tfjs-core's getFilteredNodesXToY). For a network's first layer x is the data: in LeNet-5's `fit`
 * C1's ∂q/∂x (64 × 28 × 28 from 64 × 28 × 28 × 6) is computed at every step and thrown away.
 *
 * `installUnusedGrads()` wraps the engine's customGrad and gradients (on the engine instance, as
 * lib/perf/lean-tape.ts does). When tfjs's own fused-convolution gradient runs in the outermost gradient (no tape
 * recording) and its input x is not a function of the variables being differentiated (the same walk over the tape
 * as tfjs's getFilteredNodesXToY), the one Conv2DBackpropInput call of that gradient gives zeros instead
 * (lib/perf/conv-grads.ts asks `takeUnusedInputGradient()`). tfjs then drops that tensor unread, as it would
 * have dropped the real one: every gradient tfjs uses keeps its bits. tfjs's gradient function is recognized by
 * its source text, taken from one tiny fused convolution at install time, so a custom gradient of someone
 * else's is never touched.
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
/** The source text of tfjs's fused-convolution gradient function. */
let fusedConvGrad: string | undefined;
/** Set while tfjs's fused-convolution gradient runs for an x nothing needs: its Conv2DBackpropInput is skipped. */
let skipNext = false;
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

/** Called by the Conv2DBackpropInput kernel: true (once) when the ∂q/∂x it is asked for will not be read. */
export function takeUnusedInputGradient(): boolean {
  if (!skipNext) return false;
  skipNext = false;
  skipped++;
  return true;
}

/** Puts the wrappers in place (on the engine instance). A second call does nothing; false on a tfjs without these internals. */
export function installUnusedGrads(): boolean {
  if (stock) return true;
  const e = engine();
  if (typeof e.customGrad !== "function" || typeof e.gradients !== "function" || typeof e.isTapeOn !== "function" || !e.state) return false;
  const own = ["customGrad", "gradients"].map((m) => Object.prototype.hasOwnProperty.call(e, m));
  const { customGrad, gradients } = e;
  // tfjs's fused-convolution gradient, as it prints itself: from one tiny fused convolution (once)
  if (fusedConvGrad === undefined) {
    e.customGrad = function (this: GradEngine, f: CustomFunc) {
      return customGrad.call(this, (...args: unknown[]) => {
        const res = f(...args);
        fusedConvGrad = res.gradFunc.toString();
        return res;
      });
    };
    try {
      tf.tidy(() => void tf.fused.conv2d({ x: tf.zeros([1, 1, 1, 1]) as tf.Tensor4D, filter: tf.zeros([1, 1, 1, 1]) as tf.Tensor4D, strides: 1, pad: "valid" }));
    } catch {
      fusedConvGrad = "";   // a backend without FusedConv2D: nothing to skip
    } finally {
      e.customGrad = customGrad;
    }
  }
  if (!fusedConvGrad) return false;
  stock = { customGrad, gradients, own };
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
      if (res.gradFunc.toString() !== fusedConvGrad) return res;
      const x = args[0] as tf.Tensor, grad = res.gradFunc;
      return {
        value: res.value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          skipNext = unused(engine(), x);
          try {
            return grad(dy, saved);
          } finally {
            skipNext = false;
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

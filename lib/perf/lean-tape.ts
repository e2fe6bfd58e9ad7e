/**
 * A shorter gradient tape for tfjs autodiff (tf.grad, tf.variableGrads, optimizer.minimize), on every backend.
 *
 * While tfjs records a forward pass, each kernel keeps copies of the tensors its gradient will need (tfjs-core's
 * Engine.saveTensorsForBackwardMode: y of Sigmoid, a and b of MatMul and Add, ...), made by `engine.clone`. A
 * clone also puts a tape node of its own on the tape (so that a gradient of a gradient can reach through the kept
 * copy): 38 of the 62 tape nodes of a step of the deep sigmoid MLP, each made (a closure, a node) and then walked,
 * its input checked once per variable, when tfjs picks the nodes between the variables and the loss
 * (getFilteredNodesXToY), and each copy is one more Identity dispatch.
 *
 * In the outermost gradient (tape depth 1) no such node can be used: the kept copies are read only by the
 * gradient functions, which run after the tape has stopped recording. There each copy is a new tensor on the
 * same data with one more reference — what the Identity kernel of tfjs's cpu backend does, and wasm's under
 * lib/perf/elementwise-memo.ts (a tensor's data never changes) — made without a kernel dispatch and without a
 * tape node (string and complex tensors still go through Identity). Inside a nested gradient (depth ≥ 2, a
 * gradient of a gradient) tfjs's own method runs. Same tensors, same gradient functions in the same order:
 * the same values, bit for bit.
 */
import * as tf from "@tensorflow/tfjs";

/** The parts of tfjs-core's Engine this module uses (internal, stable across tfjs 4.x). */
interface TapeEngine {
  saveTensorsForBackwardMode(tensors: tf.Tensor[]): tf.Tensor[];
  state: { gradientDepth: number; tensorInfo: WeakMap<object, { backend: unknown }> };
  keep<T extends tf.Tensor>(t: T): T;
  runKernel(name: string, inputs: Record<string, tf.Tensor>, attrs?: Record<string, unknown>): tf.Tensor;
  nextTensorId(): number;
  /** Tracks a tensor made on an existing dataId and adds a reference to that data in the backend. */
  incRef(t: tf.Tensor, backend: unknown): void;
}
/** tf.Tensor's constructor on existing data (tfjs-core's Tensor: shape, dtype, dataId, id). */
type TensorOnData = new (shape: number[], dtype: tf.DataType, dataId: object, id: number) => tf.Tensor;

/** Another tensor on `t`'s data (one more reference), tracked in the current scope like a kernel's output. */
function sameData(e: TapeEngine, t: tf.Tensor): tf.Tensor {
  if (t.dtype === "string" || t.dtype === "complex64") return e.runKernel("Identity", { x: t });
  const copy = new (tf.Tensor as unknown as TensorOnData)(t.shape.slice(), t.dtype, t.dataId, e.nextTensorId());
  e.incRef(copy, e.state.tensorInfo.get(t.dataId)?.backend);
  return copy;
}

/** tfjs's method while ours is in place, and whether the engine instance had it as its own property. */
let stock: { method: TapeEngine["saveTensorsForBackwardMode"]; own: boolean } | undefined;
/** Tensors kept without a tape node since the last `takeLeanTapeCounts()`. */
let lean = 0;

function engine(): TapeEngine {
  return tf.engine() as unknown as TapeEngine;
}

/** Puts the shorter tape in place (on the engine instance; its class keeps tfjs's method). A second call does nothing. */
export function installLeanTape(): boolean {
  if (stock) return true;
  const e = engine();
  const method = e.saveTensorsForBackwardMode;
  if (typeof method !== "function" || typeof e.state?.gradientDepth !== "number" || typeof e.state.tensorInfo?.get !== "function" || typeof e.nextTensorId !== "function" || typeof e.incRef !== "function") return false;   // a tfjs without these internals
  stock = { method, own: Object.prototype.hasOwnProperty.call(e, "saveTensorsForBackwardMode") };
  e.saveTensorsForBackwardMode = function (this: TapeEngine, tensors: tf.Tensor[]): tf.Tensor[] {
    if (this.state.gradientDepth !== 1) return method.call(this, tensors);
    lean += tensors.length;
    return tensors.map((t) => this.keep(sameData(this, t)));
  };
  return true;
}

/** Puts tfjs's own method back (the tests compare both). */
export function uninstallLeanTape(): void {
  if (!stock) return;
  if (stock.own) engine().saveTensorsForBackwardMode = stock.method;
  else delete (engine() as Partial<TapeEngine>).saveTensorsForBackwardMode;
  stock = undefined;
}

/** True while the shorter tape is in place. */
export function leanTapeInstalled(): boolean {
  return stock !== undefined;
}

/** Tensors kept without a tape node since the previous call (which resets the count): tests check that it ran. */
export function takeLeanTapeCounts(): { kept: number } {
  const taken = { kept: lean };
  lean = 0;
  return taken;
}

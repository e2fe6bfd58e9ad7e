/**
 * A shorter gradient tape for tfjs autodiff (tf.grad, tf.variableGrads, optimizer.minimize), on every backend.
 *
 * While tfjs records a forward pass, each kernel keeps copies of the tensors its gradient will need (tfjs-core's
 * Engine.saveTensorsForBackwardMode: y of Sigmoid, a and b of MatMul and Add, ...), made by `engine.clone`. A
 * clone also puts a tape node of its own on the tape (so that a gradient of a gradient can reach through the kept
 * copy): 38 of the 122 tape nodes of a step of the deep sigmoid MLP, each one walked again, with every variable,
 * when tfjs picks the nodes between the variables and the loss (getFilteredNodesXToY).
 *
 * In the outermost gradient (tape depth 1) no such node can be used: the kept copies are read only by the
 * gradient functions, which run after the tape has stopped recording. There the copy is made with the same
 * Identity kernel and no tape node; inside a nested gradient (depth ≥ 2, a gradient of a gradient) tfjs's own
 * method runs.
 *
 * The outermost `engine.gradients` itself is ours too: tfjs's walks the tape with plain objects keyed by tensor
 * id (checking each input once per variable, 12 times for the deep MLP); ours keeps the same node sets in Sets
 * and Maps and runs the same backward walk — the same nodes in the same order, each gradient function called
 * with the same dy, the same additions where a tensor feeds several nodes. Same tensors, same gradient
 * functions in the same order: the same values, bit for bit.
 */
import * as tf from "@tensorflow/tfjs";

/** A node of tfjs's tape (tfjs-core's tape.ts TapeNode). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}
type Gradients = (f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean) => { value: tf.Tensor; grads: (tf.Tensor | undefined)[] };

/** The parts of tfjs-core's Engine this module uses (internal, stable across tfjs 4.x). */
interface TapeEngine {
  saveTensorsForBackwardMode(tensors: tf.Tensor[]): tf.Tensor[];
  gradients: Gradients;
  state: { gradientDepth: number; activeTape: TapeNode[] | null };
  keep<T extends tf.Tensor>(t: T): T;
  runKernel(name: string, inputs: Record<string, tf.Tensor>, attrs?: Record<string, unknown>): tf.Tensor;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
}
const METHODS = ["saveTensorsForBackwardMode", "gradients"] as const;

/** tfjs's methods while ours are in place, and whether the engine instance had them as its own properties. */
let stock: { save: TapeEngine["saveTensorsForBackwardMode"]; gradients: Gradients; own: Set<string> } | undefined;
/** Outermost gradients computed by our walk since the last `takeLeanTapeCounts()`. */
let walks = 0;
/** Tensors kept without a tape node since the last `takeLeanTapeCounts()`. */
let lean = 0;

function engine(): TapeEngine {
  return tf.engine() as unknown as TapeEngine;
}

/**
 * The nodes of `tape` on a path from one of `xs` to `y`, in tape order, each as a copy keeping only its inputs
 * that depend on `xs` (what tfjs-core's getFilteredNodesXToY returns).
 */
function nodesFromXsToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromXs = new Set<number>(xs.map((x) => x.id));
  const nodesFromXs = new Set<number>();
  for (const node of tape) {
    for (const name in node.inputs) {
      if (!fromXs.has(node.inputs[name].id)) continue;
      for (const o of node.outputs) fromXs.add(o.id);
      nodesFromXs.add(node.id);
      break;
    }
  }
  const toY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (!node.outputs.some((o) => toY.has(o.id))) continue;
    for (const name in node.inputs) {
      toY.add(node.inputs[name].id);
      nodesToY.add(node.id);
    }
  }
  const kept: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromXs.has(node.id) || !nodesToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const name in node.inputs) if (fromXs.has(node.inputs[name].id)) inputs[name] = node.inputs[name];
    kept.push({ ...node, inputs, outputs: node.outputs });
  }
  return kept;
}

/** Walks `nodes` backwards from y's gradient, adding up each tensor's gradient (tfjs-core's backpropagateGradients). */
function backpropagate(e: TapeEngine, grads: Map<number, tf.Tensor>, nodes: TapeNode[]): void {
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    const dys = node.outputs.map((o) => grads.get(o.id) ?? null);
    if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    const inputGradients = node.gradient(dys);
    for (const name in node.inputs) {
      if (!(name in inputGradients)) throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(inputGradients)}.`);
      const dx = e.tidy(() => inputGradients[name]());
      if (dx.dtype !== "float32") throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`);
      const x = node.inputs[name];
      if (!tf.util.arraysEqual(dx.shape, x.shape)) throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`);
      const sum = grads.get(x.id);
      if (sum === undefined) grads.set(x.id, dx);
      else {
        grads.set(x.id, tf.add(sum, dx));
        sum.dispose();
      }
    }
  }
}

/** Puts the shorter tape in place (on the engine instance; its class keeps tfjs's methods). A second call does nothing. */
export function installLeanTape(): boolean {
  if (stock) return true;
  const e = engine();
  const save = e.saveTensorsForBackwardMode, gradients = e.gradients;
  if (typeof save !== "function" || typeof gradients !== "function" || typeof e.state?.gradientDepth !== "number" || typeof e.scopedRun !== "function") return false;   // a tfjs without these internals
  stock = { save, gradients, own: new Set(METHODS.filter((m) => Object.prototype.hasOwnProperty.call(e, m))) };
  e.saveTensorsForBackwardMode = function (this: TapeEngine, tensors: tf.Tensor[]): tf.Tensor[] {
    if (this.state.gradientDepth !== 1) return save.call(this, tensors);
    lean += tensors.length;
    return tensors.map((t) => this.keep(this.runKernel("Identity", { x: t })));
  };
  e.gradients = function (this: TapeEngine, f, xs, dy, allowNoGradients = false) {
    // a gradient inside a gradient records on the outer tape: tfjs's own method
    if (this.state.gradientDepth !== 0) return gradients.call(this, f, xs, dy, allowNoGradients);
    if (xs.length === 0) throw new Error("gradients() received an empty list of xs.");
    if (dy != null && dy.dtype !== "float32") throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
    const y = this.scopedRun(() => this.startTape(), () => this.endTape(), () => this.tidy("forward", f));
    if (!(y instanceof tf.Tensor)) throw new Error("The result y returned by f() must be a tensor.");
    const tape = this.state.activeTape ?? [];
    const nodes = nodesFromXsToY(tape, xs, y);
    if (!allowNoGradients && nodes.length === 0) throw new Error("Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.");
    walks++;
    return this.tidy("backward", () => {
      const grads = new Map<number, tf.Tensor>([[y.id, dy ?? tf.ones(y.shape)]]);
      backpropagate(this, grads, nodes);
      const out = xs.map((x) => grads.get(x.id));
      for (const node of tape) for (const t of node.saved ?? []) t.dispose();
      this.state.activeTape = null;
      return { value: y, grads: out } as never;
    });
  };
  return true;
}

/** Puts tfjs's own methods back (the tests compare both). */
export function uninstallLeanTape(): void {
  if (!stock) return;
  const e = engine() as unknown as Record<string, unknown>;
  for (const m of METHODS) {
    if (stock.own.has(m)) e[m] = m === "gradients" ? stock.gradients : stock.save;
    else delete e[m];
  }
  stock = undefined;
}

/** True while the shorter tape is in place. */
export function leanTapeInstalled(): boolean {
  return stock !== undefined;
}

/**
 * Since the previous call (which resets the counts): tensors kept without a tape node, and outermost gradients
 * walked by our code. Tests check that both ran.
 */
export function takeLeanTapeCounts(): { kept: number; walks: number } {
  const taken = { kept: lean, walks };
  lean = walks = 0;
  return taken;
}

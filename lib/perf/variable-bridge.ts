/**
 * The float64 bridge of `stepVariables` (lib/scratch/optimizers.ts) on the wasm backend, without its copies.
 *
 * The plain route reads every variable and every gradient with dataSync into new Float64Arrays and writes θ
 * back with Float32Array.from + tf.tensor + assign, every step: for the MLP 784-300-100-10 (266 610 parameters)
 * that measured ~1.0 ms of a ~3 ms step, ~0.35 ms through this bridge. It gives the optimizer the same float64
 * numbers, bit for bit, with less work:
 *  - θ is kept between steps (one vector per optimizer). A variable is re-read only when its dataId is not
 *    the one the bridge wrote last (someone assigned it: loading weights, user code, another optimizer).
 *    Since the variables hold θ in float32, the kept θ is rounded to float32 (Math.fround) as it is written: the
 *    next step sees exactly what a re-read would give.
 *  - gradients are read from views of the wasm heap (no dataSync slice) into float64 vectors reused from step
 *    to step (no 2 MB allocation per step);
 *  - the float64 ↔ float32 conversions run in C where the native addon is built (toFloat32/toFloat64 in
 *    native/blas/elementwise.c: the same IEEE conversions as a typed array's set, in a fraction of V8's time);
 *  - θ is written into fresh heap buffers (backend.makeOutput), wrapped as tensors and assigned. A variable's
 *    existing buffer is never written in place: XNNPACK caches packed weights per dataId and clones share
 *    dataIds.
 * Only float32 tensors that live on the wasm backend take this route; anything else (cpu, webgl, tfjs-node,
 * or a tensor on another backend) is read and written the plain way, through dataSync and tf.tensor.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon } from "./native";

type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };
/** The parts of tfjs-backend-wasm's BackendWasm the bridge uses. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  dataIdMap: { has(dataId: object): boolean };
}
interface Engine {
  makeTensorFromTensorInfo(info: TensorInfo, backend?: unknown): tf.Tensor;
}

let enabled = true;

/** Turns the fast bridge on or off (tests compare both routes); returns the previous setting. */
export function useVariableBridge(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Variables re-read and steps taken by the bridge since the previous call (which resets them): tests see the cache work. */
const counts = { reads: 0, steps: 0 };
export function takeBridgeCounts(): { reads: number; steps: number } {
  const taken = { ...counts };
  counts.reads = counts.steps = 0;
  return taken;
}

/** The wasm backend when it is the active one and the bridge is on, else null. */
function wasmBackend(): WasmBackend | null {
  if (!enabled || tf.getBackend() !== "wasm") return null;
  const b = tf.backend() as unknown as Partial<WasmBackend>;
  const engine = tf.engine() as unknown as Partial<Engine>;
  const usable = typeof b.makeOutput === "function" && typeof b.typedArrayFromHeap === "function" && b.dataIdMap !== undefined &&
    typeof engine.makeTensorFromTensorInfo === "function"; // a tfjs that renamed these takes the plain route
  return usable ? (b as WasmBackend) : null;
}

/** A float32 tensor whose data the wasm backend holds (so a heap view of it is its value). */
function onHeap(backend: WasmBackend, t: tf.Tensor): boolean {
  return t.dtype === "float32" && !t.isDisposed && backend.dataIdMap.has(t.dataId);
}

/** What the bridge keeps for one optimizer between steps. */
interface Kept {
  vars: tf.Variable[];
  /** The dataId each variable held when the bridge last wrote (or read) it. */
  dataIds: object[];
  offsets: number[];
  theta: Float64Array;
  /** The gradient vectors of the previous step, by call. */
  grads: Float64Array[];
}
const kept = new WeakMap<object, Kept>();

function sizes(ts: readonly tf.Tensor[]): number {
  return ts.reduce((n, t) => n + t.size, 0);
}

/** Copies the value of `t` into `out` at `at`, from the heap when possible (converted natively where the addon is built). */
function readInto(backend: WasmBackend, t: tf.Tensor, out: Float64Array, at: number): void {
  const x = onHeap(backend, t) ? backend.typedArrayFromHeap(t as never) as Float32Array : t.dataSync() as Float32Array;
  const native = nativeAddon();
  if (native) native.toFloat64(x, out.subarray(at, at + x.length));
  else out.set(x, at);
}

/**
 * The bridge of one stepVariables call; `key` (the optimizer) names the θ kept between steps. Null when the
 * fast route does not apply (not wasm, or turned off): then the caller runs the plain route. With `lend` the
 * optimizer gets the kept vectors themselves (only for optimizers known not to hold on to θ or ∇J after a
 * step: the library's own); otherwise fresh copies, as the plain route gives, so that an optimizer written by
 * a student that keeps last step's gradient still sees it unchanged.
 */
export function variableBridge(key: object, vars: readonly tf.Variable[], opts: { lend: boolean }): VariableBridge | null {
  const backend = wasmBackend();
  return backend ? new VariableBridge(backend, key, vars, opts.lend) : null;
}

export class VariableBridge {
  private state: Kept | undefined;
  private calls = 0;

  constructor(private readonly backend: WasmBackend, private readonly key: object, private readonly vars: readonly tf.Variable[], private readonly lend: boolean) {}

  /** θ: the variables' values, concatenated, as float64 (the kept vector, refreshed where a variable changed). */
  read(): Float64Array {
    const vars = this.vars;
    let s = kept.get(this.key);
    // a variable's shape never changes (assign checks it): the same variables in the same order keep the layout
    const sameLayout = s !== undefined && s.vars.length === vars.length && s.vars.every((v, i) => v === vars[i]);
    if (!s || !sameLayout) {
      const n = sizes(vars);
      const offsets: number[] = [];
      let at = 0;
      for (const v of vars) {
        offsets.push(at);
        at += v.size;
      }
      s = { vars: [...vars], dataIds: vars.map(() => ({})), offsets, theta: s && s.theta.length === n ? s.theta : new Float64Array(n), grads: s?.grads ?? [] };
      kept.set(this.key, s);
    }
    for (let i = 0; i < vars.length; i++) {
      const v = vars[i];
      if (v.dataId === s.dataIds[i] && !v.isDisposed) continue;
      readInto(this.backend, v, s.theta, s.offsets[i]);
      s.dataIds[i] = v.dataId;
      counts.reads++;
    }
    counts.steps++;
    this.state = s;
    this.calls = 0;
    return this.lend ? s.theta : s.theta.slice();
  }

  /**
   * ∇J as float64: the gradients (one per variable, same order) concatenated. When lent, the vectors are
   * reused: the k-th call of a step fills the k-th vector of the previous step (an optimizer may ask twice).
   */
  gradients(grads: readonly tf.Tensor[]): Float64Array {
    const n = sizes(grads), pool = this.state!.grads;
    let out = this.lend ? pool[this.calls] : undefined;
    if (!out || out.length !== n) out = new Float64Array(n);
    if (this.lend) pool[this.calls] = out;
    this.calls++;
    let at = 0;
    for (const g of grads) {
      readInto(this.backend, g, out, at);
      at += g.size;
    }
    return out;
  }

  /**
   * Writes `v` into the variables (float32). With `rounded` (v is θ after the step) the kept θ receives the
   * float32 value of each entry, which the variable now holds, and the new dataIds are remembered.
   */
  write(v: Float64Array, rounded: boolean): void {
    const vars = this.vars, backend = this.backend;
    const n = sizes(vars);
    if (v.length !== n) throw new Error(`assignVector: the vector has ${v.length} entries but the variables have ${n}`);
    const engine = tf.engine() as unknown as Engine, native = nativeAddon();
    // the kept θ (v itself when lent; a copy handed out is left as the optimizer made it, as the plain route does)
    const keptTheta = rounded ? this.state?.theta : undefined;
    let at = 0;
    for (let i = 0; i < vars.length; i++) {
      const p = vars[i];
      if (p.dtype !== "float32") {
        // the plain route's assign raises the dtype error
        tf.tidy(() => p.assign(tf.tensor(Float32Array.from(v.subarray(at, at + p.size)), p.shape, "float32")));
        at += p.size;
        continue;
      }
      // makeOutput may grow the heap, which detaches earlier views: take the view after it
      const info = backend.makeOutput(p.shape, "float32");
      const out = backend.typedArrayFromHeap(info) as Float32Array;
      const size = p.size;
      // float64 → float32, rounding to nearest as Float32Array.from does; the kept θ then holds what the variable
      // holds, Math.fround of each entry (in C where the addon is built: V8's conversions cost ~1 ns a value)
      if (native) native.toFloat32(v.subarray(at, at + size), out, keptTheta?.subarray(at, at + size));
      else {
        out.set(v.subarray(at, at + size));
        if (keptTheta) keptTheta.set(out, at);
      }
      const t = engine.makeTensorFromTensorInfo(info, backend);
      try {
        p.assign(t);
      } finally {
        t.dispose();
      }
      if (rounded && this.state) this.state.dataIds[i] = p.dataId;
      at += size;
    }
  }

  /** Drops the kept θ (after an error mid-step, θ and the variables may disagree). */
  forget(): void {
    kept.delete(this.key);
    this.state = undefined;
  }
}

/**
 * Picks the fastest TensorFlow.js backend present and says which one and why.
 *
 * Order: tfjs-node-gpu (CUDA) → tfjs-node (libtensorflow on the CPU) → wasm (SIMD) → cpu (pure JS).
 * The native packages are optional dependencies: their install downloads libtensorflow and fails
 * offline, and npm then drops them, so everything is detected at run time.
 * `BACKPROP_BACKEND=tensorflow|wasm|cpu` forces one.
 */
import * as tf from "@tensorflow/tfjs";
import { installFastWasmKernels } from "./perf/fast-grads";
import { blasStatus } from "./perf/blas";
import { nativeLanes } from "./perf/native";
import { installWasmConvGrads } from "./perf/conv-grads";
import { installFusedGrads } from "./perf/fused-grads";
import { installLeanTape } from "./perf/lean-tape";
import { installUnusedGrads } from "./perf/unused-grads";
import { windowsRoute } from "./perf/windows";

export type BackendName = "tensorflow" | "wasm" | "cpu";
export const BACKEND_NAMES: readonly BackendName[] = ["tensorflow", "wasm", "cpu"];

export interface BackendReport {
  /** tfjs backend name in use: "tensorflow", "wasm" or "cpu". */
  name: BackendName;
  /** What runs the kernels, in words: e.g. "tfjs-node-gpu (CUDA)", "wasm (SIMD, 1 thread)". */
  engine: string;
  /** Why the backends faster than this one were not used. */
  skipped: { engine: string; why: string }[];
  /** True when BACKPROP_BACKEND chose it. */
  forced: boolean;
}

let current: BackendReport | undefined;

/** The error raised for a BACKPROP_BACKEND value that names no backend. */
export function parseBackendName(value: string): BackendName {
  const v = value.trim().toLowerCase();
  if ((BACKEND_NAMES as readonly string[]).includes(v)) return v as BackendName;
  throw new Error(
    `BACKPROP_BACKEND="${value}" is not a backend. Valid values: ${BACKEND_NAMES.join(", ")} ` +
      `(or unset it to pick the fastest one present).`,
  );
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0].slice(0, 200);
}

/** Loads a native tfjs-node package; it registers the "tensorflow" backend in the shared tfjs-core. */
function tryNative(pkg: string): string | undefined {
  try {
    require.resolve(pkg);
  } catch {
    return `not installed (its install step downloads libtensorflow and needs internet)`;
  }
  try {
    require(pkg);
    return undefined;
  } catch (e) {
    return `installed but failed to load: ${firstLine(e)}`;
  }
}

async function tryWasm(): Promise<string | undefined> {
  try {
    require("@tensorflow/tfjs-backend-wasm");
  } catch (e) {
    return `@tensorflow/tfjs-backend-wasm failed to load: ${firstLine(e)}`;
  }
  try {
    // tf.setBackend resolves false (and logs) when a backend's init fails.
    return (await tf.setBackend("wasm")) ? undefined : "the wasm backend failed to initialize";
  } catch (e) {
    return `the wasm backend failed to initialize: ${firstLine(e)}`;
  }
}

function gpuVisible(): boolean {
  const b = tf.backend() as unknown as { binding?: { isUsingGpuDevice?: () => boolean } };
  return Boolean(b.binding?.isUsingGpuDevice?.());
}

/**
 * Chooses and activates a backend (once per process; later calls return the same report).
 * Await it before any tensor op: it is what makes `tf` ready.
 */
export async function initBackend(): Promise<BackendReport> {
  if (current) return current;
  const env = process.env.BACKPROP_BACKEND;
  const forced = env !== undefined && env.trim() !== "" ? parseBackendName(env) : undefined;
  const skipped: { engine: string; why: string }[] = [];
  const want = (n: BackendName) => forced === undefined || forced === n;
  const skip = (engine: string, why: string) => skipped.push({ engine, why });

  if (want("tensorflow")) {
    for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
      const why = tryNative(pkg);
      if (why === undefined && (await tf.setBackend("tensorflow"))) {
        const gpu = pkg.endsWith("-gpu") && gpuVisible();
        if (pkg.endsWith("-gpu") && !gpu) skip("tfjs-node-gpu (CUDA)", "no usable CUDA GPU; libtensorflow runs on the CPU");
        return finish("tensorflow", gpu ? "tfjs-node-gpu (CUDA)" : `${pkg.slice(12)} (libtensorflow, CPU)`);
      }
      skip(pkg.slice(12), why ?? "the tensorflow backend failed to initialize");
    }
  } else skip("tfjs-node", `BACKPROP_BACKEND=${forced}`);

  if (want("wasm")) {
    const why = await tryWasm();
    if (why === undefined) {
      // tfjs's gradients use matMul with transpose flags, ~10× slower on wasm: route them to fast kernels.
      installFastWasmKernels();
      // wasm has no Conv2DBackpropFilter: autodiff of a conv net needs it (lecture 12).
      installWasmConvGrads();
      // tfjs's σ gradient (three kernels) as one native pass, same bits.
      installFusedGrads();
      // autodiff's kept copies without Identity calls and tape nodes (same values; tfjs's engine, any backend).
      installLeanTape();
      // tf.layers' fused conv computes ∂q/∂x of its input even when it is the data: skip that one.
      installUnusedGrads();
      const blas = blasStatus();
      const windows = windowsRoute() === "native (C on the wasm heap)" ? "native im2col/col2im/pooling + sgemm" : windowsRoute();
      const lanes = nativeLanes() > 1 ? `native kernels on ${nativeLanes()} threads; ` : "";
      return finish("wasm", `wasm (SIMD, 1 thread; ${lanes}matMul: ${blas.active ? "OpenBLAS sgemm" : `XNNPACK, OpenBLAS ${blas.why}`}; conv windows: ${blas.active ? windows : "JavaScript loops, XNNPACK conv"})`);
    }
    skip("wasm", why);
  } else skip("wasm", `BACKPROP_BACKEND=${forced}`);

  // PROD silences tfjs's "install the node backend" banner, which the report above already covers.
  tf.env().set("PROD", true);
  await tf.setBackend("cpu");
  return finish("cpu", "cpu (pure JavaScript)");

  function finish(name: BackendName, engine: string): BackendReport {
    if (forced && forced !== name) {
      const reasons = skipped.filter((s) => !s.why.startsWith("BACKPROP_BACKEND")).map((s) => s.why);
      throw new Error(`BACKPROP_BACKEND=${forced} was asked for but is not usable: ${reasons.join("; ")}`);
    }
    current = { name, engine, skipped, forced: forced !== undefined };
    return current;
  }
}

/** The report of the backend chosen by initBackend(), or undefined before it ran. */
export function backendInfo(): BackendReport | undefined {
  return current;
}

/** One line for a notebook's first cell or a log: the backend and why faster ones were skipped. */
export function describeBackend(r: BackendReport): string {
  const head = `Backend: ${r.engine}${r.forced ? " [forced by BACKPROP_BACKEND]" : ""}`;
  return r.skipped.length === 0 ? head : `${head}\n  skipped: ${r.skipped.map((s) => `${s.engine}: ${s.why}`).join("\n  skipped: ")}`;
}

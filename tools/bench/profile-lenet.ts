/**
 * Where one training step spends its time, kernel by kernel (bench/RESULTS.md, issue 21):
 *
 *   npx tsx tools/bench/profile-lenet.ts matrix|autodiff|fit [--workload lenet5|mlp|deep] [--steps N]
 *        [--pool avg|max] [--shapes]
 *
 * Wraps every registered wasm kernel with a timer (outermost kernel only: a kernel calling another counts
 * once) and runs N steps of batch 64 after 5 warm-up steps of a workload of tools/bench/workloads.ts (LeNet-5
 * by default, --pool for it only; tools/bench/bench-step.ts): our layers (hand-written backward), the same net
 * by tf.variableGrads, or tf.layers trainOnBatch. "rest" is the step time outside any kernel: JavaScript loops
 * (lib/perf/windows.ts when the addon is missing), the optimizer, tfjs dispatch. BACKPROP_BLAS=0 for the route
 * without the native addon.
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend";
import { benchStep } from "./bench-step";
import { BATCH_SIZE } from "./workloads";

const times = new Map<string, { ms: number; n: number }>();
let depth = 0;

/** With --shapes, kernels are timed per input shape (products with their transpose flags: "BatchMatMul 50176×25ᵀ·…"). */
let byShape = false;
type Info = { shape: number[] };
function label(name: string, a: never[]): string {
  if (!byShape) return name;
  const { inputs, attrs } = a[0] as { inputs: Record<string, Info | undefined>; attrs: { transposeA?: boolean; transposeB?: boolean } };
  const op = (t: Info, tr?: boolean) => t.shape.join("×") + (tr ? "ᵀ" : "");
  if (name === "BatchMatMul" || name === "_FusedMatMul") return `${name} ${op(inputs.a!, attrs.transposeA)}·${op(inputs.b!, attrs.transposeB)}`;
  return `${name} ${Object.values(inputs).filter((t): t is Info => Boolean(t?.shape)).map((t) => op(t)).join(", ")}`;
}

function timed<F extends (...a: never[]) => unknown>(kernel: string, f: F): F {
  return ((...a: never[]) => {
    if (depth > 0) return f(...a);
    const name = label(kernel, a);
    depth++;
    const t0 = performance.now();
    try {
      return f(...a);
    } finally {
      depth--;
      const t = times.get(name) ?? { ms: 0, n: 0 };
      t.ms += performance.now() - t0;
      t.n++;
      times.set(name, t);
    }
  }) as F;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const impl = args[0] ?? "matrix";
  const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
  const steps = Number(opt("--steps", "20")), pool = opt("--pool", "avg") as "avg" | "max";
  byShape = args.includes("--shapes");
  process.env.BACKPROP_BACKEND ||= "wasm";
  const report = await initBackend();
  for (const k of tf.getKernelsForBackend(report.name)) (k as { kernelFunc: unknown }).kernelFunc = timed(k.kernelName, k.kernelFunc as never);
  const workload = opt("--workload", "lenet5"), small = workload !== "lenet5";   // the MLPs' kernels are short: list more of them
  const step = benchStep(workload, impl, { pool });
  const B = BATCH_SIZE;
  for (let i = 0; i < 5; i++) await step();
  times.clear();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const total = (performance.now() - t0) / steps;
  console.log(`${report.engine}\n${workload} ${impl}: ${total.toFixed(2)} ms/step (batch ${B}; ×${(10000 / B).toFixed(0)} steps ≈ ${((total * 10000) / B / 1000).toFixed(2)} s/epoch)`);
  let inKernels = 0, calls = 0;
  for (const [k, v] of [...times].sort((a, b) => b[1].ms - a[1].ms)) {
    inKernels += v.ms / steps;
    calls += v.n / steps;
    if (v.ms / steps >= (small ? 0.005 : 0.05)) console.log(`  ${k.padEnd(byShape ? 48 : 24)} ${(v.ms / steps).toFixed(2).padStart(7)} ms  ×${Math.round(v.n / steps)}`);
  }
  console.log(`  ${"rest (JS, dispatch)".padEnd(byShape ? 48 : 24)} ${(total - inKernels).toFixed(2).padStart(7)} ms`);
  console.log(`  ${"kernel calls per step".padEnd(byShape ? 48 : 24)} ${Math.round(calls).toString().padStart(7)}`);
}

main().catch((e) => {
  console.error(`profile-lenet: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});

/**
 * One thread against two for the native kernels (native/blas/pool.c), alternated in one process so that a
 * loaded machine hits both alike: rounds of `steps` training steps of a bench workload (tools/bench/bench-step.ts)
 * on one lane, then on two (the order flips every round; one warm-up round first). The values are the same on
 * both (test/lanes.test.ts), so only the time differs.
 *
 *   npx tsx tools/bench/ab-lanes.ts [--workload lenet5] [--impl matrix|autodiff|fit] [--steps 60] [--rounds 8]
 *
 * Prints ms per step on each side (medians), the median of the per-round ratios two/one, and how many kernel
 * calls per step the worker thread took half of.
 */
import { parseArgs } from "util";
import * as os from "os";
import { initBackend } from "../../lib/backend";
import { nativeAddon, nativeStatus, setNativeLanes } from "../../lib/perf/native";
import { benchStep } from "./bench-step";
import { median } from "./stats";

const { values: v } = parseArgs({
  options: { workload: { type: "string", default: "lenet5" }, impl: { type: "string", default: "matrix" }, steps: { type: "string", default: "60" }, rounds: { type: "string", default: "8" } },
});

async function main(): Promise<void> {
  const report = await initBackend();
  if (!nativeStatus().active) throw new Error(`ab-lanes: the native addon is needed (${nativeStatus().why})`);
  const steps = Number(v.steps), rounds = Number(v.rounds);
  const step = benchStep(v.workload!, v.impl!);
  const time = async (lanes: 1 | 2) => {
    setNativeLanes(lanes);
    nativeAddon()!.takeSplits();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await step();
    return { ms: (performance.now() - t0) / steps, splits: nativeAddon()!.takeSplits() / steps };
  };
  await time(1);
  await time(2);
  const one: number[] = [], two: number[] = [], ratio: number[] = [], splits: number[] = [];
  const load0 = os.loadavg().map((x) => x.toFixed(2)).join(" ");
  for (let r = 0; r < rounds; r++) {
    const order: (1 | 2)[] = r % 2 ? [2, 1] : [1, 2];
    const got: Record<number, { ms: number; splits: number }> = {};
    for (const l of order) got[l] = await time(l);
    one.push(got[1].ms), two.push(got[2].ms), ratio.push(got[2].ms / got[1].ms), splits.push(got[2].splits);
  }
  console.log(report.engine);
  console.log(`${v.workload} ${v.impl}: one thread ${median(one).toFixed(2)} ms/step, two ${median(two).toFixed(2)}; two/one per round ${median(ratio).toFixed(2)} (${rounds} rounds of ${steps} steps); split calls per step ${median(splits).toFixed(1)}; load ${load0} → ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});

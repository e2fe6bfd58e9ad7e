/**
 * The engine's autodiff route of main against ours in one process, alternated every few hundred steps, so that
 * a loaded machine hits both alike (issue 21: autodiff within 1.2× of the hand-written path):
 *
 *   npx tsx tools/bench/ab-routes.ts [--workload deep] [--impl autodiff|fit] [--steps 200] [--rounds 16] [--cpu]
 *
 * main's route: tfjs's Sigmoid gradient and tape (lib/perf/fused-grads.ts and lib/perf/lean-tape.ts
 * uninstalled); ours: both installed, as initBackend leaves them. The values are the same on both routes
 * (test/fused-grads.test.ts), so only the time differs. Each round times `steps` hand-written and `steps` autodiff
 * (or, with --impl fit, tf.layers trainOnBatch) steps on one route, then on the other (the order flips every round; the first two rounds are warm-up), in
 * wall time or, with --cpu, in the process's CPU time. Prints the medians per route and the medians of the
 * per-round ratios autodiff (or fit)/hand-written and ours/main.
 */
import { parseArgs } from "util";
import * as os from "os";
import { initBackend } from "../../lib/backend";
import { installFusedGrads, uninstallFusedGrads } from "../../lib/perf/fused-grads";
import { installLeanTape, uninstallLeanTape } from "../../lib/perf/lean-tape";
import { benchStep } from "./bench-step";
import { median } from "./stats";

const { values: v } = parseArgs({
  options: { workload: { type: "string", default: "deep" }, impl: { type: "string", default: "autodiff" }, steps: { type: "string", default: "200" }, rounds: { type: "string", default: "16" }, cpu: { type: "boolean", default: false } },
});
const steps = Number(v.steps), rounds = Number(v.rounds);

/** ms per step of `n` steps (wall, or CPU with --cpu). */
async function time(step: () => Promise<void> | void): Promise<number> {
  const c0 = process.cpuUsage(), t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const c = process.cpuUsage(c0);
  return (v.cpu ? (c.user + c.system) / 1000 : performance.now() - t0) / steps;
}

async function main(): Promise<void> {
  process.env.BACKPROP_BACKEND ||= "wasm";
  const report = await initBackend();
  const hand = benchStep(v.workload!, "matrix"), auto = benchStep(v.workload!, v.impl!);
  const routes = {
    main: () => { uninstallFusedGrads(); uninstallLeanTape(); },
    ours: () => { installFusedGrads(); installLeanTape(); },
  };
  const ms: Record<"main" | "ours", { hand: number[]; auto: number[] }> = { main: { hand: [], auto: [] }, ours: { hand: [], auto: [] } };
  const load0 = os.loadavg()[0];
  for (let r = 0; r < rounds + 2; r++) {
    for (const route of r % 2 ? (["ours", "main"] as const) : (["main", "ours"] as const)) {
      routes[route]();
      const h = await time(hand), a = await time(auto);
      if (r >= 2) {
        ms[route].hand.push(h);
        ms[route].auto.push(a);
      }
    }
  }
  routes.ours();
  const unit = v.cpu ? "CPU ms" : "ms";
  console.log(`${report.engine}\n${v.workload}, ${steps} steps per slice, ${rounds} rounds, load ${load0.toFixed(2)} → ${os.loadavg()[0].toFixed(2)}`);
  for (const route of ["main", "ours"] as const) {
    const { hand: h, auto: a } = ms[route];
    console.log(`  ${route}: hand-written ${median(h).toFixed(3)} ${unit}/step, ${v.impl} ${median(a).toFixed(3)}; ${v.impl}/hand-written per round ${median(a.map((x, i) => x / h[i])).toFixed(3)}`);
  }
  console.log(`  ours/main per round: ${v.impl} ${median(ms.ours.auto.map((x, i) => x / ms.main.auto[i])).toFixed(3)}, hand-written ${median(ms.ours.hand.map((x, i) => x / ms.main.hand[i])).toFixed(3)}`);
}

main().catch((e) => {
  console.error(`ab-routes: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});

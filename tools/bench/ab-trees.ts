/**
 * Before/after in one run: the benchmark's child runs (tools/bench/child.ts) of two checkouts alternated
 * (A B, then B A, ...) with the PyTorch twin in the same run, so that a loaded machine hits both sides alike.
 *
 *   npx tsx tools/bench/ab-trees.ts --base ../main-checkout [--rounds 3] [--epochs 5] [--workloads mlp,deep]
 *        [--impls matrix,autodiff,layers-fit] [--kernels blas] [--out FILE.json]
 *
 * "new" is this checkout. Prints one line per run and, at the end, the medians per side and the median of the
 * per-round ratios new/base (wall and CPU), with the load average of each run in the JSON.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { WORKLOADS, WorkloadName, FULL_N, LENET_N, warmupEpochs } from "./workloads";
import { runChild, runTorch, torchDataFile } from "./runs";
import type { RunConfig } from "./child";
import { median } from "./stats";

const ROOT = path.resolve(__dirname, "..", "..");
const { values: v } = parseArgs({
  options: {
    base: { type: "string" }, rounds: { type: "string", default: "3" }, epochs: { type: "string", default: "5" },
    workloads: { type: "string", default: "mlp,deep" }, impls: { type: "string", default: "matrix,autodiff,layers-fit" },
    kernels: { type: "string", default: "blas" }, out: { type: "string" },
  },
});
if (!v.base || !fs.existsSync(path.join(v.base, "tools", "bench", "child.ts"))) {
  throw new Error("--base must name another checkout of the project (with tools/bench/child.ts), e.g. a `git worktree add --detach` of main");
}
const trees = { base: path.resolve(v.base), new: ROOT };
const rounds = Number(v.rounds), epochs = Number(v.epochs);
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(" ");

interface Run { round: number; workload: string; impl: string; tree: string; ms?: number; cpu?: number; loss?: number; error?: string; load: string }
const runs: Run[] = [];

/** LeNet-5 trains on a subset (LENET_N samples, scaled to FULL_N), as in `npm run bench`. */
const samples = (w: WorkloadName) => (WORKLOADS[w].lenet ? LENET_N : FULL_N);

/** What a table row needs of a run, or why it failed. */
type Measured = { medianMs?: number; cpuMs?: number; lastLoss?: number; error?: string };

function torch(w: WorkloadName): Measured {
  const n = samples(w);
  const r = runTorch(w, torchDataFile(path.join(os.tmpdir(), `bench-ab-mnist-${n}.tmp`), n), n, { warmup: warmupEpochs(w, 1), epochs: Math.max(epochs, 5) });
  return r;
}

function child(tree: "base" | "new", w: WorkloadName, impl: string): Measured {
  const cfg = { workload: w, impl, backend: "wasm", kernels: v.kernels, n: samples(w), fullN: FULL_N, warmup: warmupEpochs(w, 1), epochs } as RunConfig;
  return runChild(cfg, trees[tree]);
}

const workloads = v.workloads!.split(",") as WorkloadName[];
for (let round = 1; round <= rounds; round++) {
  for (const w of workloads) {
    const t = torch(w);
    runs.push({ round, workload: w, impl: "pytorch", tree: "-", ms: t.medianMs, cpu: t.cpuMs, error: t.error, load: load() });
    console.error(`${round} ${w} pytorch ${t.medianMs?.toFixed(0) ?? t.error} (load ${load()})`);
    for (const impl of v.impls!.split(",")) {
      for (const tree of round % 2 ? (["base", "new"] as const) : (["new", "base"] as const)) {
        const r = child(tree, w, impl);
        runs.push({ round, workload: w, impl, tree, ms: r.medianMs, cpu: r.cpuMs, loss: r.lastLoss, error: r.error, load: load() });
        console.error(`${round} ${w} ${impl} ${tree} ${r.medianMs?.toFixed(0) ?? r.error} loss ${r.lastLoss} (load ${load()})`);
      }
    }
  }
}

for (const w of workloads) {
  const t = runs.filter((r) => r.workload === w && r.impl === "pytorch" && r.ms !== undefined);
  console.log(`${w} PyTorch: ${t.map((r) => Math.round(r.ms!)).join(", ")} ms/epoch`);
  for (const impl of v.impls!.split(",")) {
    const side = (tree: string) => runs.filter((r) => r.workload === w && r.impl === impl && r.tree === tree && r.ms !== undefined);
    const b = side("base"), n = side("new");
    const ratio = (k: "ms" | "cpu") => median(b.slice(0, n.length).map((r, i) => n[i][k]! / r[k]!));
    console.log(`  ${impl}: base ${Math.round(median(b.map((r) => r.ms!)))} ms (CPU ${Math.round(median(b.map((r) => r.cpu!)))}), new ${Math.round(median(n.map((r) => r.ms!)))} ms (CPU ${Math.round(median(n.map((r) => r.cpu!)))}); new/base per round: wall ${ratio("ms").toFixed(2)}, CPU ${ratio("cpu").toFixed(2)}`);
  }
}
if (v.out) fs.writeFileSync(v.out, JSON.stringify({ base: path.relative(ROOT, trees.base), rounds, epochs, runs }, null, 1) + "\n");

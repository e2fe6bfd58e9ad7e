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
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { benchData, WORKLOADS, WorkloadName, BATCH_SIZE, LEARNING_RATE, BENCH_SEED, LENET_N } from "./workloads";

const ROOT = path.resolve(__dirname, "..", "..");
const FULL_N = 10000;
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
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Run { round: number; workload: string; impl: string; tree: string; ms?: number; cpu?: number; loss?: number; error?: string; load: string }
const runs: Run[] = [];

/** The digits PyTorch reads: as many as the workload's epoch (tools/bench.ts does the same). */
function dataFileFor(n: number): string {
  const file = path.join(os.tmpdir(), `bench-ab-mnist-${n}.tmp`);
  if (!fs.existsSync(file)) {
    const d = benchData(n);
    fs.writeFileSync(file, Buffer.concat([Buffer.from(d.x.buffer, d.x.byteOffset, d.x.byteLength), Buffer.from(d.labels.buffer, d.labels.byteOffset, d.labels.byteLength)]));
  }
  return file;
}

/** Samples per epoch: LeNet-5 runs a subset scaled to the full 10 000, as in `npm run bench`. */
const samples = (w: WorkloadName) => (WORKLOADS[w].lenet ? LENET_N : FULL_N);

function torch(w: WorkloadName): { medianMs?: number; cpuMs?: number; error?: string } {
  const spec = WORKLOADS[w].spec ?? { sizes: [784], hidden: "tanh" };
  const cfg = { model: WORKLOADS[w].lenet ? "lenet5" : "mlp", sizes: spec.sizes, hidden: spec.hidden, data: dataFileFor(samples(w)), n: samples(w), full_n: FULL_N, warmup: 1, epochs: Math.max(epochs, 5), batch: BATCH_SIZE, lr: LEARNING_RATE, threads: 2, seed: BENCH_SEED };
  const r = spawnSync(process.env.BENCH_PYTHON ?? "/usr/bin/python3", [path.join(ROOT, "tools", "bench", "torch_twin.py"), JSON.stringify(cfg)], {
    encoding: "utf8", env: { ...process.env, OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "2", MKL_NUM_THREADS: "2" },
  });
  const line = (r.stdout ?? "").split("\n").find((l) => l.startsWith("RESULT "));
  return line ? JSON.parse(line.slice(7)) : { error: (r.stderr ?? "").trim().split("\n").slice(-1)[0] };
}

function child(tree: "base" | "new", w: WorkloadName, impl: string) {
  const cfg = { workload: w, impl, backend: "wasm", kernels: v.kernels, n: samples(w), fullN: FULL_N, warmup: 1, epochs };
  const r = spawnSync(process.execPath, ["--import", "tsx", "tools/bench/child.ts", JSON.stringify(cfg)], {
    cwd: trees[tree], encoding: "utf8", env: { ...process.env, BACKPROP_BACKEND: "wasm", BACKPROP_BLAS: v.kernels === "blas" ? "" : "0" },
  });
  const line = (r.stdout ?? "").split("\n").find((l) => l.startsWith("RESULT "));
  return line ? JSON.parse(line.slice(7)) : { error: ((r.stdout ?? "") + (r.stderr ?? "")).trim().split("\n").slice(-1)[0] };
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
        runs.push({ round, workload: w, impl, tree, ms: r.medianMs, cpu: r.cpuMs, loss: r.lastLoss, error: r.error ?? r.message, load: load() });
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

/**
 * The two kinds of measured run of the benchmark, shared by `npm run bench` (tools/bench.ts) and the
 * before/after comparison of two checkouts (tools/bench/ab-trees.ts): one tfjs child process
 * (tools/bench/child.ts, in the given checkout) and one PyTorch twin (tools/bench/torch_twin.py).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { WORKLOADS, WorkloadName, BATCH_SIZE, LEARNING_RATE, BENCH_SEED, FULL_N, benchData } from "./workloads";
import type { RunConfig, RunResult } from "./child";

const ROOT = path.join(__dirname, "..", "..");
const TORCH_SCRIPT = path.join(__dirname, "torch_twin.py");
export const PYTHON = process.env.BENCH_PYTHON ?? "/usr/bin/python3";

/** What torch_twin.py reports: the same measurements as a tfjs run. */
export type TorchResult = Pick<RunResult, "engine" | "msPerEpoch" | "medianMs" | "cpuMs" | "peakRssMb" | "lastLoss">;

/** One tfjs run in its own process, in the checkout `root` (default: this one). */
export function runChild(cfg: RunConfig, root = ROOT): RunResult | { error: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join("tools", "bench", "child.ts"), JSON.stringify(cfg)], {
    cwd: root, encoding: "utf8", maxBuffer: 64 << 20, timeout: 30 * 60_000,
    env: { ...process.env, BACKPROP_BACKEND: cfg.backend === "js" ? "" : cfg.backend, BACKPROP_BLAS: cfg.kernels === "blas" ? "" : "0" },
  });
  const line = (r.stdout ?? "").split("\n").find((l) => l.startsWith("RESULT ") || l.startsWith("ERROR "));
  if (line?.startsWith("RESULT ")) return JSON.parse(line.slice(7)) as RunResult;
  if (line?.startsWith("ERROR ")) return { error: (JSON.parse(line.slice(6)) as { message: string }).message };
  const err = (r.stderr ?? "").trim().split("\n").filter((l) => !l.includes("npm warn")).slice(-3).join(" | ");
  return { error: r.error ? r.error.message : `exit ${r.status}${r.signal ? ` (${r.signal})` : ""}: ${err.slice(0, 300)}` };
}

/** The first `n` training images and labels of the bench's data, as the raw file torch_twin.py reads (written once). */
export function torchDataFile(file: string, n: number): string {
  if (!fs.existsSync(file)) {
    const d = benchData(n);
    fs.writeFileSync(file, Buffer.concat([Buffer.from(d.x.buffer, d.x.byteOffset, d.x.byteLength), Buffer.from(d.labels.buffer, d.labels.byteOffset, d.labels.byteLength)]));
  }
  return file;
}

/** PyTorch's twin of workload `w` on the data file of `n` samples (timed per epoch, scaled to FULL_N). */
export function runTorch(w: WorkloadName, dataFile: string, n: number, o: { warmup: number; epochs: number; smoke?: boolean }): TorchResult | { error: string } {
  const wl = WORKLOADS[w];
  const spec = wl.spec ?? { sizes: [784], hidden: "tanh" };
  const cfg = {
    model: wl.lenet ? "lenet5" : "mlp", sizes: spec.sizes, hidden: spec.hidden, data: dataFile, n, full_n: FULL_N, warmup: o.warmup, epochs: Math.max(o.epochs, o.smoke ? 1 : 5),
    batch: BATCH_SIZE, lr: LEARNING_RATE, threads: 2, seed: BENCH_SEED,
  };
  if (wl.lenet) cfg.epochs = Math.max(Math.min(o.epochs, 3), 1);
  const r = spawnSync(PYTHON, [TORCH_SCRIPT, JSON.stringify(cfg)], {
    encoding: "utf8", timeout: 10 * 60_000, env: { ...process.env, OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "2", MKL_NUM_THREADS: "2" },
  });
  const line = (r.stdout ?? "").split("\n").find((l) => l.startsWith("RESULT "));
  if (line) return JSON.parse(line.slice(7)) as TorchResult;
  return { error: `exit ${r.status}: ${(r.stderr ?? "").trim().split("\n").slice(-2).join(" | ").slice(0, 300)}` };
}

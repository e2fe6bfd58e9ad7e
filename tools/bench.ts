/**
 * npm run bench — how fast each way of training the course's networks is, next to PyTorch on the CPU.
 *
 * For every workload (tools/bench/workloads.ts) × implementation × backend it starts one child process
 * (tools/bench/child.ts: its own peak RSS), trains warm-up epochs and then measured ones, and reports the
 * median ms/epoch, the ratio to PyTorch CPU (tools/bench/torch_twin.py, the same network, data and batch,
 * run before and after the workload's tfjs runs in the same invocation; the faster one is the anchor),
 * the CPU time per epoch (all threads) and the peak RSS.
 * A markdown table goes to stdout; the JSON to bench/results/.
 *
 *   npm run bench                       full run (a few minutes on 2 cores)
 *   npm run bench -- --smoke            CI size: tiny data, 1 epoch, wasm only, no PyTorch install (< 60 s)
 *   options: --workloads mlp,deep  --backends wasm,cpu,tensorflow  --impls matrix,autodiff,...
 *            --epochs 5  --warmup 1  --no-torch  --no-install  --out FILE.json  --markdown FILE.md
 *
 * Slow runs are measured on a subset and scaled to the full 10 000 samples (said in the table): the pure-JS
 * `cpu` backend and the scalar (per-unit, float64) implementation.
 */
import { spawnSync } from "child_process";
import { blasStatus } from "../lib/perf/blas";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { WORKLOADS, WORKLOAD_NAMES, WorkloadName, BATCH_SIZE, FULL_N, LEARNING_RATE, IMPL_NAMES, ImplName, LENET_N, LENET_SMOKE_N, warmupEpochs } from "./bench/workloads";
import type { RunConfig, RunResult } from "./bench/child";
import { PYTHON, TorchResult, runChild, runTorch, torchDataFile } from "./bench/runs";
import { parseCli, numberOption, UsageError } from "./cli";
import { BackendName } from "../lib/backend";

const ROOT = path.join(__dirname, "..");

interface Options {
  smoke: boolean;
  workloads: WorkloadName[];
  backends: BackendName[];
  impls?: ImplName[];
  epochs: number;
  warmup: number;
  torch: boolean;
  install: boolean;
  out: string;
  markdown?: string;
}


/** One row of the report: a measured run, or one that failed / was skipped (with the reason). */
interface Row {
  workload: WorkloadName;
  impl: ImplName | "pytorch";
  backend: string;
  kernels: string;
  engine: string;
  n: number;
  epochs: number;
  medianMs?: number;
  /** CPU time per epoch (all threads), ms: less sensitive than wall time to other processes. */
  cpuMs?: number;
  msPerEpoch?: number[];
  peakRssMb?: number;
  lastLoss?: number;
  ratioToPytorch?: number;
  tensors?: RunResult["tensors"];
  workerShare?: RunResult["workerShare"];
  note?: string;
}

const USAGE =
  "usage: npm run bench -- [--smoke] [--no-torch] [--no-install] [--workloads a,b] [--backends a,b] [--impls a,b] " +
  "[--epochs N] [--warmup N] [--out FILE] [--markdown FILE]";

/** A comma-separated list option whose items must be among `valid`. */
function listOf<T extends string>(name: string, raw: string | undefined, valid: readonly T[]): T[] | undefined {
  if (raw === undefined) return undefined;
  const items = raw.split(",").map((x) => x.trim()) as T[];
  const bad = items.filter((x) => !valid.includes(x));
  if (bad.length) throw new UsageError(`--${name}: unknown ${bad.join(", ")}; valid: ${valid.join(", ")}`);
  return items;
}

function parseArgs(argv: string[]): Options {
  const { values: v } = parseCli(argv, {
    smoke: { type: "boolean" }, "no-torch": { type: "boolean" }, "no-install": { type: "boolean" },
    workloads: { type: "string" }, backends: { type: "string" }, impls: { type: "string" },
    epochs: { type: "string" }, warmup: { type: "string" }, out: { type: "string" }, markdown: { type: "string" },
  }, USAGE);
  const smoke = v.smoke ?? false;
  const int = (name: "epochs" | "warmup", dflt: number, min: number) => {
    const n = numberOption(name, v[name], dflt, min);
    if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got ${v[name]}`);
    return n;
  };
  const stamp = new Date().toISOString().replace(/[:]/g, "-").replace(/\..*/, "");
  return {
    smoke,
    workloads: listOf("workloads", v.workloads, WORKLOAD_NAMES) ?? (smoke ? ["mlp"] : [...WORKLOAD_NAMES]),
    backends: listOf<BackendName>("backends", v.backends, ["wasm", "cpu", "tensorflow"]) ?? (smoke ? ["wasm"] : ["tensorflow", "wasm", "cpu"]),
    impls: listOf("impls", v.impls, IMPL_NAMES),
    epochs: int("epochs", smoke ? 1 : 5, 1),
    warmup: int("warmup", 1, 0),
    torch: !v["no-torch"],
    install: !v["no-install"] && !smoke,
    out: v.out ?? path.join(ROOT, "bench", "results", smoke ? "smoke.tmp" : `bench-${stamp}.json`),
    markdown: v.markdown,
  };
}

/** Is a tfjs-node package installed (the "tensorflow" backend)? */
function nativeInstalled(): string | undefined {
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    try {
      require.resolve(pkg);
      return pkg;
    } catch {
      /* not installed */
    }
  }
  return undefined;
}

/** The wasm routes measured: tfjs as shipped, our fast kernels, and those with OpenBLAS products where its addon is built. */
const WASM_ROUTES: RunConfig["kernels"][] = ["stock", "fast", ...(blasStatus().active ? (["blas"] as const) : [])];

/** The runs of one workload: [impl, backend, kernels, subset size, epochs]. */
function plan(o: Options): Omit<RunConfig, "workload">[] {
  const want = (i: ImplName) => o.impls === undefined || o.impls.includes(i);
  const runs: Omit<RunConfig, "workload">[] = [];
  const full = o.smoke ? 512 : FULL_N;
  const add = (impl: ImplName, backend: RunConfig["backend"], kernels: RunConfig["kernels"], n: number, epochs = o.epochs, extra: Partial<RunConfig> = {}) => {
    if (want(impl)) runs.push({ impl, backend, kernels, n, fullN: FULL_N, warmup: o.warmup, epochs, ...extra });
  };
  // scalar: plain JS, the same on every backend; a subset (it is ~100× slower)
  add("scalar", "js", "stock", o.smoke ? 64 : 640, o.smoke ? 1 : 2);
  for (const b of o.backends) {
    if (b === "wasm") {
      for (const kernels of WASM_ROUTES) {
        for (const impl of ["matrix", "autodiff", "layers-fit"] as const) add(impl, "wasm", kernels, full);
      }
      add("matrix-dp", "wasm", "fast", full, o.epochs, { workers: 2 });
      add("autodiff-dp", "wasm", "fast", full, o.epochs, { workers: 2 });
    } else if (b === "cpu") {
      // the pure-JS backend is ~30× slower than wasm: a subset, 2 measured epochs
      for (const impl of ["matrix", "autodiff", "layers-fit"] as const) add(impl, "cpu", "stock", o.smoke ? 128 : 640, o.smoke ? 1 : 2);
    } else {
      for (const impl of ["matrix", "autodiff", "layers-fit"] as const) add(impl, "tensorflow", "stock", full);
    }
  }
  return runs;
}

/** LeNet-5's runs: our layers, autodiff and tf.layers fit on wasm (fast kernels; conv grads installed), a subset. */
function lenetPlan(o: Options): Omit<RunConfig, "workload">[] {
  const n = o.smoke ? LENET_SMOKE_N : LENET_N;
  const impls = (["matrix", "autodiff", "layers-fit"] as const).filter((i) => o.impls === undefined || o.impls.includes(i));
  if (!o.backends.includes("wasm")) return [];
  return WASM_ROUTES.filter((k) => k !== "stock").flatMap((kernels) =>
    impls.map((impl) => ({ impl, backend: "wasm" as const, kernels, n, fullN: FULL_N, warmup: warmupEpochs("lenet5", o.warmup, o.smoke), epochs: o.smoke ? 1 : Math.min(o.epochs, 3) })),
  );
}

function loadAverage(): string {
  return os.loadavg().map((v) => v.toFixed(2)).join(" ");
}

/** Makes PyTorch importable if it is not: apt-get install python3-torch (root only, not in smoke runs). */
function ensureTorch(o: Options, notes: string[]): boolean {
  const probe = () => spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8" }).status === 0;
  if (!fs.existsSync(PYTHON)) {
    notes.push(`PyTorch anchor skipped: ${PYTHON} not found (set BENCH_PYTHON)`);
    return false;
  }
  if (probe()) return true;
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  const apt = spawnSync("sh", ["-c", "command -v apt-get"], { encoding: "utf8" }).status === 0;
  if (!o.install || !root || !apt) {
    const why = !o.install ? (o.smoke ? "smoke runs do not install it" : "--no-install") : !root ? "not root" : "no apt-get";
    notes.push(`PyTorch anchor skipped: python3-torch is not installed and ${why}; install it with \`apt-get install -y python3-torch\``);
    return false;
  }
  console.error("installing python3-torch (Debian) for the PyTorch anchor ...");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const ok = spawnSync("sh", ["-c", "apt-get update -q && apt-get install -y -q --no-install-recommends python3-torch python3-numpy"], { stdio: ["ignore", "ignore", "inherit"], env }).status === 0;
  if (!ok || !probe()) {
    notes.push("PyTorch anchor skipped: apt-get install python3-torch failed");
    return false;
  }
  return true;
}

const IMPL_TEXT: Record<Row["impl"], string> = {
  pytorch: "PyTorch (anchor)",
  scalar: "scalar (per unit, float64)",
  matrix: "matrix, hand-written backward",
  autodiff: "autodiff (tf.variableGrads)",
  "layers-fit": "tf.layers fit",
  "matrix-dp": "matrix, data-parallel ×2",
  "autodiff-dp": "autodiff, data-parallel ×2",
};

/** A path relative to the repository, or only its file name when it lies outside (e.g. /tmp). */
function shownPath(p: string): string {
  const rel = path.relative(ROOT, path.resolve(p));
  return rel.startsWith("..") || path.isAbsolute(rel) ? path.basename(p) : rel;
}

const pct = (f: number) => `${Math.round(100 * f)} %`;

function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return "—";
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms).toLocaleString("en-US")}`;
}

/** The markdown table of some rows. */
export function markdownTable(rows: Row[]): string {
  const head = "| workload | implementation | backend | kernels | ms/epoch (median) | × PyTorch | CPU ms/epoch | peak RSS MB | measured |\n|---|---|---|---|---:|---:|---:|---:|---|";
  const lines = rows.map((r) => {
    const measured = r.medianMs === undefined
      ? r.note ?? ""
      : `${r.msPerEpoch?.length ?? r.epochs} ep${r.n < FULL_N ? ` on ${r.n} samples, scaled ×${(FULL_N / r.n).toFixed(1)}` : ""}${r.note ? `; ${r.note}` : ""}`;
    return `| ${r.workload} | ${IMPL_TEXT[r.impl]} | ${r.backend} | ${r.kernels} | ${fmtMs(r.medianMs)} | ${r.ratioToPytorch === undefined ? "—" : r.ratioToPytorch.toFixed(2)} | ${fmtMs(r.cpuMs)} | ${r.peakRssMb === undefined ? "—" : Math.round(r.peakRssMb)} | ${measured} |`;
  });
  return [head, ...lines].join("\n");
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const notes: string[] = [];
  const started = new Date().toISOString();
  const loadBefore = loadAverage();
  const native = nativeInstalled();
  if (o.backends.includes("tensorflow") && !native) {
    notes.push("tensorflow backend (tfjs-node / tfjs-node-gpu): not installed here, rows skipped; GPU (CUDA): not available in this session");
    o.backends = o.backends.filter((b) => b !== "tensorflow");
  }
  const torchOk = o.torch ? ensureTorch(o, notes) : (notes.push("PyTorch anchor skipped: --no-torch"), false);
  const rows: Row[] = [];
  const resultsDir = path.dirname(o.out);
  fs.mkdirSync(resultsDir, { recursive: true });

  for (const w of o.workloads) {
    const wl = WORKLOADS[w];
    if (!wl.spec && !wl.lenet) {
      rows.push({ workload: w, impl: "matrix", backend: "—", kernels: "—", engine: "—", n: 0, epochs: 0, note: wl.skip });
      notes.push(`${wl.title}: ${wl.skip}`);
      continue;
    }
    const configs = (wl.lenet ? lenetPlan(o) : plan(o)).map((c) => ({ ...c, workload: w }) as RunConfig);
    const torchN = wl.lenet ? (o.smoke ? LENET_SMOKE_N : LENET_N) : o.smoke ? 512 : FULL_N;
    const dataFile = path.join(resultsDir, `mnist-${torchN}.tmp`);
    const torchRuns: TorchResult[] = [];
    const torch = () => {
      if (!torchOk) return;
      const r = runTorch(w, torchDataFile(dataFile, torchN), torchN, { ...o, warmup: warmupEpochs(w, o.warmup, o.smoke) });
      if ("error" in r) notes.push(`${w}: PyTorch failed: ${r.error}`);
      else torchRuns.push(r);
      console.error(`  ${w} pytorch: ${"error" in r ? r.error : `${fmtMs(r.medianMs)} ms/epoch`}  (load ${loadAverage()})`);
    };
    torch(); // before the tfjs runs ...
    const measured: Row[] = [];
    for (const cfg of configs) {
      const r = runChild(cfg);
      const row: Row = { workload: w, impl: cfg.impl, backend: cfg.backend, kernels: cfg.backend === "wasm" ? cfg.kernels : "—", engine: "", n: cfg.n, epochs: cfg.epochs };
      if ("error" in r) row.note = `failed: ${r.error}`;
      else Object.assign(row, { engine: r.engine, medianMs: r.medianMs, cpuMs: r.cpuMs, msPerEpoch: r.msPerEpoch, peakRssMb: r.peakRssMb, lastLoss: r.lastLoss, tensors: r.tensors, workerShare: r.workerShare });
      if (row.workerShare) {
        const s = row.workerShare;
        row.note = `workers: compute ${pct(s.compute)}, wait ${pct(s.wait)}, average ${pct(s.average)}, update ${pct(s.update)}`;
      }
      if (row.tensors && row.tensors.atEnd !== row.tensors.afterWarmup) row.note = `${row.note ? row.note + "; " : ""}tensors ${row.tensors.afterWarmup} → ${row.tensors.atEnd} (leak?)`;
      console.error(`  ${w} ${cfg.impl} ${cfg.backend}/${cfg.kernels}: ${"error" in r ? r.error : `${fmtMs(r.medianMs)} ms/epoch`}  (load ${loadAverage()})`);
      measured.push(row);
    }
    torch(); // ... and after them: the anchor is the faster of the two medians
    // (PyTorch's two threads work in lockstep, so another process on the 2 cores can slow it several
    // times over; the faster run is the fair anchor, and it makes every ratio an upper bound.)
    let anchor: number | undefined;
    if (torchRuns.length > 0) {
      const best = torchRuns.reduce((a, b) => (b.medianMs < a.medianMs ? b : a));
      anchor = best.medianMs;
      rows.push({
        workload: w, impl: "pytorch", backend: "torch CPU", kernels: "—", engine: torchRuns[0].engine, n: torchN, epochs: torchRuns[0].msPerEpoch.length,
        medianMs: anchor, cpuMs: best.cpuMs, msPerEpoch: torchRuns.flatMap((r) => r.msPerEpoch), peakRssMb: Math.max(...torchRuns.map((r) => r.peakRssMb)),
        lastLoss: torchRuns[torchRuns.length - 1].lastLoss, ratioToPytorch: 1,
        note: `runs before/after: ${torchRuns.map((r) => fmtMs(r.medianMs)).join(" / ")}`,
      });
    }
    for (const row of measured) {
      if (anchor !== undefined && row.medianMs !== undefined) row.ratioToPytorch = row.medianMs / anchor;
      rows.push(row);
    }
    if (fs.existsSync(dataFile)) fs.rmSync(dataFile);
  }

  const report = {
    meta: {
      started, finished: new Date().toISOString(), smoke: o.smoke,
      machine: `${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
      node: process.version, tfjs: require("@tensorflow/tfjs/package.json").version as string,
      loadAverage: { before: loadBefore, after: loadAverage() },
      workload: `embedded MNIST, batch ${BATCH_SIZE}, SGD(ρ=${LEARNING_RATE}), ${FULL_N} samples per epoch (subsets scaled)`,
      // file options as the repository sees them (a path outside it is only named): no machine paths in results
      options: { ...o, out: shownPath(o.out), markdown: o.markdown && shownPath(o.markdown) },
    },
    notes,
    rows,
  };
  fs.writeFileSync(o.out, JSON.stringify(report, null, 1) + "\n");
  const md = [
    `Benchmark ${started} — ${report.meta.machine}; node ${report.meta.node}, tfjs ${report.meta.tfjs}; load average ${loadBefore} → ${report.meta.loadAverage.after}`,
    `${report.meta.workload}; median of the measured epochs after ${o.warmup} warm-up epoch(s) (LeNet-5: ${warmupEpochs("lenet5", o.warmup, o.smoke)} of its ${o.smoke ? LENET_SMOKE_N : LENET_N}-digit epochs).`,
    "",
    markdownTable(rows),
    "",
    ...notes.map((n) => `- ${n}`),
  ].join("\n");
  console.log(md);
  if (o.markdown) fs.writeFileSync(o.markdown, md + "\n");
  console.error(`JSON: ${path.relative(ROOT, o.out)}`);
  const failed = rows.filter((r) => r.note?.startsWith("failed"));
  if (failed.length > 0) {
    console.error(`${failed.length} run(s) failed`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  });
}

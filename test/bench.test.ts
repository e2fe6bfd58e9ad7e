/**
 * tools/bench.ts smoke: a tiny measurement of each kind runs and reports sane numbers; the orchestrator
 * writes its JSON and table; bad options are errors. (Speed itself is measured by `npm run bench`, not
 * asserted here.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { RunConfig, RunResult } from "../tools/bench/child";
import { blasStatus } from "../lib/perf/blas";
import { BATCH_SIZE, FULL_N, LENET_N, LENET_SMOKE_N, warmupEpochs } from "../tools/bench/workloads";

const ROOT = path.resolve(__dirname, "..");

function child(cfg: RunConfig): RunResult {
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "tools/bench/child.ts"), JSON.stringify(cfg)], { cwd: ROOT, encoding: "utf8" });
  const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT ") || l.startsWith("ERROR "));
  assert.ok(line?.startsWith("RESULT "), `child failed: ${line ?? r.stderr.slice(-500)}`);
  return JSON.parse(line!.slice(7)) as RunResult;
}

const tiny = { workload: "mlp", n: 128, fullN: 10_000, warmup: 1, epochs: 1 } as const;

test("LeNet-5's warm-up is as many batches as an MLP's (its epochs are a tenth of the size); smoke runs keep theirs", () => {
  const batches = (digits: number) => Math.ceil(digits / BATCH_SIZE);
  for (const w of [1, 2]) {
    assert.equal(warmupEpochs("mlp", w), w);
    const lenet = warmupEpochs("lenet5", w) * batches(LENET_N), mlp = w * batches(FULL_N);
    assert.ok(Math.abs(lenet - mlp) <= batches(LENET_N), `${lenet} against ${mlp} batches`);
  }
  assert.equal(warmupEpochs("lenet5", 1, true), 1, `smoke: ${LENET_SMOKE_N}-digit epochs, warm-up as given`);
});

test("bench child: scalar, matrix (fast kernels) and data-parallel runs report ms, RSS, a finite loss and no leaks", () => {
  for (const cfg of [
    { ...tiny, impl: "scalar", backend: "js", kernels: "stock", n: 16 },
    { ...tiny, impl: "matrix", backend: "wasm", kernels: "fast" },
    { ...tiny, impl: "matrix-dp", backend: "wasm", kernels: "fast", workers: 2 },
  ] as RunConfig[]) {
    const r = child(cfg);
    assert.equal(r.msPerEpoch.length, 1, cfg.impl);
    assert.ok(r.medianMs > 0 && Number.isFinite(r.medianMs), `${cfg.impl}: ${r.medianMs}`);
    assert.ok(r.peakRssMb > 10, `${cfg.impl}: RSS ${r.peakRssMb}`);
    assert.ok(Number.isFinite(r.lastLoss) && r.lastLoss > 0, `${cfg.impl}: loss ${r.lastLoss}`);
    assert.equal(r.tensors.atEnd, r.tensors.afterWarmup, `${cfg.impl}: tensors`);
  }
});

test("bench: a smoke run writes the JSON and the markdown table; LeNet-5 runs on a small subset", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
  const out = path.join(dir, "r.json"), md = path.join(dir, "r.md");
  const r = spawnSync(process.execPath, ["--import", "tsx", "tools/bench.ts", "--smoke", "--no-torch", "--workloads", "mlp,lenet5",
    "--impls", "matrix", "--out", out, "--markdown", md], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr.slice(-800));
  const report = JSON.parse(fs.readFileSync(out, "utf8"));
  const rows = report.rows as { workload: string; impl: string; kernels: string; medianMs?: number; note?: string }[];
  const blas = blasStatus().active; // the OpenBLAS route is measured where its addon is built
  assert.deepEqual(rows.filter((x) => x.workload === "mlp").map((x) => `${x.impl}/${x.kernels}`), ["matrix/stock", "matrix/fast", ...(blas ? ["matrix/blas"] : [])]);
  assert.ok(rows.every((x) => x.workload !== "mlp" || x.medianMs! > 0));
  const lenet = rows.filter((x) => x.workload === "lenet5");
  assert.deepEqual(lenet.map((x) => `${x.impl}/${x.kernels}`), ["matrix/fast", ...(blas ? ["matrix/blas"] : [])]);
  assert.ok(lenet[0].medianMs! > 0 && !lenet[0].note, JSON.stringify(lenet[0]));
  assert.ok(report.notes.some((n: string) => /PyTorch anchor skipped: --no-torch/.test(n)));
  const table = fs.readFileSync(md, "utf8");
  assert.match(table, /\| workload \| implementation \| backend \| kernels \| ms\/epoch \(median\) \| × PyTorch \| CPU ms\/epoch \| peak RSS MB \|/);
  assert.match(r.stdout, /matrix, hand-written backward \| wasm \| fast/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("bench: unknown options and names are errors that list the valid ones", () => {
  for (const [args, msg] of [
    [["--fast"], /Unknown option '--fast'[\s\S]*usage: npm run bench/],
    [["--workloads", "cnn"], /--workloads: unknown cnn; valid: mlp, deep, lenet5/],
    [["--epochs", "0"], /--epochs needs a number ≥ 1, got "0"/],
    [["--epochs", "1.5"], /--epochs must be an integer/],
  ] as const) {
    const r = spawnSync(process.execPath, ["--import", "tsx", "tools/bench.ts", ...args], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, msg);
  }
});

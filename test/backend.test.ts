import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as path from "path";
import { parseBackendName, BACKEND_NAMES } from "../lib/backend";

const ROOT = path.resolve(__dirname, "..");

/** Runs a tiny script in a fresh process (the backend choice is once per process). */
function probe(env: Record<string, string | undefined>) {
  const script =
    'const b = require("./lib/backend"); const tf = require("@tensorflow/tfjs");' +
    "b.initBackend().then(r => { console.log(JSON.stringify({ r, active: tf.getBackend(), sum: tf.tensor([1, 2, 3]).sum().dataSync()[0] })); })" +
    ".catch(e => { console.log(JSON.stringify({ error: e.message })); });";
  const r = spawnSync(process.execPath, ["--import", "tsx", "-e", script], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" });
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
}

test("unknown BACKPROP_BACKEND values are an error that lists the valid ones", () => {
  assert.throws(() => parseBackendName("gpu"), /BACKPROP_BACKEND="gpu" is not a backend\. Valid values: tensorflow, wasm, cpu/);
  for (const n of BACKEND_NAMES) assert.equal(parseBackendName(` ${n.toUpperCase()} `), n);
});

test("without a forced backend the fastest present one is active and the slower-skipped reasons are given", () => {
  const out = probe({ BACKPROP_BACKEND: undefined });
  assert.equal(out.error, undefined);
  assert.equal(out.active, out.r.name);
  assert.equal(out.sum, 6);
  if (out.r.name !== "tensorflow") {
    // tfjs-node did not install (offline): both native packages must be reported as skipped, with why.
    assert.deepEqual(out.r.skipped.map((s: { engine: string }) => s.engine).slice(0, 2), ["tfjs-node-gpu", "tfjs-node"]);
    for (const s of out.r.skipped) assert.ok(s.why.length > 10);
  }
});

test("BACKPROP_BACKEND forces a backend, and an unusable one fails with the reason", () => {
  const cpu = probe({ BACKPROP_BACKEND: "cpu" });
  assert.equal(cpu.active, "cpu");
  assert.equal(cpu.r.forced, true);
  assert.equal(cpu.sum, 6);
  const bad = probe({ BACKPROP_BACKEND: "nonsense" });
  assert.match(bad.error, /Valid values: tensorflow, wasm, cpu/);
  let nativePresent = true;
  try {
    require.resolve("@tensorflow/tfjs-node");
  } catch {
    nativePresent = false;
  }
  if (!nativePresent) assert.match(probe({ BACKPROP_BACKEND: "tensorflow" }).error, /BACKPROP_BACKEND=tensorflow was asked for but is not usable: .*not installed/);
});

// The project's kernel speaks the Jupyter protocol (tools/tslab-protocol.js): Jupyter's own conformance suite
// (jupyter_kernel_test) passes against the registered kernel spec, and nbconvert reports a failing cell by name
// and message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensureJupyter } from "../tools/jupyter-env";

const ROOT = path.resolve(__dirname, "..");
// eslint-disable-next-line @typescript-eslint/no-var-requires
const protocol = require("../tools/tslab-protocol.js") as {
  sourceLine(ts: string, js: string, near: number): number;
  describeThrown(e: unknown, root: string): { ename: string; evalue: string; traceback: string[] };
};

test("sourceLine maps a compiled JavaScript line to the cell's TypeScript line", () => {
  const ts = "interface P { x: number }\nconst p: P = { x: 1 };\nconst y = p.x!;\n\nconst y2 = p.x!;\nf(y as number)";
  assert.equal(protocol.sourceLine(ts, "const p = { x: 1 };", 1), 2);
  assert.equal(protocol.sourceLine(ts, "exports.tsLastExpr = exports.f(exports.y);", 4), 6); // tslab's rewrites
  assert.equal(protocol.sourceLine(ts, "const y = p.x;", 3), 3);
  assert.equal(protocol.sourceLine(ts, "const y2 = p.x;", 3), 5);
  assert.equal(protocol.sourceLine("a();\nb();\na();", "a();", 3), 3); // the same line twice: the nearest
  assert.equal(protocol.sourceLine(ts, "something_else();", 1), 0);
  assert.equal(protocol.sourceLine(ts, "   ", 1), 0);
});

test("describeThrown: name, message, and only the frames of cells and project files", () => {
  class ShapeError extends Error {}
  const e = new ShapeError("bad shape");
  e.stack = [
    "Error: bad shape",
    `    at check (${path.join(ROOT, "lib", "shape.js")}:3:9)`,
    `    at tf.reshape (${path.join(ROOT, "node_modules", "@tensorflow", "tfjs-core", "dist", "x.js")}:1:1)`,
    `    at Object.execute (${path.join(ROOT, "node_modules", "tslab", "dist", "executor.js")}:160:38)`,
    "    at Script.runInThisContext (node:vm:135:14)",
    "    at outside (/somewhere/else/file.js:1:1)",
  ].join("\n");
  assert.deepEqual(protocol.describeThrown(e, ROOT), {
    ename: "ShapeError",
    evalue: "bad shape",
    traceback: ["ShapeError: bad shape", "    at check (lib/shape.js:3:9)"],
  });
  const named = new RangeError("out");
  assert.equal(protocol.describeThrown(named, ROOT).ename, "RangeError");
  assert.deepEqual(protocol.describeThrown({ code: 1 }, ROOT), { ename: "Uncaught", evalue: "{ code: 1 }", traceback: ["Uncaught { code: 1 }"] });
  assert.deepEqual(protocol.describeThrown(new Error(""), ROOT).traceback.slice(0, 1), ["Error"]);
});

function notebook(cells: string[]): string {
  return JSON.stringify({
    cells: cells.map((src, i) => ({ cell_type: "code", id: `c${i}`, metadata: {}, source: src, execution_count: null, outputs: [] })),
    metadata: { kernelspec: { name: "backprop-lab", display_name: "TypeScript (backprop-lab)", language: "typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

const KERNEL_TEST_PACKAGE = "python3-jupyter-kernel-test";

/** Installs Debian's jupyter_kernel_test when it is missing and we are root with apt-get (as .ci/run does). */
function ensureKernelTest(python: string): void {
  if (spawnSync(python, ["-c", "import jupyter_kernel_test"], { stdio: "ignore" }).status === 0) return;
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  if (!root || spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status !== 0) return; // the run says what to do
  console.error(`installing ${KERNEL_TEST_PACKAGE} (Debian) for the kernel conformance suite ...`);
  spawnSync("sh", ["-c", `apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${KERNEL_TEST_PACKAGE}`], {
    stdio: ["ignore", "ignore", "inherit"],
  });
}

test("jupyter_kernel_test: the conformance suite and the project's own protocol checks pass", () => {
  const jenv = ensureJupyter();
  ensureKernelTest(jenv.python);
  const r = spawnSync(jenv.python, [path.join(ROOT, "test", "kernel_protocol.py"), "-v"], { cwd: ROOT, env: jenv.env, encoding: "utf8", timeout: 300_000 });
  const out = `${r.stdout}${r.stderr}`;
  assert.notEqual(r.status, 3, `${out}\n(run as root: apt-get install -y ${KERNEL_TEST_PACKAGE})`); // 3: jupyter_kernel_test is missing
  assert.equal(r.status, 0, out);
  // The suite's samples that fit TypeScript all ran (a sample left empty would be skipped, not passed).
  for (const name of ["execute_stdout", "execute_stderr", "error", "execute_result", "completion", "inspect", "is_complete", "display_data", "kernel_info"]) {
    assert.match(out, new RegExp(`test_${name} \\(.*\\) \\.\\.\\. ok`), `test_${name} did not pass:\n${out}`);
  }
  assert.match(out, /\nOK \(skipped=5\)/, out); // pager, clear_output, history (3): not offered by tslab
});

test("nbconvert --execute: a failing cell prints the error's name, message and cell line; --allow-errors runs the rest", () => {
  const jenv = ensureJupyter();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kernel-protocol-"));
  try {
    const nb = path.join(dir, "broken.ipynb");
    fs.writeFileSync(nb, notebook(["const n = 3;\nn * 2", "const answer = 42;\nthrow new RangeError(`the real message ${answer}`);", 'console.log("after")']));
    const run = (...args: string[]) =>
      spawnSync(jenv.python, ["-m", "nbconvert", "--to", "notebook", "--execute", "--stdout", ...args, nb], { cwd: dir, env: jenv.env, encoding: "utf8", timeout: 300_000 });
    const failed = run();
    assert.notEqual(failed.status, 0, failed.stderr);
    assert.match(failed.stderr, /RangeError: the real message 42/);
    assert.match(failed.stderr, /at In\[2\] line 2: throw new RangeError/);
    assert.doesNotMatch(failed.stderr, /evalmachine|node_modules[\\/]tslab/);

    const allowed = run("--allow-errors");
    assert.equal(allowed.status, 0, allowed.stderr);
    const cells = JSON.parse(allowed.stdout).cells as { execution_count: number | null; outputs: Record<string, unknown>[] }[];
    assert.deepEqual(cells.map((c) => c.execution_count), [1, 2, 3]);
    // nbformat stores multi-line strings as lists of lines
    const text = (v: unknown) => (Array.isArray(v) ? v.join("") : v);
    assert.equal(cells[0].outputs.length, 1);
    assert.equal(cells[0].outputs[0].output_type, "execute_result");
    assert.equal(cells[0].outputs[0].execution_count, 1);
    assert.equal(text((cells[0].outputs[0].data as Record<string, unknown>)["text/plain"]), "6");
    assert.equal(cells[1].outputs.length, 1);
    assert.equal(cells[1].outputs[0].output_type, "error");
    assert.equal(cells[1].outputs[0].ename, "RangeError");
    assert.equal(cells[1].outputs[0].evalue, "the real message 42");
    // The cell after the error ran (tslab alone aborted it: the request came within its 200 ms window).
    assert.deepEqual(cells[2].outputs.map((o) => [o.output_type, o.name, text(o.text)]), [["stream", "stdout", "after\n"]]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the kernel gives the same outputs and type errors with and without tools/tslab-speed.js and its code cache", () => {
  const jenv = ensureJupyter();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kernel-speed-"));
  try {
    const nb = path.join(dir, "cells.ipynb");
    fs.writeFileSync(nb, notebook([
      'import * as bp from "./lib/index";\nconst z = bp.tf.tensor([1, 2, 3]).sum().dataSync()[0];\nz',
      "const label: string = z;", // a type error: tslab's message and position
      "function twice(x: number): number { return 2 * x; }\ntwice(z)",
      'twice("3")',
      "interface P { x: number }\nconst p: P = { x: twice(1) };",
      "p.y",
      "let later = p.x + 1;\nconsole.log(later); later",
      "throw new TypeError(`stop ${later}`);",
      "bp.nothingHere()",
    ]));
    const run = (env: Record<string, string>) => {
      const r = spawnSync(jenv.python, ["-m", "nbconvert", "--to", "notebook", "--execute", "--allow-errors", "--stdout", nb], {
        cwd: dir, env: { ...jenv.env, BACKPROP_ROOT: ROOT, ...env }, encoding: "utf8", timeout: 300_000,
      });
      assert.equal(r.status, 0, r.stderr);
      return (JSON.parse(r.stdout).cells as { outputs: unknown[] }[]).map((c) => c.outputs);
    };
    const fast = run({});
    const stock = run({ BACKPROP_TSLAB_STOCK: "1", BACKPROP_KERNEL_CACHE: "0" });
    assert.deepEqual(fast, stock);
    const errors = fast.flat().filter((o) => (o as { output_type: string }).output_type === "error") as { ename: string; evalue: string }[];
    assert.equal(errors.length, 5, JSON.stringify(fast)); // the test covers failures, not only successes
    assert.match(errors[0].evalue, /Type 'number' is not assignable to type 'string'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// The headless runner: real Jupyter (nbclient) + the project's tslab kernel, on throwaway notebooks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");

function notebook(cells: [string, string][]): string {
  return JSON.stringify({
    cells: cells.map(([type, src], i) => ({
      cell_type: type, id: `c${i}`, metadata: {}, source: src,
      ...(type === "code" ? { execution_count: null, outputs: [] } : {}),
    })),
    metadata: { kernelspec: { name: "backprop-lab", display_name: "TypeScript (backprop-lab)", language: "typescript" } },
    nbformat: 4, nbformat_minor: 5,
  });
}

function course(dir: string, ...args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "tools/course.ts"), "--notebooks", dir, "--build", path.join(dir, "build"), ...args], {
    cwd: ROOT, encoding: "utf8", env: { ...process.env, BACKPROP_BACKEND: "cpu" },
  });
}

test("a good notebook runs; a broken cell fails the run with notebook, cell, source and the real message", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "course-test-"));
  fs.writeFileSync(path.join(dir, "01-good.ipynb"), notebook([
    ["markdown", "# Bien"],
    ["code", 'import * as bp from "./lib/index";\nconst { rng } = await bp.setup(3);\nconsole.log("draw", rng.int(0, 1000));'],
    ["code", "bp.tf.tensor([1, 2, 3]).sum().dataSync()[0] * 2"],
  ]));
  fs.writeFileSync(path.join(dir, "02-broken.ipynb"), notebook([
    ["code", 'import * as bp from "./lib/index";'],
    ["markdown", "texto"],
    ["code", 'const answer = 42;\nthrow new Error("the real message " + answer);'],
    ["code", 'console.log("never runs");'],
  ]));
  fs.writeFileSync(path.join(dir, "03-types.ipynb"), notebook([["code", "const s: string = 5;"]]));
  const r = course(dir);
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 1, out);
  assert.match(r.stdout, /^ok\s+[\d.]+ s\s+01-good\.ipynb$/m);
  assert.match(r.stdout, /^FAIL\s+[\d.]+ s\s+02-broken\.ipynb$/m);
  assert.match(r.stderr, /02-broken\.ipynb: cell 3 raised an error\n\s+\| const answer = 42;/);
  // the kernel's own report (tools/tslab-protocol.js): name, message, the cell's line, no kernel frames
  assert.match(r.stderr, /\n  Error: the real message 42\n      at In\[2\] line 2: throw new Error\("the real message " \+ answer\);\n/);
  assert.doesNotMatch(r.stderr, /evalmachine|node_modules|node:/);
  assert.match(r.stderr, /03-types\.ipynb: cell 1 raised an error[\s\S]*Type 'number' is not assignable to type 'string'/);
  assert.doesNotMatch(out, /Traceback/);

  const executed = JSON.parse(fs.readFileSync(path.join(dir, "build/notebooks/01-good.ipynb"), "utf8"));
  const codeCells = executed.cells.filter((c: { cell_type: string }) => c.cell_type === "code");
  assert.deepEqual(codeCells.map((c: { execution_count: number }) => c.execution_count), [1, 2]);
  const text = JSON.stringify(codeCells);
  assert.match(text, /Backend: cpu/);
  assert.match(text, /draw \d+/);
  assert.ok(fs.existsSync(path.join(dir, "build/html/01-good.html")));
  assert.ok(!fs.existsSync(path.join(dir, "build/html/02-broken.html")));

  // --only picks a subset; an --only that matches nothing names the notebooks there are.
  const only = course(dir, "--only", "01");
  assert.equal(only.status, 0, only.stdout + only.stderr);
  assert.doesNotMatch(only.stdout, /02-broken/);
  const none = course(dir, "--only", "99");
  assert.equal(none.status, 1);
  assert.match(none.stderr, /--only 99 matches no notebook .* there are: 01-good\.ipynb, 02-broken\.ipynb, 03-types\.ipynb/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a cell that kills the kernel is a failure that says so", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "course-test-"));
  fs.writeFileSync(path.join(dir, "01-exit.ipynb"), notebook([["code", "process.exit(0);"], ["code", "1 + 1"]]));
  const r = course(dir);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /01-exit\.ipynb: cell 1 killed the kernel/);
  fs.rmSync(dir, { recursive: true, force: true });
});

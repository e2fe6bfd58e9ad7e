/**
 * The compiled library for the notebook kernel (tools/lib-build.js, tools/compiled-lib.js): a build matches lib/,
 * any change to lib/ makes it stale with a reason, and the kernel imports it (fast first cell) while students
 * keep completions, doc comments and tracebacks that name lib/'s source lines; a stale copy the kernel may not
 * rebuild is left alone and lib/ is compiled from its sources as before.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const libBuild = require("../tools/lib-build.js") as {
  OUT_NAME: string;
  check(root: string): { fresh: boolean; why?: string; outDir: string };
  ensure(root: string): { fresh: boolean; built: boolean; outDir: string };
  build(root: string): { built: boolean };
};
const ROOT = path.resolve(__dirname, "..");
const PYTHON = "/usr/bin/python3";

/** A scratch project: a copy of lib/ and tsconfig.json, node_modules linked. */
function scratchProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bp-compiled-lib-"));
  fs.cpSync(path.join(ROOT, "lib"), path.join(dir, "lib"), { recursive: true });
  fs.copyFileSync(path.join(ROOT, "tsconfig.json"), path.join(dir, "tsconfig.json"));
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  return dir;
}

test("a build matches lib/ (JavaScript, declarations with doc comments, the plain .js files); an edit makes it stale", () => {
  const dir = scratchProject();
  try {
    assert.equal(libBuild.check(dir).fresh, false);
    assert.match(libBuild.check(dir).why ?? "", /has not been built/);
    assert.equal(libBuild.ensure(dir).built, true);
    const out = path.join(dir, libBuild.OUT_NAME);
    assert.ok(fs.existsSync(path.join(out, "index.js")) && fs.existsSync(path.join(out, "index.js.map")));
    assert.match(fs.readFileSync(path.join(out, "train", "train.d.ts"), "utf8"), /\/\*\*[\s\S]*Trains `model` in place/);
    assert.ok(fs.existsSync(path.join(out, "perf", "parallel", "worker-bootstrap.js")));
    assert.equal(libBuild.check(dir).fresh, true);
    assert.equal(libBuild.ensure(dir).built, false, "a fresh copy is not rebuilt");
    fs.appendFileSync(path.join(dir, "lib", "random.ts"), "\n// edited\n");
    const state = libBuild.check(dir);
    assert.equal(state.fresh, false);
    assert.match(state.why ?? "", /lib\/ has changed since \.lib-build\/ was built/);
    fs.writeFileSync(path.join(dir, "lib", "broken.ts"), "export const x: number = 'not a number';\n");
    assert.throws(() => libBuild.build(dir), /lib\/ does not compile \(1 error\):[\s\S]*broken\.ts/);
    assert.equal(libBuild.check(dir).fresh, false, "a failed build leaves the stale copy marked stale");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** One run of tools/bench/first_cell.py (--full) against the project's kernel, or null without Jupyter. */
function firstCell(env: NodeJS.ProcessEnv = {}): Record<string, unknown> | null {
  if (spawnSync(PYTHON, ["-c", "import jupyter_client"]).status !== 0) return null;
  const r = spawnSync(PYTHON, [path.join(ROOT, "tools", "bench", "first_cell.py"), "--full"], {
    cwd: ROOT,
    env: { ...process.env, JUPYTER_PATH: path.join(ROOT, ".jupyter"), ...env },
    encoding: "utf8",
    timeout: 300_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

test("the kernel imports the compiled library: completions, doc comments and lib/ source lines in tracebacks", (t) => {
  libBuild.ensure(ROOT);
  const r = firstCell();
  if (!r) return t.skip("jupyter_client is not installed for /usr/bin/python3");
  t.diagnostic(`first cell ${r.first_cell_s} s wall, ${r.first_cell_cpu_s} s CPU`);
  assert.equal(r.first_cell_stdout, "Cargando la biblioteca…\n", "the compiled library was used (the note says so)");
  assert.ok((r["complete_bp.tra"] as string[]).includes("trainingContext"), JSON.stringify(r["complete_bp.tra"]));
  assert.match(String(r.inspect_doc), /function train\(model: Model[\s\S]*Trains `model` in place/);
  assert.deepEqual((r.lib_error_traceback as string[]).slice(0, 2), ["Error: Rng seed must be a finite number, got NaN", "    at new Rng (lib/random.ts:18)"]);
});

test("BACKPROP_LIB_SOURCES=1: tslab compiles lib/ from its sources, with the same completions and docs", (t) => {
  const r = firstCell({ BACKPROP_LIB_SOURCES: "1" });
  if (!r) return t.skip("jupyter_client is not installed for /usr/bin/python3");
  t.diagnostic(`first cell from the sources ${r.first_cell_s} s wall, ${r.first_cell_cpu_s} s CPU`);
  assert.match(String(r.first_cell_stdout), /tslab comprueba los tipos de lib\//);
  assert.ok((r["complete_bp.tra"] as string[]).includes("trainingContext"));
  assert.match(String(r.inspect_doc), /Trains `model` in place/);
});

// The kernel's V8 code cache (tools/kernel-cache.js): made once, used by a process started with the same Node
// flags, ignored (the module compiles as usual) when the file changed or the flags differ.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");
// eslint-disable-next-line @typescript-eslint/no-var-requires
const cache = require("../tools/kernel-cache.js") as {
  build(root: string, execArgv: string[]): string;
  cacheDir(root: string, execArgv?: string[]): string;
  cacheKey(execArgv?: string[]): string;
};

/** Loads TypeScript and TensorFlow.js in a fresh node (with `flags`) through the cache in `dir`; what happened. */
function load(dir: string, flags: string[] = []): { stats: Record<string, unknown>; version: string; frame: string } {
  const script = `
    const kc = require(${JSON.stringify(path.join(ROOT, "tools", "kernel-cache.js"))});
    const stats = kc.useCache(${JSON.stringify(dir)});
    const ts = require(${JSON.stringify(path.join(ROOT, "node_modules", "@tslab", "typescript-for-tslab"))});
    const tf = require(${JSON.stringify(path.join(ROOT, "node_modules", "@tensorflow", "tfjs-core"))});
    let frame = "";
    try { ts.getLineAndCharacterOfPosition(null, 0); } catch (e) { frame = e.stack.split("\\n").find((l) => l.includes("typescript.js")) || ""; }
    process.stdout.write(JSON.stringify({ stats, version: ts.version + " " + tf.version_core, frame }));
    process.exit(0);`;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kcache-")), "load.js");
  fs.writeFileSync(file, script);
  const r = spawnSync(process.execPath, [...flags, file], { encoding: "utf8" });
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test("a kernel started with the cache's flags compiles TypeScript and TensorFlow.js from it", { timeout: 300_000 }, () => {
  const dir = cache.build(ROOT, []);
  assert.equal(dir, cache.cacheDir(ROOT, []));
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as { files: Record<string, unknown> };
  assert.ok("@tslab/typescript-for-tslab/lib/typescript.js" in manifest.files, Object.keys(manifest.files).join(", "));
  const cached = load(dir);
  const plain = load(path.join(os.tmpdir(), "no-such-cache"));
  assert.equal(plain.stats.used, false);
  assert.ok((cached.stats.hits as number) >= 2 && cached.stats.rejected === 0, JSON.stringify(cached.stats));
  assert.equal(cached.version, plain.version);
  // errors thrown inside a cached module name its file and line as before
  assert.equal(cached.frame.replace(/:\d+\)?$/, ""), plain.frame.replace(/:\d+\)?$/, ""));
  assert.match(cached.frame, /typescript\.js:\d+:\d+/);
});

test("the cache is not used for other Node flags, nor for a file that changed since it was made", { timeout: 300_000 }, () => {
  const dir = cache.build(ROOT, []);
  assert.notEqual(cache.cacheKey(["--max-old-space-size=1234"]), cache.cacheKey([]));
  assert.equal(load(dir, ["--max-old-space-size=1234"]).stats.used, false);
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), "kcache-copy-"));
  fs.cpSync(dir, copy, { recursive: true });
  const mf = path.join(copy, "manifest.json");
  const manifest = JSON.parse(fs.readFileSync(mf, "utf8")) as { files: Record<string, { sha256: string }> };
  for (const e of Object.values(manifest.files)) e.sha256 = "0".repeat(64); // as if every file had changed
  fs.writeFileSync(mf, JSON.stringify(manifest));
  const r = load(copy);
  assert.equal(r.stats.hits, 0);
  assert.ok((r.stats.changed as number) >= 2, JSON.stringify(r.stats));
  assert.equal(r.version, load(path.join(os.tmpdir(), "no-such-cache")).version);
  fs.rmSync(copy, { recursive: true, force: true });
});

test("the grader's kernel, in its sandbox, compiles from the cache the grader made for its flags", { timeout: 300_000 }, async () => {
  const { ensureJupyter } = await import("../tools/jupyter-env");
  const { detectSandbox, runNotebook } = await import("../tools/homework/sandbox");
  const jenv = ensureJupyter(() => undefined);
  const nb = {
    cells: [{ cell_type: "code", id: "c0", metadata: {}, source: 'console.error("CACHE " + JSON.stringify(require("./tools/kernel-cache.js").status()));', execution_count: null, outputs: [] }],
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5,
  };
  const limits = { cellTimeout: 60, wallLimit: 120, memoryMb: 1536, outputBytes: 1e6, tmpMb: 64 };
  const run = await runNotebook(jenv, detectSandbox("auto", jenv.python), nb as never, limits);
  assert.equal(run.fatal, undefined);
  const line = /CACHE (\{.*\})/.exec(run.cells[0]?.stderr ?? "");
  assert.ok(line, JSON.stringify(run.cells));
  const stats = JSON.parse(line[1]) as { used: boolean; hits: number; rejected: number };
  assert.ok(stats.used && stats.hits >= 2 && stats.rejected === 0, line[1]);
});

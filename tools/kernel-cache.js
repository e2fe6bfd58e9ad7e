// A V8 code cache for the kernel's start: every kernel compiles tslab's TypeScript (9 MB) and TensorFlow.js's
// bundles (7 MB) again, and compiles their functions lazily while it starts and checks the first cells. Here
// they are compiled once, after a warm-up (the kernel's converter checking `import * as bp from "./lib/index"`
// and the library loaded), and V8's code for them is kept in `.kernel-cache/<key>/` (ignored by git), where
// <key> names the Node version and the kernel's Node flags (V8 rejects a cache made under other flags, e.g.
// another --max-old-space-size).
//
// Who writes it: `node tools/kernel-cache.js build [node flags...]` (npm install, through `node tools/kernel.js
// install`; the grader before a batch, for its kernel's flags). The warm-up runs in a child process started
// with those flags, which only reads and prints the cache on its stdout; the parent writes the files. Who reads
// it: the kernel (tools/tslab-kernel.js), never writing: a module whose file is in the manifest, with the same
// SHA-256, is compiled with its cached code; anything else (no cache, another Node, a changed file, a cache V8
// rejects) is compiled as usual. In the grader the cache is copied into the hand-in's read-only work folder, and
// its kernel runs under Node's permission model (no file writes), so no hand-in can write it.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const Module = require("module");
const path = require("path");
const vm = require("vm");

const CACHE_NAME = ".kernel-cache";
/** Files smaller than this are cheap to compile: not cached. */
const MIN_BYTES = 64 * 1024;
const FORMAT = 1;

/** A module's name in the manifest: its path inside node_modules (the same in the project and in a grader's work folder). */
function moduleKey(filename) {
  const m = /[\\/]node_modules[\\/](.*)$/.exec(filename);
  return m ? m[1].replace(/\\/g, "/") : null;
}

const sha256 = (text) => crypto.createHash("sha256").update(text).digest("hex");

/** The cache folder's name for a Node and a list of Node flags. */
function cacheKey(execArgv = process.execArgv) {
  return sha256(JSON.stringify([FORMAT, process.version, process.arch, process.versions.v8, [...execArgv].sort()])).slice(0, 16);
}

/** `<root>/.kernel-cache/<key>` for these flags. */
function cacheDir(root, execArgv = process.execArgv) {
  return path.join(root, CACHE_NAME, cacheKey(execArgv));
}

/** A require function for `mod`, as Node makes one for a module it compiles. */
function makeRequire(mod) {
  const require = (id) => mod.require(id);
  require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
  require.resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
  require.main = process.mainModule;
  require.extensions = Module._extensions;
  require.cache = Module._cache;
  return require;
}

/** Compiles and runs a module's source through vm.Script (so V8 can take and give cached code). */
function runScript(mod, content, filename, cachedData) {
  const script = new vm.Script(Module.wrap(content), {
    filename,
    cachedData,
    importModuleDynamically: vm.constants && vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const fn = script.runInThisContext({ displayErrors: true });
  fn.call(mod.exports, mod.exports, makeRequire(mod), mod, filename, path.dirname(filename));
  return script;
}

/**
 * In the kernel: compiles the modules of the manifest in `dir` with their cached code. Returns what it did,
 * for the kernel's stderr; never throws.
 */
let lastUse = null;

/** What useCache did in this process (null before): { used, why } or { used, hits, rejected, changed }. */
function status() {
  return lastUse && { ...lastUse };
}

function useCache(dir) {
  lastUse = useCacheIn(dir);
  return lastUse;
}

function useCacheIn(dir) {
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"));
  } catch {
    return { used: false, why: `no code cache in ${dir}` };
  }
  if (!manifest || manifest.format !== FORMAT || manifest.key !== cacheKey() || typeof manifest.files !== "object") {
    return { used: false, why: "the code cache was made for another Node or other flags" };
  }
  const files = new Map(Object.entries(manifest.files));
  const stats = { used: true, hits: 0, rejected: 0, changed: 0 };
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (content, filename) {
    const key = moduleKey(filename);
    const entry = key && files.get(key);
    if (!entry) return compile.call(this, content, filename);
    files.delete(key); // once per file: a module loaded again (cache cleared) compiles as usual
    let data;
    try {
      data = sha256(content) === entry.sha256 ? fs.readFileSync(path.join(dir, entry.cache)) : undefined;
    } catch {
      data = undefined;
    }
    if (!data) {
      stats.changed++;
      return compile.call(this, content, filename);
    }
    const script = runScript(this, content, filename, data);
    if (script.cachedDataRejected) stats.rejected++;
    else stats.hits++;
    return undefined;
  };
  return stats;
}

/** The warm-up (in the child process): loads the kernel's big modules the way a kernel does, keeps their scripts. */
function warmUp(root) {
  const scripts = new Map();
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (content, filename) {
    if (content.length < MIN_BYTES || !/[\\/]node_modules[\\/]/.test(filename)) return compile.call(this, content, filename);
    scripts.set(moduleKey(filename), { script: runScript(this, content, filename, undefined), sha256: sha256(content) });
    return undefined;
  };
  process.chdir(root);
  const tslabDist = path.join(root, "node_modules", "tslab", "dist");
  const ts = require(require.resolve("@tslab/typescript-for-tslab", { paths: [path.dirname(tslabDist)] }));
  require("./compiled-lib.js").useCompiledLib(root, ts);
  require("./tslab-speed.js").speedUpTslab(tslabDist, ts);
  const { createConverter } = require(path.join(tslabDist, "converter.js"));
  require(path.join(tslabDist, "main.js"));
  const conv = createConverter({ isJS: false, isBrowser: false });
  const first = conv.convert("", 'import * as bp from "./lib/index";\nconst z: number = bp.tf.scalar(1).dataSync()[0];');
  conv.convert(first.declOutput || "", "function f(x: number): number { return x + z; }\nf(2)");
  conv.close();
  require(path.join(root, require("./lib-build.js").OUT_NAME, "index.js"));
  return scripts;
}

/** `build-child`: the warm-up, then every script's cache on stdout as JSON (base64). */
function buildChild(root) {
  const scripts = warmUp(root);
  const files = {};
  for (const [filename, { script, sha256: hash }] of scripts) files[filename] = { sha256: hash, data: script.createCachedData().toString("base64") };
  fs.writeSync(1, JSON.stringify({ key: cacheKey(), files }));
  process.exit(0);
}

/** Whether the cache for these flags exists and matches the files it was made from. */
function isFresh(root, execArgv) {
  try {
    const dir = cacheDir(root, execArgv);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"));
    const files = Object.entries(manifest.files);
    return files.length > 0 && files.every(([file, e]) => fs.existsSync(path.join(dir, e.cache)) && sha256(fs.readFileSync(path.join(root, "node_modules", file), "utf8")) === e.sha256);
  } catch {
    return false;
  }
}

/**
 * Makes (or keeps, when fresh) the cache for kernels started with `execArgv`; returns its folder. Throws with
 * the child's error when the warm-up fails.
 */
function build(root, execArgv = [], log = () => undefined) {
  const dir = cacheDir(root, execArgv);
  if (isFresh(root, execArgv)) return dir;
  const t0 = Date.now();
  const { spawnSync } = require("child_process");
  const r = spawnSync(process.execPath, [...execArgv, __filename, "build-child", root], { encoding: "utf8", maxBuffer: 1 << 30, cwd: root });
  if (r.status !== 0) throw new Error(`the code cache's warm-up failed (exit ${r.status}): ${(r.stderr || "").trim().split("\n").slice(-3).join(" | ")}`);
  const out = JSON.parse(r.stdout);
  if (out.key !== cacheKey(execArgv)) throw new Error("the code cache's warm-up ran with other flags than asked");
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const files = {};
  for (const [file, e] of Object.entries(out.files)) {
    const cache = `${sha256(file).slice(0, 16)}.bin`;
    fs.writeFileSync(path.join(tmp, cache), Buffer.from(e.data, "base64"));
    files[file] = { sha256: e.sha256, cache };
  }
  fs.writeFileSync(path.join(tmp, "manifest.json"), JSON.stringify({ format: FORMAT, key: out.key, node: process.version, execArgv, files }, null, 1) + "\n");
  fs.rmSync(dir, { recursive: true, force: true });
  try {
    fs.renameSync(tmp, dir);
  } catch (e) {
    // another process made it at the same time: keep theirs
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!isFresh(root, execArgv)) throw e;
  }
  log(`backprop-lab: kernel code cache for ${execArgv.length ? execArgv.join(" ") : "plain node"} made in ${((Date.now() - t0) / 1000).toFixed(1)} s (${Object.keys(files).length} files)`);
  return dir;
}

module.exports = Object.freeze({ CACHE_NAME, cacheKey, cacheDir, useCache, status, build, isFresh });

if (require.main === module) {
  const [cmd, ...rest] = process.argv.slice(2);
  const root = path.resolve(__dirname, "..");
  if (cmd === "build-child") buildChild(path.resolve(rest[0]));
  else if (cmd === "build") build(root, rest, console.log);
  else {
    console.error("usage: node tools/kernel-cache.js build [node flags...]");
    process.exit(2);
  }
}

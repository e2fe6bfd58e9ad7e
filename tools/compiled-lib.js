// Makes the tslab kernel use the compiled library (.lib-build/, see lib-build.js) for `./lib/...` imports:
// the type checker resolves them to the declarations (so completions and doc comments come from the .d.ts
// files, and tslab no longer type-checks and compiles all of lib/ in the first cell) and Node's require loads
// the compiled JavaScript. The import line stays `import * as bp from "./lib/index";`.
// When the compiled copy is stale and cannot be rebuilt here, nothing is redirected: tslab compiles lib/
// from its sources as before (slower first cell) and the kernel's stderr says why.
"use strict";
const fs = require("fs");
const Module = require("module");
const path = require("path");
const libBuild = require("./lib-build.js");

let active = null; // { libDir, outDir } once redirected

/** `file` inside `dir` (both absolute), as a relative path, or null. */
function inside(dir, file) {
  const rel = path.relative(dir, file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : null;
}

/** A fresh compiled copy for `root` (building it when allowed), or null with the reason on stderr. */
function freshBuild(root) {
  let state = libBuild.check(root);
  if (state.fresh) return state.outDir;
  const mayWrite = !process.permission || process.permission.has("fs.write", root);
  if (mayWrite) {
    try {
      state = libBuild.ensure(root, (s) => console.error(s));
      return state.outDir;
    } catch (e) {
      console.error(`backprop-lab kernel: could not compile lib/ (${e.message.split("\n")[0]}).`);
    }
  }
  console.error(
    `backprop-lab kernel: ${state.why}; the first cell imports lib/ from its sources (slower). ` +
      `Run \`node tools/lib-build.js\` in the project folder to compile it again.`,
  );
  return null;
}

/** Redirects `./lib/...` to .lib-build/ in tslab's type checker (`ts`, tslab's TypeScript) and in require. */
function useCompiledLib(root, ts) {
  const outDir = freshBuild(root);
  if (!outDir) return false;
  const libDir = path.join(root, "lib");
  active = { libDir, outDir };

  // Type checking: tslab's compiler reaches files through ts.sys (its converter's host delegates to it), so
  // in that view a source of lib/ (.ts) is absent and its declaration (.d.ts) is the one in .lib-build/:
  // `./lib/index` resolves to the declarations, which are not type-checked or compiled again, and their own
  // imports stay inside that view.
  const sys = ts.sys;
  const view = (p) => {
    const rel = typeof p === "string" ? inside(libDir, path.resolve(p)) : null;
    if (!rel) return undefined;
    if (/\.d\.ts$/.test(rel)) return path.join(outDir, rel);
    return /\.tsx?$/.test(rel) ? null : undefined;
  };
  for (const [name, absent] of [["fileExists", false], ["readFile", undefined], ["getModifiedTime", undefined], ["realpath", null]]) {
    const original = sys[name];
    if (typeof original !== "function") continue;
    sys[name] = function (p, ...rest) {
      const v = view(p);
      if (v === undefined) return original.call(this, p, ...rest);
      if (v === null) return absent === null ? p : absent;
      if (name === "realpath") return p;
      return original.call(this, v, ...rest);
    };
  }

  // Running: a relative require that lands in lib/ and finds nothing there (lib/ holds TypeScript) loads the
  // compiled file at the same place in .lib-build/.
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, parent, ...rest) {
    try {
      return resolve.call(this, request, parent, ...rest);
    } catch (e) {
      if (e && e.code === "MODULE_NOT_FOUND" && typeof request === "string" && /^\.\.?([\\/]|$)/.test(request)) {
        const from = parent && parent.filename ? path.dirname(parent.filename) : root;
        const rel = inside(libDir, path.resolve(from, request)) ?? (path.resolve(from, request) === libDir ? "" : null);
        if (rel !== null) return resolve.call(this, path.join(outDir, rel.replace(/\.ts$/, "")), parent, ...rest);
      }
      throw e;
    }
  };
  return true;
}

const maps = new Map();

/** The lib/ source position of a frame in the compiled library ({ file, line, col }, 1-based), or null. */
function sourcePosition(file, line, col) {
  if (!active || !inside(active.outDir, file) || !Module.SourceMap) return null;
  if (!maps.has(file)) {
    let map = null;
    try {
      map = new Module.SourceMap(JSON.parse(fs.readFileSync(`${file}.map`, "utf8")));
    } catch {
      // no map: the frame keeps its compiled position
    }
    maps.set(file, map);
  }
  const map = maps.get(file);
  const entry = map && map.findEntry(line - 1, col - 1);
  if (!entry || !entry.originalSource) return null;
  const src = entry.originalSource.startsWith("file://") ? new URL(entry.originalSource).pathname : path.resolve(path.dirname(file), entry.originalSource);
  return { file: src, line: entry.originalLine + 1, col: entry.originalColumn + 1 };
}

module.exports = { useCompiledLib, sourcePosition };

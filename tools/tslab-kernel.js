#!/usr/bin/env node
// Starts the tslab kernel at the project root.
//
// tslab type-checks a notebook with `rootDir` set to the kernel's working directory, so a notebook kept
// in notebooks/ could not import ../lib. Jupyter starts kernels in the notebook's folder; this wrapper
// moves up to the project root (the nearest folder holding lib/index.ts, or $BACKPROP_ROOT) first, so
// every notebook imports the library the same way: `import * as bp from "./lib";`.
"use strict";
const fs = require("fs");
const path = require("path");

function projectRoot(start) {
  if (process.env.BACKPROP_ROOT) return path.resolve(process.env.BACKPROP_ROOT);
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "lib", "index.ts"))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(start);
  }
}

const args = process.argv.slice(2);
const configPath = args[args.indexOf("--config-path") + 1];
if (args.indexOf("--config-path") < 0 || !configPath) {
  console.error("usage: tslab-kernel.js --config-path <connection_file>");
  process.exit(2);
}
process.chdir(projectRoot(process.cwd()));
const tslabDir = path.join(__dirname, "..", "node_modules", "tslab");

// Two notes a student needs, added around tslab's execution of a cell (what tslab prints is unchanged):
// - the first cell that imports ./lib/ makes tslab type-check the whole library before anything runs: seconds
//   of silence (the compiler blocks the kernel, so no timer could speak during it). Say so before it starts.
// - a cell that fails to compile runs nothing, so the functions it defines keep their previous definition
//   (in an exercise, the stub that throws "sin implementar"). When a later cell fails and uses one of them,
//   say that the cell defining it did not run. (Top-level declarations only: test cells keep theirs in a block.)
function addStudentNotes() {
  // tslab internals: if they ever change shape, run without the notes rather than fail to start.
  let JupyterHandlerImpl;
  try {
    ({ JupyterHandlerImpl } = require(path.join(tslabDir, "dist", "jupyter.js")));
  } catch {
    return;
  }
  const execute = JupyterHandlerImpl && JupyterHandlerImpl.prototype && JupyterHandlerImpl.prototype.handleExecuteImpl;
  if (typeof execute !== "function") return;
  const DECLARED = /^(?:export\s+)?(?:(?:async\s+)?function\*?|const|let|var|class)\s+([A-Za-z_$][\w$]*)/gm;
  const COMPILE_ERROR = /^(?:\S+ )?\d+:\d+ - /m;
  const stale = new Map(); // name -> first line of the cell that failed to compile
  let announced = false;
  JupyterHandlerImpl.prototype.handleExecuteImpl = function (req, writeStream, writeDisplayData) {
    const code = String((req && req.code) || "");
    if (!announced && /from\s+["']\.\/lib\//.test(code)) {
      announced = true;
      writeStream("stdout", "Cargando la biblioteca: tslab comprueba los tipos de lib/ antes de ejecutar (la primera vez, unos segundos)…\n");
    }
    let stderr = "";
    const write = (name, text) => {
      if (name === "stderr") stderr += text;
      return writeStream(name, text);
    };
    const declared = Array.from(code.matchAll(DECLARED), (m) => m[1]);
    return execute.call(this, req, write, writeDisplayData).then(
      (count) => {
        for (const n of declared) stale.delete(n);
        return count;
      },
      (failure) => {
        if (COMPILE_ERROR.test(stderr)) {
          const first = code.split("\n").find((l) => l.trim()) || "";
          for (const n of declared) stale.set(n, first.trim().slice(0, 60));
        }
        const used = Array.from(stale.keys()).filter((n) => !declared.includes(n) && new RegExp(`(^|[^\\w$.])${n.replace(/\$/g, "\\$")}\\s*\\(`).test(code));
        if (used.length > 0) {
          const names = used.map((n) => `«${n}»`).join(", ");
          writeStream("stderr", `\nOjo: la celda que define ${names} (empieza por «${stale.get(used[0])}») no llegó a ejecutarse: tuvo un error de compilación, ` +
            `así que sigue valiendo su versión anterior. Corrige ese error, ejecuta esa celda y después vuelve a ejecutar esta.\n`);
        }
        throw failure;
      },
    );
  };
}
addStudentNotes();

// tslab looks for a local copy of itself from the working directory; ours sits beside this file.
require(path.join(tslabDir, "dist", "main.js")).startKernel({ configPath });

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

// The first cell that imports ./lib/ makes tslab type-check the whole library before anything runs: seconds
// of silence (the compiler blocks the kernel, so no timer could speak during it). Say so before it starts.
function announceLibraryLoad() {
  const { JupyterHandlerImpl } = require(path.join(tslabDir, "dist", "jupyter.js"));
  const execute = JupyterHandlerImpl.prototype.handleExecuteImpl;
  let announced = false;
  JupyterHandlerImpl.prototype.handleExecuteImpl = function (req, writeStream, writeDisplayData) {
    if (!announced && /from\s+["']\.\/lib\//.test(String(req && req.code))) {
      announced = true;
      writeStream("stdout", "Cargando la biblioteca: tslab comprueba los tipos de lib/ antes de ejecutar (la primera vez, unos segundos)…\n");
    }
    return execute.call(this, req, writeStream, writeDisplayData);
  };
}
announceLibraryLoad();

// tslab looks for a local copy of itself from the working directory; ours sits beside this file.
require(path.join(tslabDir, "dist", "main.js")).startKernel({ configPath });

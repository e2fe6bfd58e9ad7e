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
const root = projectRoot(process.cwd());
process.chdir(root);
// V8's compiled code for TypeScript and TensorFlow.js, made once (tools/kernel-cache.js); only read here.
if (process.env.BACKPROP_KERNEL_CACHE !== "0") {
  const kernelCache = require("./kernel-cache.js");
  kernelCache.useCache(kernelCache.cacheDir(root));
}
// tslab looks for a local copy of itself from the working directory; ours sits beside this file, and it is
// the copy patched to speak the Jupyter protocol (error messages, execute_result, kernel_info: see
// tslab-protocol.js) and to add two notes for students (student-notes.js), so the search is turned off.
const tslabDist = path.join(__dirname, "..", "node_modules", "tslab", "dist");
try {
  // `./lib/...` imports use the compiled library (.lib-build/: declarations and JavaScript), so the first
  // cell does not type-check all of lib/; BACKPROP_LIB_SOURCES=1 keeps tslab compiling lib/ from its sources.
  let compiledLib = false;
  const ts = require(require.resolve("@tslab/typescript-for-tslab", { paths: [path.dirname(tslabDist)] }));
  if (process.env.BACKPROP_LIB_SOURCES !== "1") compiledLib = require("./compiled-lib.js").useCompiledLib(root, ts);
  // one TypeScript program per cell instead of two, and no rebuilt reference maps (BACKPROP_TSLAB_STOCK=1: tslab as is)
  if (process.env.BACKPROP_TSLAB_STOCK !== "1") require("./tslab-speed.js").speedUpTslab(tslabDist, ts);
  require("./tslab-protocol.js").patchTslab(tslabDist, root, { compiledLib });
} catch (e) {
  console.error(`backprop-lab kernel: ${e.message}`);
  process.exit(1);
}
require(path.join(tslabDist, "main.js")).startKernel({ configPath, enableFindLocal: false });

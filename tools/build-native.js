// Builds the optional OpenBLAS addon (native/blas) with node-gyp, offline: Node's headers from the Node
// install (or Debian's /usr/include/node), libopenblas from Debian (apt-get install libopenblas-dev g++ make).
// Run by `npm install` (postinstall) and `npm run build-native`. Never fails: without a compiler, the headers
// or OpenBLAS it says what is missing and the library keeps XNNPACK's wasm kernels (lib/perf/blas.ts).
"use strict";
const { spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const dir = path.join(root, "native", "blas");

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ];
  try {
    candidates.push(require.resolve("node-gyp/bin/node-gyp.js"));
  } catch {
    // not a dependency of the project
  }
  return candidates.find((p) => p && fs.existsSync(p));
}

/** A folder holding include/node/node_api.h for this Node, so node-gyp downloads nothing. */
function nodeDir() {
  const prefix = (process.config.variables && process.config.variables.node_prefix) || "";
  return [prefix, path.dirname(path.dirname(process.execPath)), "/usr"].find((d) => d && fs.existsSync(path.join(d, "include", "node", "node_api.h")));
}

function main() {
  if (process.env.BACKPROP_BLAS === "0") return "skipped (BACKPROP_BLAS=0)";
  const missing = [];
  const gyp = nodeGyp();
  if (!gyp) missing.push("node-gyp (comes with npm)");
  const nodedir = nodeDir();
  if (!nodedir) missing.push("Node's C headers (include/node/node_api.h)");
  if (!["/usr/include/cblas.h", "/usr/include/x86_64-linux-gnu/cblas.h", "/usr/include/aarch64-linux-gnu/cblas.h", "/usr/include/openblas/cblas.h"].some((f) => fs.existsSync(f)))
    missing.push("OpenBLAS (apt-get install libopenblas-dev)");
  if (spawnSync("sh", ["-c", "command -v cc && command -v make"], { stdio: "ignore" }).status !== 0) missing.push("a C compiler and make (apt-get install gcc make)");
  if (missing.length) return `not built: missing ${missing.join(", ")}; the wasm kernels are used`;
  const r = spawnSync(process.execPath, [gyp, "rebuild", `--nodedir=${nodedir}`], { cwd: dir, encoding: "utf8", timeout: 300000 });
  if (r.status !== 0) {
    const tail = `${r.stdout || ""}${r.stderr || ""}`.trim().split("\n").slice(-5).join("\n  ");
    return `build failed (the wasm kernels are used):\n  ${tail || r.error?.message}`;
  }
  return "built native/blas (OpenBLAS sgemm for the wasm backend's matrix products; conv windows, transpose, tanh, bias addition and reductions on the wasm heap)";
}

console.log(`backprop-lab: OpenBLAS addon: ${main()}`);

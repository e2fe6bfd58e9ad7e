#!/usr/bin/env node
// Registers the tslab TypeScript kernel inside the project (.jupyter/kernels/backprop-lab), so nothing global is
// needed: Jupyter finds it through JUPYTER_PATH=<repo>/.jupyter (set by `npm run jupyter` and the runner).
// `install` also compiles lib/ for the kernel (lib-build.js) and makes its code cache (kernel-cache.js). Plain JavaScript because it runs from npm's
// postinstall, before anything is compiled.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const jupyterPath = path.join(root, ".jupyter");
const kernelName = "backprop-lab";
const specDir = path.join(jupyterPath, "kernels", kernelName);

function install() {
  const tslab = path.join(root, "node_modules", "tslab", "dist", "main.js");
  if (!fs.existsSync(tslab)) {
    console.error(`tslab is not installed (${path.relative(root, tslab)} is missing): run \`npm install\` first.`);
    process.exit(1);
  }
  const spec = {
    argv: [process.execPath, path.join(__dirname, "tslab-kernel.js"), "--config-path", "{connection_file}"],
    display_name: "TypeScript (backprop-lab)",
    language: "typescript",
  };
  fs.mkdirSync(specDir, { recursive: true });
  const tmp = path.join(specDir, "kernel.json.tmp");
  fs.writeFileSync(tmp, JSON.stringify(spec, null, 2) + "\n");
  fs.renameSync(tmp, path.join(specDir, "kernel.json"));
  return specDir;
}

/**
 * Brings the compiled library (.lib-build/, see lib-build.js) in step with lib/. Never fails: where lib/ does
 * not compile, the kernel imports the sources (and shows their errors) as before; returns whether it is fresh.
 */
function compileLib(log = console.log) {
  try {
    require("./lib-build.js").ensure(root, log);
    return true;
  } catch (e) {
    log(`warning: ${e.message}\nThe notebooks will import lib/ from its sources (a slower first cell) until it compiles.`);
    return false;
  }
}

/**
 * Makes the kernel's V8 code cache (kernel-cache.js) for kernels started as the kernel spec starts them (no
 * Node flags). Never fails: without it the kernel compiles TypeScript and TensorFlow.js as before.
 */
function buildCodeCache(log = console.log) {
  try {
    require("./kernel-cache.js").build(root, [], log);
    return true;
  } catch (e) {
    log(`warning: ${e.message.split("\n")[0]}\nThe kernel will start without its code cache (a little slower).`);
    return false;
  }
}

module.exports = { install, compileLib, buildCodeCache, jupyterPath, specDir, kernelName };

if (require.main === module) {
  const cmd = process.argv[2] ?? "install";
  if (cmd === "install") {
    console.log(`tslab kernel registered in ${path.relative(process.cwd(), install()) || "."}`);
    if (compileLib()) buildCodeCache();
  }
  else if (cmd === "path") console.log(jupyterPath);
  else {
    console.error(`unknown command "${cmd}"; use: install | path`);
    process.exit(2);
  }
}

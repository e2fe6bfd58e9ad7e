// The library compiled once for the notebook kernel: JavaScript, declarations (.d.ts, with the doc comments)
// and source maps of lib/ in .lib-build/, next to lib/ (same depth, so the library's own `__dirname/../..`
// still finds the project root). The kernel (tslab-kernel.js) then type-checks a notebook's
// `import * as bp from "./lib/index"` against the declarations and runs the compiled JavaScript, instead of
// type-checking and compiling all of lib/ in the first cell.
//
// .lib-build/stamp.json records a hash of lib/'s sources; a copy whose hash differs is stale and is not used
// (the kernel rebuilds it, or imports the sources as before and says why). Built by `npm install`
// (postinstall), `npm test`, `npm run course`, `npm run jupyter` and the grader; by hand: `node tools/lib-build.js`.
// Plain JavaScript because it runs from npm's postinstall and inside the kernel. It compiles with tslab's own
// TypeScript (a dependency of tslab), the compiler that reads the declarations.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const OUT_NAME = ".lib-build";
const STAMP = "stamp.json";
/** Bump when what this file emits changes, so older copies count as stale. */
const FORMAT = 1;

/** Every file of lib/ (relative paths, sorted): the sources and the plain .js files they load. */
function libFiles(libDir) {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && /\.(ts|js|json)$/.test(e.name)) out.push(path.relative(libDir, p));
    }
  };
  walk(libDir);
  return out.sort();
}

function typescript() {
  return require(require.resolve("@tslab/typescript-for-tslab", { paths: [path.join(__dirname, "..", "node_modules", "tslab")] }));
}

/** Hash of lib/'s files (names and contents) and of the compiler and format that built the copy. */
function sourceHash(root) {
  const libDir = path.join(root, "lib");
  const h = crypto.createHash("sha256");
  h.update(`format ${FORMAT}\n`);
  for (const f of libFiles(libDir)) {
    h.update(f + "\0");
    h.update(fs.readFileSync(path.join(libDir, f)));
    h.update("\0");
  }
  return h.digest("hex");
}

/**
 * Whether .lib-build/ matches lib/ under `root`: { fresh: true, outDir } or { fresh: false, outDir, why }.
 */
function check(root) {
  const outDir = path.join(root, OUT_NAME);
  let stamp;
  try {
    stamp = JSON.parse(fs.readFileSync(path.join(outDir, STAMP), "utf8"));
  } catch {
    return { fresh: false, outDir, why: `${OUT_NAME}/ has not been built` };
  }
  if (stamp.hash !== sourceHash(root)) return { fresh: false, outDir, why: `lib/ has changed since ${OUT_NAME}/ was built` };
  return { fresh: true, outDir };
}

/** The project's compiler options, for emitting lib/ on its own. */
function compilerOptions(ts, root, outDir) {
  const cfg = ts.readConfigFile(path.join(root, "tsconfig.json"), ts.sys.readFile);
  const base = cfg.error ? {} : cfg.config.compilerOptions || {};
  const { options, errors } = ts.convertCompilerOptionsFromJson(base, root);
  if (errors.length) throw new Error(`tsconfig.json: ${ts.flattenDiagnosticMessageText(errors[0].messageText, "\n")}`);
  return {
    ...options,
    noEmit: false,
    declaration: true,
    sourceMap: true,
    module: ts.ModuleKind.CommonJS,
    rootDir: path.join(root, "lib"),
    outDir,
  };
}

/**
 * Compiles lib/ under `root` into .lib-build/ (written to a temporary folder, then renamed into place, so a
 * kernel never reads half a build). Returns { built: true, ms } or throws with the compiler's errors.
 */
function build(root) {
  const t0 = Date.now();
  const ts = typescript();
  const libDir = path.join(root, "lib");
  const outDir = path.join(root, OUT_NAME);
  const tmp = `${outDir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const hash = sourceHash(root);
  const files = libFiles(libDir);
  const options = compilerOptions(ts, root, tmp);
  const program = ts.createProgram({ rootNames: files.filter((f) => f.endsWith(".ts")).map((f) => path.join(libDir, f)), options });
  const diags = [...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()];
  if (diags.length === 0) {
    fs.mkdirSync(tmp, { recursive: true });
    diags.push(...program.emit().diagnostics);
  }
  if (diags.length > 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    const text = ts.formatDiagnostics(diags.slice(0, 10), { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" });
    throw new Error(`lib/ does not compile (${diags.length} error${diags.length > 1 ? "s" : ""}):\n${text}`);
  }
  for (const f of files.filter((f) => f.endsWith(".js") || f.endsWith(".json"))) {
    fs.mkdirSync(path.dirname(path.join(tmp, f)), { recursive: true });
    fs.copyFileSync(path.join(libDir, f), path.join(tmp, f));
  }
  fs.writeFileSync(path.join(tmp, STAMP), JSON.stringify({ hash, built: new Date().toISOString(), typescript: ts.version }) + "\n");
  const old = `${outDir}.old-${process.pid}`;
  if (fs.existsSync(outDir)) fs.renameSync(outDir, old);
  try {
    fs.renameSync(tmp, outDir);
  } catch (e) {
    // another process put its build in place first: keep that one
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(outDir)) throw e;
  }
  fs.rmSync(old, { recursive: true, force: true });
  return { built: true, ms: Date.now() - t0 };
}

/** Builds .lib-build/ when it is missing or stale; returns check()'s answer plus `built`. */
function ensure(root, log = () => {}) {
  const state = check(root);
  if (state.fresh) return { ...state, built: false };
  log(`backprop-lab: compiling lib/ for the notebook kernel (${state.why}) ...`);
  const { ms } = build(root);
  log(`backprop-lab: lib/ compiled into ${OUT_NAME}/ in ${(ms / 1000).toFixed(1)} s`);
  return { fresh: true, outDir: state.outDir, built: true };
}

module.exports = { OUT_NAME, check, build, ensure, sourceHash };

if (require.main === module) {
  const root = path.resolve(__dirname, "..");
  try {
    const r = process.argv.includes("--force") ? build(root) : ensure(root, console.log);
    if (!r.built) console.log(`${OUT_NAME}/ is up to date with lib/`);
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}

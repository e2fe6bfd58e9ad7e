// Removes repeated work from tslab 1.0.22's converter without changing what it computes (loaded by
// tools/tslab-kernel.js before tslab; BACKPROP_TSLAB_STOCK=1 keeps tslab's own code).
//
// tslab checks each cell by building a new TypeScript program for it, and it built two: one with the cell
// alone, only to read the names the cell declares (`srcFile.locals`), then one with `export {those names}`
// appended, which is the one it checks and emits. Each program creates a type checker and a builder state
// whose reference map is rebuilt for every file of the program (tfjs's and Node's declarations included).
//  1. One program per cell: the names come from binding the cell's text alone (the binder is per file: the
//     same parse and bind as inside the program give the same `locals`), then the program with the suffix
//     is built as before.
//  2. The builder state's reference map reuses, for each file, the references computed by the previous
//     program when nothing they depend on can have changed: the program holds the very same SourceFile
//     objects (same text, same module resolutions) as then, apart from tslab's two files, and neither of
//     those augments a module (an augmentation is the only way a cell's file enters another file's references:
//     cells are modules, so they declare no ambient module). Otherwise everything is computed afresh.
// tests: test/tslab-speed.test.ts converts the cells of every notebook through both and compares.
"use strict";
const fs = require("fs");
const Module = require("module");
const path = require("path");

/** Replaces `from` (which must occur exactly once) by `to` in `text`. */
function once(text, from, to, what) {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) {
    throw new Error(`tools/tslab-speed.js: tslab's converter.js is not the one it was written for (${what}); run with BACKPROP_TSLAB_STOCK=1`);
  }
  return text.slice(0, at) + to + text.slice(at + from.length);
}

const ONE_PROGRAM_FROM = `        updateContent(prevDecl, src);
        let declsFile = builder.getSourceFile(declFilename);
        let srcFile = builder.getSourceFile(srcFilename);
        const locals = srcFile.locals;
        const keys = new Set();`;
const ONE_PROGRAM_TO = `        let declsFile;
        let srcFile;
        const locals = require(${JSON.stringify(__filename)}).localsOf(ts, srcFilename, srcPrefix + src, builder.getCompilerOptions());
        const keys = new Set();`;
const SECOND_FROM = `            updateContent(prevDecl, src + suffix);
            declsFile = builder.getSourceFile(declFilename);
            srcFile = builder.getSourceFile(srcFilename);
        }`;
const SECOND_TO = `            updateContent(prevDecl, src + suffix);
            declsFile = builder.getSourceFile(declFilename);
            srcFile = builder.getSourceFile(srcFilename);
        } else {
            updateContent(prevDecl, src);
            declsFile = builder.getSourceFile(declFilename);
            srcFile = builder.getSourceFile(srcFilename);
        }`;

/** The names a cell declares at its top level, as the binder sees them inside a program (a symbol table). */
function localsOf(ts, fileName, text, options) {
  const file = ts.createSourceFile(fileName, text, options.target);
  ts.bindSourceFile(file, options);
  return file.locals;
}

/**
 * Loads tslab's converter.js (in `tslabDist`) with change 1 into require's cache, so tslab's own modules get
 * it; call before requiring any of them. `ts`: tslab's TypeScript (change 2 is applied to it).
 */
function speedUpTslab(tslabDist, ts) {
  const file = require.resolve(path.join(tslabDist, "converter.js"));
  if (require.cache[file]) throw new Error("tools/tslab-speed.js: tslab's converter was loaded before the patch");
  let text = fs.readFileSync(file, "utf8");
  text = once(text, ONE_PROGRAM_FROM, ONE_PROGRAM_TO, "convert() reads the cell's locals");
  text = once(text, SECOND_FROM, SECOND_TO, "convert() rebuilds with the export suffix");
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  m._compile(text, file);
  m.loaded = true;
  require.cache[file] = m;
}

module.exports = { speedUpTslab, localsOf };

/**
 * `node tools/tslab-speed.js convert stock|fast <cells.json>`: converts lists of cells (a JSON array of arrays
 * of cell sources, one converter per list, each cell seeing the declarations of the earlier ones, as the
 * kernel does) through tslab as is or with the changes above, and prints every result as JSON, with the
 * completions and hover text at the end of each cell. test/tslab-speed.test.ts compares the two routes.
 */
function convertCli(route, listFile) {
  const root = path.resolve(__dirname, "..");
  process.chdir(root);
  const tslabDist = path.join(root, "node_modules", "tslab", "dist");
  const ts = require(require.resolve("@tslab/typescript-for-tslab", { paths: [path.dirname(tslabDist)] }));
  require("./compiled-lib.js").useCompiledLib(root, ts);
  if (route === "fast") speedUpTslab(tslabDist, ts);
  else if (route !== "stock") throw new Error(`route must be stock or fast, not ${route}`);
  const { createConverter } = require(path.join(tslabDist, "converter.js"));
  const lists = JSON.parse(fs.readFileSync(listFile, "utf8"));
  const results = [];
  let convertMs = 0;
  for (const cells of lists) {
    const conv = createConverter({ isJS: false, isBrowser: false });
    let prev = "";
    const out = [];
    for (const src of cells) {
      const t = process.hrtime.bigint();
      const r = conv.convert(prev, src);
      convertMs += Number(process.hrtime.bigint() - t) / 1e6;
      const end = src.length;
      const complete = conv.complete(prev, src, end);
      const inspect = conv.inspect(prev, src, Math.max(0, end - 1));
      out.push({ ...r, complete: { ...complete, original: undefined }, inspect: inspect && { kind: inspect.kind, displayParts: inspect.displayParts, documentation: inspect.documentation } });
      if (r.diagnostics.length === 0) prev = r.declOutput || "";
    }
    conv.close();
    results.push(out);
  }
  fs.writeSync(1, JSON.stringify({ convertMs, results }));
  process.exit(0); // tslab's file watchers would keep the process alive
}

if (require.main === module) {
  const [cmd, route, file] = process.argv.slice(2);
  if (cmd !== "convert" || !route || !file) {
    console.error("usage: node tools/tslab-speed.js convert stock|fast <cells.json>");
    process.exit(2);
  }
  convertCli(route, file);
}

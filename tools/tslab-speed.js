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
//  2. The builder state's reference map: the files kept from the previous program (the very same SourceFile
//     objects: same text, same module resolutions) keep the references TypeScript computed for them then;
//     only the files that replaced others under the same name (tslab's two) are computed by TypeScript's own
//     code. Whenever a file comes or goes under a new name, or a file that comes or goes augments a module or
//     is a script (the only ways a file enters other files' references; cells are modules), the whole map is
//     computed afresh as before.
// tests: test/tslab-speed.test.ts converts a lecture, two homework solutions and cells written to fail
// through both routes and compares everything the converter returns.
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
        const locals = backpropLocalsOf(ts, srcFilename, srcPrefix + src, builder.getCompilerOptions());
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
 * Change 2: wraps `ts.BuilderState.create` (which tslab's watch program calls once per program) so that the
 * files kept from the previous program get their previous references, and only the files that replaced
 * others (tslab's two) are computed by TypeScript's own code. Falls back to TypeScript's computation for the
 * whole program whenever a file came or went under a new name or a file that came or went could reach
 * other files' references (a module augmentation, or a script: it may declare ambient modules).
 */
function reuseReferences(ts) {
  const B = ts.BuilderState;
  if (B.create.backprop) return;
  const create = B.create;
  let last = null; // { options, files: Set of SourceFile, info: Map SourceFile → { refs, affectsGlobalScope } }
  const inert = (f) => ts.isExternalModule(f) && (!f.moduleAugmentations || f.moduleAugmentations.length === 0);
  const record = (program, state) => {
    const info = new Map();
    for (const f of program.getSourceFiles()) {
      const fi = state.fileInfos.get(f.resolvedPath);
      info.set(f, { refs: state.referencedMap.getValues(f.resolvedPath), affectsGlobalScope: fi && fi.affectsGlobalScope });
    }
    last = { options: program.getCompilerOptions(), files: new Set(program.getSourceFiles()), info };
    return state;
  };
  const wrapped = function (newProgram, oldState, disableUseFileVersionAsSignature) {
    const files = newProgram.getSourceFiles();
    const options = newProgram.getCompilerOptions();
    const full = () => {
      const state = create(newProgram, oldState, disableUseFileVersionAsSignature);
      return state.referencedMap ? record(newProgram, state) : ((last = null), state);
    };
    if (!last || last.options !== options || !oldState || !oldState.referencedMap) return full();
    const entering = files.filter((f) => !last.files.has(f));
    const current = new Set(files);
    const leaving = [...last.files].filter((f) => !current.has(f));
    const names = (list) => list.map((f) => f.resolvedPath).sort().join("\n");
    if (entering.length !== leaving.length || names(entering) !== names(leaving) || ![...entering, ...leaving].every(inert)) return full();
    // TypeScript's own computation for the files that changed (against the whole program's checker)
    const part = create(Object.assign(Object.create(newProgram), { getSourceFiles: () => entering }), oldState, disableUseFileVersionAsSignature);
    const useOldState = B.canReuseOldState(part.referencedMap, oldState);
    const fileInfos = new Map();
    const referencedMap = B.createManyToManyPathMap();
    const exportedModulesMap = B.createManyToManyPathMap();
    for (const f of files) {
      const p = f.resolvedPath;
      let refs;
      if (last.files.has(f)) {
        // the same expressions as BuilderState.create, for a file whose references are already known
        const known = last.info.get(f);
        const oldUncommittedSignature = useOldState && oldState.oldSignatures ? oldState.oldSignatures.get(p) : undefined;
        const oldInfo = useOldState ? oldState.fileInfos.get(p) : undefined;
        const signature = oldUncommittedSignature === undefined ? (oldInfo ? oldInfo.signature : undefined) : oldUncommittedSignature || undefined;
        fileInfos.set(p, { version: ts.Debug.checkDefined(f.version), signature, affectsGlobalScope: known.affectsGlobalScope, impliedFormat: f.impliedNodeFormat });
        refs = known.refs;
      } else {
        fileInfos.set(p, part.fileInfos.get(p));
        refs = part.referencedMap.getValues(p);
      }
      if (refs) referencedMap.set(p, refs);
      if (useOldState) {
        const oldUncommitted = oldState.oldExportedModulesMap ? oldState.oldExportedModulesMap.get(p) : undefined;
        const exported = oldUncommitted === undefined ? oldState.exportedModulesMap.getValues(p) : oldUncommitted || undefined;
        if (exported) exportedModulesMap.set(p, exported);
      }
    }
    return record(newProgram, { ...part, fileInfos, referencedMap, exportedModulesMap });
  };
  wrapped.backprop = true;
  B.create = wrapped;
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
  if (typeof (ts.BuilderState && ts.BuilderState.create) !== "function" || typeof ts.bindSourceFile !== "function") {
    throw new Error("tools/tslab-speed.js: tslab's TypeScript has no BuilderState.create or bindSourceFile; run with BACKPROP_TSLAB_STOCK=1");
  }
  // BACKPROP_TSLAB_REFS=0: one program per cell only (to measure the two changes apart)
  if (process.env.BACKPROP_TSLAB_REFS !== "0") reuseReferences(ts);
  // bound once, when the converter loads: a cell cannot swap the function through require's cache later
  text += "\nconst backpropLocalsOf = module.backpropLocalsOf;\n";
  const m = new Module(file, module);
  m.backpropLocalsOf = localsOf;
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  m._compile(text, file);
  m.loaded = true;
  require.cache[file] = m;
}

// frozen: the patched converter and the kernel take these once, and a cell cannot replace them for later cells
module.exports = Object.freeze({ speedUpTslab, localsOf });

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

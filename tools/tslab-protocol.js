// Makes tslab 1.0.22 speak the Jupyter messaging protocol where it does not, by patching its classes at load
// time (nothing in node_modules is edited). Loaded by tools/tslab-kernel.js before the kernel starts.
//
// What tslab does and what this changes (see README, "The kernel and the Jupyter protocol"):
//  1. A failing cell: tslab prints the error to the cell's stderr and replies `status: "error"` without
//     `ename`/`evalue`/`traceback`, and sends no `error` message on iopub. Here the error is caught where tslab
//     prints it and sent as an iopub `error` message plus a complete error reply; the traceback is short: the
//     message, then the frames in the notebook's cells (as `In[n] line k`) and in project files, no kernel frames.
//     Type errors become `TSError` with tslab's `line:col - message` lines.
//  2. The value of a cell's last expression: tslab console.log()s it (stdout text). Here it is an
//     `execute_result` (text/plain, with tslab's rendering, i.e. util.format), so front ends show Out[n].
//  3. kernel_info_reply gains `status: "ok"`, the bundled TypeScript's version (tslab says 3.7.2) and tslab's
//     own version (it says 1.0.0).
//  4. An `execute_input` message is published before each execution (nbconvert/nbclient read the cell's
//     execution_count from it).
//  5. comm_info_reply is sent with its own msg_type (tslab labels it complete_reply) and `status: "ok"`;
//     shutdown_reply gets `status: "ok"` and echoes `restart`.
//  6. After a failed cell tslab aborts every request for 200 ms; here only those already queued, and none when
//     the request says `stop_on_error: false`. A `silent` request publishes no execute_input/execute_result.
// To name cells in tracebacks, a cell's code runs as the file `In[n]` (tslab passes no file name to vm), and
// Error.stackTraceLimit is raised to 50.
// A fix in tslab itself would do the same in executor.js (return the error and the last value from execute()
// instead of printing them) and jupyter.js (publish them); this file is written so that it can be dropped then.
"use strict";
const fs = require("fs");
const path = require("path");
const util = require("util");
const vm = require("vm");

const { createStudentNotes } = require("./student-notes.js");
const { sourcePosition } = require("./compiled-lib.js");

const CELL = Symbol("backprop-lab cell");
/** The cell being executed (tslab runs one at a time), or null. */
let current = null;
/** Compiled JavaScript and TypeScript source of the cells run so far, by the file name their code runs as. */
const cells = new Map();
const MAX_CELLS = 2000;
/** Compiled JavaScript of the project's TypeScript files that cells imported, by the path tslab runs it as. */
const modules = new Map();
const tsSources = new Map();
const MAX_FRAMES = 12;

/** Name of the file a cell's code runs as: frames from it read `In[3]:2:7`. */
function cellFile(count) {
  return `In[${count}]`;
}

/**
 * The TypeScript line (1-based) of a cell that a compiled JavaScript line comes from, or 0 when unsure.
 * TypeScript's emit mostly deletes (types, `!`, `as T`), so the JavaScript line, without blanks, is a
 * subsequence of its source line; the closest such line wins, ties going to the line nearest `near`.
 */
function sourceLine(tsSource, jsLine, near) {
  const squeeze = (s) => s.replace(/\s+/g, "");
  // tslab's rewrites: the last value goes to exports.tsLastExpr, earlier cells' names are read from exports.
  const js = squeeze(jsLine.replace(/^exports\.tsLastExpr\w*\s*=\s*/, "").replace(/\bexports\./g, "")).replace(/;$/, "");
  if (!js) return 0;
  const isSubsequence = (small, big) => {
    let i = 0;
    for (let j = 0; j < big.length && i < small.length; j++) if (big[j] === small[i]) i++;
    return i === small.length;
  };
  let best = 0;
  let bestScore = Infinity;
  tsSource.split("\n").forEach((line, k) => {
    const ts = squeeze(line);
    if (!ts || !isSubsequence(js, ts)) return;
    const score = (ts.length - js.length) * 1000 + Math.abs(k + 1 - near);
    if (score < bestScore) {
      bestScore = score;
      best = k + 1;
    }
  });
  return best;
}

/** A stack frame, rewritten for a student, or null when it is the kernel's own (tslab, Node, node_modules). */
function describeFrame(frame, root) {
  const m = /^\s*at (?:(.*?) \()?(.*?):(\d+):(\d+)\)?$/.exec(frame);
  if (!m) return null;
  const [, fn, file, line] = m;
  const cell = cells.get(file);
  if (cell) {
    const jsLine = (cell.js.split("\n")[Number(line) - 1] || "").trim();
    if (!jsLine) return null; // the line of tslab's wrapper that calls the cell's code
    const name = fn && fn.replace(/^Proxy\./, ""); // functions of earlier cells are called through tslab's exports
    const tsLine = sourceLine(cell.ts, jsLine, Number(line));
    const where = tsLine ? `${file} line ${tsLine}` : file;
    const code = tsLine ? cell.ts.split("\n")[tsLine - 1].trim() : jsLine;
    return `    at ${name ? `${name} (${where})` : where}: ${code}`;
  }
  const compiled = sourcePosition(file, Number(line), Number(m[4]));
  if (compiled) {
    // the compiled library (.lib-build/): name the lib/ source line its source map gives
    const where = `${path.relative(root, compiled.file)}:${compiled.line}`;
    return `    at ${fn ? `${fn} (${where})` : where}`;
  }
  if (/^node:|^internal[\\/]|[\\/]node_modules[\\/]|^evalmachine\./.test(file) || !path.isAbsolute(file)) return null;
  if (file === __filename || file === path.join(__dirname, "tslab-kernel.js")) return null; // this patch, the launcher
  const rel = path.relative(root, file);
  if (rel.startsWith("..")) return null;
  const ts = modules.has(file) ? typescriptOf(file) : null;
  if (ts) {
    // a project .ts file compiled by tslab: name the TypeScript line, not the compiled one
    const jsLine = modules.get(file).split("\n")[Number(line) - 1] || "";
    const tsLine = sourceLine(ts.text, jsLine, Number(line));
    if (tsLine) return `    at ${fn ? `${fn} (${ts.rel}:${tsLine})` : `${ts.rel}:${tsLine}`}`;
  }
  return `    at ${fn ? `${fn} (${rel}:${line}:${m[4]})` : `${rel}:${line}:${m[4]}`}`;
}

/** The TypeScript file a compiled module came from, as { rel, text }, or null. */
function typescriptOf(jsFile) {
  if (!tsSources.has(jsFile)) {
    let found = null;
    for (const ext of [".ts", ".tsx"]) {
      const file = jsFile.replace(/\.js$/, ext);
      try {
        found = { rel: path.relative(process.cwd(), file), text: fs.readFileSync(file, "utf8") };
        break;
      } catch {
        // not this extension
      }
    }
    tsSources.set(jsFile, found);
  }
  return tsSources.get(jsFile);
}

/** ename, evalue and a short traceback for a value a cell threw. */
function describeThrown(e, root) {
  const isError = e instanceof Error || (e && typeof e === "object" && typeof e.message === "string" && typeof e.stack === "string");
  if (!isError) return { ename: "Uncaught", evalue: util.inspect(e), traceback: [`Uncaught ${util.inspect(e)}`] };
  // A subclass that does not set `name` still says what it is (class ShapeError extends Error {}).
  let ename = typeof e.name === "string" && e.name ? e.name : "Error";
  const ctor = e.constructor && e.constructor.name;
  if (ename === "Error" && ctor && ctor !== "Error" && ctor !== "Object") ename = ctor;
  const evalue = String(e.message);
  const frames = String(e.stack || "")
    .split("\n")
    .filter((l) => /^\s+at /.test(l))
    .map((l) => describeFrame(l, root))
    .filter((l) => l !== null)
    .slice(0, MAX_FRAMES);
  return { ename, evalue, traceback: [evalue ? `${ename}: ${evalue}` : ename, ...frames] };
}

/** ename, evalue and traceback for TypeScript diagnostics (tslab's `line:col - message` lines). */
function describeDiagnostics(diags, tsSource) {
  const lines = [];
  for (const d of diags) {
    const where = `${d.file ? d.file + " " : ""}${d.line}:${d.col}`;
    lines.push(`${where} - ${d.message}`);
    if (!d.file) {
      const code = tsSource.split("\n")[d.line - 1];
      if (code !== undefined) lines.push(`    ${code}`, `    ${" ".repeat(Math.max(0, d.col - 1))}^`);
    }
  }
  const first = diags[0];
  const more = diags.length > 1 ? ` (and ${diags.length - 1} more)` : "";
  const evalue = `${first.file ? first.file + " " : ""}${first.line}:${first.col} - ${first.message}${more}`;
  // one diagnostic in the cell: its line would repeat the first line of the traceback, keep only code and caret
  const detail = diags.length === 1 && !first.file ? lines.slice(1) : lines;
  return { ename: "TSError", evalue, traceback: [`TSError: ${evalue}`, ...detail] };
}

/** What tslab's executor prints through the console it is given: the thrown value, diagnostics, the last value. */
function cellConsole(original, root) {
  return {
    log(...args) {
      if (current && args.length === 1) {
        // executor.js logs exactly one thing: the value of the cell's last expression (none for a silent request).
        if (!current.silent) {
          current.publish("execute_result", {
            execution_count: current.count,
            data: { "text/plain": util.format(args[0]) },
            metadata: {},
          });
        }
        return;
      }
      original.log(...args);
    },
    error(...args) {
      if (current && args[0] === "%s%d:%d - %s" && args.length === 5) {
        const file = args[1] ? String(args[1]).trim() : "";
        current.diagnostics.push({ file, line: args[2], col: args[3], message: String(args[4]) });
        return;
      }
      if (current && args.length === 1 && !current.error) {
        current.error = describeThrown(args[0], root);
        return;
      }
      original.error(...args);
    },
  };
}

/** Converters that remember each cell's compiled code, so its frames can be mapped back to the cell. */
function rememberingConverters(convs) {
  const wrap = (conv) =>
    new Proxy(conv, {
      get(target, prop) {
        if (prop !== "convert") return Reflect.get(target, prop);
        return (prevDecl, src) => {
          const out = target.convert(prevDecl, src);
          if (current && out.output) current.js = out.output;
          for (const side of out.sideOutputs || []) {
            modules.set(side.path, side.data);
            tsSources.delete(side.path);
          }
          return out;
        };
      },
    });
  let node;
  return {
    get node() {
      return node || (node = wrap(convs.node));
    },
    get browser() {
      return convs.browser;
    },
    close() {
      convs.close();
    },
  };
}

/**
 * Runs the cell's code as file `In[n]` instead of `evalmachine.<anonymous>`. Only tslab's own call is touched:
 * it comes while a cell executes, with tslab's wrapper and options; any other use of vm is left as it is.
 */
function nameCellScripts() {
  const runInThisContext = vm.runInThisContext;
  vm.runInThisContext = function (code, options) {
    if (
      current &&
      !current.named &&
      typeof code === "string" &&
      /^\(async function\(exports, require\) \{ |^\(function\(exports, require\) \{ /.test(code) &&
      options && typeof options === "object" && options.breakOnSigint === true && options.filename === undefined
    ) {
      current.named = true;
      const filename = cellFile(current.count);
      cells.set(filename, { js: current.js || "", ts: current.code });
      if (cells.size > MAX_CELLS) cells.delete(cells.keys().next().value);
      return runInThisContext.call(this, code, { ...options, filename });
    }
    return runInThisContext.apply(this, arguments);
  };
}

function typescriptVersion(tslabDir) {
  try {
    return require(require.resolve("@tslab/typescript-for-tslab/package.json", { paths: [tslabDir] })).version;
  } catch {
    return "";
  }
}

/**
 * Patches tslab (its dist/ folder is `tslabDist`) in this process; call before startKernel. `compiledLib`: the
 * kernel imports the compiled library (compiled-lib.js), which changes the first import's note.
 */
function patchTslab(tslabDist, root, { compiledLib = false } = {}) {
  const jupyter = require(path.join(tslabDist, "jupyter.js"));
  const executor = require(path.join(tslabDist, "executor.js"));
  const util_ = require(path.join(tslabDist, "util.js"));
  const tslabDir = path.dirname(tslabDist);
  const tslabVersion = require(path.join(tslabDir, "package.json")).version;
  const tsVersion = typescriptVersion(tslabDir);
  const { JupyterHandlerImpl, ZmqServer } = jupyter;
  const notes = createStudentNotes({ compiledLib });
  for (const [what, ok] of [
    ["executor.createExecutor", typeof executor.createExecutor === "function"],
    ["JupyterHandlerImpl.handleExecuteImpl", typeof JupyterHandlerImpl?.prototype?.handleExecuteImpl === "function"],
    ["JupyterHandlerImpl.handleKernel", typeof JupyterHandlerImpl?.prototype?.handleKernel === "function"],
    ["ZmqServer.handleExecute", typeof ZmqServer?.prototype?.handleExecute === "function"],
  ]) {
    if (!ok) throw new Error(`tslab ${tslabVersion} has no ${what}: tools/tslab-protocol.js was written for tslab 1.0.22 and must be checked against this version`);
  }

  // tfjs alone can fill Node's default 10 frames: keep enough to reach the cell that called it.
  Error.stackTraceLimit = Math.max(Error.stackTraceLimit || 0, 50);
  const createExecutor = executor.createExecutor;
  executor.createExecutor = (rootDir, convs, console) => createExecutor(rootDir, rememberingConverters(convs), cellConsole(console, root));
  nameCellScripts();

  // After a failed cell tslab cancels the requests already queued (right) and, for 200 ms more, any new one
  // (tslab issue #19), so a client that sends its next cell quickly gets it aborted. Cancel only what was
  // queued when the cell failed, as ipykernel does (stop_on_error_timeout 0).
  if (typeof util_.TaskQueue?.prototype?.reset === "function") {
    util_.TaskQueue.prototype.reset = function () {
      this.prev = Promise.resolve();
    };
  }

  const handleKernel = JupyterHandlerImpl.prototype.handleKernel;
  JupyterHandlerImpl.prototype.handleKernel = function () {
    const reply = handleKernel.call(this);
    reply.status = "ok";
    reply.implementation_version = tslabVersion;
    if (!this.isJs && tsVersion) reply.language_info.version = tsVersion;
    return reply;
  };

  JupyterHandlerImpl.prototype.handleShutdown = function (req) {
    return { status: "ok", restart: !!(req && req.restart) };
  };

  // Runs inside tslab's queue, one cell at a time: the cell's record is `current` while it runs.
  const handleExecuteImpl = JupyterHandlerImpl.prototype.handleExecuteImpl;
  JupyterHandlerImpl.prototype.handleExecuteImpl = async function (req, writeStream, writeDisplayData) {
    const cell = req[CELL];
    if (!cell) return handleExecuteImpl.call(this, req, writeStream, writeDisplayData);
    cell.count = this.execCount + 1; // what tslab's handleExecuteImpl is about to number this execution
    cell.code = String(req.code);
    cell.silent = req.silent === true;
    if (!cell.silent) cell.publish("execute_input", { code: cell.code, execution_count: cell.count });
    current = cell;
    try {
      return await handleExecuteImpl.call(this, req, writeStream, writeDisplayData);
    } catch (e) {
      // tslab fails a cell by throwing its count, which cancels the requests queued behind it. A client that
      // asks to go on after errors (stop_on_error: false, e.g. nbclient --allow-errors) gets them run.
      if (req.stop_on_error === false && e && typeof e.count === "number" && !(e instanceof Error)) {
        cell.failed = true;
        return e;
      }
      throw e;
    } finally {
      current = null;
    }
  };

  ZmqServer.prototype.handleExecute = async function (sock, msg) {
    const publish = (msgType, content) => {
      const m = msg.createReply();
      m.header.msg_type = msgType;
      m.content = content;
      m.signAndSend(this.connInfo.key, this.iopub);
    };
    const writeStream = (name, text) => publish("stream", { name, text });
    const writeDisplayData = (data, update) => publish(update ? "update_display_data" : "display_data", data);
    const cell = { publish, count: null, code: "", js: "", named: false, error: null, diagnostics: [], failed: false, silent: false };
    Object.defineProperty(msg.content, CELL, { value: cell });
    const code = String(msg.content.code || "");
    if (msg.content.silent !== true) notes.before(code, writeStream);
    const content = await this.handler.handleExecute(msg.content, writeStream, writeDisplayData);
    if (cell.failed) content.status = "error";
    if (msg.content.silent !== true && content.status !== "abort") {
      notes.after(code, { failed: content.status === "error", compileError: content.status === "error" && !cell.error && cell.diagnostics.length > 0 }, writeStream);
    }
    if (content.status === "error") {
      const err = cell.error || (cell.diagnostics.length > 0 ? describeDiagnostics(cell.diagnostics, cell.code) : null) || {
        ename: "Error",
        evalue: "the cell failed (tslab gave no reason)",
        traceback: ["Error: the cell failed (tslab gave no reason)"],
      };
      publish("error", err);
      Object.assign(content, err);
    } else if (cell.diagnostics.length > 0) {
      // Diagnostics of a cell that still ran (a //%module cell): tslab's text, on stderr as before.
      writeStream("stderr", cell.diagnostics.map((d) => `${d.file ? d.file + " " : ""}${d.line}:${d.col} - ${d.message}\n`).join(""));
    }
    const reply = msg.createReply();
    reply.header.msg_type = "execute_reply";
    reply.content = content;
    reply.signAndSend(this.connInfo.key, sock);
  };

  ZmqServer.prototype.handleCommInfoRequest = function (sock, msg) {
    const reply = msg.createReply();
    reply.header.msg_type = "comm_info_reply";
    reply.content = { status: "ok", comms: {} };
    reply.signAndSend(this.connInfo.key, sock);
  };
}

module.exports = { patchTslab, sourceLine, describeThrown, describeDiagnostics };

/**
 * `npm run course`: executes every lecture notebook headless with the tslab kernel, writes the executed
 * notebooks and their HTML to build/, prints one line per notebook with its wall time, and exits non-zero
 * on any failure with the notebook, the cell, the cell's first lines and the real error text.
 *
 *   npm run course                 every notebook in notebooks/
 *   npm run course -- --only 01,03 a subset, by number prefix or name fragment
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { ensureJupyter, executeNotebook, runMain, ROOT, NotebookRun, JupyterEnv } from "./jupyter-env";
import { readNotebook, cellSource } from "./notebook-info";
import { parseCli, numberOption, listOption, pickedByOnly, UsageError } from "./cli";
import { exportCourse } from "./slides";

export const NOTEBOOKS_DIR = path.join(ROOT, "notebooks");
export const BUILD_DIR = path.join(ROOT, "build");

export interface CourseOptions {
  only: string[];
  notebooksDir: string;
  buildDir: string;
  cellTimeout: number;
}

const USAGE = "usage: npm run course -- [--only NN[,NN]] [--notebooks DIR] [--build DIR] [--cell-timeout S]";

export function parseArgs(argv: string[]): CourseOptions {
  const { values: v } = parseCli(argv, {
    only: { type: "string", multiple: true },
    notebooks: { type: "string" },
    build: { type: "string" },
    "cell-timeout": { type: "string" },
  }, USAGE);
  return {
    only: listOption(v.only),
    notebooksDir: v.notebooks ? path.resolve(v.notebooks) : NOTEBOOKS_DIR,
    buildDir: v.build ? path.resolve(v.build) : BUILD_DIR,
    cellTimeout: numberOption("cell-timeout", v["cell-timeout"], 300, 1),
  };
}

/** Lecture notebooks (NN-name.ipynb) in order, filtered by --only. */
export function listNotebooks(dir: string, only: string[]): string[] {
  const all = fs.readdirSync(dir).filter((f) => /^\d\d-.*\.ipynb$/.test(f)).sort();
  const picked = all.filter((f) => pickedByOnly(f, only));
  if (only.length > 0 && picked.length === 0) {
    throw new UsageError(`--only ${only.join(",")} matches no notebook in ${path.relative(ROOT, dir) || dir}; there are: ${all.join(", ")}`);
  }
  return picked.map((f) => path.join(dir, f));
}

/** Drops stack frames inside tslab and Node from the kernel's stderr (a dead kernel's last words); a cell's
 * error needs no filtering: the kernel's traceback names only the cells and the project's files. */
function withoutKernelFrames(text: string): string {
  return text
    .trimEnd()
    .split("\n")
    .filter((l) => !/^\s+at .*(node_modules[\\/]tslab|node:vm|node:internal|sigintHandlersWrap)/.test(l))
    .join("\n");
}

/** The report for a failed notebook: which cell, its first lines, and the real error text. */
export function describeFailure(notebook: string, run: NotebookRun): string {
  const name = path.basename(notebook);
  if (run.fatal) return `${name}: could not run: ${run.fatal}`;
  const f = run.failure;
  if (!f) return `${name}: failed without a reported cell`;
  const lines: string[] = [];
  if (f.index === null || f.index === undefined) {
    lines.push(`${name}: ${f.status === "dead" ? "the kernel died" : "the kernel failed"}: ${f.message ?? ""}`);
  } else {
    const cell = readNotebook(notebook).cells[f.index];
    const text = cell ? cellSource(cell) : "";
    const what = { error: "raised an error", timeout: "timed out", dead: "killed the kernel", fatal: "failed", ok: "" }[f.status];
    lines.push(`${name}: cell ${f.index + 1} ${what}`);
    for (const l of text.split("\n").slice(0, 4)) lines.push(`    | ${l}`);
    lines.push(...(f.message || "(no message)").split("\n").slice(0, 30).map((l) => `  ${l}`));
  }
  if (f.kernel_stderr) lines.push("  kernel stderr:", ...withoutKernelFrames(f.kernel_stderr).split("\n").slice(-15).map((l) => `    ${l}`));
  return lines.join("\n");
}

/** Exports executed notebooks to HTML pages and reveal.js slides (tools/slides.ts); returns the names that failed. */
export function exportHtml(jenv: JupyterEnv, executed: string[], buildDir: string): string[] {
  if (executed.length === 0) return [];
  return exportCourse(jenv, executed, buildDir).filter((r) => !r.ok).map((r) => path.basename(r.notebook));
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const jenv = ensureJupyter();
  // Notebooks outside the repository (e.g. --notebooks in tests) still import this project's lib/;
  // inside it, the kernel finds the root by itself, as it does when Jupyter opens a notebook.
  if (path.relative(ROOT, opts.notebooksDir).startsWith("..")) jenv.env.BACKPROP_ROOT = ROOT;
  const notebooks = listNotebooks(opts.notebooksDir, opts.only);
  const executedDir = path.join(opts.buildDir, "notebooks");
  fs.mkdirSync(executedDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "backprop-course-"));
  const executed: string[] = [];
  const failures: string[] = [];
  const t0 = Date.now();
  for (const nb of notebooks) {
    const out = path.join(executedDir, path.basename(nb));
    const run = executeNotebook(jenv, {
      notebook: nb,
      output: out,
      cwd: path.dirname(nb),
      cell_timeout: opts.cellTimeout,
      kernel_stderr: path.join(tmp, "kernel.stderr"),
    }, tmp);
    const secs = ((run.wall_ms ?? 0) / 1000).toFixed(1).padStart(6);
    if (run.ok) {
      executed.push(out);
      console.log(`ok    ${secs} s  ${path.basename(nb)}`);
    } else {
      console.log(`FAIL  ${secs} s  ${path.basename(nb)}`);
      failures.push(describeFailure(nb, run));
    }
  }
  const htmlFailed = exportHtml(jenv, executed, opts.buildDir);
  fs.rmSync(tmp, { recursive: true, force: true });
  const total = ((Date.now() - t0) / 1000).toFixed(1);
  if (failures.length > 0 || htmlFailed.length > 0) {
    console.error(`\n${failures.length} of ${notebooks.length} notebooks failed (${total} s):\n`);
    for (const f of failures) console.error(f + "\n");
    return 1;
  }
  const rel = (p: string) => path.relative(ROOT, path.join(opts.buildDir, p)) || ".";
  console.log(`${notebooks.length} notebooks executed (${total} s): pages in ${rel("html")}/, slides in ${rel("slides")}/, index at ${rel("index.html")}`);
  return 0;
}

if (require.main === module) runMain(main);

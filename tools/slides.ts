/**
 * `npm run slides`: exports every executed notebook in build/notebooks/ to an HTML page and a reveal.js
 * deck, and writes build/index.html linking lectures, slides and exercises. Everything opens offline from
 * the build folder (file://): reveal.js, MathJax and plotly.js are copied from node_modules into
 * build/assets/ and referenced by relative URLs. `npm run course` calls exportCourse() after executing.
 *
 *   npm run slides                      every executed notebook in build/notebooks/
 *   npm run slides -- --only 01,03      a subset, by number prefix or name fragment
 *   npm run slides -- --build DIR       another build folder (as `npm run course -- --build DIR`)
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { ensureJupyter, runMain, ROOT, JupyterEnv } from "./jupyter-env";
import { readNotebook, deckInfo, cellSource } from "./notebook-info";
import { parseCli, listOption, pickedByOnly } from "./cli";

export const BUILD_DIR = path.join(ROOT, "build");
export const EXERCISES_DIR = path.join(ROOT, "exercises");
const TEMPLATES = path.join(__dirname, "nbtemplates");

/** Files copied from node_modules into build/assets/ (package, what, where under assets/). */
const ASSETS: { pkg: string; from: string; to: string }[] = [
  { pkg: "reveal.js", from: "dist", to: "reveal.js/dist" },
  { pkg: "reveal.js", from: "plugin/notes", to: "reveal.js/plugin/notes" },
  // MathJax loads some components on demand (TeX extensions, menu, a11y) from next to tex-svg.js.
  { pkg: "mathjax", from: "es5", to: "mathjax" },
  { pkg: "plotly.js-dist-min", from: "plotly.min.js", to: "plotly/plotly.min.js" },
];

function packageDir(pkg: string): string {
  try {
    return path.dirname(require.resolve(`${pkg}/package.json`, { paths: [ROOT] }));
  } catch {
    throw new Error(`the npm package ${pkg} is missing; run \`npm install\` (it is a dependency in package.json)`);
  }
}

/** Copies reveal.js, MathJax and plotly.js into BUILD/assets once per package version. */
export function copyAssets(buildDir: string): string {
  const assets = path.join(buildDir, "assets");
  const versions: Record<string, string> = {};
  for (const a of ASSETS) versions[a.pkg] = (JSON.parse(fs.readFileSync(path.join(packageDir(a.pkg), "package.json"), "utf8")) as { version: string }).version;
  const stamp = path.join(assets, "versions.json");
  const want = JSON.stringify(versions, null, 1);
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === want) return assets;
  fs.rmSync(assets, { recursive: true, force: true });
  for (const a of ASSETS) {
    fs.mkdirSync(path.dirname(path.join(assets, a.to)), { recursive: true });
    fs.cpSync(path.join(packageDir(a.pkg), a.from), path.join(assets, a.to), { recursive: true });
  }
  fs.writeFileSync(stamp, want);
  return assets;
}

export interface ExportResult {
  notebook: string;
  ok: boolean;
  message?: string;
  html?: string;
  slides?: string;
  ms_html?: number;
  ms_slides?: number;
  figures?: number;
  figures_in_slides?: number;
  title?: string | null;
}

interface ExportItem {
  notebook: string;
  html: string | null;
  slides: string | null;
  slides_url: string | null;
}

/** Runs tools/nbexport.py on a list of items; one result per item, in order. */
function runExporter(jenv: JupyterEnv, assets: string, items: ExportItem[]): ExportResult[] {
  if (items.length === 0) return [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "backprop-export-"));
  try {
    const job = path.join(tmp, "job.json");
    fs.writeFileSync(job, JSON.stringify({ templates: TEMPLATES, assets, items }));
    const r = spawnSync(jenv.python, ["-Xfrozen_modules=off", path.join(__dirname, "nbexport.py"), job], {
      env: jenv.env,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    const lines = (r.stdout ?? "").trim().split("\n").filter((l) => l.startsWith("{"));
    const results = lines.map((l) => JSON.parse(l) as ExportResult);
    return items.map(
      (item) =>
        results.find((x) => x.notebook === item.notebook) ??
        results.find((x) => x.notebook === null && !x.ok) ?? {
          notebook: item.notebook,
          ok: false,
          message: `nbexport.py stopped before this notebook (exit ${r.status}): ${(r.stderr ?? "").slice(-1500)}`,
        },
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const stem = (file: string) => path.basename(file, ".ipynb");

/**
 * Exports executed lecture notebooks to BUILD/html/NN-x.html and BUILD/slides/NN-x.slides.html, then
 * rewrites BUILD/index.html. Prints one line per notebook with the export times; returns the results.
 */
export function exportCourse(jenv: JupyterEnv, executed: string[], buildDir: string, log: (s: string) => void = console.log): ExportResult[] {
  const assets = copyAssets(buildDir);
  const items: ExportItem[] = executed.map((nb) => ({
    notebook: nb,
    html: path.join(buildDir, "html", `${stem(nb)}.html`),
    slides: path.join(buildDir, "slides", `${stem(nb)}.slides.html`),
    slides_url: `../slides/${stem(nb)}.slides.html`,
  }));
  const results = runExporter(jenv, assets, items);
  for (const r of results) {
    if (r.ok) log(`export ${(((r.ms_html ?? 0) + (r.ms_slides ?? 0)) / 1000).toFixed(1).padStart(5)} s  ${path.basename(r.notebook)} (page ${r.ms_html} ms, slides ${r.ms_slides} ms, ${r.figures} figures)`);
    else log(`export FAIL    ${path.basename(r.notebook)}: ${r.message}`);
  }
  exportExercises(jenv, assets, buildDir, log);
  writeIndex(buildDir);
  return results;
}

/** Student exercises (exercises/*.ipynb, not executed): a read-only page and the notebook to download. */
function exportExercises(jenv: JupyterEnv, assets: string, buildDir: string, log: (s: string) => void): void {
  if (!fs.existsSync(EXERCISES_DIR)) return;
  const files = fs.readdirSync(EXERCISES_DIR).filter((f) => f.endsWith(".ipynb")).sort();
  const outDir = path.join(buildDir, "exercises");
  fs.rmSync(outDir, { recursive: true, force: true });
  if (files.length === 0) return;
  fs.mkdirSync(outDir, { recursive: true });
  const items = files.map((f) => {
    fs.copyFileSync(path.join(EXERCISES_DIR, f), path.join(outDir, f));
    return { notebook: path.join(EXERCISES_DIR, f), html: path.join(outDir, `${stem(f)}.html`), slides: null, slides_url: null };
  });
  for (const r of runExporter(jenv, assets, items)) if (!r.ok) log(`export FAIL    exercises/${path.basename(r.notebook)}: ${r.message}`);
}

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export interface LectureInfo {
  /** One line on what the lecture covers (notebook metadata backprop.summary). */
  summary?: string;
  /** Seconds the executed notebook took, first cell started to last cell finished (nbclient's timings). */
  seconds?: number;
  /** Homework the "Para practicar" cell links (exercises/hwNN-x.ipynb → "hwNN-x"). */
  homework: string[];
}

/** What the index says about an executed lecture. */
export function lectureInfo(nb: ReturnType<typeof readNotebook>): LectureInfo {
  const summary = (nb.metadata?.backprop as { summary?: string } | undefined)?.summary;
  const times = nb.cells.flatMap((c) => {
    const e = (c.metadata?.execution ?? {}) as Record<string, string>;
    return [e["iopub.status.busy"], e["iopub.status.idle"]].filter(Boolean).map((t) => Date.parse(t));
  }).filter(Number.isFinite);
  const seconds = times.length >= 2 ? (Math.max(...times) - Math.min(...times)) / 1000 : undefined;
  const practice = nb.cells.filter((c) => c.cell_type === "markdown" && /^## Para practicar/.test(cellSource(c))).map(cellSource).join("\n");
  const homework = [...new Set(Array.from(practice.matchAll(/exercises\/(hw\d\d-[\w-]+)\.ipynb/g), (m) => m[1]))];
  return { summary, seconds, homework };
}

/** BUILD/index.html: one row per lecture (page, summary, slides, run time, homework), then the exercises. */
export function writeIndex(buildDir: string): string {
  const list = (dir: string, re: RegExp) => (fs.existsSync(path.join(buildDir, dir)) ? fs.readdirSync(path.join(buildDir, dir)).filter((f) => re.test(f)).sort() : []);
  const rows: string[] = [];
  for (const page of list("html", /^\d\d-.*\.html$/)) {
    const name = page.replace(/\.html$/, "");
    const executed = path.join(buildDir, "notebooks", `${name}.ipynb`);
    const info = fs.existsSync(executed) ? lectureInfo(readNotebook(executed)) : undefined;
    const title = (info && fs.existsSync(executed) && deckInfo(readNotebook(executed)).title) || name;
    const deck = fs.existsSync(path.join(buildDir, "slides", `${name}.slides.html`)) ? `<a href="slides/${name}.slides.html">diapositivas</a>` : "";
    const homework = (info?.homework ?? [])
      .map((hw) => (fs.existsSync(path.join(buildDir, "exercises", `${hw}.html`)) ? `<a href="exercises/${hw}.html">${escapeHtml(hw)}</a>` : escapeHtml(hw)))
      .join(", ");
    const runs = info?.seconds !== undefined ? `${Math.max(1, Math.round(info.seconds))} s` : "";
    rows.push(
      `<tr><td><a href="html/${page}">${escapeHtml(title)}</a><div class="summary">${escapeHtml(info?.summary ?? "")}</div></td>` +
        `<td>${deck}</td><td class="runs">${runs}</td><td>${homework}</td></tr>`,
    );
  }
  const exercises = list("exercises", /\.html$/).map((page) => {
    const name = page.replace(/\.html$/, "");
    const file = path.join(buildDir, "exercises", `${name}.ipynb`);
    if (!fs.existsSync(file)) return `<li><a href="exercises/${page}">${escapeHtml(name)}</a></li>`;
    const first = readNotebook(file).cells.find((c) => c.cell_type === "markdown");
    const heading = first ? cellSource(first).trim().split("\n")[0].replace(/^#+\s*/, "") : "";
    return `<li><a href="exercises/${page}">${escapeHtml(heading || name)}</a> · <a href="exercises/${name}.ipynb" download>notebook</a></li>`;
  });
  const html = `<!DOCTYPE html>
<html lang="es">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>backprop-lab · curso</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 52em; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; width: 100%; }
td, th { padding: 0.35em 0.6em; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
.summary { color: #555; font-size: 0.9em; margin-top: 0.2em; }
.runs { white-space: nowrap; }
</style>
</head>
<body>
<h1>backprop-lab</h1>
<h2>Clases</h2>
${rows.length ? `<table>\n<tr><th>clase</th><th></th><th class="runs">duración</th><th>tarea</th></tr>\n${rows.join("\n")}\n</table>` : "<p>Todavía no hay clases exportadas: <code>npm run course</code>.</p>"}
<h2>Ejercicios</h2>
${exercises.length ? `<ul>\n${exercises.join("\n")}\n</ul>` : "<p>Todavía no hay ejercicios.</p>"}
</body>
</html>
`;
  const target = path.join(buildDir, "index.html");
  fs.writeFileSync(target + ".tmp", html);
  fs.renameSync(target + ".tmp", target);
  return target;
}

export interface SlidesOptions {
  only: string[];
  buildDir: string;
}

export function parseArgs(argv: string[]): SlidesOptions {
  const { values: v } = parseCli(argv, { only: { type: "string", multiple: true }, build: { type: "string" } },
    "usage: npm run slides -- [--only NN[,NN]] [--build DIR]");
  return { only: listOption(v.only), buildDir: v.build ? path.resolve(v.build) : BUILD_DIR };
}

async function main(): Promise<number> {
  try {
    return exportBuild(parseArgs(process.argv.slice(2)));
  } catch (e) {
    // Usage and setup problems: one clear line, no stack.
    console.error(e instanceof Error ? e.message : String(e));
    return 1;
  }
}

function exportBuild(opts: SlidesOptions): number {
  const executedDir = path.join(opts.buildDir, "notebooks");
  const all = fs.existsSync(executedDir) ? fs.readdirSync(executedDir).filter((f) => /^\d\d-.*\.ipynb$/.test(f)).sort() : [];
  if (all.length === 0) {
    throw new Error(`no executed notebooks in ${path.relative(process.cwd(), executedDir) || executedDir}; run \`npm run course\` first (it executes the notebooks and exports them)`);
  }
  const picked = all.filter((f) => pickedByOnly(f, opts.only));
  if (picked.length === 0) throw new Error(`--only ${opts.only.join(",")} matches no executed notebook; there are: ${all.join(", ")}`);
  const t0 = Date.now();
  const results = exportCourse(ensureJupyter(), picked.map((f) => path.join(executedDir, f)), opts.buildDir);
  const failed = results.filter((r) => !r.ok).length;
  const rel = path.relative(process.cwd(), opts.buildDir) || ".";
  console.log(`${results.length - failed} of ${results.length} notebooks exported in ${((Date.now() - t0) / 1000).toFixed(1)} s; open ${rel}/index.html`);
  return failed > 0 ? 1 : 0;
}

if (require.main === module) runMain(main);

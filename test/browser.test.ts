// The exported pages and slides in a real browser (Debian's chromium), network blocked: the probe notebook
// (test/fixtures/slides) end to end, a page broken on purpose (the check must see it), and the lectures.
// Every lecture and every exercise page is checked. A lecture's build/ output is reused when it is newer
// than the notebook and lib/; otherwise the lecture is executed first (`tsx tools/course.ts --only …`, about
// 2.5 min for all seven on 2 cores), so CI runs `npm run course` before `npm test` (.ci/run) and this file
// only checks. Pages older than the exporter, and exercise pages older than exercises/, are exported again.
// BACKPROP_SKIP_BROWSER=1 skips this file.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { BrowserContext } from "playwright-core";
import { CHROMIUM, checkBuild, checkPage, formatReport, launchChromium, PageReport } from "../tools/browser-check";
import { deckInfo, readNotebook } from "../tools/notebook-info";

const ROOT = path.resolve(__dirname, "..");
const BUILD = path.join(ROOT, "build");
const skip = process.env.BACKPROP_SKIP_BROWSER === "1" ? "BACKPROP_SKIP_BROWSER=1" : false;

function tsx(script: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, script), ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env } });
  assert.equal(r.status, 0, `${script} ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Newest modification time of the files under `dir` (recursively) whose name matches `re`. */
function newest(p: string, re = /./): number {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return re.test(p) ? st.mtimeMs : 0;
  return Math.max(0, ...fs.readdirSync(p).map((f) => newest(path.join(p, f), re)));
}
const mtime = (p: string) => (fs.existsSync(p) ? fs.statSync(p).mtimeMs : 0);

function assertClean(reports: PageReport[]) {
  const bad = reports.filter((r) => r.problems.length > 0);
  assert.equal(bad.map(formatReport).join("\n"), "");
}

let browser: { context: BrowserContext; close: () => Promise<void> } | undefined;
// The probe, executed and exported once into a temporary build for the first two tests.
const probeDir = fs.mkdtempSync(path.join(os.tmpdir(), "browser-test-"));
const probeBuild = path.join(probeDir, "build");
let courseOutput = "";
before(() => {
  if (skip) return;
  assert.ok(fs.existsSync(CHROMIUM), `Chromium is not at ${CHROMIUM}: apt-get install -y chromium (or BACKPROP_SKIP_BROWSER=1 to skip this file)`);
  fs.mkdirSync(path.join(probeDir, "nb"));
  fs.copyFileSync(path.join(__dirname, "fixtures/slides/90-probe.ipynb"), path.join(probeDir, "nb/90-probe.ipynb"));
  courseOutput = tsx("tools/course.ts", "--notebooks", path.join(probeDir, "nb"), "--build", probeBuild);
});
after(async () => {
  await browser?.close();
  fs.rmSync(probeDir, { recursive: true, force: true });
});

test("the probe notebook: page and deck offline, figures drawn, formulas typeset, keyboard to the end", { skip, timeout: 240_000 }, async (t) => {
  const dir = probeDir;
  {
    const out = courseOutput;
    assert.match(out, /^export\s+[\d.]+ s\s+90-probe\.ipynb \(page \d+ ms, slides \d+ ms, 2 figures\)$/m);
    const index = fs.readFileSync(path.join(dir, "build/index.html"), "utf8");
    assert.match(index, /href="html\/90-probe\.html">90 · Sonda de diapositivas</);
    assert.match(index, /href="slides\/90-probe\.slides\.html"/);
    for (const f of ["html/90-probe.html", "slides/90-probe.slides.html"]) {
      const html = fs.readFileSync(path.join(dir, "build", f), "utf8");
      assert.doesNotMatch(html, /<(script|link)[^>]+(src|href)="(https?:|file:|\/\/)/, `${f} refers to a URL outside the build`);
      assert.equal((html.match(/data-backprop-plotly-src/g) ?? []).length, 1, `${f}: plotly.js once, in the head`);
      assert.doesNotMatch(html, /data-backprop-plotly="1"/, `${f}: the copy embedded in the outputs is removed`);
    }

    const reports = await checkBuild(path.join(dir, "build"), ["90-probe"]);
    for (const r of reports) t.diagnostic(formatReport(r));
    assertClean(reports);
    const [page, deck] = reports;
    assert.deepEqual([page.blocked.length, page.figuresDrawn, page.figuresExpected, page.plotlyLoads], [0, 2, 2, 1]);
    // The first figure sits in a skipped cell: the deck draws only the second, and still loads plotly.js.
    assert.deepEqual([deck.blocked.length, deck.figuresDrawn, deck.figuresExpected, deck.plotlyLoads], [0, 1, 1, 1]);
    assert.deepEqual(deck.slides, { expected: 4, total: 4, fragments: 1, steps: 4, visited: 4, reachedEnd: true });
    assert.ok(deck.formulasTypeset >= 4, `formulas typeset: ${deck.formulasTypeset}`);
    for (const s of [...page.screenshots, ...deck.screenshots]) assert.ok(fs.statSync(s).size > 10_000, `${s} is a real screenshot`);
    assert.deepEqual(deck.screenshots.map((s) => path.basename(s)), ["90-probe.slide-first.png", "90-probe.slide-figure.png"]);
  }
});

test("the check sees a page that reaches the network, leaves raw math, misses a figure, logs an error", { skip, timeout: 120_000 }, async () => {
  const dir = probeDir;
  {
    // A broken copy next to the good page (same relative paths to build/assets).
    const page = path.join(dir, "build/html/90-broken.html");
    const broken = fs
      .readFileSync(path.join(dir, "build/html/90-probe.html"), "utf8")
      .replace("</head>", '<script src="https://cdn.jsdelivr.net/npm/nothing.js"></script></head>')
      .replace("</body>", '<p class="tex2jax_ignore">raw $x^2$ here</p><div class="backprop-figure"></div><script>console.error("boom")</script></body>');
    fs.writeFileSync(page, broken);
    const deck = deckInfo(readNotebook(path.join(dir, "build/notebooks/90-probe.ipynb")));
    browser = await launchChromium();
    const r = await checkPage(browser.context, page, "html", deck, path.join(dir, "build"), { screensDir: path.join(dir, "screens") });
    const problems = r.problems.join("\n");
    assert.equal(r.blocked.length, 1);
    assert.match(problems, /1 requests to non-local URLs \(blocked\): https:\/\/cdn\.jsdelivr\.net/);
    assert.match(problems, /raw math left in the text: "\$x\^2\$"/);
    assert.match(problems, /3 figure boxes on the page, the executed notebook has 2/);
    assert.match(problems, /console errors: .*boom/);
    // A deck that should have one more slide than it has.
    const slides = path.join(dir, "build/slides/90-probe.slides.html");
    const r2 = await checkPage(browser.context, slides, "slides", { ...deck, slides: deck.slides + 1 }, path.join(dir, "build"), { screensDir: path.join(dir, "screens") });
    assert.match(r2.problems.join("\n"), /the deck has 4 slides, the notebook's metadata asks for 5/);
  }
});

const lectures = fs.existsSync(path.join(ROOT, "notebooks"))
  ? fs.readdirSync(path.join(ROOT, "notebooks")).filter((f) => /^\d\d-.*\.ipynb$/.test(f)).sort().map((f) => f.replace(/\.ipynb$/, ""))
  : [];

const exercises = fs.existsSync(path.join(ROOT, "exercises"))
  ? fs.readdirSync(path.join(ROOT, "exercises")).filter((f) => f.endsWith(".ipynb")).sort().map((f) => f.replace(/\.ipynb$/, ""))
  : [];

test("every lecture (page and deck) and every exercise page pass the browser check", { skip: skip || (lectures.length === 0 && "no lecture notebooks yet"), timeout: 900_000 }, async (t) => {
  const libTime = newest(path.join(ROOT, "lib"), /\.ts$/);
  const isFresh = (name: string) => mtime(path.join(BUILD, "notebooks", `${name}.ipynb`)) >= Math.max(libTime, mtime(path.join(ROOT, "notebooks", `${name}.ipynb`)));
  const run = lectures.filter((n) => !isFresh(n));
  if (run.length > 0) {
    t.diagnostic(`executing ${run.join(", ")} (build/ missing or older than the notebook or lib/)`);
    const t0 = Date.now();
    tsx("tools/course.ts", "--only", run.join(","));
    t.diagnostic(`executed ${run.length} lecture(s) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const stale = lectures.filter((n) => !isFresh(n));
  assert.deepEqual(stale, [], "every lecture's build/ output is fresh after executing the stale ones");
  // Pages older than the exporter (templates, nbexport.py) are exported again; that takes a second.
  const exporterTime = Math.max(newest(path.join(ROOT, "tools/nbtemplates")), mtime(path.join(ROOT, "tools/nbexport.py")), mtime(path.join(ROOT, "tools/slides.ts")));
  const reexport = lectures.filter((n) => {
    const pages = [path.join(BUILD, "html", `${n}.html`), path.join(BUILD, "slides", `${n}.slides.html`)].map(mtime);
    return Math.min(...pages) < Math.max(exporterTime, mtime(path.join(BUILD, "notebooks", `${n}.ipynb`)));
  });
  // Every export also exports the exercise pages: one lecture is enough to refresh stale or missing ones.
  const exercisePages = fs.existsSync(path.join(BUILD, "exercises")) ? fs.readdirSync(path.join(BUILD, "exercises")).filter((f) => f.endsWith(".html")) : [];
  const staleExercise =
    exercises.some((e) => mtime(path.join(BUILD, "exercises", `${e}.html`)) < Math.max(exporterTime, mtime(path.join(ROOT, "exercises", `${e}.ipynb`)))) ||
    exercisePages.some((f) => !exercises.includes(f.replace(/\.html$/, ""))); // a page left from a removed exercise
  if (staleExercise && reexport.length === 0) reexport.push(lectures[0]);
  if (reexport.length > 0) tsx("tools/slides.ts", "--only", reexport.join(","));

  const reports = await checkBuild(BUILD, lectures, { exercises: true });
  for (const r of reports) t.diagnostic(formatReport(r));
  assertClean(reports);
  // What was checked is what is listed: each lecture's page and deck, each exercise's page; nothing skipped.
  const checked = reports.map((r) => `${r.kind} ${path.relative(BUILD, r.file)}`).sort();
  const listed = [
    ...lectures.flatMap((n) => [`html html/${n}.html`, `slides slides/${n}.slides.html`]),
    ...exercises.map((e) => `html exercises/${e}.html`),
  ].sort();
  assert.deepEqual(checked, listed);
  for (const r of reports.filter((x) => x.kind === "slides")) {
    assert.ok(r.screenshots.some((s) => s.endsWith(".slide-first.png")), `${r.name}: screenshot of the first slide`);
    if (r.figuresExpected > 0) assert.ok(r.screenshots.some((s) => s.endsWith(".slide-figure.png")), `${r.name}: screenshot of a slide with a figure`);
  }
});

/**
 * Opens the exported pages and slides in a real browser (Debian's chromium through playwright-core) with
 * the network cut off, and checks what a classroom without internet would see:
 *   - every request to a non-local URL is blocked and counted (must be 0); local files must all load,
 *     and come from the build folder (not from system paths such as /usr/share/javascript);
 *   - plotly.js is loaded once, and every Plotly figure of the executed notebook is drawn;
 *   - formulas are typeset by MathJax (no raw $…$ left in the visible text, no MathJax errors);
 *   - the deck has the slides the notebook's metadata asks for and advances with the keyboard to the end;
 *   - no JavaScript error in the console.
 * Screenshots of the first slide and of a slide with a figure go to BUILD/screens/.
 *
 *   npx tsx tools/browser-check.ts [--build DIR] [--only 01,03] [--all-screens]
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";
import type { BrowserContext, Page } from "playwright-core";
import { ROOT } from "./jupyter-env";
import { readNotebook, deckInfo, DeckInfo } from "./notebook-info";
import { parseCli, listOption, pickedByOnly } from "./cli";

export const CHROMIUM = process.env.BACKPROP_CHROMIUM || "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];
const VIEWPORT = { width: 1280, height: 720 };

export interface SlideWalk {
  expected: number;
  total: number;
  fragments: number;
  /** Key presses (Space) needed to reach the end: slides - 1 + fragments. */
  steps: number;
  /** Slides visited while pressing Space. */
  visited: number;
  reachedEnd: boolean;
}

export interface PageReport {
  name: string;
  kind: "html" | "slides";
  file: string;
  /** Requests to non-local URLs, blocked (must be none). */
  blocked: string[];
  /** Local requests: how many, and the ones that failed or came from outside the build. */
  localRequests: number;
  missing: string[];
  outsideBuild: string[];
  plotlyLoads: number;
  figuresExpected: number;
  figuresDrawn: number;
  formulasTypeset: number;
  formulasExpectedAtLeast: number;
  mathErrors: string[];
  rawMath: string[];
  consoleErrors: string[];
  slides?: SlideWalk;
  /** Slides whose content is taller than the slide (they scroll): a hint for the author, not a failure. */
  overflowing: string[];
  screenshots: string[];
  ms: number;
  /** Everything that is wrong, one sentence each; empty when the page passes. */
  problems: string[];
}

declare const MathJax: { startup?: { promise?: Promise<unknown> } } | undefined;
declare const Reveal: {
  isReady(): boolean;
  getTotalSlides(): number;
  getIndices(): { h: number; v?: number; f?: number };
  isLastSlide(): boolean;
  availableFragments(): { prev: boolean; next: boolean };
  getCurrentSlide(): HTMLElement;
};

/** Launches Debian's chromium, headless, with a fresh profile; explains what to install when missing. */
export async function launchChromium(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not at ${CHROMIUM}. Install Debian's: apt-get install -y chromium (or set BACKPROP_CHROMIUM to a chromium binary)`);
  }
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { chromium } = require("playwright-core") as typeof import("playwright-core");
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "backprop-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: VIEWPORT,
    deviceScaleFactor: 1,
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

function isLocal(url: string): boolean {
  return /^(file|data|blob|about):/.test(url);
}

/** In-page: figures drawn, formulas typeset, raw math left in the text, MathJax errors. */
function pageState() {
  const figs = Array.from(document.querySelectorAll<HTMLElement>(".backprop-figure"));
  const drawn = figs.filter((f) => f.querySelector("svg.main-svg")).length;
  const skip = "script,style,pre,code,textarea,noscript,mjx-container,title";
  const groups = new Map<Element, string>();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const parent = n.parentElement;
    if (!parent || parent.closest(skip)) continue;
    groups.set(parent, (groups.get(parent) ?? "") + (n.nodeValue ?? ""));
  }
  const raw: string[] = [];
  const re = /\$\$[\s\S]+?\$\$|\$[^$\n]+?\$|\\\([\s\S]+?\\\)|\\\[[\s\S]+?\\\]/g;
  groups.forEach((text) => {
    for (const m of text.match(re) ?? []) if (raw.length < 5) raw.push(m.slice(0, 80));
  });
  return {
    figures: figs.length,
    drawn,
    typeset: document.querySelectorAll("mjx-container").length,
    mathErrors: Array.from(document.querySelectorAll("mjx-merror")).map((e) => e.getAttribute("data-mjx-error") || e.textContent || "?").slice(0, 5),
    raw,
    embeddedPlotly: document.querySelectorAll("script[data-backprop-plotly]").length,
  };
}

interface SlideState {
  h: number;
  v: number;
  f: number;
  last: boolean;
  nextFragment: boolean;
  figures: number;
  math: number;
  /** A figure and a formula fully inside the slide's visible area (without scrolling it). */
  figureVisible: boolean;
  mathVisible: boolean;
  /** Content height of the slide, and the slide's height (content taller than the slide scrolls). */
  contentHeight: number;
  height: number;
  /** Figures on this slide whose drawing is narrower or wider than their box (after the resize). */
  misfit: string[];
}

function slideState(): SlideState {
  const i = Reveal.getIndices();
  const slide = Reveal.getCurrentSlide();
  const figs = Array.from(slide.querySelectorAll<HTMLElement>(".backprop-figure")).filter((f) => !f.closest("aside.notes"));
  const misfit: string[] = [];
  for (const f of figs) {
    const svg = f.querySelector("svg.main-svg");
    const w = Number(svg?.getAttribute("width") ?? 0);
    if (!svg || Math.abs(w - f.clientWidth) > Math.max(4, 0.02 * f.clientWidth)) misfit.push(`${f.id}: drawn ${w}px wide in a ${f.clientWidth}px box`);
  }
  // No named inner functions here: tsx would wrap them in a __name() helper that the page lacks.
  const box = slide.getBoundingClientRect();
  const inside = [figs, Array.from(slide.querySelectorAll("mjx-container"))].map((els) =>
    els.some((e) => {
      const r = e.getBoundingClientRect();
      return r.height > 0 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
    }),
  );
  return {
    h: i.h,
    v: i.v ?? 0,
    f: i.f ?? -1,
    last: Reveal.isLastSlide(),
    nextFragment: Reveal.availableFragments().next,
    figures: figs.length,
    math: slide.querySelectorAll("mjx-container").length,
    figureVisible: inside[0],
    mathVisible: inside[1],
    contentHeight: slide.scrollHeight,
    height: slide.clientHeight,
    misfit,
  };
}

/** Scrolls the current slide to its first figure (or back to the top). */
function scrollToFigure(toFigure: boolean): void {
  const slide = Reveal.getCurrentSlide();
  const fig = slide.querySelector(".backprop-figure");
  if (!toFigure || !fig) {
    slide.scrollTop = 0;
    return;
  }
  const sr = slide.getBoundingClientRect();
  const scale = sr.height / slide.clientHeight || 1; // reveal.js scales slides with a CSS transform
  slide.scrollTop += (fig.getBoundingClientRect().top - sr.top) / scale - 16;
}

const sameState = (a: SlideState, b: SlideState) => a.h === b.h && a.v === b.v && a.f === b.f;

async function waitFor(page: Page, what: string, fn: string, problems: string[], timeout = 20000): Promise<boolean> {
  try {
    await page.waitForFunction(fn, undefined, { timeout });
    return true;
  } catch {
    problems.push(`${what} (waited ${timeout / 1000} s)`);
    return false;
  }
}

/** Checks one exported page (kind html) or deck (kind slides) against its executed notebook's info. */
export interface CheckOptions {
  /** Where screenshots go (default BUILD/screens). */
  screensDir?: string;
  /** Also a screenshot of every slide (NAME.slide-H.V.png), to look at a whole deck. */
  allScreens?: boolean;
}

export async function checkPage(context: BrowserContext, file: string, kind: "html" | "slides", deck: DeckInfo, buildDir: string, opts: CheckOptions = {}): Promise<PageReport> {
  const screensDir = opts.screensDir ?? path.join(buildDir, "screens");
  const t0 = Date.now();
  const name = path.basename(file).replace(/(\.slides)?\.html$/, "");
  const report: PageReport = {
    name, kind, file, blocked: [], localRequests: 0, missing: [], outsideBuild: [], plotlyLoads: 0,
    figuresExpected: kind === "html" ? deck.figures : deck.figuresInSlides, figuresDrawn: 0,
    formulasTypeset: 0, formulasExpectedAtLeast: kind === "html" ? deck.mathCells : deck.mathCellsInSlides,
    mathErrors: [], rawMath: [], consoleErrors: [], overflowing: [], screenshots: [], ms: 0, problems: [],
  };
  const problems = report.problems;
  const buildUrl = pathToFileURL(buildDir).href + "/";
  const page = await context.newPage();
  // Every request is seen by the "request" listener (counted there); non-local ones never leave.
  await page.route("**/*", (route) => (isLocal(route.request().url()) ? route.continue() : route.abort("blockedbyclient")));
  page.on("websocket", (ws) => report.blocked.push(ws.url()));
  page.on("request", (req) => {
    const url = req.url();
    if (!isLocal(url)) {
      report.blocked.push(url);
      return;
    }
    if (!url.startsWith("file:")) return;
    report.localRequests++;
    if (!url.startsWith(buildUrl)) report.outsideBuild.push(url);
    if (/\/plotly(\.min)?\.js$/.test(url.split("?")[0])) report.plotlyLoads++;
  });
  page.on("requestfailed", (req) => {
    if (req.url().startsWith("file:")) report.missing.push(`${req.url()} (${req.failure()?.errorText ?? "failed"})`);
  });
  page.on("console", (msg) => {
    if (msg.type() === "error") report.consoleErrors.push(msg.text().slice(0, 300));
  });
  page.on("pageerror", (err) => report.consoleErrors.push(`uncaught: ${err.message.slice(0, 300)}`));

  try {
    // transition=none: reveal.js reads its options from the query; the check need not wait for animations.
    await page.goto(pathToFileURL(file).href + (kind === "slides" ? "?transition=none" : ""), { waitUntil: "load", timeout: 30000 });
    if (await waitFor(page, "MathJax did not start (is build/assets/mathjax there?)", "window.MathJax && MathJax.startup && MathJax.startup.promise", problems)) {
      await page.evaluate(() => MathJax!.startup!.promise);
    }
    if (report.figuresExpected > 0) {
      const drawn = `Array.from(document.querySelectorAll(".backprop-figure")).filter((f) => f.querySelector("svg.main-svg")).length >= ${report.figuresExpected}`;
      await waitFor(page, "not every figure was drawn", drawn, problems, 15000);
    }
    const state = await page.evaluate(pageState);
    report.figuresDrawn = state.drawn;
    report.formulasTypeset = state.typeset;
    report.mathErrors = state.mathErrors;
    report.rawMath = state.raw;
    if (state.figures !== report.figuresExpected) problems.push(`${state.figures} figure boxes on the page, the executed notebook has ${report.figuresExpected}`);
    if (state.drawn !== report.figuresExpected) problems.push(`${state.drawn} of ${report.figuresExpected} figures drawn`);
    if (state.embeddedPlotly > 0) problems.push(`${state.embeddedPlotly} embedded plotly.js copies left in the outputs`);
    if (report.figuresExpected > 0 && report.plotlyLoads !== 1) problems.push(`plotly.js loaded ${report.plotlyLoads} times (want once)`);
    if (state.typeset < report.formulasExpectedAtLeast) problems.push(`${state.typeset} formulas typeset, but ${report.formulasExpectedAtLeast} markdown cells have math`);
    if (state.raw.length > 0) problems.push(`raw math left in the text: ${state.raw.map((r) => JSON.stringify(r)).join(", ")}`);
    if (state.mathErrors.length > 0) problems.push(`MathJax errors: ${state.mathErrors.join("; ")}`);

    fs.mkdirSync(screensDir, { recursive: true });
    if (kind === "html") {
      const shot = path.join(screensDir, `${name}.page.png`);
      await page.screenshot({ path: shot });
      report.screenshots.push(shot);
    } else {
      await walkDeck(page, deck, name, screensDir, report, opts.allScreens ?? false);
    }
  } catch (e) {
    problems.push(`the check stopped: ${(e as Error).message.split("\n")[0]}`);
  } finally {
    await page.close();
  }
  if (report.blocked.length > 0) problems.push(`${report.blocked.length} requests to non-local URLs (blocked): ${report.blocked.slice(0, 5).join(", ")}`);
  if (report.missing.length > 0) problems.push(`${report.missing.length} local files failed to load: ${report.missing.slice(0, 5).join(", ")}`);
  if (report.outsideBuild.length > 0) problems.push(`${report.outsideBuild.length} files loaded from outside the build folder: ${report.outsideBuild.slice(0, 5).join(", ")}`);
  if (report.consoleErrors.length > 0) problems.push(`${report.consoleErrors.length} console errors: ${report.consoleErrors.slice(0, 5).join(" | ")}`);
  report.ms = Date.now() - t0;
  return report;
}

async function walkDeck(page: Page, deck: DeckInfo, name: string, screensDir: string, report: PageReport, allScreens: boolean): Promise<void> {
  const problems = report.problems;
  if (!(await waitFor(page, "reveal.js did not start (is build/assets/reveal.js there?)", "window.Reveal && Reveal.isReady()", problems))) return;
  const walk: SlideWalk = {
    expected: deck.slides,
    total: await page.evaluate(() => Reveal.getTotalSlides()),
    fragments: deck.fragments,
    steps: deck.slides - 1 + deck.fragments,
    visited: 1,
    reachedEnd: false,
  };
  report.slides = walk;
  if (walk.total !== walk.expected) problems.push(`the deck has ${walk.total} slides, the notebook's metadata asks for ${walk.expected}`);
  // The slide's state once its figures are fitted (Plotly resizes on a short timer after a slide change).
  const current = async () => {
    let s = await page.evaluate(slideState);
    for (let tries = 0; s.misfit.length > 0 && tries < 15; tries++) {
      await page.waitForTimeout(100);
      s = await page.evaluate(slideState);
    }
    return s;
  };
  let state = await current();
  const first = path.join(screensDir, `${name}.slide-first.png`);
  await page.screenshot({ path: first });
  report.screenshots.push(first);
  const seen = new Set<string>([`${state.h}/${state.v}`]);
  // The slide with a figure (once all its fragments are shown) that shows the most without scrolling:
  // figure and formula visible > figure visible > figure further down (then scrolled to it for the shot).
  let best = 0;
  const figureFile = path.join(screensDir, `${name}.slide-figure.png`);
  const look = async (s: SlideState) => {
    if (s.misfit.length > 0) problems.push(`slide ${s.h + 1}.${s.v + 1}: figure not fitted to the slide: ${s.misfit.join("; ")}`);
    const where = `${s.h + 1}.${s.v + 1}`;
    if (s.contentHeight > s.height + 2 && !report.overflowing.some((o) => o.startsWith(`${where} `))) {
      report.overflowing.push(`${where} (${s.contentHeight} px of ${s.height})`);
    }
    if (s.nextFragment) return;
    const score = s.figures > 0 ? 1 + (s.figureVisible ? 2 : 0) + (s.mathVisible ? 1 : 0) : 0;
    if (!allScreens && score <= best) return;
    await page.waitForTimeout(400); // a fragment fades in (CSS transition) even with transition=none
    if (allScreens) await page.screenshot({ path: path.join(screensDir, `${name}.slide-${where}.png`) });
    if (score <= best) return;
    best = score;
    if (!s.figureVisible) await page.evaluate(scrollToFigure, true);
    await page.screenshot({ path: figureFile });
    if (!s.figureVisible) await page.evaluate(scrollToFigure, false);
  };
  await look(state);
  await page.locator("body").focus();
  for (let i = 0; i < walk.steps; i++) {
    const before = state;
    await page.keyboard.press("Space");
    try {
      await page.waitForFunction(
        (b) => {
          const x = Reveal.getIndices();
          return x.h !== b.h || (x.v ?? 0) !== b.v || (x.f ?? -1) !== b.f;
        },
        before,
        { timeout: 3000 },
      );
    } catch {
      problems.push(`Space did not advance the deck from slide ${before.h + 1}.${before.v + 1} (step ${i + 1} of ${walk.steps})`);
      break;
    }
    state = await current();
    if (!seen.has(`${state.h}/${state.v}`)) {
      seen.add(`${state.h}/${state.v}`);
      walk.visited++;
    }
    await look(state);
  }
  walk.reachedEnd = state.last && !state.nextFragment;
  if (!walk.reachedEnd) problems.push(`after ${walk.steps} presses of Space the deck is at slide ${state.h + 1}.${state.v + 1}, not at its end`);
  await page.keyboard.press("Space");
  await page.waitForTimeout(200);
  if (!sameState(state, await page.evaluate(slideState))) problems.push("the deck moved past what should be its last step");
  if (walk.visited !== walk.total) problems.push(`visited ${walk.visited} of ${walk.total} slides with the keyboard`);
  if (best > 0) report.screenshots.push(figureFile);
  else if (deck.figuresInSlides > 0) problems.push("no slide with a figure was reached");
}

/**
 * Checks the page and the deck of each named lecture (stems like 01-neurona) in BUILD, and with
 * `exercises` the exercise pages in BUILD/exercises (exported from notebooks without outputs).
 */
export async function checkBuild(buildDir: string, names: string[], opts: CheckOptions & { exercises?: boolean } = {}): Promise<PageReport[]> {
  const browser = await launchChromium();
  const reports: PageReport[] = [];
  try {
    const exDir = path.join(buildDir, "exercises");
    const exercises = opts.exercises && fs.existsSync(exDir) ? fs.readdirSync(exDir).filter((f) => f.endsWith(".html")).sort() : [];
    for (const page of exercises) {
      const nb = path.join(exDir, page.replace(/\.html$/, ".ipynb"));
      const deck = fs.existsSync(nb) ? deckInfo(readNotebook(nb)) : deckInfo({ cells: [] });
      reports.push(await checkPage(browser.context, path.join(exDir, page), "html", deck, buildDir, opts));
    }
    for (const name of names) {
      const executed = path.join(buildDir, "notebooks", `${name}.ipynb`);
      if (!fs.existsSync(executed)) throw new Error(`${executed} is missing; run \`npm run course -- --only ${name.slice(0, 2)}\``);
      const deck = deckInfo(readNotebook(executed));
      for (const [kind, file] of [["html", path.join(buildDir, "html", `${name}.html`)], ["slides", path.join(buildDir, "slides", `${name}.slides.html`)]] as const) {
        if (!fs.existsSync(file)) throw new Error(`${file} is missing; run \`npm run slides\``);
        reports.push(await checkPage(browser.context, file, kind, deck, buildDir, opts));
      }
    }
  } finally {
    await browser.close();
  }
  return reports;
}

/** One line per page, then its problems. */
export function formatReport(r: PageReport): string {
  const rel = path.relative(process.cwd(), r.file);
  const deck = r.slides ? `, slides ${r.slides.total}/${r.slides.expected} (${r.slides.fragments} fragments, ${r.slides.visited} visited, end ${r.slides.reachedEnd ? "reached" : "NOT reached"})` : "";
  const head =
    `${r.problems.length ? "FAIL" : "ok  "}  ${rel}: ${(r.ms / 1000).toFixed(1)} s, blocked ${r.blocked.length}, local files ${r.localRequests}, ` +
    `plotly.js ×${r.plotlyLoads}, figures ${r.figuresDrawn}/${r.figuresExpected}, formulas ${r.formulasTypeset}${deck}, console errors ${r.consoleErrors.length}`;
  const hint = r.overflowing.length ? [`      (taller than the slide, they scroll: ${r.overflowing.join(", ")})`] : [];
  return [head, ...r.problems.map((p) => `      - ${p}`), ...hint].join("\n");
}

async function main(): Promise<number> {
  let v;
  try {
    v = parseCli(process.argv.slice(2), { build: { type: "string" }, only: { type: "string", multiple: true }, "all-screens": { type: "boolean" } },
      "usage: npx tsx tools/browser-check.ts [--build DIR] [--only NN[,NN]] [--all-screens]").values;
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const buildDir = path.resolve(v.build ?? path.join(ROOT, "build"));
  const only = listOption(v.only);
  const allScreens = v["all-screens"] ?? false;
  const dir = path.join(buildDir, "slides");
  const names = (fs.existsSync(dir) ? fs.readdirSync(dir) : [])
    .filter((f) => /^\d\d-.*\.slides\.html$/.test(f))
    .map((f) => f.replace(/\.slides\.html$/, ""))
    .filter((n) => pickedByOnly(n, only))
    .sort();
  if (names.length === 0) {
    console.error(`no exported slides in ${dir}${only.length ? ` matching ${only.join(",")}` : ""}; run \`npm run course\` first`);
    return 1;
  }
  try {
    const reports = await checkBuild(buildDir, names, { allScreens, exercises: only.length === 0 });
    for (const r of reports) console.log(formatReport(r));
    const shots = reports.flatMap((r) => r.screenshots);
    if (shots.length) console.log(`screenshots: ${shots.map((s) => path.relative(process.cwd(), s)).join(", ")}`);
    return reports.some((r) => r.problems.length > 0) ? 1 : 0;
  } catch (e) {
    console.error((e as Error).message);
    return 1;
  }
}

if (require.main === module) main().then((code) => process.exit(code));

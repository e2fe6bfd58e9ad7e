// The notebooks in the real Jupyter Notebook 6 UI (Debian's), driven in headless Chromium as a student
// uses them: Restart & Run All, rerun a cell, add a cell, save, reopen, Clear All Outputs, reload. Every
// figure must draw each time, the notebook must stay trusted, and the formulas in lecture 01's tables must
// typeset on one line. Runs on temporary copies (tools/notebook-ui.ts). BACKPROP_SKIP_BROWSER=1 skips it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import type { Page } from "playwright-core";
import { CHROMIUM, launchChromium } from "../tools/browser-check";
import {
  copyNotebooks, startNotebookServer, openNotebook, gotoNotebook, restartRunAll, startRestartRunAll, firstCodeCell, save, runCell, figureState,
  findCell, tableMath, waitIdle, NotebookServer,
} from "../tools/notebook-ui";

const ROOT = path.resolve(__dirname, "..");
const LECTURE = "notebooks/01-neurona-activaciones.ipynb";
const EXERCISE = "exercises/hw01-activaciones.ipynb";
const skip = process.env.BACKPROP_SKIP_BROWSER === "1" ? "BACKPROP_SKIP_BROWSER=1" : !fs.existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}` : false;

let server: NotebookServer | undefined;
let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
let page: Page;
let dir = "";

before(async () => {
  if (skip) return;
  dir = copyNotebooks([LECTURE, EXERCISE]);
  server = await startNotebookServer(dir);
  browser = await launchChromium();
  page = await openNotebook(browser.context, server, LECTURE);
  // Narrower than the default 1280 px, so the table columns are narrow enough for MathJax to break lines.
  await page.setViewportSize({ width: 1000, height: 720 });
});
after(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** BACKPROP_UI_SCREENS=DIR keeps screenshots of what the test saw. */
async function shot(name: string, selector?: string, index?: number) {
  const out = process.env.BACKPROP_UI_SCREENS;
  if (!out) return;
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, `${name}.png`);
  if (selector) await page.locator(selector).nth(index ?? 0).screenshot({ path: file });
  else await page.screenshot({ path: file });
}

const saved = (rel: string) => JSON.parse(fs.readFileSync(path.join(dir, rel), "utf8"));
const FIGURES_01 = 8;

test("lecture 01 in the Notebook UI: figures survive rerun, save/reopen, an added cell, clear and reload", { skip, timeout: 420_000 }, async (t) => {
  await t.test("the formulas in the tables typeset, none broken over lines", async () => {
    const m = await tableMath(page);
    assert.ok(m.formulas >= 20, `formulas in tables: ${m.formulas}`);
    assert.equal(m.typeset, m.formulas);
    assert.deepEqual(m.broken, []);
    assert.equal(m.errors, 0);
  });

  await t.test("the navigation cell's table of contents leads to headings; Para practicar opens the exercise", async () => {
    const r = await page.evaluate(() => {
      const toc = Array.from(document.querySelectorAll('.text_cell_render a[href^="#"]')).filter((a) => !a.classList.contains("anchor-link"));
      const missing = toc.map((a) => a.getAttribute("href")!.slice(1)).filter((h) => !document.getElementById(decodeURIComponent(new URL("#" + h, location.href).hash.slice(1))));
      const exercise = Array.from(document.querySelectorAll(".text_cell_render a")).map((a) => (a as HTMLAnchorElement).href).find((h) => h.includes("/exercises/hw01"));
      return { toc: toc.length, missing, exercise };
    });
    assert.ok(r.toc >= 5, `table of contents links: ${r.toc}`);
    assert.deepEqual(r.missing, []);
    assert.ok(r.exercise?.endsWith("/exercises/hw01-activaciones.ipynb"), `exercise link: ${r.exercise}`);
    const res = await page.request.get(r.exercise!.replace("/notebooks/", "/api/contents/") + `?token=${server!.token}&content=0`);
    assert.equal(res.status(), 200, "the exercise link points to a notebook the server has");
  });

  await t.test("Restart & Run All: the first cell says what it is doing while it runs; every figure drawn, no error", async () => {
    await startRestartRunAll(page);
    const t0 = Date.now();
    let first = await firstCodeCell(page);
    while (first.running && !first.text.includes("Cargando la biblioteca")) {
      await page.waitForTimeout(100);
      first = await firstCodeCell(page);
    }
    assert.ok(first.running, `the notice came only after the first cell finished: ${JSON.stringify(first.text)}`);
    while ((await firstCodeCell(page)).running) await page.waitForTimeout(100);
    t.diagnostic(`first cell (import + setup) ran about ${((Date.now() - t0) / 1000).toFixed(1)} s in the notebook`);
    await waitIdle(page);
    const s = await figureState(page);
    assert.deepEqual([s.drawn, s.figures, s.errors], [FIGURES_01, FIGURES_01, []]);
  });

  await t.test("rerun only the first figure cell, save, reopen: every figure drawn; the file stays small", async () => {
    await runCell(page, await findCell(page, /bp\.show\(/));
    await save(page);
    const bytes = fs.statSync(path.join(dir, LECTURE)).size;
    t.diagnostic(`lecture 01 saved with its outputs: ${bytes} bytes`);
    assert.ok(bytes < 1_000_000, `saved notebook is ${bytes} bytes`);
    assert.doesNotMatch(fs.readFileSync(path.join(dir, LECTURE), "utf8"), /plotly\.js v\d/, "plotly.js is not copied into the notebook");
    await gotoNotebook(page, server!, LECTURE);
    const s = await figureState(page);
    await shot("lecture01-reopened");
    assert.deepEqual([s.trusted, s.drawn, s.figures], [true, FIGURES_01, FIGURES_01]);
  });

  await t.test("add a cell, save, reopen: still trusted, every figure drawn, every cell has an id", async () => {
    // As a student does: select the last cell, Esc, B (insert below), type, Shift-Enter.
    await page.evaluate(() => {
      const nb = (window as any).Jupyter.notebook; // eslint-disable-line @typescript-eslint/no-explicit-any
      nb.select(nb.ncells() - 1);
      nb.command_mode();
    });
    await page.keyboard.press("b");
    await page.keyboard.press("Enter");
    await page.keyboard.type("const mine = 40 + 2;");
    // The rest of the cell (a progress bar, as bp.train draws it) is set as a whole: typing it would meet
    // CodeMirror's automatic brackets and indentation.
    await page.evaluate((code) => {
      const nb = (window as any).Jupyter.notebook; // eslint-disable-line @typescript-eslint/no-explicit-any
      const cell = nb.get_selected_cell();
      cell.set_text(cell.get_text() + code);
    }, "\nconst pb = new bp.training.ProgressBar({ total: 20, delayMs: 0, intervalMs: 50 });\nfor (let i = 1; i <= 20; i++) {\n  await new Promise((r) => setTimeout(r, 80));\n  pb.step(i, { loss: 1 / i });\n}\npb.end();");
    await page.keyboard.press("Shift+Enter");
    // While it runs, the bar is one line redrawn in place; at the end, one final line.
    const index = await page.evaluate(() => (window as any).Jupyter.notebook.get_selected_index() - 1); // eslint-disable-line @typescript-eslint/no-explicit-any
    const outputText = () => page.evaluate((i) => (window as any).Jupyter.notebook.get_cell(i).output_area.element.text() as string, index); // eslint-disable-line @typescript-eslint/no-explicit-any
    let midway = "";
    for (let k = 0; k < 100 && !midway; k++) {
      const text = await outputText();
      if (/epoch +\d+\/20/.test(text) && !text.includes("100%")) midway = text;
      else await page.waitForTimeout(50);
    }
    await waitIdle(page);
    const final = (await outputText()).trim();
    assert.ok(midway, "the bar showed while the cell ran");
    assert.equal(midway.trim().split("\n").length, 1, `one line while running: ${JSON.stringify(midway)}`);
    assert.match(final, /^epoch 20\/20  █{20}  100%  loss 0\.050000  \d\d:\d\d$/);
    await save(page);
    const nb = saved(LECTURE);
    assert.ok(nb.cells.some((c: { source: string | string[] }) => [c.source].flat().join("").includes("const mine = 40 + 2;")), "the new cell was saved");
    assert.deepEqual(nb.cells.filter((c: { id?: string }) => !c.id).length, 0, "every cell has an id (pre-save hook)");
    await gotoNotebook(page, server!, LECTURE);
    const s = await figureState(page);
    assert.deepEqual([s.trusted, s.drawn, s.figures], [true, FIGURES_01, FIGURES_01]);
  });

  await t.test("Clear All Outputs, reload with the same kernel, run a figure cell: drawn", async () => {
    await page.click("#celllink");
    await page.hover("#all_outputs");
    await page.click("#clear_all_output a");
    assert.equal((await figureState(page, 0)).figures, 0);
    await save(page);
    await gotoNotebook(page, server!, LECTURE);
    await runCell(page, await findCell(page, /bp\.show\(/));
    const s = await figureState(page);
    assert.deepEqual([s.drawn, s.figures, s.errors], [1, 1, []]);
  });
});

test("an exercise filled in by a student: Restart & Run All passes every test and draws its figure", { skip, timeout: 240_000 }, async () => {
  // The student's answers: the solution cells of the source notebook, typed into the matching cells (same ids).
  const solution = JSON.parse(fs.readFileSync(path.join(ROOT, "solutions", path.basename(EXERCISE)), "utf8"));
  const answers: Record<string, string> = {};
  for (const c of solution.cells) {
    const src = [c.source].flat().join("");
    if (c.cell_type === "code" && src.includes("// BEGIN SOLUTION")) answers[c.id] = src.replace(/^\s*\/\/ (BEGIN|END) SOLUTION\n/gm, "");
  }
  assert.ok(Object.keys(answers).length >= 4);
  await gotoNotebook(page, server!, EXERCISE);

  // A solution that does not compile leaves the stub in effect: the test must say the cell did not run.
  const stub = await findCell(page, /^function sigmoid\(/);
  const check = stub + 1;
  await runCell(page, stub);
  await page.evaluate((i) => (window as any).Jupyter.notebook.get_cell(i).set_text("function sigmoid(z: number): number {\n  return 1 / (1 + Math.exp(-z)) + \"\";\n}\n\nfunction sigmoidPrime(z: number): number {\n  return sigmoid(z) * (1 - sigmoid(z));\n}"), stub); // eslint-disable-line @typescript-eslint/no-explicit-any
  await runCell(page, stub);
  await page.waitForTimeout(400); // tslab drops requests that arrive within 200 ms of a failed cell (tslab #19)
  await runCell(page, check);
  const said = await page.evaluate((i) => (window as any).Jupyter.notebook.get_cell(i).output_area.element.text() as string, check); // eslint-disable-line @typescript-eslint/no-explicit-any
  await shot("exercise-stale-solution", ".cell", check);
  assert.match(said, /sin implementar/);
  assert.match(said, /la celda que define «sigmoid».*no llegó a ejecutarse: tuvo un error de compilación/s);

  const filled = await page.evaluate((a) => {
    let n = 0;
    for (const cell of (window as any).Jupyter.notebook.get_cells()) { // eslint-disable-line @typescript-eslint/no-explicit-any
      const id = cell.id ?? cell.metadata?.id;
      if (id && a[id] !== undefined) {
        cell.set_text(a[id]);
        n++;
      }
    }
    return n;
  }, answers);
  assert.equal(filled, Object.keys(answers).length, "every answer found its cell by id");
  await restartRunAll(page);
  const s = await figureState(page);
  assert.deepEqual([s.errors, s.drawn, s.figures], [[], 1, 1]);
  await save(page);
  await gotoNotebook(page, server!, EXERCISE);
  const again = await figureState(page);
  assert.deepEqual([again.trusted, again.drawn], [true, 1]);
});

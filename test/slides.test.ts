// The slide convention of the lecture notebooks (docs/authoring.md), committed notebooks without outputs,
// and the deck arithmetic the browser check relies on.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { readNotebook, conventionProblems, outputProblems, deckInfo, Notebook, NotebookCell } from "../tools/notebook-info";

const ROOT = path.resolve(__dirname, "..");
const PROBE = path.join(__dirname, "fixtures/slides/90-probe.ipynb");

function ipynbIn(dir: string, re = /\.ipynb$/): string[] {
  const abs = path.join(ROOT, dir);
  return fs.existsSync(abs) ? fs.readdirSync(abs).filter((f) => re.test(f)).sort().map((f) => path.join(abs, f)) : [];
}

const lectures = ipynbIn("notebooks", /^\d\d-.*\.ipynb$/);

test("every lecture notebook follows the slide convention", () => {
  const report: string[] = [];
  for (const file of lectures) {
    const problems = conventionProblems(readNotebook(file), path.basename(file));
    if (problems.length) report.push(`${path.relative(ROOT, file)}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
  assert.equal(report.join("\n"), "", "see docs/authoring.md for the convention");
});

test("committed lecture and exercise notebooks carry no outputs", () => {
  const report: string[] = [];
  for (const file of [...lectures, ...ipynbIn("exercises"), PROBE]) {
    const problems = outputProblems(readNotebook(file));
    if (problems.length) report.push(`${path.relative(ROOT, file)}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
  assert.equal(report.join("\n"), "", "clear the outputs before committing (Jupyter: Edit > Clear All Outputs)");
});

const md = (source: string, slide_type?: string): NotebookCell => ({ cell_type: "markdown", source, metadata: slide_type ? { slideshow: { slide_type } } : {} });
const code = (source: string, slide_type?: string, html?: string): NotebookCell => ({
  cell_type: "code", source, metadata: slide_type ? { slideshow: { slide_type } } : {}, execution_count: html ? 1 : null,
  outputs: html ? [{ output_type: "display_data", data: { "text/html": html } }] : [],
});
const fig = '<div id="f" class="backprop-figure" style="width:100%"></div><script>Plotly.newPlot("f",[],{})</script>';

test("the probe notebook (test fixture) follows the convention", () => {
  assert.deepEqual(conventionProblems(readNotebook(PROBE), "90-probe.ipynb"), []);
});

test("the convention check names what is wrong", () => {
  const good: Notebook = { cells: [md("# 02 · Retropropagación\n\ntexto", "slide"), code("import * as bp from './lib/index';", "skip"), md("## Para practicar\n\n1. algo", "slide")] };
  assert.deepEqual(conventionProblems(good, "02-backprop.ipynb"), []);
  const bad: Notebook = { cells: [code("const x = 1;", "-"), md("texto", "sub-slide"), md("sin metadatos"), md("## Resumen", "slide")] };
  const problems = conventionProblems(bad, "03-x.ipynb").join("\n");
  assert.match(problems, /cell 2 .* slide_type "sub-slide"; use one of slide, subslide, fragment, skip, notes, -/);
  assert.match(problems, /cell 3 .* has no metadata\.slideshow\.slide_type/);
  assert.match(problems, /first cell must be the markdown title slide/);
  assert.match(problems, /must start with "# NN · Title"/);
  assert.match(problems, /last cell must be a markdown "Para practicar" cell/);
  assert.match(conventionProblems({ cells: [md("# 04 · Título", "slide"), md("## Para practicar", "slide")] }, "05-x.ipynb").join(), /the title says 04 but the file is 05-x\.ipynb/);
  assert.match(conventionProblems({ cells: [md("# 04 - Título", "slide"), md("## Para practicar", "slide")] }, "04-x.ipynb").join(), /middle dot/);
  assert.match(conventionProblems({ cells: [md("# 04 · Título", "slide"), md("## Para practicar", "skip")] }, "04-x.ipynb").join(), /must be on a slide, not skip/);
});

test("outputs in a committed notebook are reported per cell", () => {
  const nb: Notebook = { cells: [md("# x"), code("a", "-"), code("b", "-", "<b>hi</b>")] };
  assert.deepEqual(outputProblems(nb), ['cell 3 "b" has execution_count 1', 'cell 3 "b" has 1 output(s)']);
});

test("deck arithmetic follows nbconvert: first visible cell opens the deck; slide/subslide open slides", () => {
  const nb: Notebook = {
    cells: [
      code("setup", "skip"), // hidden: does not open the deck
      md("notes before anything", "notes"),
      md("# 01 · T\n$x$", "-"), // first visible cell: slide 1, whatever its type
      code("plot", "skip", fig), // figure on the page only
      md("## A", "slide"), // 2
      code("plot", "-", fig + fig),
      md("more $$y$$", "fragment"),
      md("more", "fragment"),
      md("## B", "subslide"), // 3
      md("notes $z$", "notes"),
      md("## Para practicar", "slide"), // 4
    ],
  };
  const d = deckInfo(nb);
  assert.equal(d.slides, 4);
  assert.equal(d.fragments, 2);
  assert.equal(d.figures, 3);
  assert.equal(d.figuresInSlides, 2);
  assert.equal(d.mathCells, 3);
  assert.equal(d.mathCellsInSlides, 3);
  assert.equal(d.title, undefined); // the first line is "# 01 · T" only when the first cell is the title
  assert.equal(deckInfo({ cells: [md("# 01 · T", "slide")] }).title, "01 · T");
});

test("the probe's deck: 4 slides, 1 fragment, the first figure on a skipped cell", () => {
  const d = deckInfo(readNotebook(PROBE));
  assert.deepEqual([d.slides, d.fragments, d.title], [4, 1, "90 · Sonda de diapositivas"]);
});

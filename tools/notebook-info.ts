/**
 * What a lecture notebook says about its slides: the slide convention (docs/authoring.md), the deck it
 * should give (slides, fragments, figures) and a check that a notebook follows the convention.
 * Shared by the slide export, the browser check and the tests.
 */
import { readNotebook as readValidNotebook, sourceText } from "./homework/notebook";

export const SLIDE_TYPES = ["slide", "subslide", "fragment", "skip", "notes", "-"] as const;
export type SlideType = (typeof SLIDE_TYPES)[number];

export interface NotebookOutput {
  output_type: string;
  data?: Record<string, string | string[]>;
  text?: string | string[];
}

export interface NotebookCell {
  cell_type: "markdown" | "code" | "raw";
  source: string | string[];
  metadata?: { slideshow?: { slide_type?: string }; tags?: string[]; [key: string]: unknown };
  execution_count?: number | null;
  outputs?: NotebookOutput[];
}

export interface Notebook {
  cells: NotebookCell[];
  metadata?: Record<string, unknown>;
}

/** Reads and validates a notebook (the homework tools' reader), typed with the metadata read here. */
export function readNotebook(file: string): Notebook {
  return readValidNotebook(file) as unknown as Notebook;
}

export function cellSource(cell: NotebookCell): string {
  return sourceText(cell);
}

/** The cell's slide type as nbconvert reads it: missing metadata counts as "-". */
export function slideType(cell: NotebookCell): string {
  return cell.metadata?.slideshow?.slide_type ?? "-";
}

function joined(v: string | string[] | undefined): string {
  return Array.isArray(v) ? v.join("") : v ?? "";
}

/** Plotly figures shown by a cell: `backprop-figure` divs in its HTML outputs (see lib/plot/show.ts). */
export function cellFigures(cell: NotebookCell): number {
  let n = 0;
  for (const o of cell.outputs ?? []) n += (joined(o.data?.["text/html"]).match(/class="backprop-figure"/g) ?? []).length;
  return n;
}

export interface DeckInfo {
  /** Leaf reveal.js slides (a `slide` with its `subslide`s counts 1 + subslides). */
  slides: number;
  /** Fragment steps (one per `fragment` cell). */
  fragments: number;
  /** Figures on the HTML page (every cell) and in the deck (cells not skipped). */
  figures: number;
  figuresInSlides: number;
  /** Markdown cells with $…$ math, on the page and in the deck. */
  mathCells: number;
  mathCellsInSlides: number;
  title?: string;
}

const MATH = /\$\$[\s\S]+?\$\$|\$[^$\n]+\$|\\\(|\\\[/;

/**
 * The deck nbconvert 6.5 builds (its _RevealMetadataPreprocessor): the first cell that is neither
 * `skip` nor `notes` opens the first slide; after it, each `slide` or `subslide` cell opens a new one.
 */
export function deckInfo(nb: Notebook): DeckInfo {
  const info: DeckInfo = { slides: 0, fragments: 0, figures: 0, figuresInSlides: 0, mathCells: 0, mathCellsInSlides: 0 };
  let started = false;
  for (const cell of nb.cells) {
    const t = slideType(cell);
    const visible = t !== "skip" && t !== "notes";
    if (!started && visible) {
      started = true;
      info.slides = 1;
    } else if (started && (t === "slide" || t === "subslide")) {
      info.slides++;
    } else if (started && t === "fragment") {
      info.fragments++;
    }
    const figs = cellFigures(cell);
    info.figures += figs;
    if (t !== "skip") info.figuresInSlides += figs;
    if (cell.cell_type === "markdown" && MATH.test(cellSource(cell))) {
      info.mathCells++;
      if (t !== "skip") info.mathCellsInSlides++;
    }
  }
  const first = nb.cells[0];
  const line = first && first.cell_type === "markdown" ? cellSource(first).trim().split("\n")[0] : "";
  if (line.startsWith("# ")) info.title = line.slice(2).trim();
  return info;
}

/** Lecture title line: "# NN · Title" (NN = the file's number). */
export const TITLE_LINE = /^# (\d\d) · \S.*$/;
export const PRACTICE_HEADING = /^#{1,3} Para practicar\s*$/m;

/**
 * Problems with a lecture notebook's slide convention (empty when it follows it). `name` is the file
 * name (NN-topic.ipynb), used to check the title's number.
 */
export function conventionProblems(nb: Notebook, name: string): string[] {
  const problems: string[] = [];
  const where = (i: number) => `cell ${i + 1} (${nb.cells[i].cell_type}: ${JSON.stringify(cellSource(nb.cells[i]).split("\n")[0].slice(0, 50))})`;
  if (nb.cells.length === 0) return ["the notebook has no cells"];
  nb.cells.forEach((cell, i) => {
    const t = cell.metadata?.slideshow?.slide_type;
    if (t === undefined) problems.push(`${where(i)} has no metadata.slideshow.slide_type; use one of ${SLIDE_TYPES.join(", ")}`);
    else if (!(SLIDE_TYPES as readonly string[]).includes(t)) problems.push(`${where(i)} has slide_type ${JSON.stringify(t)}; use one of ${SLIDE_TYPES.join(", ")}`);
  });
  const first = nb.cells[0];
  const titleLine = cellSource(first).trim().split("\n")[0];
  const m = TITLE_LINE.exec(titleLine);
  const number = /^(\d\d)-/.exec(name)?.[1];
  if (first.cell_type !== "markdown" || slideType(first) !== "slide") {
    problems.push(`the first cell must be the markdown title slide (slide_type "slide"); it is ${first.cell_type} with slide_type ${JSON.stringify(slideType(first))}`);
  }
  if (!m) problems.push(`the first cell must start with "# NN · Title" (middle dot, U+00B7); it starts with ${JSON.stringify(titleLine.slice(0, 60))}`);
  else if (number && m[1] !== number) problems.push(`the title says ${m[1]} but the file is ${name}`);
  const last = nb.cells[nb.cells.length - 1];
  if (last.cell_type !== "markdown" || !PRACTICE_HEADING.test(cellSource(last))) {
    problems.push(`the last cell must be a markdown "Para practicar" cell (a heading "## Para practicar"); it is ${where(nb.cells.length - 1)}`);
  } else if (slideType(last) === "skip" || slideType(last) === "notes") {
    problems.push(`the "Para practicar" cell must be on a slide, not ${slideType(last)}`);
  }
  return problems;
}

/** Problems with a committed notebook carrying outputs (empty when it carries none). */
export function outputProblems(nb: Notebook): string[] {
  const problems: string[] = [];
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    const head = JSON.stringify(cellSource(cell).split("\n")[0].slice(0, 50));
    if (cell.execution_count !== null && cell.execution_count !== undefined) problems.push(`cell ${i + 1} ${head} has execution_count ${cell.execution_count}`);
    if ((cell.outputs ?? []).length > 0) problems.push(`cell ${i + 1} ${head} has ${cell.outputs!.length} output(s)`);
  });
  return problems;
}

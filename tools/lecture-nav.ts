/**
 * Finding one's way through the lectures: each lecture gets, right after its title cell, a navigation cell
 * (markdown, slide type `skip`: on the page and in the notebook, not in the deck) with the previous and
 * next lecture and a short table of contents of its `##` sections; and the "Para practicar" cell links the
 * exercise it names (`exercises/hwNN-x.ipynb` → a link that opens it in Jupyter). Both are generated from
 * the notebooks themselves, so `npm run nav` after adding a lecture or a section keeps them right;
 * `npm run nav -- --check` (and test/nav.test.ts) fails when a notebook is not up to date.
 *
 * Links are relative .ipynb links, which Jupyter opens; the exporter (tools/nbexport.py) turns them into
 * links to the exported pages (.html) and decks.
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT, runMain } from "./jupyter-env";
import { parseCli } from "./cli";

export const NAV_ID = "backprop-nav";
const NOTEBOOKS = path.join(ROOT, "notebooks");

interface Cell {
  cell_type: string;
  id?: string;
  metadata: Record<string, unknown>;
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
}
interface Nb {
  cells: Cell[];
  [k: string]: unknown;
}

const text = (c: Cell) => [c.source].flat().join("");
const lines = (t: string) => {
  const parts = t.split("\n");
  return parts.map((l, i) => (i < parts.length - 1 ? l + "\n" : l)).filter((l) => l !== "");
};

/** The anchor Jupyter (and nbconvert) give a heading: its text with spaces as dashes. */
export function headingAnchor(heading: string): string {
  return heading.replace(/`/g, "").replace(/\*\*/g, "").trim().replace(/ /g, "-");
}

/** A lecture's number and title, from its title cell "# NN · Title". */
export function lectureTitle(nb: Nb): string {
  const first = nb.cells[0] ? text(nb.cells[0]).split("\n")[0] : "";
  return first.replace(/^#\s*/, "").trim();
}

/** The navigation cell's markdown for lecture k of `files`. */
export function navMarkdown(files: string[], notebooks: Nb[], k: number): string {
  const link = (j: number) => `[${lectureTitle(notebooks[j])}](${files[j]})`;
  const prev = k > 0 ? `← ${link(k - 1)}` : "← (primera clase)";
  const next = k < files.length - 1 ? `${link(k + 1)} →` : "(última clase) →";
  const sections = notebooks[k].cells
    .filter((c) => c.cell_type === "markdown")
    .map((c) => text(c).split("\n")[0])
    .filter((h) => /^## /.test(h) && !h.includes("$"))
    .map((h) => h.slice(3).trim());
  // HTML links: a heading may hold parentheses, which an old markdown parser cuts a link at.
  const esc = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  const toc = sections.map((s) => `<a href="#${esc(headingAnchor(s))}">${esc(s.replace(/`/g, ""))}</a>`).join(" · ");
  return `${prev} · [índice del curso](../README.md) · ${next}\n\n**En esta clase:** ${toc}`;
}

/** "(`exercises/hwNN-x.ipynb`)" in the Para practicar cell → a link that opens the exercise. */
export function linkExercises(md: string): string {
  return md.replace(/\(`exercises\/(hw\d\d-[\w-]+)\.ipynb`\)/g, "([abrir `exercises/$1.ipynb`](../exercises/$1.ipynb))");
}

/** The lecture with its navigation cell and exercise links as they should be; `changed` when that differs. */
export function withNav(files: string[], notebooks: Nb[], k: number): { nb: Nb; changed: boolean } {
  const nb = JSON.parse(JSON.stringify(notebooks[k])) as Nb;
  const before = JSON.stringify(nb);
  const md = navMarkdown(files, notebooks, k);
  const at = nb.cells.findIndex((c) => c.id === NAV_ID);
  const cell: Cell = { cell_type: "markdown", id: NAV_ID, metadata: { slideshow: { slide_type: "skip" } }, source: lines(md) };
  if (at >= 0) nb.cells[at] = { ...nb.cells[at], source: cell.source, metadata: { ...nb.cells[at].metadata, slideshow: { slide_type: "skip" } } };
  else nb.cells.splice(1, 0, cell);
  for (const c of nb.cells) {
    if (c.cell_type === "markdown" && /^## Para practicar/.test(text(c))) {
      const linked = linkExercises(text(c));
      if (linked !== text(c)) c.source = lines(linked);
    }
  }
  return { nb, changed: JSON.stringify(nb) !== before };
}

export function lectureFiles(dir = NOTEBOOKS): string[] {
  return fs.readdirSync(dir).filter((f) => /^\d\d-.*\.ipynb$/.test(f)).sort();
}

/** Files whose navigation is missing or out of date (written when `write`). */
export function updateNav(dir = NOTEBOOKS, write = true): string[] {
  const files = lectureFiles(dir);
  // Titles and sections come from the notebooks as they are (the nav cell has no "##" headings).
  const notebooks = files.map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as Nb);
  const stale: string[] = [];
  files.forEach((f, k) => {
    const { nb, changed } = withNav(files, notebooks, k);
    if (!changed) return;
    stale.push(f);
    if (write) fs.writeFileSync(path.join(dir, f), JSON.stringify(nb, null, 1) + "\n");
  });
  return stale;
}

async function main(): Promise<number> {
  const { values } = parseCli(process.argv.slice(2), { check: { type: "boolean" } }, "usage: npm run nav -- [--check]");
  const stale = updateNav(NOTEBOOKS, !values.check);
  if (values.check) {
    if (stale.length) console.error(`navigation out of date in: ${stale.join(", ")} (run npm run nav)`);
    return stale.length ? 1 : 0;
  }
  console.log(stale.length ? `navigation written: ${stale.join(", ")}` : "navigation up to date");
  return 0;
}

if (require.main === module) runMain(main);

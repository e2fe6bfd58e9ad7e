// Finding one's way: every lecture has its navigation cell (previous / next, table of contents) up to date,
// its links lead to files that exist and to headings that exist, "Para practicar" opens the exercise, and
// every lecture has a one-line summary for the index page.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { updateNav, lectureFiles, headingAnchor, NAV_ID } from "../tools/lecture-nav";

const ROOT = path.resolve(__dirname, "..");
const NB = path.join(ROOT, "notebooks");
const read = (f: string) => JSON.parse(fs.readFileSync(path.join(NB, f), "utf8")) as { cells: { id?: string; cell_type: string; source: string | string[]; metadata: { slideshow?: { slide_type?: string } } }[]; metadata: { backprop?: { summary?: string } } };
const src = (c: { source: string | string[] }) => [c.source].flat().join("");

test("the lectures' navigation is up to date (npm run nav)", () => {
  assert.deepEqual(updateNav(NB, false), []);
});

test("navigation links lead to lectures, exercises and headings that exist", () => {
  const files = lectureFiles();
  assert.ok(files.length >= 7);
  files.forEach((f, k) => {
    const nb = read(f);
    const nav = nb.cells[1];
    assert.equal(nav.id, NAV_ID, `${f}: the navigation cell follows the title`);
    assert.equal(nav.metadata.slideshow?.slide_type, "skip", `${f}: navigation is not in the deck`);
    const md = src(nav);
    const targets = Array.from(md.matchAll(/\]\(([^)#]+)\)/g), (m) => m[1]);
    if (k > 0) assert.ok(targets.includes(files[k - 1]), `${f}: links the previous lecture`);
    if (k < files.length - 1) assert.ok(targets.includes(files[k + 1]), `${f}: links the next lecture`);
    for (const t of targets) assert.ok(fs.existsSync(path.join(NB, t)), `${f}: ${t} exists`);
    const anchors = new Set(nb.cells.filter((c) => c.cell_type === "markdown").map((c) => src(c).split("\n")[0]).filter((h) => h.startsWith("## ")).map((h) => headingAnchor(h.slice(3))));
    const toc = Array.from(md.matchAll(/href="#([^"]+)"/g), (m) => m[1].replace(/&amp;/g, "&"));
    assert.ok(toc.length >= 3, `${f}: a table of contents`);
    for (const a of toc) assert.ok(anchors.has(a), `${f}: #${a} is a heading`);
    const practice = src(nb.cells[nb.cells.length - 1]);
    for (const m of practice.matchAll(/exercises\/(hw\d\d-[\w-]+)\.ipynb/g)) {
      assert.match(practice, new RegExp(`\\]\\(\\.\\./exercises/${m[1]}\\.ipynb\\)`), `${f}: "Para practicar" opens ${m[1]}`);
      assert.ok(fs.existsSync(path.join(ROOT, "exercises", `${m[1]}.ipynb`)));
    }
    assert.ok((nb.metadata.backprop?.summary ?? "").length > 30, `${f}: a one-line summary for the index`);
  });
});

// tools/tslab-speed.js changes how tslab's converter gets its answers, never the answers: every cell of a
// lecture, a homework solution and a list of cells written to fail (type errors, redeclarations, syntax
// errors, top-level await, types, classes, enums, imports) is converted through tslab as is and through the
// faster route, and everything the converter returns (JavaScript, declarations, diagnostics with their
// messages and positions, the last expression's name, completions and hover text at the end of each cell)
// must be the same.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");

function codeCells(file: string): string[] {
  const nb = JSON.parse(fs.readFileSync(path.join(ROOT, file), "utf8")) as { cells: { cell_type: string; source: string | string[] }[] };
  return nb.cells.filter((c) => c.cell_type === "code").map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source));
}

const TRICKY = [
  'import * as bp from "./lib/index";',
  "const a: number = 1;\nlet b = a + 1;",
  'const a = "again";', // redeclared: allowed across cells
  "const c: string = a * 2;", // type error
  "function f(x: number): number { return x + b; }\nf(",
  "f('x');", // argument type error
  "interface P { x: number; y?: string }\ntype Q = P & { z: boolean };\nconst p: Q = { x: 1, z: true };\np",
  "class K { constructor(public n = 3) {} twice() { return this.n * 2; } }\nenum E { A, B = 5 }\nnew K().twice() + E.B",
  "await new Promise((r) => setTimeout(r, 1));\nconst later = 4;",
  "later + p.x",
  "const { x, ...rest } = { x: 1, y: 2, w: 3 };\nrest",
  "bp.tensor([1, 2]).shape",
  "bp.nonexistent",
  "declare module \"./lib/index\" { export const added: number; }",
  "let u; u = 3; u",
  'import { UsageError } from "./tools/cli";\nnew UsageError("m").message', // a project .ts file: compiled by tslab
  "const after = UsageError.name;",
  "export const e1 = 1;",
  "",
  "// only a comment",
];

function convert(route: "stock" | "fast", lists: string[][]): { convertMs: number; results: unknown } {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tslab-speed-")), "cells.json");
  fs.writeFileSync(file, JSON.stringify(lists));
  const r = spawnSync(process.execPath, [path.join(ROOT, "tools", "tslab-speed.js"), "convert", route, file], { encoding: "utf8", maxBuffer: 1 << 28 });
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test("tslab's converter gives the same results with and without tools/tslab-speed.js", { timeout: 600_000 }, () => {
  const lists = [TRICKY, codeCells("notebooks/01-neurona-activaciones.ipynb"), codeCells("solutions/hw01-activaciones.ipynb"), codeCells("solutions/hw08-convolucion.ipynb")];
  const stock = convert("stock", lists);
  const fast = convert("fast", lists);
  assert.deepEqual(fast.results, stock.results);
  // the failing cells did fail, with tslab's messages: the comparison covers diagnostics, not only successes
  const tricky = (stock.results as { diagnostics: { messageText: string }[] }[][])[0];
  assert.match(tricky[3].diagnostics[0].messageText, /Type 'number' is not assignable to type 'string'/);
  assert.ok(tricky[12].diagnostics.length > 0);
  console.log(`convert: ${Math.round(stock.convertMs)} ms as is, ${Math.round(fast.convertMs)} ms with tslab-speed.js`);
});

test("tools/tslab-speed.js refuses a converter it was not written for", () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const speed = require("../tools/tslab-speed.js") as { speedUpTslab(dist: string, ts: unknown): void };
  const dist = fs.mkdtempSync(path.join(os.tmpdir(), "tslab-dist-"));
  fs.writeFileSync(path.join(dist, "converter.js"), "exports.createConverter = () => null;\n");
  assert.throws(() => speed.speedUpTslab(dist, {}), /not the one it was written for.*BACKPROP_TSLAB_STOCK=1/);
  fs.rmSync(dist, { recursive: true, force: true });
});

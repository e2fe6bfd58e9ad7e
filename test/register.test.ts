// One Spanish register in the lectures and the homework: "tú" in instructions, "nosotros" in explanations;
// no voseo ("Completá", "podés") and no vosotros ("Probadlo", "podéis", "vuestra"). Markdown cells only.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");
const L = "A-Za-zÁÉÍÓÚÜáéíóúüñÑ";
const word = (re: string) => new RegExp(`(?<![${L}])(${re})(?![${L}])`, "g");

/** Forms that give the register away; each with what to write instead. */
const FORMS: [RegExp, string][] = [
  [word(`(?!dieciséis|veintiséis)[${L}]+(?:áis|éis)`), "vosotros (podéis → puedes)"],
  [word("vuestr[oa]s?|vosotr[oa]s|os"), "vosotros (vuestra → tu)"],
  [word(`[${L}]+(?:adlo|adla|adlos|adlas|edlo|edla|idlo|idla)|[Pp]robad|[Mm]irad|[Hh]aced|[Ee]jecutad`), "vosotros (Probadlo → Pruébalo)"],
  [word("podés|tenés|sabés|querés|recibís|hacés|usás|necesitás|mirá|probá|fijate|acordate|ejecutala|medilo|completá|borrá|trabajá|entregá|implementá|restá|graficá|escribí|usá|compará|calculá|elegí|poné|hacé|decí|ejecutá|cambiá"), "voseo (Completá → Completa)"],
];

function markdownCells(file: string): { index: number; text: string }[] {
  const nb = JSON.parse(fs.readFileSync(file, "utf8")) as { cells: { cell_type: string; source: string | string[] }[] };
  return nb.cells.map((c, index) => ({ index, type: c.cell_type, text: [c.source].flat().join("") })).filter((c) => c.type === "markdown");
}

test("lectures and homework use one register: no voseo, no vosotros", () => {
  const files = ["notebooks", "solutions", "exercises"].flatMap((d) =>
    fs.existsSync(path.join(ROOT, d)) ? fs.readdirSync(path.join(ROOT, d)).filter((f) => f.endsWith(".ipynb")).map((f) => path.join(d, f)) : [],
  );
  assert.ok(files.length >= 7);
  const found: string[] = [];
  for (const f of files) {
    for (const cell of markdownCells(path.join(ROOT, f))) {
      for (const [re, what] of FORMS) for (const m of cell.text.matchAll(re)) found.push(`${f} cell ${cell.index}: "${m[1]}" is ${what}`);
    }
  }
  assert.deepEqual(found, []);
});

test("the register check sees each kind of form", () => {
  const text = "Completá la función. Probadlo. ¿Podéis verlo? Usad vuestra inicialización; podés verlo. Ejecútala tú.";
  const kinds = FORMS.filter(([re]) => [...text.matchAll(re)].length > 0).map(([, what]) => what.split(" ")[0]);
  assert.deepEqual([...new Set(kinds)].sort(), ["voseo", "vosotros"]);
  assert.equal(FORMS.filter(([re]) => "Ejecútala tú y pruébalo; después, más: dieciséis casos.".match(re)).length, 0);
});

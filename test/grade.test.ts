/**
 * The autograder: scoring rules on synthetic runs (fast), then the hostile corpus graded for real
 * (test/fixtures/handins/, expected.json) with --jobs 2, resume, and feedback that never shows hidden tests.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseAssignment } from "../tools/homework/assignment";
import { buildGradedNotebook, feedbackMarkdown, score, HandinResult, guardTest, plainText, flagToken } from "../tools/homework/grader";
import { Notebook, sourceText } from "../tools/homework/notebook";
import { RunLimits, RunResult } from "../tools/homework/sandbox";
import { spawnSync } from "child_process";
import { grade, parseArgs, listHandins, csvCell, studentId, gradebookCsv, MAX_ID_CHARS } from "../tools/grade";

const ROOT = path.resolve(__dirname, "..");
const HANDINS = path.join(ROOT, "test", "fixtures", "handins");
const hw01 = parseAssignment(path.join(ROOT, "solutions", "hw01-activaciones.ipynb"));
const limits: RunLimits = { cellTimeout: 10, wallLimit: 90, memoryMb: 1024, outputBytes: 8e6, tmpMb: 64 };
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** Every non-trivial line of every hidden block: none may appear in a student's feedback. */
function hiddenLines(a: ReturnType<typeof parseAssignment>): string[] {
  const visible = a.tests.map((t) => t.visible).join("\n");
  return a.tests.flatMap((t) => t.hidden.split("\n").map((l) => l.trim()).filter((l) => l.length > 12 && !visible.includes(l)));
}

test("graded notebook: original tests replace edited ones, deleted ones are put back after their exercise", () => {
  const nb = clone(hw01.student) as Notebook;
  const relu = nb.cells.findIndex((c) => c.id === hw01.tests.find((t) => t.id === "relu")?.cellId);
  nb.cells[relu].source = ["console.log('pasa');"];
  const softmax = nb.cells.findIndex((c) => c.id === hw01.tests.find((t) => t.id === "softmax")?.cellId);
  const before = nb.cells[softmax - 1].id;
  nb.cells.splice(softmax, 1);
  const g = buildGradedNotebook(nb, hw01);
  assert.deepEqual(g.flags.sort(), ["test-deleted:softmax", "test-edited:relu"]);
  const texts = g.nb.cells.map(sourceText);
  assert.ok(!texts.some((t) => t.includes("console.log('pasa')")), "the edited test must not run");
  for (const t of hw01.tests) {
    assert.equal(texts.filter((x) => x === t.visible).length, 1, `visible part of ${t.id} once`);
    assert.equal(texts.filter((x) => x === t.hidden).length, 1, `hidden part of ${t.id} once`);
  }
  // The restored softmax test comes right after the softmax exercise cell.
  const pos = g.entries.findIndex((e) => e.kind === "visible" && e.test.id === "softmax");
  const prev = g.entries[pos - 1];
  assert.equal(prev.kind, "student");
  assert.equal(prev.kind === "student" ? nb.cells[prev.handinIndex].id : "", before);
});

function fakeRun(g: ReturnType<typeof buildGradedNotebook>, statuses: Record<number, RunResult["cells"][number]["status"]>, stopAt?: number): RunResult {
  const cells = g.entries.map((_, i) => ({ index: i, status: statuses[i] ?? ("ok" as const) })).filter((c) => stopAt === undefined || c.index <= stopAt);
  return { cells, wallMs: 1 };
}

test("scoring: a dead kernel fails every test not yet passed; hidden failures cost the points", () => {
  const g = buildGradedNotebook(clone(hw01.student) as Notebook, hw01);
  const tanhHidden = g.entries.findIndex((e) => e.kind === "hidden" && e.test.id === "tanh");
  const reluVisible = g.entries.findIndex((e) => e.kind === "visible" && e.test.id === "relu");
  // The kernel dies in the relu test; nothing after it ran.
  const s = score(g, hw01, fakeRun(g, { [tanhHidden]: "error", [reluVisible]: "dead" }, reluVisible), limits);
  const byId = Object.fromEntries(s.tests.map((t) => [t.id, t]));
  assert.equal(byId.sigmoid.passed, true);
  assert.equal(byId.tanh.reason, "hidden");
  assert.equal(byId.relu.reason, "dead");
  for (const id of ["elu-rapida", "softmax", "figura"]) assert.equal(byId[id].reason, "not-run");
  assert.equal(s.total, 2);
  assert.ok(s.flags.includes("dead-kernel"));
  // A run that died before reporting anything is never a pass either.
  const none = score(g, hw01, { cells: [], wallMs: 1, killed: true, fatal: "killed" }, limits);
  assert.equal(none.total, 0);
});

test("feedback: test names and canned reasons, never hidden-test source", () => {
  const g = buildGradedNotebook(clone(hw01.student) as Notebook, hw01);
  const s = score(g, hw01, fakeRun(g, Object.fromEntries(g.entries.map((e, i) => [i, e.kind === "hidden" ? "error" : "ok"]))), limits);
  const r = { ...s, student: "x", assignment: hw01.name, max: hw01.maxPoints } as HandinResult;
  const md = feedbackMarkdown(r, limits);
  assert.match(md, /Puntaje: 0 \/ 10/);
  for (const t of hw01.tests) assert.ok(md.includes(t.name));
  for (const line of hiddenLines(hw01)) assert.ok(!md.includes(line), `hidden line leaked: ${line}`);
});

test("arguments and hand-in listing", () => {
  assert.throws(() => parseArgs(["hw01"]), /usage/);
  assert.throws(() => parseArgs(["hw01", "x", "--jobs", "0"]), /--jobs/);
  assert.throws(() => parseArgs(["hw01", "x", "--sandbox", "docker"]), /bwrap, auto or none/);
  const list = listHandins(path.join(HANDINS, "hw01"), hw01.name);
  assert.ok(list.some((h) => h.student === "alternativa" && h.file?.endsWith("entrega-hw01.ipynb")));
});

test("names: accents, collisions, long names, formulas and symbolic links never stop the batch", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bp-names-"));
  try {
    const ref = fs.readFileSync(path.join(HANDINS, "hw01", "referencia.ipynb"));
    const long = "a".repeat(236 - ".ipynb".length) + ".ipynb";
    for (const n of ["José.ipynb", "Jose.ipynb", long, "=HYPERLINK(1).ipynb", "+1.ipynb", "@SUM(A1).ipynb", "-2.ipynb", 'a"b,c\rd.ipynb']) fs.writeFileSync(path.join(dir, n), ref);
    fs.symlinkSync(path.join(dir, "Jose.ipynb"), path.join(dir, "enlace.ipynb"));
    const list = listHandins(dir, hw01.name);
    assert.equal(list.length, 9);
    const ids = list.map((h) => h.student);
    assert.equal(new Set(ids).size, ids.length, `distinct ids: ${ids.join(" ")}`);
    for (const id of ids) {
      assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9._@-]*$/, id);
      assert.ok(id.length <= MAX_ID_CHARS, id);
    }
    assert.ok(ids.filter((i) => i.startsWith("Jose-")).length === 2, `José and Jose both suffixed: ${ids.join(" ")}`);
    const link = list.find((h) => h.student === "enlace");
    assert.ok(link && !link.file && /enlace simbólico/.test(link.problem ?? ""), "a symbolic link is listed as a problem");
    // The same names reach the gradebook: one parseable row each, no formulas.
    const results = list.map((h) => ({ student: h.student, tests: [], total: 0, max: 10, status: "graded", flags: ["kernel-name:" + flagToken("x\r\n=cmd|' /C calc'!A0")] }) as unknown as HandinResult);
    const file = path.join(dir, "gb.csv");
    fs.writeFileSync(file, gradebookCsv({ ...hw01, tests: [] } as unknown as typeof hw01, results));
    const rows = csvRows(file);
    assert.equal(rows.length, 10);
    for (const row of rows) for (const cell of row) assert.ok(!FORMULA.test(cell), cell);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(csvCell("a\rb"), '"a\rb"');
  assert.equal(csvCell("=1+1"), "'=1+1");
  assert.equal(csvCell(-3), "-3");
  assert.equal(studentId("Ñandú Pérez"), "Nandu_Perez");
});

test("hand-in text in feedback: one line, escaped, short", () => {
  const evil = "x\r\n\r\n# Puntaje: 100 / 10\r\n<img src=x onerror=alert(1)>\u202e";
  const t = plainText(evil);
  assert.ok(!/[\r\n\u202e]/.test(t) && !/(^|[^\\])</.test(t) && !/^#/.test(t), t);
  assert.match(flagToken(evil), /^[A-Za-z0-9._+-]{1,40}$/);
  assert.match(flagToken("=cmd"), /^_/);
  const g = buildGradedNotebook(clone(hw01.student) as Notebook, hw01);
  const s = score(g, hw01, fakeRun(g, {}), limits);
  const md = feedbackMarkdown({ ...s, student: "x", assignment: hw01.name, max: hw01.maxPoints, observations: [`Tu cuaderno indica el kernel «${t}»`] } as HandinResult, limits);
  assert.equal(md.match(/Puntaje: /g)?.length, 1);
  assert.ok(!/(^|[^\\])<img/.test(md));
});

test("tests run with the pristine built-ins: a wrapper binds the global names a test uses", () => {
  const t = hw01.tests.find((x) => x.id === "softmax")!;
  const w = guardTest(t.hidden, "bpGuard_abc");
  assert.match(w, /^declare const bpGuard_abc: any;\n\(\(Math: Math, Number: NumberConstructor, Error: ErrorConstructor\) => \{\n/);
  assert.ok(w.includes(t.hidden) && w.endsWith("})(bpGuard_abc.Math, bpGuard_abc.Number, bpGuard_abc.Error);"), w.slice(-80));
  assert.match(guardTest("await bp.setup(1);", "g"), /^declare const g: any;\nawait \(async \(bp: typeof import\("\.\/lib\/index"\)\) => \{/);
  const g = buildGradedNotebook(clone(hw01.student) as Notebook, hw01, { guard: "bpGuard_abc" });
  const texts = g.nb.cells.map(sourceText);
  for (const test of hw01.tests) assert.equal(texts.filter((x) => x === guardTest(test.visible, "bpGuard_abc")).length, 1, test.id);
  assert.ok(texts.some((x) => x.startsWith("import * as bp")), "student cells are not wrapped");
});

interface Expected {
  total: number;
  total_without_sandbox?: number;
  status: string;
  flags?: string[];
  flags_any?: string[];
  /** Only in the full corpus run (BACKPROP_FULL_CORPUS=1), to keep `npm test` short. */
  full?: boolean;
  reason: string;
}

const FULL = process.env.BACKPROP_FULL_CORPUS === "1";
const FORMULA = /^[=+\-@\t\r]/;

/** The gradebook read by Python's csv module, as a spreadsheet or a script would read it. */
function csvRows(file: string): string[][] {
  const r = spawnSync("python3", ["-c", "import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline='')))))", file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string[][];
}

/** Checks every output of a graded batch: one CSV row per student, no formula cells, safe feedback. */
function checkOutputs(outDir: string, results: HandinResult[], hidden: string[]): void {
  const rows = csvRows(path.join(outDir, "gradebook.csv"));
  assert.equal(rows.length, results.length + 1, `gradebook.csv: ${rows.length - 1} rows for ${results.length} students`);
  for (const row of rows) for (const cell of row) assert.ok(!FORMULA.test(cell), `formula cell in gradebook.csv: ${JSON.stringify(cell)}`);
  const json = JSON.parse(fs.readFileSync(path.join(outDir, "gradebook.json"), "utf8")) as { students: unknown[] };
  assert.equal(json.students.length, results.length);
  for (const r of results) {
    for (const f of r.flags) assert.match(f, /^[A-Za-z0-9._:+-]+$/, `${r.student}: unsafe flag ${JSON.stringify(f)}`);
    const fb = fs.readFileSync(path.join(outDir, "feedback", `${r.student}.md`), "utf8");
    assert.equal(fb.match(/Puntaje: /g)?.length, 1, `${r.student}: one score line`);
    assert.ok(!/\r/.test(fb), `${r.student}: carriage return in feedback`);
    assert.ok(!/(^|[^\\])<[A-Za-z/!]/.test(fb), `${r.student}: raw HTML in feedback`);
    assert.equal(fb.split("\n").filter((l) => l.startsWith("#")).length, r.observations.length ? 2 : 1, `${r.student}: headings`);
    for (const line of hidden) assert.ok(!fb.includes(line), `${r.student}: hidden line in feedback: ${line}`);
    assert.ok(!/hidden:/.test(fb), `${r.student}: hidden message in feedback`);
  }
}

/** No process of a hand-in outlives grading (the corpus marks the ones it tries to leave behind). */
function leftovers(): string[] {
  const r = spawnSync("ps", ["-eo", "pid,args"], { encoding: "utf8" });
  return (r.stdout ?? "").split("\n").filter((l) => l.includes("bp-escapee-marker") && !l.includes("ps -eo"));
}

test("hostile corpus: every hand-in gets its expected grade; the batch never stops; resume skips graded hand-ins", { timeout: 1_800_000 }, async () => {
  const expected = JSON.parse(fs.readFileSync(path.join(HANDINS, "expected.json"), "utf8")) as Record<string, Record<string, Expected>>;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "bp-grade-test-"));
  // Work folders go under a temporary folder of our own, which must be empty at the end.
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "bp-grade-work-"));
  const oldTmp = process.env.TMPDIR;
  process.env.TMPDIR = work;
  const logs: string[] = [];
  const log = (s: string) => logs.push(s);
  const table: string[] = [];
  try {
    for (const [assignment, all] of Object.entries(expected).filter(([k]) => !k.startsWith("_"))) {
      const cases = Object.fromEntries(Object.entries(all).filter(([, e]) => FULL || !e.full));
      if (Object.keys(cases).length === 0) continue; // e.g. hw01-tiempo: full run only
      // The hand-ins of this run, copied (a folder hand-in as a folder).
      const src = path.join(HANDINS, assignment);
      const dir = path.join(out, "in", assignment);
      fs.mkdirSync(dir, { recursive: true });
      for (const name of fs.readdirSync(src)) {
        const student = name.replace(/\.ipynb$/, "");
        if (cases[student]) fs.cpSync(path.join(src, name), path.join(dir, name), { recursive: true });
      }
      const opts = parseArgs([assignment, dir, "--jobs", "2", "--sandbox", "auto", "--out", path.join(out, assignment), "--quiet",
        "--cell-timeout", assignment === "hw01" ? "10" : "30", "--timeout", assignment === "hw01-tiempo" ? "45" : "120", "--memory", "1024", "--output-limit", "8"]);
      if (assignment === "hw01-tiempo") opts.assignment = "hw01";
      const t0 = Date.now();
      const { results, errors } = await grade(opts, log);
      const minutes = (Date.now() - t0) / 60000;
      assert.equal(errors, 0, logs.join("\n"));
      const sandboxed = logs.some((l) => l.startsWith("sandbox: bubblewrap"));
      assert.deepEqual(results.map((r) => r.student).sort(), Object.keys(cases).sort());
      const a = parseAssignment(path.join(ROOT, "solutions", `${results[0].assignment}.ipynb`));
      const failures: string[] = [];
      for (const r of results) {
        const e = cases[r.student];
        const want = !sandboxed && e.total_without_sandbox !== undefined ? e.total_without_sandbox : e.total;
        const ctx = `${assignment}/${r.student}: got ${r.total} (${r.status}; ${r.flags.join(" ")}; ${r.tests.map((t) => `${t.id}=${t.reason}`).join(" ")}) notes: ${r.notes.join(" // ").slice(0, 1500)}`;
        if (r.total !== want || r.status !== e.status) failures.push(ctx);
        else if (e.flags && JSON.stringify([...r.flags].sort()) !== JSON.stringify([...e.flags].sort())) failures.push(`flags: ${ctx}`);
        else if (e.flags_any && !(r.flags.length === 1 && e.flags_any.includes(r.flags[0]))) failures.push(`flags: ${ctx}`);
        table.push(`| ${assignment}/${r.student} | ${want}/${r.max} | ${r.total}/${r.max} | ${r.flags.join(" ") || "-"} | ${e.reason} |`);
      }
      assert.deepEqual(failures, []);
      checkOutputs(path.join(out, assignment), results, hiddenLines(a));
      table.push(`| ${assignment}: ${results.length} hand-ins in ${(minutes * 60).toFixed(0)} s | ${(results.length / minutes).toFixed(1)} per minute with --jobs 2 | sandbox: ${sandboxed ? "bwrap" : "none"} | | |`);
      const csv = fs.readFileSync(path.join(out, assignment, "gradebook.csv"), "utf8").split("\n");
      assert.equal(csv[0], ["student", ...a.tests.map((t) => t.id), "total", "max", "status", "flags"].join(","));
      // Resume: nothing is regraded, the gradebook is the same.
      const before = fs.readFileSync(path.join(out, assignment, "gradebook.json"), "utf8");
      const again: string[] = [];
      const second = await grade({ ...opts }, (s) => again.push(s));
      assert.ok(again.some((l) => /, 0 to grade, /.test(l)), again.join("\n"));
      assert.deepEqual(second.results.map((r) => r.total), results.map((r) => r.total));
      assert.equal(fs.readFileSync(path.join(out, assignment, "gradebook.json"), "utf8"), before);
    }
    console.log(["| hand-in | expected | got | flags | reason |", "|---|---|---|---|---|", ...table].join("\n"));
    assert.deepEqual(fs.readdirSync(work), [], "work folders left behind");
    assert.deepEqual(leftovers(), [], "hand-in processes left behind");
  } finally {
    if (oldTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = oldTmp;
    fs.rmSync(out, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test("hostile names graded for real: colliding accents, a 236-character name, formulas, CR and quotes, a symbolic link", { skip: !FULL && "BACKPROP_FULL_CORPUS=1 only", timeout: 900_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bp-names-in-"));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "bp-names-out-"));
  try {
    const ref = fs.readFileSync(path.join(HANDINS, "hw01", "referencia.ipynb"));
    const none = fs.readFileSync(path.join(HANDINS, "hw01", "sin-tocar.ipynb"));
    const long = "b".repeat(236 - ".ipynb".length) + ".ipynb";
    const files: [string, Buffer, number][] = [["José.ipynb", ref, 10], ["Jose.ipynb", none, 0], [long, ref, 10], ["=HYPERLINK(1).ipynb", none, 0], ['a"b,c\rd.ipynb', none, 0]];
    for (const [n, b] of files) fs.writeFileSync(path.join(dir, n), b);
    fs.symlinkSync(path.join(dir, "José.ipynb"), path.join(dir, "enlace.ipynb"));
    const opts = parseArgs(["hw01", dir, "--jobs", "2", "--sandbox", "auto", "--out", out, "--quiet", "--cell-timeout", "10", "--timeout", "120", "--memory", "1024", "--output-limit", "8"]);
    const { results, errors } = await grade(opts, () => undefined);
    assert.equal(errors, 0);
    assert.equal(results.length, files.length + 1, "one result per hand-in, the link included");
    const byFile = new Map(results.map((r) => [path.basename(r.file), r]));
    for (const [n, , total] of files) assert.equal(byFile.get(n)?.total, total, `${JSON.stringify(n)}: ${byFile.get(n)?.flags.join(" ")}`);
    const link = results.find((r) => r.student === "enlace");
    assert.equal(link?.status, "invalid");
    checkOutputs(out, results, hiddenLines(hw01));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test("harden.js: built-ins frozen, global bindings read-only, instances still assignable, only the kernel itself can be signalled", () => {
  const script = `
    "use strict";
    const harden = require(${JSON.stringify(path.join(ROOT, "tools", "homework", "harden.js"))});
    const lib = { Thing: class Thing { get x() { return 1; } toString() { return "thing"; } }, value: 3 };
    harden("bpGuard_t", lib);
    const out = {};
    const tries = {
      mathAbs: () => { Math.abs = () => 0; },
      isFinite: () => { Number.isFinite = () => true; },
      every: () => { Array.prototype.every = () => true; },
      stringify: () => { JSON.stringify = () => "{}"; },
      defineMap: () => { Object.defineProperty(Array.prototype, "map", { value: () => [] }); },
      protoSetter: () => { Object.defineProperty(Object.prototype, "status", { get: () => "ok" }); },
      globalMath: () => { globalThis.Math = {}; },
      libValue: () => { lib.value = 4; },
      libProto: () => { lib.Thing.prototype.toString = () => "evil"; },
      vm: () => { require("vm").runInThisContext = () => 0; },
      killParent: () => { process.kill(process.ppid, 0); },
    };
    for (const [k, f] of Object.entries(tries)) { try { f(); out[k] = "held"; } catch (e) { out[k] = "refused"; } }
    const o = {}; o.toString = () => "mine";           // the override mistake is avoided on instances
    class E extends Error { constructor() { super("m"); this.name = "E"; } }
    out.instance = String(o) + "/" + new E().name;
    out.pristine = bpGuard_t.Math === Math && bpGuard_t.bp === lib;
    out.selfSignal = process.kill(process.pid, 0);
    console.log(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  for (const k of ["mathAbs", "isFinite", "every", "stringify", "defineMap", "protoSetter", "globalMath", "libValue", "libProto", "vm", "killParent"]) assert.equal(out[k], "refused", k);
  assert.equal(out.instance, "mine/E");
  assert.equal(out.pristine, true);
  assert.equal(out.selfSignal, true);
});

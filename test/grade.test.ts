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
import { buildGradedNotebook, feedbackMarkdown, score, HandinResult } from "../tools/homework/grader";
import { Notebook, sourceText } from "../tools/homework/notebook";
import { RunLimits, RunResult } from "../tools/homework/sandbox";
import { grade, parseArgs, listHandins } from "../tools/grade";

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

interface Expected {
  total: number;
  total_without_sandbox?: number;
  status: string;
  flags?: string[];
  flags_any?: string[];
  reason: string;
}

test("hostile corpus: every hand-in gets its expected grade; the batch never stops; resume skips graded hand-ins", { timeout: 600_000 }, async () => {
  const expected = JSON.parse(fs.readFileSync(path.join(HANDINS, "expected.json"), "utf8")) as Record<string, Record<string, Expected>>;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "bp-grade-test-"));
  const logs: string[] = [];
  const log = (s: string) => logs.push(s);
  const table: string[] = [];
  try {
    for (const [assignment, cases] of Object.entries(expected).filter(([k]) => !k.startsWith("_"))) {
      const opts = parseArgs([assignment, path.join(HANDINS, assignment), "--jobs", "2", "--sandbox", "auto", "--out", path.join(out, assignment), "--quiet",
        "--cell-timeout", assignment === "hw01" ? "10" : "30", "--timeout", "120", "--memory", "1024", "--output-limit", "8"]);
      const t0 = Date.now();
      const { results, errors } = await grade(opts, log);
      const minutes = (Date.now() - t0) / 60000;
      assert.equal(errors, 0, logs.join("\n"));
      const sandboxed = logs.some((l) => l.startsWith("sandbox: bubblewrap"));
      assert.deepEqual(results.map((r) => r.student).sort(), Object.keys(cases).sort());
      const a = parseAssignment(path.join(ROOT, "solutions", `${results[0].assignment}.ipynb`));
      for (const r of results) {
        const e = cases[r.student];
        const want = !sandboxed && e.total_without_sandbox !== undefined ? e.total_without_sandbox : e.total;
        const ctx = `${assignment}/${r.student}: got ${r.total} (${r.status}; ${r.flags.join(" ")}; ${r.tests.map((t) => `${t.id}=${t.reason}`).join(" ")}) notes: ${r.notes.join(" // ")}`;
        assert.equal(r.total, want, ctx);
        assert.equal(r.status, e.status, ctx);
        if (e.flags) assert.deepEqual([...r.flags].sort(), [...e.flags].sort(), ctx);
        if (e.flags_any) assert.ok(r.flags.length === 1 && e.flags_any.includes(r.flags[0]), ctx);
        // Feedback exists, is Spanish, and never carries hidden-test source.
        const fb = fs.readFileSync(path.join(out, assignment, "feedback", `${r.student}.md`), "utf8");
        assert.match(fb, /Puntaje: /);
        for (const line of hiddenLines(a)) assert.ok(!fb.includes(line), `${r.student}: hidden line in feedback: ${line}`);
        assert.ok(!/hidden:/.test(fb), `${r.student}: hidden message in feedback`);
        table.push(`| ${assignment}/${r.student} | ${r.total}/${r.max} | ${r.flags.join(" ") || "-"} | ${e.reason} |`);
      }
      table.push(`| ${assignment}: ${results.length} hand-ins in ${(minutes * 60).toFixed(0)} s | ${(results.length / minutes).toFixed(1)} per minute with --jobs 2 | sandbox: ${sandboxed ? "bwrap" : "none"} | |`);
      // Gradebook: CSV header has every test; JSON has every student.
      const csv = fs.readFileSync(path.join(out, assignment, "gradebook.csv"), "utf8").split("\n");
      assert.equal(csv[0], ["student", ...a.tests.map((t) => t.id), "total", "max", "status", "flags"].join(","));
      assert.equal(csv.filter(Boolean).length, results.length + 1);
      // Resume: nothing is regraded, the gradebook is the same.
      const before = fs.readFileSync(path.join(out, assignment, "gradebook.json"), "utf8");
      const again: string[] = [];
      const second = await grade({ ...opts }, (s) => again.push(s));
      assert.ok(again.some((l) => /, 0 to grade, /.test(l)), again.join("\n"));
      assert.deepEqual(second.results.map((r) => r.total), results.map((r) => r.total));
      assert.equal(fs.readFileSync(path.join(out, assignment, "gradebook.json"), "utf8"), before);
    }
    console.log(["| hand-in | grade | flags | reason |", "|---|---|---|---|", ...table].join("\n"));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

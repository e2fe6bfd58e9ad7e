/**
 * Student-version generation: exercises/ is up to date, generation is deterministic, solutions and hidden
 * tests never reach students, and malformed markers are errors naming the file, cell and line.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { generateAll, staleExercises } from "../tools/exercises";
import { MarkerError, parseAssignment } from "../tools/homework/assignment";
import { serializeNotebook, sourceText } from "../tools/homework/notebook";

const ROOT = path.resolve(__dirname, "..");
const SOLUTIONS = path.join(ROOT, "solutions");
const EXERCISES = path.join(ROOT, "exercises");

test("exercises/ is up to date with solutions/ (run `npm run exercises`)", () => {
  assert.deepEqual(staleExercises(SOLUTIONS, EXERCISES).map((f) => path.relative(ROOT, f)), []);
});

test("generation is deterministic: same source, same bytes", () => {
  const a = generateAll(SOLUTIONS, EXERCISES);
  const b = generateAll(SOLUTIONS, EXERCISES);
  assert.ok(a.length >= 2);
  assert.deepEqual(a, b);
});

test("student versions: no solutions, no hidden tests, no outputs, placeholders that throw", () => {
  for (const f of fs.readdirSync(SOLUTIONS).filter((x) => x.endsWith(".ipynb"))) {
    const a = parseAssignment(path.join(SOLUTIONS, f));
    const text = serializeNotebook(a.student);
    assert.ok(!/BEGIN SOLUTION|END SOLUTION|HIDDEN TESTS/.test(text), f);
    for (const t of a.tests) {
      assert.ok(t.hidden.trim().length > 0, `${f}: test ${t.id} has hidden tests`);
      const visible = a.tests.map((x) => x.visible).join("\n");
      for (const line of t.hidden.split("\n").map((l) => l.trim()).filter((l) => l.length > 12 && !visible.includes(l))) assert.ok(!text.includes(JSON.stringify(line).slice(1, -1)), `${f}: hidden line leaked: ${line}`);
    }
    for (const c of a.student.cells) {
      if (c.cell_type !== "code") continue;
      assert.deepEqual(c.outputs, []);
      assert.equal(c.execution_count, null);
    }
    assert.ok(a.student.cells.some((c) => sourceText(c).includes('throw new Error("sin implementar");')), f);
    // Solution-only lines are gone: the source's lines between the markers.
    const src = a.source.cells.map(sourceText).join("\n");
    const solutionLines = [...src.matchAll(/\/\/ BEGIN SOLUTION\n([\s\S]*?)\/\/ END SOLUTION/g)].flatMap((m) => m[1].split("\n").map((l) => l.trim()).filter((l) => l.length > 20));
    assert.ok(solutionLines.length > 0);
    for (const l of solutionLines) assert.ok(!a.student.cells.some((c) => sourceText(c).includes(l)), `${f}: solution line leaked: ${l}`);
    assert.equal((a.student.metadata.backprop as { assignment: string }).assignment, a.name);
  }
});

function tmpSource(cells: { type?: string; src: string; test?: unknown }[]): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bp-ex-"));
  const nb = {
    cells: cells.map((c, i) => ({
      cell_type: c.type ?? "code",
      id: `c${i}`,
      metadata: c.test ? { backprop: { test: c.test } } : {},
      source: c.src,
      ...(c.type === "markdown" ? {} : { outputs: [], execution_count: null }),
    })),
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5,
  };
  const file = path.join(dir, "hw99-prueba.ipynb");
  fs.writeFileSync(file, JSON.stringify(nb));
  return { dir, file };
}

const okTest = { src: "{ f(); }\n// BEGIN HIDDEN TESTS\n{ f(); }\n// END HIDDEN TESTS", test: { id: "t", points: 1 } };

test("malformed markers name the file, the cell and the line", () => {
  const cases: [{ type?: string; src: string; test?: unknown }[], RegExp][] = [
    [[{ src: "function f() {\n  // BEGIN SOLUTION\n  return 1;\n}" }, okTest], /hw99-prueba\.ipynb: cell 1 \(id c0\), line 2: BEGIN SOLUTION without END SOLUTION/],
    [[{ src: "function f() {\n  return 1;\n  // END SOLUTION\n}" }, okTest], /cell 1 \(id c0\), line 3: END SOLUTION without a matching BEGIN SOLUTION/],
    [[{ src: "f();\n// BEGIN HIDDEN TESTS\nf();\n// END HIDDEN TESTS" }, okTest], /cell 1 \(id c0\), line 2: BEGIN HIDDEN TESTS outside a test cell/],
    [[{ src: "x" }, { src: "{ f(); }\n// BEGIN HIDDEN TESTS\n{ f(); }", test: { id: "t", points: 1 } }], /cell 2 \(id c1\), line 2: BEGIN HIDDEN TESTS without END HIDDEN TESTS/],
    [[{ src: "// BEGIN SOLUTION\n// BEGIN SOLUTION\n// END SOLUTION" }, okTest], /cell 1 \(id c0\), line 2: BEGIN SOLUTION inside the BEGIN SOLUTION opened at line 1/],
    [[{ src: "x = 1; // BEGIN SOLUTION" }, okTest], /cell 1 \(id c0\), line 1: "\/\/ BEGIN SOLUTION" must be alone on its line/],
    [[okTest, okTest], /cell 2 \(id c1\): duplicate test id "t"/],
    [[{ src: "x", test: { id: "t", points: -1 } }], /cell 1 \(id c0\): backprop.test.points must be a positive number/],
    [[{ src: "x" }], /has no test cells/],
  ];
  for (const [cells, re] of cases) {
    const { dir, file } = tmpSource(cells);
    assert.throws(() => parseAssignment(file), (e: unknown) => e instanceof MarkerError && re.test(e.message), String(re));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the CLI reports a malformed source and writes nothing; --check names stale files", () => {
  const { dir } = tmpSource([{ src: "// BEGIN SOLUTION\nx" }, okTest]);
  const out = path.join(dir, "out");
  const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
  const r = spawnSync(tsx, [path.join(ROOT, "tools", "exercises.ts"), "--solutions", dir, "--out", out], { encoding: "utf8" });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /hw99-prueba\.ipynb: cell 1 \(id c0\), line 1: BEGIN SOLUTION without END SOLUTION/);
  assert.ok(!fs.existsSync(out) || fs.readdirSync(out).length === 0);
  // A stale copy of the real exercises is detected.
  const copy = path.join(dir, "exercises");
  fs.cpSync(EXERCISES, copy, { recursive: true });
  const victim = fs.readdirSync(copy).find((f) => f.endsWith(".ipynb")) as string;
  fs.appendFileSync(path.join(copy, victim), " ");
  const c = spawnSync(tsx, [path.join(ROOT, "tools", "exercises.ts"), "--check", "--out", copy], { encoding: "utf8" });
  assert.equal(c.status, 1);
  assert.ok(c.stderr.includes(victim));
  fs.rmSync(dir, { recursive: true, force: true });
});

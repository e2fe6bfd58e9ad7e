// `npm run release`: the students' folder holds lectures, exercises, the library and the kernel set-up, and
// no line of solution code or hidden test (searched in every file), no solutions/, no grader, no corpus.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildRelease, findLeaks, secretLines, RELEASE_NAME } from "../tools/release";

const ROOT = path.resolve(__dirname, "..");

test("the release has what students need and none of the solutions, hidden tests or grader", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "release-test-"));
  try {
    const r = buildRelease(out);
    assert.deepEqual(r.leaks, []);
    const dir = path.join(out, RELEASE_NAME);
    assert.equal(r.dir, dir);
    assert.ok(r.archive && fs.statSync(r.archive).size > 10_000, "archive written");
    for (const f of ["README.md", "package.json", "package-lock.json", "lib/index.ts", "tools/kernel.js", "tools/tslab-kernel.js", "tools/jupyter.ts", "tools/jupyter/jupyter_notebook_config.py"]) {
      assert.ok(fs.existsSync(path.join(dir, f)), `${f} is in the release`);
    }
    const list = (d: string) => fs.readdirSync(path.join(ROOT, d)).filter((f) => f.endsWith(".ipynb")).sort();
    assert.deepEqual(fs.readdirSync(path.join(dir, "notebooks")).sort(), list("notebooks"));
    assert.deepEqual(fs.readdirSync(path.join(dir, "exercises")).sort(), list("exercises"));
    for (const f of ["solutions", "test", "tools/homework", "tools/grade.ts", "tools/nbrun.py", "build", "node_modules", "bench"]) {
      assert.ok(!fs.existsSync(path.join(dir, f)), `${f} is not in the release`);
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    assert.deepEqual(Object.keys(pkg.scripts).sort(), ["jupyter", "nbconvert", "postinstall", "typecheck"]);
    const project = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    assert.deepEqual([pkg.dependencies, pkg.devDependencies], [project.dependencies, project.devDependencies], "same dependencies: package-lock.json still holds");
    assert.match(fs.readFileSync(path.join(dir, "README.md"), "utf8"), /npm run jupyter/);

    // The search itself: every secret line, grepped in every file of the release, by a second reader here.
    const { secret } = secretLines();
    assert.ok(secret.length >= 50, `solution and hidden-test lines searched: ${secret.length}`);
    assert.ok(secret.some((s) => s.kind === "hidden test") && secret.some((s) => s.kind === "solution"));
    const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
    const texts = walk(dir).map((f) => {
      const raw = fs.readFileSync(f, "utf8");
      return f.endsWith(".ipynb") ? JSON.parse(raw).cells.map((c: { source: string | string[] }) => [c.source].flat().join("")).join("\n") : raw;
    });
    const found = secret.filter((s) => texts.some((t) => t.split("\n").some((l: string) => l.trim() === s.line)));
    assert.deepEqual(found, []);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test("the leak search finds a solution line or a hidden test copied into a release file", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "release-leak-"));
  try {
    const { secret } = secretLines();
    const sol = secret.find((s) => s.kind === "solution")!;
    const hid = secret.find((s) => s.kind === "hidden test")!;
    fs.mkdirSync(path.join(dir, "lib"));
    fs.writeFileSync(path.join(dir, "lib/x.ts"), `export const a = 1;\n    ${sol.line}\n`);
    fs.writeFileSync(path.join(dir, "nb.ipynb"), JSON.stringify({ cells: [{ cell_type: "code", source: ["{\n", `  ${hid.line}\n`, "}"] }] }));
    const leaks = findLeaks(dir, secret);
    assert.ok(leaks.some((l) => l.found === "lib/x.ts" && l.line === sol.line));
    assert.ok(leaks.some((l) => l.found === "nb.ipynb" && l.line === hid.line));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

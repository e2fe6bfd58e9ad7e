/**
 * Every path the code and the docs cite exists. Comments, error messages and docs name files such as
 * docs/homework.md or lib/scratch/norm.ts; when a file moves or was never written, the reader (or a
 * user-facing error) points at nothing. This scans the tracked text files for paths that start at a
 * top-level folder of the project and checks each one on disk.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";

const ROOT = path.resolve(__dirname, "..");

/** Top-level folders whose paths are checked (build/ and data/cache/ are outputs, made on demand). */
const ROOTS = ["docs", "lib", "tools", "test", "notebooks", "solutions", "exercises", "bench", "data", ".ci"];

/** Cited on purpose although absent, each with the reason. */
const ABSENT_ON_PURPOSE: Record<string, string> = {
  "data/cache": "the download cache, git-ignored, made on first use",
  "data/cache/mnist": "the download cache, git-ignored, made on first use",
  "lib/shape.js": "a made-up stack frame that the kernel protocol test feeds to the traceback filter",
  "solutions/hw01-x.ipynb": "an example file name in the format of an error message",
  "solutions/hwNN-name.ipynb": "a file-name pattern",
  "exercises/hwNN-x.ipynb": "a file-name pattern",
  "exercises/hwNN-": "a file-name pattern (the student README's hwNN-….ipynb)",
  "notebooks/01-": "a shell glob (notebooks/01-*.ipynb)",
  "lib/x.ts": "the release test's planted leak, written in a temporary copy",
  "tools/harden.js": "where the grader copies tools/homework/harden.js inside a hand-in's work folder",
};

// A path: one of ROOTS, then path characters, not the tail of a longer path such as "../lib/…". A path that
// starts with "./" may also be relative to the citing file (an import specifier).
const PATH_RE = new RegExp(String.raw`(?<![\w./-])(?:\./)?((?:${ROOTS.map((r) => r.replace(".", "\\.")).join("|")})/[\w./-]*)`, "g");

function trackedTextFiles(): string[] {
  const out = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" });
  return out
    .split("\0")
    .filter((f) => f !== "" && fs.existsSync(path.join(ROOT, f)))
    .filter((f) => /\.(ts|js|mjs|py|md|ipynb|sh|json|html|css)$/.test(f) || f === ".ci/run")
    .filter((f) => !f.startsWith("bench/results/") && f !== "package-lock.json" && !f.startsWith("test/fixtures/"));
}

/** A cited path resolves as written, or as a module specifier (no extension), or as a folder. */
function resolves(p: string, base = ROOT): boolean {
  const abs = path.join(base, p);
  return [abs, `${abs}.ts`, `${abs}.js`].some((c) => fs.existsSync(c));
}

test("every project path cited in code, comments and docs exists", () => {
  const dangling: string[] = [];
  for (const file of trackedTextFiles()) {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    for (const m of text.matchAll(PATH_RE)) {
      const p = m[1].replace(/[.]+$/, "").replace(/\/$/, "");
      const end = m.index! + m[0].length;
      if (text[end] === "<" || p.split("/").length < 2 || p in ABSENT_ON_PURPOSE || resolves(p)) continue; // "<": a pattern
      if (m[0].startsWith("./") && resolves(p, path.join(ROOT, path.dirname(file)))) continue;
      const line = text.slice(0, m.index).split("\n").length;
      dangling.push(`${file}:${line}: ${p}`);
    }
  }
  assert.deepEqual(dangling, [], `cited paths that do not exist (fix the citation, or add the file):\n${dangling.join("\n")}`);
});

test("the paths kept as absent on purpose are still absent (else drop them from the list)", () => {
  const present = Object.keys(ABSENT_ON_PURPOSE).filter((p) => !p.startsWith("data/cache") && resolves(p));
  assert.deepEqual(present, []);
});

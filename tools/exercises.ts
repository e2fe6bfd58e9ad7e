/**
 * `npm run exercises`: generates the student notebooks exercises/<name>.ipynb from the homework sources
 * solutions/<name>.ipynb (solutions replaced by a placeholder, hidden tests removed, outputs cleared).
 * Deterministic: the same source gives the same bytes.
 *
 *   npm run exercises                 regenerate every exercise
 *   npm run exercises -- --check      write nothing; exit 1 and name the stale files if exercises/ is out of date
 *   npm run exercises -- --solutions DIR --out DIR
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./jupyter-env";
import { parseAssignment } from "./homework/assignment";
import { NotebookError, serializeNotebook, writeAtomic } from "./homework/notebook";
import { parseCli, UsageError } from "./cli";

export interface ExercisesOptions {
  solutionsDir: string;
  outDir: string;
  check: boolean;
}

export function parseArgs(argv: string[]): ExercisesOptions {
  const { values: v } = parseCli(argv, { check: { type: "boolean" }, solutions: { type: "string" }, out: { type: "string" } },
    "usage: npm run exercises -- [--check] [--solutions DIR] [--out DIR]");
  return {
    solutionsDir: path.resolve(v.solutions ?? path.join(ROOT, "solutions")),
    outDir: path.resolve(v.out ?? path.join(ROOT, "exercises")),
    check: v.check ?? false,
  };
}

export interface GeneratedExercise {
  name: string;
  file: string;
  text: string;
}

/** The student notebooks for every source in `solutionsDir` (throws MarkerError on a malformed one). */
export function generateAll(solutionsDir: string, outDir: string): GeneratedExercise[] {
  const sources = fs.readdirSync(solutionsDir).filter((f) => /^hw\d\d.*\.ipynb$/.test(f)).sort();
  return sources.map((f) => {
    const display = path.relative(process.cwd(), path.join(solutionsDir, f)) || f;
    const a = parseAssignment(path.join(solutionsDir, f), display);
    return { name: a.name, file: path.join(outDir, f), text: serializeNotebook(a.student) };
  });
}

/** Files in outDir that differ from what generation gives (or are missing, or have no source). */
export function staleExercises(solutionsDir: string, outDir: string): string[] {
  const gen = generateAll(solutionsDir, outDir);
  const stale = gen.filter((g) => !fs.existsSync(g.file) || fs.readFileSync(g.file, "utf8") !== g.text).map((g) => g.file);
  const extra = fs.existsSync(outDir)
    ? fs.readdirSync(outDir).filter((f) => f.endsWith(".ipynb") && !gen.some((g) => path.basename(g.file) === f)).map((f) => path.join(outDir, f))
    : [];
  return [...stale, ...extra];
}

function main(): number {
  let opts: ExercisesOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
    const rel = (f: string) => path.relative(process.cwd(), f) || f;
    if (opts.check) {
      const stale = staleExercises(opts.solutionsDir, opts.outDir);
      if (stale.length > 0) {
        console.error(`exercises/ is out of date with solutions/ (run \`npm run exercises\`):\n${stale.map((f) => `  ${rel(f)}`).join("\n")}`);
        return 1;
      }
      console.log(`exercises/ is up to date`);
      return 0;
    }
    const gen = generateAll(opts.solutionsDir, opts.outDir);
    fs.mkdirSync(opts.outDir, { recursive: true });
    for (const g of gen) {
      const same = fs.existsSync(g.file) && fs.readFileSync(g.file, "utf8") === g.text;
      if (!same) writeAtomic(g.file, g.text);
      console.log(`${same ? "unchanged" : "wrote    "}  ${rel(g.file)}`);
    }
    return 0;
  } catch (e) {
    console.error(e instanceof NotebookError || e instanceof UsageError ? e.message : e instanceof Error ? e.stack : String(e));
    return 1;
  }
}

if (require.main === module) process.exit(main());

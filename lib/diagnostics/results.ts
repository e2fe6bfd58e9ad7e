/**
 * Recorded results of runs too long for a lecture's minute: `npm run reproduce -- <experiment>` writes
 * data/results/<name>.json with its provenance; lectures read it with `loadResult(name)`.
 */
import * as fs from "fs";
import * as path from "path";

/** Folder of the recorded results that ship with the kit (data/results in the project). */
export function resultsDir(): string {
  const base = typeof __dirname === "string" ? path.resolve(__dirname, "..", "..") : process.cwd();
  return path.join(base, "data", "results");
}

/** Reads a recorded result, e.g. `loadResult("fig20-2")`; the error says which command writes it. */
export function loadResult<T = unknown>(name: string): T {
  const file = path.join(resultsDir(), `${name}.json`);
  if (!fs.existsSync(file)) {
    throw new Error(`loadResult: ${path.relative(process.cwd(), file)} is missing; write it with: npm run reproduce -- ${name}`);
  }
  return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

/**
 * Recorded results of runs too long for a lecture's minute: `npm run reproduce -- <id>` (tools/reproduce)
 * writes data/results/<id>.json with its provenance; lectures read it with `loadResult(id)` and show it next
 * to their own classroom run.
 */
import * as fs from "fs";
import * as path from "path";

/** Folder of the recorded results that ship with the kit (data/results in the project). */
export function resultsDir(): string {
  const base = typeof __dirname === "string" ? path.resolve(__dirname, "..", "..") : process.cwd();
  return path.join(base, "data", "results");
}

/** What a reproduction records (tools/reproduce/experiment.ts writes it; the fields lectures read). */
export interface Reproduction<U = unknown, R = unknown, S = unknown> {
  experiment: string;
  lecture: string;
  title: string;
  /** The paper's headline number(s) or finding, in words. */
  paper: string;
  options: Record<string, string | number>;
  /** True until every unit has finished. */
  partial: boolean;
  /** The finished units in the experiment's order, each with the seed it ran with and its wall time (s). */
  units: { key: string; unit: U; seed: number; seconds: number; result: R }[];
  summary: S;
  provenance: {
    command: string; commit: string; sourceHash: string; sources: string[]; data: string | null; seeds: number[];
    backend: string; machine: string; node: string; tfjs: string; started: string; wallSeconds: number; note?: string;
  };
}

/** Reads a recorded result, e.g. `loadResult("fig20-2-rho0.1")`; the error says which command writes it. */
export function loadResult<T = Reproduction>(name: string): T {
  const file = path.join(resultsDir(), `${name}.json`);
  if (!fs.existsSync(file)) {
    throw new Error(`loadResult: ${path.relative(process.cwd(), file)} is missing; write it with: npm run reproduce -- ${name}`);
  }
  return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

/** The results of a reproduction's units, in its order. */
export function unitResults<R>(r: Reproduction<unknown, R>): R[] {
  return r.units.map((u) => u.result);
}

/** One line saying where a recorded result comes from: command, backend, machine, commit, wall time. */
export function describeProvenance(r: Reproduction): string {
  const p = r.provenance;
  const minutes = p.wallSeconds >= 120 ? `${(p.wallSeconds / 60).toFixed(0)} min` : `${p.wallSeconds} s`;
  return `${p.command} — ${p.backend}, ${p.machine}, commit ${p.commit.slice(0, 10)}, ${p.started.slice(0, 10)}, ${minutes}${r.partial ? " (PARTIAL)" : ""}`;
}

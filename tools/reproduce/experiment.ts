/**
 * The reproduction interface: one lecture's headline experiment at a larger scale, split into independent
 * units that the runner (tools/reproduce/runner.ts) spreads over worker processes, keeps when finished
 * (resume) and records, with provenance, in data/results/<id>.json.
 *
 * An experiment module is tools/reproduce/<id>.ts exporting `experiment`; add it to the list in
 * tools/reproduce/index.ts. Its real code lives in lib/ (the function the notebook calls with smaller
 * settings); the module only chooses units and sizes.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

export type Options = Record<string, string | number>;

export interface Experiment<U = unknown, R = unknown> {
  id: string;                 // results file: data/results/<id>.json
  lecture: string;            // "10"
  title: string;              // one line: what is reproduced, e.g. "Erhan et al. 2010, Fig. 1 and 2"
  paper: string;              // the paper's headline number(s)/finding, in words
  /** Repo-relative files whose contents define the experiment (its lib code and this module); their hash is
   *  recorded and a test fails when a results file no longer matches the code that would produce it. */
  sources: string[];
  /** Options with their defaults (what the full run uses); --name value on the command line overrides them. */
  defaults: Options;
  /** The work as independent units (e.g. one seed × one depth × one regime): what --jobs spreads over
   *  processes and what resume keeps (finished units are stored and not rerun). */
  units(options: Options): U[];
  key(unit: U): string;       // stable, unique, e.g. "depth=3/seed=17/pretrain=rbm"
  /** Runs one unit in a worker process (bp.setup already done with the unit's seed where relevant).
   *  Must be deterministic given the unit and options. Returns JSON-serializable data.
   *  `progress(fraction)` (optional to call) moves the runner's bar within the unit. */
  run(unit: U, options: Options, progress?: (fraction: number) => void): R | Promise<R>;
  /** Optional: a summary written next to the units (medians, tables) from all finished units. */
  summarize?(done: { unit: U; result: R }[], options: Options): unknown;

  // ---- optional additions (the runner and tests have defaults for each) ----
  /** The data the experiment uses, in words, for the provenance (default: none recorded). */
  data?(options: Options): string;
  /** The seed bp.setup gets before the unit runs (default: unit.seed, else options.seed, else 1). */
  seed?(unit: U, options: Options): number;
  /** How the smoke test reruns one recorded unit quickly (default: the recorded unit that took the least
   *  time, with the recorded options, compared number by number to float tolerance). `options` overrides
   *  the recorded options (e.g. fewer epochs) and `compare` then says whether the short rerun agrees with
   *  the recorded result: a list of disagreements, empty when it does. */
  smoke?: {
    pick?(units: { unit: U; result: R; seconds: number }[]): U;
    options?: Options;
    compare?(rerun: R, recorded: R): string[];
  };
}

/** One finished unit as the results file stores it. */
export interface UnitRecord<U = unknown, R = unknown> {
  key: string;
  unit: U;
  seed: number;
  /** Wall time of the unit in its worker, seconds. */
  seconds: number;
  result: R;
}

/** The results file, data/results/<id>.json (lectures read it with bp.diagnostics.loadResult). */
export interface ResultsFile<U = unknown, R = unknown> {
  experiment: string;
  lecture: string;
  title: string;
  paper: string;
  options: Options;
  /** True until every unit has finished. */
  partial: boolean;
  units: UnitRecord<U, R>[];
  summary: unknown;
  provenance: Provenance;
}

export interface Provenance {
  /** The command of the first session (later, resumed sessions are listed in `sessions`). */
  command: string;
  commit: string;
  /** sha256 over the experiment's sources (paths and contents), see sourceHash. */
  sourceHash: string;
  sources: string[];
  data: string | null;
  seeds: number[];
  backend: string;
  machine: string;
  node: string;
  tfjs: string;
  started: string;
  /** Sum of the sessions' wall times, seconds. */
  wallSeconds: number;
  sessions: { command: string; commit: string; started: string; wallSeconds: number; jobs: number; units: number }[];
  note?: string;
}

/** The seed a unit runs with (see Experiment.seed). */
export function unitSeed<U>(e: Experiment<U>, unit: U, options: Options): number {
  if (e.seed) return e.seed(unit, options);
  const own = (unit as { seed?: unknown } | null)?.seed;
  if (typeof own === "number") return own;
  return typeof options.seed === "number" ? options.seed : 1;
}

/** sha256 of the experiment's sources: each repo-relative path and its contents, in the listed order. */
export function sourceHash(sources: string[], root: string): string {
  const h = createHash("sha256");
  for (const rel of sources) {
    const file = path.join(root, rel);
    if (!fs.existsSync(file)) throw new Error(`source "${rel}" does not exist (paths in an experiment's sources are relative to the repository root)`);
    h.update(rel).update("\0").update(fs.readFileSync(file)).update("\0");
  }
  return h.digest("hex");
}

/**
 * Where two JSON values differ, beyond float tolerance (|a − b| ≤ abs + rel·|b|): a list of paths with both
 * values, empty when they agree. Used by the smoke test to compare a rerun with the recorded result.
 */
export function differences(a: unknown, b: unknown, tol = { abs: 1e-6, rel: 1e-4 }, at = "result", out: string[] = []): string[] {
  if (out.length >= 10) return out;
  if (typeof a === "number" && typeof b === "number") {
    if (!(Math.abs(a - b) <= tol.abs + tol.rel * Math.abs(b)) && !(Number.isNaN(a) && Number.isNaN(b))) out.push(`${at}: ${a} vs recorded ${b}`);
  } else if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(`${at}: length ${a.length} vs recorded ${b.length}`);
    else a.forEach((v, i) => differences(v, b[i], tol, `${at}[${i}]`, out));
  } else if (a !== null && b !== null && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
    if (ka.join() !== kb.join()) out.push(`${at}: keys ${ka.join(",")} vs recorded ${kb.join(",")}`);
    else for (const k of ka) differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], tol, `${at}.${k}`, out);
  } else if (a !== b) out.push(`${at}: ${JSON.stringify(a)} vs recorded ${JSON.stringify(b)}`);
  return out;
}

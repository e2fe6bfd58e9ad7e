/**
 * The reproduction runner behind `npm run reproduce`: for each chosen experiment, the units not yet in its
 * results file run in a pool of worker processes (worker.ts, one tfjs backend each), and after every finished
 * unit the file is rewritten atomically (a temporary file renamed over it), so an interrupted run loses at
 * most the units in flight and the same command resumes it. `fresh` discards what was recorded.
 */
import { ChildProcess, fork } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { ProgressBar } from "../../lib/train/progress";
import { UsageError, gitCommit } from "../cli";
import { Experiment, Options, Provenance, ResultsFile, UnitRecord, sourceHash, unitSeed } from "./experiment";

export const ROOT = path.resolve(__dirname, "..", "..");
export const DEFAULT_REGISTRY = path.join(__dirname, "index.ts");

export interface ReproduceOptions {
  /** Experiment ids or lecture numbers ("05", "5"); none: every registered experiment. */
  select?: string[];
  /** Module exporting `experiments: Experiment[]` (default tools/reproduce/index.ts); workers load it too. */
  registry?: string;
  /** Where the results files go (default data/results). */
  outDir?: string;
  /** Worker processes (default 1). */
  jobs?: number;
  /** Discard recorded units and start over. */
  fresh?: boolean;
  /** Experiment options from the command line (--name value), as strings; checked against the defaults. */
  overrides?: Record<string, string>;
  /** The command recorded in the provenance. */
  command?: string;
  /** Where log lines go (default console.log). */
  log?: (line: string) => void;
  /** Draw the progress bar (default: when someone watches, see lib/train/progress.ts). */
  live?: boolean;
}

/** Loads a registry module (its `experiments` list), with the mistakes an experiment author can make named. */
export async function loadRegistry(registry = DEFAULT_REGISTRY): Promise<Experiment[]> {
  const mod = (await import(registry)) as { experiments?: Experiment[] };
  if (!Array.isArray(mod.experiments)) throw new Error(`${registry} must export \`experiments\`, a list of Experiment`);
  const seen = new Set<string>();
  for (const e of mod.experiments) {
    if (!e || typeof e.id !== "string" || !/^[a-z0-9][a-z0-9.-]*$/.test(e.id)) throw new Error(`${registry}: an experiment id must be lower-case letters, digits, dots and dashes, got ${JSON.stringify(e?.id)}`);
    if (seen.has(e.id)) throw new Error(`${registry}: two experiments have the id "${e.id}"`);
    seen.add(e.id);
  }
  return mod.experiments;
}

/** The experiments a selection names: by id, or every experiment of a lecture ("05" or "5"). */
export function selectExperiments(all: Experiment[], select: string[]): Experiment[] {
  if (select.length === 0) return all;
  const picked = new Set<Experiment>();
  for (const s of select) {
    const hits = all.filter((e) => e.id === s || (/^\d+$/.test(s) && Number(e.lecture) === Number(s)));
    if (hits.length === 0) {
      throw new UsageError(`unknown experiment or lecture "${s}"; the experiments are:\n${all.map((e) => `  ${e.id.padEnd(20)} lecture ${e.lecture}  ${e.title}`).join("\n")}`);
    }
    hits.forEach((e) => picked.add(e));
  }
  return all.filter((e) => picked.has(e));
}

/** An experiment's options: its defaults with the command line's overrides that it has, typed like the defaults. */
export function experimentOptions(e: Experiment, overrides: Record<string, string>): Options {
  const options: Options = { ...e.defaults };
  for (const [name, raw] of Object.entries(overrides)) {
    if (!(name in e.defaults)) continue;
    if (typeof e.defaults[name] === "number") {
      const v = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(v)) throw new UsageError(`--${name} needs a number for ${e.id}, got "${raw}"`);
      options[name] = v;
    } else options[name] = raw;
  }
  return options;
}

/** Fails on an override that none of the chosen experiments has, listing the ones they do have. */
export function checkOverrides(chosen: Experiment[], overrides: Record<string, string>): void {
  for (const name of Object.keys(overrides)) {
    if (!chosen.some((e) => name in e.defaults)) {
      const known = chosen.map((e) => `  ${e.id}: ${Object.entries(e.defaults).map(([k, v]) => `--${k} (${v})`).join(" ") || "(no options)"}`).join("\n");
      throw new UsageError(`unknown option --${name}; the chosen experiments take:\n${known}`);
    }
  }
}

/** Writes a file so that readers see the old or the new contents, never half of one. */
export function writeAtomically(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model?.trim() ?? "?"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.arch()}`;
}

const sameOptions = (a: Options, b: Options) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/** Runs the chosen experiments (resuming each from its results file) and returns their results files. */
export async function reproduce(opts: ReproduceOptions = {}): Promise<ResultsFile[]> {
  const registry = path.resolve(opts.registry ?? DEFAULT_REGISTRY);
  const outDir = path.resolve(opts.outDir ?? path.join(ROOT, "data", "results"));
  const jobs = opts.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs needs a positive integer, got ${jobs}`);
  const log = opts.log ?? ((l: string) => console.log(l));
  const overrides = opts.overrides ?? {};
  const chosen = selectExperiments(await loadRegistry(registry), opts.select ?? []);
  checkOverrides(chosen, overrides);

  // Check every chosen experiment against its file before any work starts.
  const plans = chosen.map((e) => plan(e, experimentOptions(e, overrides), outDir, !!opts.fresh));
  const pool = new Pool(registry, jobs, log);
  const out: ResultsFile[] = [];
  try {
    for (const p of plans) out.push(await runPlan(p, pool, { ...opts, log, jobs }));
  } finally {
    pool.close();
  }
  return out;
}

interface Plan {
  e: Experiment;
  options: Options;
  file: string;
  hash: string;
  units: { key: string; unit: unknown; seed: number }[];
  done: Map<string, UnitRecord>;
  previous?: ResultsFile;
}

function plan(e: Experiment, options: Options, outDir: string, fresh: boolean): Plan {
  const hash = sourceHash(e.sources, ROOT);
  const units = e.units(options).map((unit) => ({ key: e.key(unit), unit, seed: unitSeed(e, unit, options) }));
  if (units.length === 0) throw new UsageError(`${e.id}: the options ${JSON.stringify(options)} give no units to run`);
  const keys = new Set<string>();
  for (const u of units) {
    if (keys.has(u.key)) throw new Error(`${e.id}: two units have the key "${u.key}" (key() must be unique)`);
    keys.add(u.key);
  }
  const file = path.join(outDir, `${e.id}.json`);
  const done = new Map<string, UnitRecord>();
  let previous: ResultsFile | undefined;
  if (!fresh && fs.existsSync(file)) {
    previous = JSON.parse(fs.readFileSync(file, "utf8")) as ResultsFile;
    const rel = path.relative(process.cwd(), file);
    if (previous.provenance?.sourceHash !== hash) {
      throw new UsageError(`${rel} was written by other sources of ${e.id} (source hash ${String(previous.provenance?.sourceHash).slice(0, 12)}…, now ${hash.slice(0, 12)}…): add --fresh to discard it and run again`);
    }
    if (!sameOptions(previous.options, options)) {
      throw new UsageError(`${rel} was written with the options ${JSON.stringify(previous.options)}, not ${JSON.stringify(options)}: repeat its options to resume (${previous.provenance.command}), add --fresh to discard it, or choose another --out-dir`);
    }
    for (const r of previous.units) if (keys.has(r.key)) done.set(r.key, r);
  }
  return { e, options, file, hash, units, done, previous };
}

async function runPlan(p: Plan, pool: Pool, opts: ReproduceOptions & { log: (l: string) => void; jobs: number }): Promise<ResultsFile> {
  const { e, options } = p;
  const todo = p.units.filter((u) => !p.done.has(u.key));
  const rel = path.relative(process.cwd(), p.file);
  if (todo.length === 0 && p.previous && !p.previous.partial) {
    opts.log(`${e.id}: all ${p.units.length} units are already in ${rel} (add --fresh to run them again)`);
    return p.previous;
  }
  opts.log(`${e.id} (lecture ${e.lecture}): ${e.title}\n  ${todo.length} of ${p.units.length} units to run${p.done.size ? ` (${p.done.size} kept from ${rel})` : ""}, ${Math.min(opts.jobs, todo.length)} worker(s)`);
  const session = { command: opts.command ?? `reproduce ${e.id}`, commit: gitCommit(ROOT, e.sources), started: new Date().toISOString(), wallSeconds: 0, jobs: opts.jobs, units: 0 };
  const t0 = performance.now();
  const write = () => {
    session.wallSeconds = Math.round((performance.now() - t0) / 1000);
    const file = resultsFile(p, session, pool.backend);
    writeAtomically(p.file, JSON.stringify(file) + "\n");
    return file;
  };

  const bar = todo.length > 0 ? new ProgressBar({ total: todo.length, label: `${e.id} unit`, live: opts.live, delayMs: 0 }) : undefined;
  const fractions = new Map<string, number>();
  let finished = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    bar?.end();
    opts.log(`\n${signal}: ${p.done.size} of ${p.units.length} units of ${e.id} are kept in ${rel}; run the same command again to resume`);
    pool.close();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await pool.runAll(e.id, todo.map((u) => ({ ...u, options })), {
      progress: (key, fraction) => {
        fractions.set(key, fraction);
        bar?.step(finished + [...fractions.values()].reduce((a, b) => a + b, 0));
      },
      done: (u, result, seconds) => {
        fractions.delete(u.key);
        p.done.set(u.key, { key: u.key, unit: u.unit, seed: u.seed, seconds: Math.round(seconds * 100) / 100, result });
        finished++;
        session.units = finished;
        write();
        const line = `  [${finished}/${todo.length}] ${u.key}: ${seconds.toFixed(1)} s`;
        if (bar?.live) bar.log(line, opts.log);
        else opts.log(line);
        bar?.step(finished + [...fractions.values()].reduce((a, b) => a + b, 0));
      },
    });
  } catch (err) {
    bar?.end();
    if (finished > 0) write();
    throw new Error(`${e.id}: ${(err as Error).message}\n(${p.done.size} of ${p.units.length} units are kept in ${rel}; fix the problem and run the same command to resume)`);
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
  bar?.end();
  const file = write();
  opts.log(`${e.id}: wrote ${rel} (${file.provenance.wallSeconds} s in all)`);
  return file;
}

function resultsFile(p: Plan, session: Provenance["sessions"][number], backend: string): ResultsFile {
  const { e, options } = p;
  const units = p.units.filter((u) => p.done.has(u.key)).map((u) => p.done.get(u.key)!);
  const partial = units.length < p.units.length;
  let summary: unknown = null;
  if (e.summarize && units.length > 0) {
    try {
      summary = e.summarize(units.map((u) => ({ unit: u.unit, result: u.result })), options);
    } catch (err) {
      if (!partial) throw err;
      summary = null; // a summary may need every unit
    }
  }
  const earlier = p.previous?.provenance;
  const sessions = [...(earlier?.sessions ?? []), session];
  const provenance: Provenance = {
    command: sessions[0].command,
    commit: session.commit,
    sourceHash: p.hash,
    sources: e.sources,
    data: e.data ? e.data(options) : null,
    seeds: [...new Set(p.units.map((u) => u.seed))].sort((a, b) => a - b),
    backend: earlier?.backend && earlier.backend !== backend ? `${earlier.backend}; resumed on ${backend}` : backend,
    machine: earlier?.machine && earlier.machine !== machine() ? `${earlier.machine}; resumed on ${machine()}` : machine(),
    node: process.version,
    tfjs: tf.version.tfjs,
    started: sessions[0].started,
    wallSeconds: sessions.reduce((s, x) => s + x.wallSeconds, 0),
    sessions,
  };
  return { experiment: e.id, lecture: e.lecture, title: e.title, paper: e.paper, options, partial, units, summary, provenance };
}

type Job = { key: string; unit: unknown; seed: number; options: Options };
type Handlers = { progress(key: string, fraction: number): void; done(job: Job, result: unknown, seconds: number): void };

/** Worker processes, started on first use and kept for the following experiments. */
class Pool {
  private workers: { child: ChildProcess; ready: Promise<void>; stderr: string[] }[] = [];
  backend = "unknown";

  constructor(private readonly registry: string, private readonly size: number, private readonly log: (l: string) => void) {}

  private start(wanted: number): void {
    const script = path.join(__dirname, "worker.ts");
    while (this.workers.length < Math.min(this.size, wanted)) {
      const child = fork(script, [this.registry], { cwd: ROOT, execArgv: ["--import", "tsx"], stdio: ["ignore", "pipe", "pipe", "ipc"] });
      const stderr: string[] = [];
      child.stderr!.on("data", (d) => { stderr.push(String(d)); if (stderr.length > 50) stderr.shift(); });
      child.stdout!.on("data", (d) => String(d).split("\n").filter(Boolean).forEach((l) => this.log(`    ${l}`)));
      const ready = new Promise<void>((resolve, reject) => {
        child.on("message", (m: { type: string; key?: string | null; backend?: string; message?: string }) => {
          if (m.type === "ready") { this.backend = m.backend ?? this.backend; resolve(); }
          if (m.type === "error" && m.key === null) reject(new Error(`a worker failed to start:\n${m.message}`));
        });
        child.once("exit", (code) => reject(new Error(`a worker exited (code ${code}) before it was ready:\n${stderr.join("").slice(-2000)}`)));
      });
      ready.catch(() => undefined);
      this.workers.push({ child, ready, stderr });
    }
  }

  /** Runs the jobs, each on the next free worker; rejects on the first failure. */
  async runAll(id: string, jobs: Job[], on: Handlers): Promise<void> {
    if (jobs.length === 0) return;
    this.start(jobs.length);
    const queue = [...jobs];
    await new Promise<void>((resolve, reject) => {
      let active = 0, failed = false;
      const cleanups: (() => void)[] = [];
      const fail = (err: Error) => {
        if (failed) return;
        failed = true;
        cleanups.forEach((c) => c());
        this.close();
        reject(err);
      };
      const next = (w: Pool["workers"][number]) => {
        if (failed) return;
        const job = queue.shift();
        if (!job) {
          if (active === 0) { cleanups.forEach((c) => c()); resolve(); }
          return;
        }
        active++;
        w.child.send({ type: "run", id, key: job.key, unit: job.unit, options: job.options, seed: job.seed });
        const onMessage = (m: { type: string; key: string; result?: unknown; seconds?: number; fraction?: number; message?: string }) => {
          if (m.key !== job.key) return;
          if (m.type === "progress") on.progress(job.key, m.fraction ?? 0);
          else if (m.type === "error") fail(new Error(`unit ${job.key} failed:\n${m.message}`));
          else if (m.type === "done") {
            w.child.off("message", onMessage);
            w.child.off("exit", onExit);
            active--;
            try { on.done(job, m.result, m.seconds ?? 0); } catch (err) { fail(err as Error); return; }
            next(w);
          }
        };
        const onExit = (code: number | null, signal: string | null) => fail(new Error(`the worker running unit ${job.key} died (${signal ?? `exit code ${code}`}):\n${w.stderr.join("").slice(-2000)}`));
        w.child.on("message", onMessage);
        w.child.once("exit", onExit);
        cleanups.push(() => { w.child.off("message", onMessage); w.child.off("exit", onExit); });
      };
      for (const w of this.workers) w.ready.then(() => next(w), fail);
    });
  }

  close(): void {
    for (const w of this.workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill();
    this.workers = [];
  }
}

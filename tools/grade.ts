/**
 * `npm run grade -- <assignment> <folder of hand-ins> [options]`: grades every hand-in in its own sandboxed
 * kernel and writes, under --out (default build/grades/<assignment>/):
 *   gradebook.csv, gradebook.json     student, points per test, total, flags (written atomically)
 *   feedback/<student>.md             Spanish feedback: test names, points, pass/fail (never hidden tests)
 *   results/<student>.json            one result per hand-in; a rerun skips hand-ins already graded
 *
 * A hand-in is <student>.ipynb in the folder, or a folder <student>/ holding the notebook.
 * Options: --jobs N (parallel kernels, default 1), --force (regrade everything), --out DIR,
 *   --cell-timeout S (60), --timeout S (per hand-in, 300), --memory MB (2048), --output-limit MB (20),
 *   --sandbox bwrap|auto|none (default bwrap: refuse to run without it), --solutions DIR.
 * Exit status: 0 when every hand-in got a grade (whatever the grade), 3 when some could not be graded
 * because of the grader itself (rerun to retry them), 1 for bad arguments or setup.
 */
import * as fs from "fs";
import * as path from "path";
import { ensureJupyter, ROOT } from "./jupyter-env";
import { Assignment, parseAssignment } from "./homework/assignment";
import { GRADER_VERSION, GradeContext, HandinResult, assignmentSha, feedbackMarkdown, gradeHandin } from "./homework/grader";
import { NotebookError, sha256, writeAtomic } from "./homework/notebook";
import { RunLimits, SandboxMode, detectSandbox, killAllRunners } from "./homework/sandbox";
import { parseCli, numberOption, UsageError } from "./cli";

export interface GradeOptions {
  assignment: string;
  handins: string;
  out?: string;
  jobs: number;
  force: boolean;
  sandbox: SandboxMode;
  solutionsDir: string;
  limits: RunLimits;
  quiet: boolean;
}


const USAGE =
  "usage: npm run grade -- <assignment> <folder of hand-ins> [--jobs N] [--force] [--out DIR] [--cell-timeout S] " +
  "[--timeout S] [--memory MB] [--output-limit MB] [--sandbox bwrap|auto|none] [--solutions DIR]";

export function parseArgs(argv: string[]): GradeOptions {
  const { values: v, positionals } = parseCli(argv, {
    jobs: { type: "string", short: "j" },
    force: { type: "boolean" },
    quiet: { type: "boolean" },
    out: { type: "string" },
    solutions: { type: "string" },
    "cell-timeout": { type: "string" },
    timeout: { type: "string" },
    memory: { type: "string" },
    "output-limit": { type: "string" },
    sandbox: { type: "string" },
  }, USAGE, true);
  if (positionals.length !== 2) throw new UsageError(USAGE);
  const sandbox = v.sandbox ?? "bwrap";
  if (sandbox !== "bwrap" && sandbox !== "auto" && sandbox !== "none") throw new UsageError(`--sandbox must be bwrap, auto or none, not "${sandbox}"`);
  return {
    assignment: positionals[0],
    handins: path.resolve(positionals[1]),
    out: v.out ? path.resolve(v.out) : undefined,
    jobs: Math.floor(numberOption("jobs", v.jobs, 1, 1)),
    force: v.force ?? false,
    quiet: v.quiet ?? false,
    sandbox,
    solutionsDir: v.solutions ? path.resolve(v.solutions) : path.join(ROOT, "solutions"),
    limits: {
      cellTimeout: numberOption("cell-timeout", v["cell-timeout"], 60, 1),
      wallLimit: numberOption("timeout", v.timeout, 300, 1),
      memoryMb: Math.floor(numberOption("memory", v.memory, 2048, 128)),
      outputBytes: numberOption("output-limit", v["output-limit"], 20, 0.01) * 1e6,
      tmpMb: 256,
    },
  };
}

/** solutions/<name>.ipynb for "hw01", "hw01-activaciones" or a path. */
export function resolveAssignment(name: string, solutionsDir: string): string {
  if (name.endsWith(".ipynb") && fs.existsSync(name)) return path.resolve(name);
  if (!fs.existsSync(solutionsDir)) throw new UsageError(`no solutions folder at ${solutionsDir}`);
  const all = fs.readdirSync(solutionsDir).filter((f) => /^hw\d\d.*\.ipynb$/.test(f)).sort();
  const exact = all.find((f) => f === `${name}.ipynb`);
  const matches = exact ? [exact] : all.filter((f) => f.startsWith(`${name}-`) || f.startsWith(name));
  if (matches.length !== 1) {
    throw new UsageError(`assignment "${name}" ${matches.length === 0 ? "matches no" : "is ambiguous among"} solutions/${matches.length ? ": " + matches.join(", ") : ""}; there are: ${all.join(", ") || "none"}`);
  }
  return path.join(solutionsDir, matches[0]);
}

export interface HandinEntry {
  student: string;
  file?: string;
  problem?: string;
}

export const MAX_ID_CHARS = 80;

/**
 * The student id of a hand-in's file or folder name: accents dropped (José → Jose), anything outside
 * `A-Za-z0-9._@-` replaced by `_`, no leading formula character (`= + - @`), at most MAX_ID_CHARS characters
 * (longer names are cut and get a hash of the whole name, so they stay distinct and file names stay short).
 */
export function studentId(name: string): string {
  let id = name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^A-Za-z0-9._@-]/g, "_").replace(/^[=+\-@.]/, "_");
  if (id.length > MAX_ID_CHARS) id = `${id.slice(0, MAX_ID_CHARS - 9)}-${sha256(name).slice(0, 8)}`;
  return id || "_";
}

/**
 * The hand-ins in a folder: <student>.ipynb files and <student>/ folders holding one notebook. Ids that two
 * names share (e.g. "José" and "Jose") both get a hash of their own name appended; a hand-in that is a symbolic
 * link (or not a regular file) is listed with a problem, so it is graded as invalid instead of dropped.
 */
export function listHandins(dir: string, assignment: string): HandinEntry[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`hand-in folder ${dir} does not exist or is not a folder`);
  const found: (HandinEntry & { name: string })[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    if (name.startsWith(".")) continue;
    const full = path.join(dir, name);
    const st = fs.lstatSync(full);
    let e: HandinEntry | undefined;
    if (st.isSymbolicLink()) e = { student: name.replace(/\.ipynb$/, ""), problem: "la entrega es un enlace simbólico, no un archivo; entrega el cuaderno mismo" };
    else if (name.endsWith(".ipynb") && !st.isFile() && !st.isDirectory()) e = { student: name.slice(0, -6), problem: "la entrega no es un archivo común" };
    else if (st.isFile() && name.endsWith(".ipynb")) e = { student: name.slice(0, -6), file: full };
    else if (st.isDirectory()) {
      const nbs = fs.readdirSync(full).filter((f) => f.endsWith(".ipynb") && fs.lstatSync(path.join(full, f)).isFile()).sort();
      const pick = nbs.length === 1 ? nbs[0] : nbs.find((f) => f.startsWith(assignment.split("-")[0]));
      e = pick ? { student: name, file: path.join(full, pick) } : { student: name, problem: nbs.length === 0 ? "la carpeta no tiene ningún .ipynb" : `hay ${nbs.length} cuadernos y ninguno se llama ${assignment}*.ipynb` };
    }
    if (!e) continue;
    found.push({ ...e, name });
  }
  const ids = found.map((e) => studentId(e.student));
  const count = new Map<string, number>();
  for (const id of ids) count.set(id, (count.get(id) ?? 0) + 1);
  const out = found.map(({ name, ...e }, i) => ({ ...e, student: count.get(ids[i])! > 1 ? `${ids[i].slice(0, MAX_ID_CHARS - 9)}-${sha256(name).slice(0, 8)}` : ids[i] }));
  const taken = new Set<string>();
  for (const e of out) {
    // A suffixed id could still meet a plain one by accident: then the grader stops before writing anything.
    if (taken.has(e.student)) throw new UsageError(`two hand-ins map to the same student id "${e.student}"; rename one of them`);
    taken.add(e.student);
  }
  return out;
}

/** One CSV field: quoted when it holds a quote, comma, CR or LF; text a spreadsheet would run as a formula is prefixed with '. */
export function csvCell(v: string | number): string {
  let s = String(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function gradebookCsv(a: Assignment, results: HandinResult[]): string {
  const head = ["student", ...a.tests.map((t) => t.id), "total", "max", "status", "flags"];
  const rows = results.map((r) => [r.student, ...a.tests.map((t) => r.tests.find((x) => x.id === t.id)?.points ?? 0), r.total, r.max, r.status, r.flags.join(" ")]);
  return [head, ...rows].map((row) => row.map(csvCell).join(",")).join("\n") + "\n";
}

function readResult(file: string): HandinResult | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as HandinResult;
  } catch {
    return undefined;
  }
}

export async function grade(opts: GradeOptions, log: (s: string) => void = console.log): Promise<{ results: HandinResult[]; outDir: string; errors: number }> {
  const file = resolveAssignment(opts.assignment, opts.solutionsDir);
  const a = parseAssignment(file, path.relative(process.cwd(), file) || file);
  const outDir = opts.out ?? path.join(ROOT, "build", "grades", a.name);
  const handins = listHandins(opts.handins, a.name);
  const jenv = ensureJupyter(log);
  const sandbox = detectSandbox(opts.sandbox, jenv.python);
  if (sandbox.kind === "none") log(`WARNING: grading WITHOUT a sandbox: ${sandbox.why}. Hand-ins can read files and use the network (docs/homework.md).`);
  else log(`sandbox: bubblewrap${sandbox.userns ? " (unprivileged user namespace)" : " (root, all capabilities dropped)"}, no network`);
  const ctx: GradeContext = { assignment: a, assignmentSha: assignmentSha(a), jenv, sandbox, limits: opts.limits };
  const resultsDir = path.join(outDir, "results");
  const feedbackDir = path.join(outDir, "feedback");
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.mkdirSync(feedbackDir, { recursive: true });

  const results = new Map<string, HandinResult>();
  const todo: HandinEntry[] = [];
  for (const h of handins) {
    const prev = opts.force ? undefined : readResult(path.join(resultsDir, `${h.student}.json`));
    const sha = h.file && fs.existsSync(h.file) ? sha256(fs.readFileSync(h.file).toString("binary")) : "";
    if (prev && prev.status !== "error" && prev.assignmentSha === ctx.assignmentSha && prev.graderVersion === GRADER_VERSION && prev.handinSha === sha) {
      results.set(h.student, prev);
    } else todo.push(h);
  }
  log(`${a.name}: ${handins.length} hand-ins, ${todo.length} to grade, ${handins.length - todo.length} already graded (--force regrades), ${opts.jobs} job(s)`);
  const t0 = Date.now();
  let next = 0;
  let doneCount = 0;
  const worker = async () => {
    while (next < todo.length) {
      const h = todo[next++];
      const r = await gradeHandin(ctx, h.student, h.file, h.problem);
      // Feedback first, result last: a result on disk means the hand-in is completely done.
      writeAtomic(path.join(feedbackDir, `${h.student}.md`), feedbackMarkdown(r, opts.limits));
      writeAtomic(path.join(resultsDir, `${h.student}.json`), JSON.stringify(r, null, 1) + "\n");
      results.set(h.student, r);
      doneCount++;
      if (!opts.quiet) {
        log(`[${doneCount}/${todo.length}] ${h.student.padEnd(24)} ${String(r.total).padStart(5)} / ${r.max}  ${r.status.padEnd(8)} ${(r.wallMs / 1000).toFixed(1)} s  ${r.flags.join(" ")}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.jobs, Math.max(1, todo.length)) }, worker));
  const minutes = (Date.now() - t0) / 60000;
  const ordered = handins.map((h) => results.get(h.student)).filter((r): r is HandinResult => !!r);
  writeAtomic(path.join(outDir, "gradebook.csv"), gradebookCsv(a, ordered));
  writeAtomic(
    path.join(outDir, "gradebook.json"),
    JSON.stringify(
      {
        assignment: a.name,
        max: a.maxPoints,
        tests: a.tests.map((t) => ({ id: t.id, name: t.name, points: t.points, hidden: t.hidden.trim() !== "" })),
        sandbox: sandbox.kind === "bwrap" ? "bwrap" : `none (${sandbox.why})`,
        limits: opts.limits,
        students: ordered.map((r) => ({
          student: r.student,
          total: r.total,
          max: r.max,
          status: r.status,
          points: Object.fromEntries(r.tests.map((t) => [t.id, t.points])),
          reasons: Object.fromEntries(r.tests.map((t) => [t.id, t.reason])),
          flags: r.flags,
          notes: r.notes,
          file: r.file,
        })),
      },
      null,
      1,
    ) + "\n",
  );
  const errors = ordered.filter((r) => r.status === "error").length;
  if (todo.length > 0) log(`graded ${todo.length} hand-in(s) in ${(minutes * 60).toFixed(1)} s (${(todo.length / minutes).toFixed(1)} per minute)`);
  log(`gradebook: ${path.relative(process.cwd(), path.join(outDir, "gradebook.csv"))}  feedback: ${path.relative(process.cwd(), feedbackDir)}/`);
  if (errors > 0) log(`${errors} hand-in(s) could not be graded because of the grader (status "error"): run again to retry them.`);
  return { results: ordered, outDir, errors };
}

async function main(): Promise<number> {
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      // Finished hand-ins are already on disk; the next run resumes from them.
      killAllRunners();
      console.error(`\ninterrupted: rerun the same command to resume`);
      process.exit(130);
    });
  }
  try {
    const opts = parseArgs(process.argv.slice(2));
    const { errors } = await grade(opts);
    return errors > 0 ? 3 : 0;
  } catch (e) {
    console.error(e instanceof UsageError || e instanceof NotebookError ? e.message : e instanceof Error ? e.message : String(e));
    return 1;
  }
}

if (require.main === module) main().then((c) => process.exit(c));

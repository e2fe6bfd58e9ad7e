/**
 * Grades one hand-in: rebuilds the notebook to run (the student's code cells, then the ORIGINAL test cells,
 * each split into its visible part and its hidden part), runs it in a fresh sandboxed kernel, and scores it.
 *
 * Scoring rules (see docs/homework.md):
 * - a test passes only when its visible part and its hidden part both ran and finished without error;
 * - a timeout, a dead kernel or a broken limit stops the run: that cell and every test not yet passed fail
 *   (a dead kernel is never a pass);
 * - tests the student edited or deleted are run from the source anyway, and the edit is flagged.
 * Feedback for students uses canned Spanish sentences only: never the source, output or error text of a
 * test, which could carry hidden values.
 */
import * as fs from "fs";
import { randomBytes } from "crypto";
import { CellRecord, JupyterEnv } from "../jupyter-env";
import { Assignment, KERNEL_NAME, TestSpec } from "./assignment";
import { Cell, Notebook, NotebookError, asNotebook, normalizeSource, sha256, sourceLines, sourceText } from "./notebook";
import { RunLimits, RunResult, Sandbox, runNotebook } from "./sandbox";

/** Bump when grading rules change: results from another version are regraded on resume. */
export const GRADER_VERSION = 2;
export const MAX_HANDIN_BYTES = 50 * 1024 * 1024;

export type Reason = "ok" | "error" | "hidden" | "timeout" | "dead" | "memory" | "output" | "processes" | "wall" | "runner-killed" | "not-run" | "invalid" | "wrong-assignment" | "grader-error";

export interface TestResult {
  id: string;
  name: string;
  points: number;
  max: number;
  passed: boolean;
  reason: Reason;
}

export interface HandinResult {
  student: string;
  file: string;
  assignment: string;
  /** graded: ran; invalid / wrong-assignment: zero without running; error: the grader failed (retried on resume). */
  status: "graded" | "invalid" | "wrong-assignment" | "error";
  total: number;
  max: number;
  tests: TestResult[];
  flags: string[];
  /** For the instructor only (gradebook.json): what went wrong, with error text. Never in feedback. */
  notes: string[];
  /** Canned Spanish observations for the feedback file. */
  observations: string[];
  handinSha: string;
  assignmentSha: string;
  graderVersion: number;
  sandbox: string;
  wallMs: number;
  gradedAt: string;
}

type Entry =
  | { kind: "student"; handinIndex: number; source: string }
  | { kind: "visible" | "hidden"; test: TestSpec; source: string };

export interface GradedNotebook {
  nb: Notebook;
  entries: Entry[];
  flags: string[];
  observations: string[];
}

/**
 * Global names a test may use, with the TypeScript type of the parameter that replaces each one (see
 * guardTest). Interface types, not `typeof X`: a student's `const Math = ...` would change `typeof Math`.
 */
const GUARDED: Record<string, string> = {
  Math: "Math",
  JSON: "JSON",
  Number: "NumberConstructor",
  Array: "ArrayConstructor",
  Object: "ObjectConstructor",
  String: "StringConstructor",
  Boolean: "BooleanConstructor",
  Error: "ErrorConstructor",
  TypeError: "TypeErrorConstructor",
  RangeError: "RangeErrorConstructor",
  Float32Array: "Float32ArrayConstructor",
  Float64Array: "Float64ArrayConstructor",
  Int32Array: "Int32ArrayConstructor",
  Uint8Array: "Uint8ArrayConstructor",
  Map: "MapConstructor",
  Set: "SetConstructor",
  Symbol: "SymbolConstructor",
  Promise: "PromiseConstructor",
  Date: "DateConstructor",
  RegExp: "RegExpConstructor",
  isFinite: "(n: number) => boolean",
  isNaN: "(n: number) => boolean",
  parseFloat: "(s: string) => number",
  parseInt: "(s: string, radix?: number) => number",
  bp: 'typeof import("./lib/index")',
};

/** A fresh per-run name for the pristine built-ins published by the prelude (harden.js). */
export function newGuardName(): string {
  return `bpGuard_${randomBytes(12).toString("hex")}`;
}

/**
 * The prelude the runner executes before any student cell: loads the library (so its pristine namespace
 * exists before student code), then harden.js freezes the built-ins and publishes them under `guard`.
 */
export function preludeSource(guard: string): string {
  return [
    'import * as bpPristineLib from "./lib/index";',
    `(require("./tools/harden.js") as (guard: string, lib: unknown) => number)(${JSON.stringify(guard)}, bpPristineLib);`,
  ].join("\n");
}

/**
 * A test cell as it runs under the grader: a function whose parameters are the global names the test uses,
 * called with the pristine values. tslab lets a cell see the variables of earlier cells, so without this a
 * student's `const Math = { ...globalThis.Math, abs: () => 0 }` would be the `Math` of every later test.
 */
export function guardTest(source: string, guard: string): string {
  const names = Object.keys(GUARDED).filter((n) => new RegExp(`(^|[^.\\w$])${n}\\b`).test(source));
  const params = names.map((n) => `${n}: ${GUARDED[n]}`).join(", ");
  const args = names.map((n) => `${guard}.${n}`).join(", ");
  const isAsync = /\bawait\b/.test(source);
  return [
    `declare const ${guard}: any;`,
    `${isAsync ? "await (async " : "("}(${params}) => {`,
    source,
    `})(${args});`,
  ].join("\n");
}

/** A fingerprint of everything that decides grades: tests, points, hidden parts. */
export function assignmentSha(a: Assignment): string {
  return sha256(JSON.stringify(a.tests.map((t) => [t.id, t.points, t.visible, t.hidden])) + `v${GRADER_VERSION}`);
}

function testIdOf(cell: Cell): string | undefined {
  const bp = cell.metadata?.backprop as { test?: { id?: unknown } } | undefined;
  return typeof bp?.test?.id === "string" ? bp.test.id : undefined;
}

/**
 * The notebook to run: the hand-in's code cells in order, each test cell replaced by the source's visible
 * and hidden parts (found by test id, cell id or identical text), deleted tests put back after the cell
 * that preceded them in the source. Markdown and outputs are dropped.
 */
export function buildGradedNotebook(handin: Notebook, a: Assignment, opts: { guard?: string } = {}): GradedNotebook {
  const flags: string[] = [];
  const observations: string[] = [];
  const byId = new Map(a.tests.map((t) => [t.id, t]));
  const byCell = new Map(a.tests.map((t) => [t.cellId, t]));
  const byChecksum = new Map(a.tests.map((t) => [t.checksum, t]));
  const used = new Set<string>();
  const entries: (Entry & { cellId?: string })[] = [];
  const pushTest = (t: TestSpec) => {
    entries.push({ kind: "visible", test: t, source: t.visible });
    if (t.hidden.trim()) entries.push({ kind: "hidden", test: t, source: t.hidden });
  };
  handin.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    const text = sourceText(cell);
    const sum = sha256(normalizeSource(text));
    const metaId = testIdOf(cell);
    const t = (metaId !== undefined ? byId.get(metaId) : undefined) ?? (cell.id ? byCell.get(cell.id) : undefined) ?? byChecksum.get(sum);
    if (!t) {
      entries.push({ kind: "student", handinIndex: i, source: text, cellId: typeof cell.id === "string" ? cell.id : undefined });
      return;
    }
    if (used.has(t.id)) {
      flags.push(`test-duplicated:${t.id}`);
      observations.push(`La celda ${i + 1} repite el test «${t.name}»; se ignoró la copia.`);
      return;
    }
    used.add(t.id);
    if (sum !== t.checksum) {
      flags.push(`test-edited:${t.id}`);
      observations.push(`Modificaste la celda del test «${t.name}»: se corrigió con la versión original del test.`);
    }
    pushTest(t);
  });
  // Put deleted tests back, in source order, after the closest earlier source cell the hand-in still has.
  const sourceIndex = new Map(a.source.cells.map((c, i) => [c.id, i]));
  for (const t of a.tests) {
    if (used.has(t.id)) continue;
    flags.push(`test-deleted:${t.id}`);
    observations.push(`Falta la celda del test «${t.name}» (fue borrada o reemplazada): se agregó la versión original.`);
    let anchor = -1;
    entries.forEach((e, p) => {
      const before =
        e.kind === "student" ? e.cellId !== undefined && (sourceIndex.get(e.cellId) ?? Infinity) < t.index : e.test.index < t.index;
      if (before) anchor = p;
    });
    const at = anchor >= 0 ? anchor + 1 : entries.length;
    const add: Entry[] = [{ kind: "visible", test: t, source: t.visible }];
    if (t.hidden.trim()) add.push({ kind: "hidden", test: t, source: t.hidden });
    entries.splice(at, 0, ...add);
    used.add(t.id);
  }
  const cells: Cell[] = entries.map((e, k) => ({
    cell_type: "code",
    id: `graded-${String(k).padStart(3, "0")}`,
    metadata: {},
    source: sourceLines(opts.guard && e.kind !== "student" ? guardTest(e.source, opts.guard) : e.source),
    outputs: [],
    execution_count: null,
  }));
  const nb: Notebook = { cells, metadata: { kernelspec: { name: KERNEL_NAME, display_name: "TypeScript", language: "typescript" } }, nbformat: 4, nbformat_minor: 5 };
  return { nb, entries: entries.map(({ ...e }) => e), flags, observations };
}

const STOP_REASON: Record<string, Reason> = { timeout: "timeout", dead: "dead" };

function reasonOf(rec: CellRecord & { limit?: string; wall_limit?: boolean }): Reason {
  if (rec.status === "ok") return "ok";
  if (rec.status === "error") return "error";
  if (rec.status === "timeout") return rec.wall_limit ? "wall" : "timeout";
  if (rec.limit === "memory") return "memory";
  if (rec.limit === "output") return "output";
  if (rec.limit === "processes") return "processes";
  return STOP_REASON[rec.status] ?? "dead";
}

/** Scores a run of a graded notebook. */
export function score(g: GradedNotebook, a: Assignment, run: RunResult, limits: RunLimits): Pick<HandinResult, "tests" | "total" | "flags" | "notes" | "observations" | "status"> {
  const flags = [...g.flags];
  const notes: string[] = [];
  const observations = [...g.observations];
  const recs = new Map<number, CellRecord & { limit?: string; wall_limit?: boolean }>();
  for (const r of run.cells) if (typeof r.index === "number") recs.set(r.index, r);
  if (run.fatal && run.cells.length === 0 && !run.runnerKilled) {
    notes.push(`grader error: ${run.fatal}`);
    return {
      status: "error",
      tests: a.tests.map((t) => ({ id: t.id, name: t.name, points: 0, max: t.points, passed: false, reason: "grader-error" })),
      total: 0,
      flags: [...flags, "grader-error"],
      notes,
      observations: [...observations, "No se pudo ejecutar tu entrega por un problema del corrector (no tuyo); se volverá a corregir."],
    };
  }
  // Where did the run stop (timeout, dead kernel, broken limit, runner killed)?
  let stop: { pos: number; reason: Reason } | undefined;
  g.entries.forEach((_, pos) => {
    const r = recs.get(pos);
    if (!stop && r && (r.status === "timeout" || r.status === "dead")) stop = { pos, reason: reasonOf(r) };
  });
  if (!stop && (run.killed || run.fatal)) {
    const last = Math.max(-1, ...[...recs.keys()]);
    stop = { pos: last + 1, reason: run.killed ? "wall" : run.runnerKilled ? "runner-killed" : "dead" };
    notes.push(`runner: ${run.fatal ?? "killed"}`);
  }
  if (stop) {
    const flag = { timeout: "timeout", wall: "wall-limit", dead: "dead-kernel", memory: "memory-limit", output: "output-limit", processes: "process-limit", "runner-killed": "runner-killed" }[stop.reason as string] ?? "stopped";
    flags.push(flag);
    const e = g.entries[stop.pos];
    const where = !e ? "al final" : e.kind === "student" ? `en la celda ${e.handinIndex + 1} de tu cuaderno` : `en el test «${e.test.name}»`;
    observations.push(`La ejecución se detuvo ${where}: ${REASON_TEXT(limits)[stop.reason]}. Los tests que faltaban cuentan como no aprobados.`);
  }
  // Instructor notes: failed student cells and tests, with their messages.
  g.entries.forEach((e, pos) => {
    const r = recs.get(pos);
    if (!r || r.status === "ok") return;
    const what = e.kind === "student" ? `hand-in cell ${e.handinIndex + 1}` : `test ${e.test.id} (${e.kind} part)`;
    notes.push(`${what}: ${r.status}: ${(r.message ?? "").trim().split("\n").slice(0, 4).join(" | ").slice(0, 400)}`);
  });
  const tests: TestResult[] = a.tests.map((t) => {
    const parts = g.entries.map((e, pos) => ({ e, pos })).filter(({ e }) => e.kind !== "student" && e.test.id === t.id);
    let reason: Reason = "ok";
    for (const { e, pos } of parts) {
      const r = recs.get(pos);
      if (!r) {
        reason = "not-run";
        break;
      }
      const rr = reasonOf(r);
      if (rr !== "ok") {
        reason = rr === "error" && e.kind === "hidden" ? "hidden" : rr;
        break;
      }
    }
    if (reason === "not-run" && stop && parts.some(({ pos }) => pos === stop?.pos)) reason = stop.reason;
    const passed = reason === "ok";
    return { id: t.id, name: t.name, points: passed ? t.points : 0, max: t.points, passed, reason };
  });
  const total = tests.reduce((s, t) => s + t.points, 0);
  return { status: "graded", tests, total, flags, notes, observations };
}

export function REASON_TEXT(limits: RunLimits): Record<Reason, string> {
  return {
    ok: "aprobado",
    error: "la parte visible del test falló (ejecuta la celda del test en tu cuaderno para ver el error)",
    hidden: "pasó la parte visible, pero falló un test oculto",
    timeout: `se agotó el tiempo de una celda (${limits.cellTimeout} s)`,
    wall: `se agotó el tiempo total de la entrega (${limits.wallLimit} s)`,
    dead: "el kernel se detuvo (por ejemplo process.exit, un error fatal o una promesa rechazada sin manejar)",
    memory: `se superó el límite de memoria (${limits.memoryMb} MB)`,
    processes: `se superó el límite de procesos (${limits.maxProcesses ?? 32})`,
    "runner-killed": "tu código detuvo el proceso que ejecuta la corrección",
    output: `se superó el límite de salida (${Math.round(limits.outputBytes / 1e6)} MB de texto impreso)`,
    "not-run": "no se ejecutó porque la ejecución se detuvo antes",
    invalid: "la entrega no es un cuaderno válido",
    "wrong-assignment": "la entrega es de otra tarea",
    "grader-error": "error del corrector (no tuyo)",
  };
}

export interface GradeContext {
  assignment: Assignment;
  assignmentSha: string;
  jenv: JupyterEnv;
  sandbox: Sandbox;
  limits: RunLimits;
}

function zero(a: Assignment, reason: Reason): TestResult[] {
  return a.tests.map((t) => ({ id: t.id, name: t.name, points: 0, max: t.points, passed: false, reason }));
}

/** Grades one hand-in file. Never throws: every failure becomes a result. */
export async function gradeHandin(ctx: GradeContext, student: string, file: string | undefined, problem?: string): Promise<HandinResult> {
  const a = ctx.assignment;
  const t0 = Date.now();
  const base: HandinResult = {
    student,
    file: file ?? "",
    assignment: a.name,
    status: "graded",
    total: 0,
    max: a.maxPoints,
    tests: [],
    flags: [],
    notes: [],
    observations: [],
    handinSha: "",
    assignmentSha: ctx.assignmentSha,
    graderVersion: GRADER_VERSION,
    sandbox: ctx.sandbox.kind === "bwrap" ? `bwrap${ctx.sandbox.userns ? " (user namespace)" : ""}` : "none",
    wallMs: 0,
    gradedAt: new Date().toISOString(),
  };
  const invalid = (why: string, obs: string): HandinResult => ({
    ...base,
    status: "invalid",
    tests: zero(a, "invalid"),
    flags: ["invalid-notebook"],
    notes: [why],
    observations: [obs],
    wallMs: Date.now() - t0,
  });
  try {
    if (!file) return invalid(problem ?? "no notebook", `No se encontró un cuaderno .ipynb en tu entrega${problem ? ` (${problem})` : ""}.`);
    const size = fs.statSync(file).size;
    if (size > MAX_HANDIN_BYTES) return invalid(`hand-in is ${size} bytes (limit ${MAX_HANDIN_BYTES})`, `Tu cuaderno pesa demasiado (${Math.round(size / 1e6)} MB): borra las salidas y vuelve a entregarlo.`);
    const bytes = fs.readFileSync(file);
    base.handinSha = sha256(bytes.toString("binary"));
    let handin: Notebook;
    try {
      let value: unknown;
      try {
        value = JSON.parse(bytes.toString("utf8"));
      } catch (e) {
        throw new NotebookError(`invalid JSON: ${(e as Error).message}`);
      }
      handin = asNotebook(value, "hand-in");
    } catch (e) {
      return invalid((e as Error).message, "Tu entrega no es un cuaderno de Jupyter válido (el archivo .ipynb está dañado o no es JSON): no se pudo corregir.");
    }
    const meta = handin.metadata as { backprop?: { assignment?: unknown }; kernelspec?: { name?: unknown } };
    const declared = meta.backprop?.assignment;
    if (typeof declared === "string" && declared !== a.name) {
      return {
        ...base,
        status: "wrong-assignment",
        tests: zero(a, "wrong-assignment"),
        flags: [`wrong-assignment:${flagToken(declared)}`],
        notes: [`the notebook is for ${JSON.stringify(declared)}, not ${a.name}`],
        observations: [`Entregaste el cuaderno de otra tarea («${plainText(declared)}»); esta entrega es para «${a.name}».`],
        wallMs: Date.now() - t0,
      };
    }
    const extraFlags: string[] = [];
    const extraObs: string[] = [];
    if (typeof declared !== "string") {
      extraFlags.push("no-assignment-metadata");
      extraObs.push("Tu cuaderno no dice a qué tarea corresponde (falta metadata); se corrigió igual como esta tarea.");
    }
    const kname = meta.kernelspec?.name;
    if (kname !== KERNEL_NAME) {
      extraFlags.push(`kernel-name:${typeof kname === "string" ? flagToken(kname) : "none"}`);
      extraObs.push(`Tu cuaderno indica el kernel «${typeof kname === "string" ? plainText(kname) : "ninguno"}»; se corrigió con el kernel del curso (${KERNEL_NAME}).`);
    }
    const guard = newGuardName();
    const g = buildGradedNotebook(handin, a, { guard });
    const run = await runNotebook(ctx.jenv, ctx.sandbox, g.nb, ctx.limits, bytes.toString("utf8"), preludeSource(guard));
    const s = score(g, a, run, ctx.limits);
    return {
      ...base,
      ...s,
      flags: [...extraFlags, ...s.flags],
      observations: [...extraObs, ...s.observations],
      wallMs: Date.now() - t0,
    };
  } catch (e) {
    return {
      ...base,
      status: "error",
      tests: zero(a, "grader-error"),
      flags: ["grader-error"],
      notes: [`grader error: ${(e as Error).stack ?? String(e)}`],
      observations: ["No se pudo corregir tu entrega por un problema del corrector (no tuyo); se volverá a corregir."],
      wallMs: Date.now() - t0,
    };
  }
}

/**
 * A hand-in-controlled string made safe for a flag (gradebook CSV/JSON, console): letters, digits and
 * `. _ + -` only, at most 40 characters, never starting with a spreadsheet formula character.
 */
export function flagToken(s: string): string {
  const t = s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^A-Za-z0-9._+-]/g, "_").slice(0, 40);
  return (/^[=+\-@]/.test(t) ? `_${t.slice(1)}` : t) || "_";
}

/**
 * A hand-in-controlled string made safe inside a Markdown sentence: one line, no control or bidirectional
 * characters, Markdown and HTML punctuation escaped, at most 60 characters.
 */
export function plainText(s: string): string {
  const oneLine = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, " ").replace(/\s+/g, " ").trim();
  const cut = [...oneLine].length > 60 ? [...oneLine].slice(0, 59).join("") + "…" : oneLine;
  return cut.replace(/[\\`*_{}[\]()<>#+\-.!|~&"'=:]/g, (c) => `\\${c}`);
}

/** The Spanish feedback file: test names, points, pass/fail and canned reasons; nothing from the run. */
export function feedbackMarkdown(r: HandinResult, limits: RunLimits): string {
  const text = REASON_TEXT(limits);
  const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));
  const lines = [
    `# ${r.assignment} — devolución para ${plainText(r.student)}`,
    "",
    `**Puntaje: ${fmt(r.total)} / ${fmt(r.max)}** (incluye los tests ocultos)`,
    "",
    "| Test | Puntos | Resultado |",
    "|---|---|---|",
    ...r.tests.map((t) => `| ${t.name.replace(/\|/g, "\\|")} | ${fmt(t.points)} / ${fmt(t.max)} | ${t.passed ? "✅ aprobado" : `❌ ${text[t.reason]}`} |`),
    "",
  ];
  if (r.observations.length > 0) lines.push("## Observaciones", "", ...r.observations.map((o) => `- ${o}`), "");
  lines.push(
    "Los tests ocultos usan otros valores que los visibles; su código y sus valores no se muestran. " +
      "Si un test falla, ejecuta tu cuaderno de arriba abajo y revisa la celda del test.",
    "",
  );
  return lines.join("\n");
}

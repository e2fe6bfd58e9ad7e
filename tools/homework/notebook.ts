/**
 * Minimal, dependency-free notebook (nbformat 4) handling for the homework tools: reading with clear
 * errors, source text, and deterministic serialization (sorted keys, indent 1, like nbformat itself, so a
 * notebook saved by Jupyter without edits diffs as little as possible).
 */
import * as crypto from "crypto";
import * as fs from "fs";

export interface Cell {
  cell_type: "code" | "markdown" | "raw";
  id?: string;
  metadata: Record<string, unknown>;
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
  [k: string]: unknown;
}

export interface Notebook {
  cells: Cell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/** A notebook that cannot be used, with what is wrong. */
export class NotebookError extends Error {}

/** The cell's source as one string. */
export function sourceText(cell: { source?: unknown }): string {
  const s = cell.source;
  if (typeof s === "string") return s;
  if (Array.isArray(s)) return s.map((x) => (typeof x === "string" ? x : "")).join("");
  return "";
}

/** Source text as nbformat stores it: lines that keep their "\n", the last one without. */
export function sourceLines(text: string): string[] {
  if (text === "") return [];
  const parts = text.split("\n");
  return parts.map((l, i) => (i < parts.length - 1 ? l + "\n" : l)).filter((l) => l !== "");
}

/** Validates the shape of a parsed notebook; throws NotebookError saying what is wrong. */
export function asNotebook(value: unknown, name: string): Notebook {
  const fail = (why: string): never => {
    throw new NotebookError(`${name}: not a Jupyter notebook: ${why}`);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail("the top level is not a JSON object");
  const nb = value as Record<string, unknown>;
  if (nb.nbformat !== 4) fail(`nbformat is ${JSON.stringify(nb.nbformat)}; only nbformat 4 is supported`);
  if (!Array.isArray(nb.cells)) fail(`"cells" is missing or not a list`);
  const cells = nb.cells as unknown[];
  cells.forEach((c, i) => {
    if (typeof c !== "object" || c === null) fail(`cell ${i + 1} is not an object`);
    const cell = c as Record<string, unknown>;
    if (!["code", "markdown", "raw"].includes(cell.cell_type as string)) fail(`cell ${i + 1} has cell_type ${JSON.stringify(cell.cell_type)}`);
    const s = cell.source;
    if (!(typeof s === "string" || (Array.isArray(s) && s.every((x) => typeof x === "string")))) fail(`cell ${i + 1} has no text source`);
    if (cell.metadata !== undefined && (typeof cell.metadata !== "object" || cell.metadata === null)) fail(`cell ${i + 1} has bad metadata`);
    if (cell.metadata === undefined) cell.metadata = {};
  });
  if (nb.metadata === undefined) nb.metadata = {};
  if (typeof nb.metadata !== "object" || nb.metadata === null) fail(`"metadata" is not an object`);
  if (typeof nb.nbformat_minor !== "number") nb.nbformat_minor = 4;
  return nb as unknown as Notebook;
}

/** Reads and validates a notebook file; throws NotebookError for unreadable or invalid JSON. */
export function readNotebook(file: string, name = file): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new NotebookError(`${name}: cannot read: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new NotebookError(`${name}: invalid JSON: ${(e as Error).message}`);
  }
  return asNotebook(value, name);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

/** Deterministic text of a notebook: sorted keys, indent 1, non-ASCII kept, final newline. */
export function serializeNotebook(nb: Notebook): string {
  return JSON.stringify(sortKeys(nb), null, 1) + "\n";
}

/** Writes a file atomically (temp file + rename), so a reader never sees half of it. */
export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString("hex")}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** Text normalized for comparisons: LF line ends, no trailing spaces, no trailing blank lines. */
export function normalizeSource(text: string): string {
  return text.replace(/\r\n?/g, "\n").split("\n").map((l) => l.replace(/\s+$/, "")).join("\n").replace(/\n+$/, "");
}

export function sha256(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex");
}

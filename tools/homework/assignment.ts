/**
 * The homework authoring format: one source notebook per assignment (solutions/hwNN-name.ipynb) holds the
 * solution, the visible tests and the hidden tests. This module parses it, checks the markers, and derives
 * the student version (exercises/) and the graded version of each test.
 *
 * Markers (each alone on its line, leading spaces allowed):
 *   // BEGIN SOLUTION ... // END SOLUTION          in any code cell: replaced, for students, by a
 *                                                  placeholder that throws "sin implementar"
 *   // BEGIN HIDDEN TESTS ... // END HIDDEN TESTS  only in test cells: removed for students; run at
 *                                                  grading time, after the visible part of the cell
 * A test cell carries metadata  "backprop": {"test": {"id": "sigmoid", "points": 2, "name": "..."}}.
 */
import * as path from "path";
import { Cell, Notebook, NotebookError, normalizeSource, readNotebook, sha256, sourceLines, sourceText } from "./notebook";

export const SOLUTION_BEGIN = "// BEGIN SOLUTION";
export const SOLUTION_END = "// END SOLUTION";
export const HIDDEN_BEGIN = "// BEGIN HIDDEN TESTS";
export const HIDDEN_END = "// END HIDDEN TESTS";
export const PLACEHOLDER = ["// TU CÓDIGO AQUÍ", 'throw new Error("sin implementar");'];
export const KERNEL_NAME = "backprop-lab";

export interface TestSpec {
  id: string;
  name: string;
  points: number;
  /** Index of the test cell in the source notebook. */
  index: number;
  /** Cell id of the test cell (the same in the student version). */
  cellId: string;
  /** The visible part: exactly the student version's test cell source. */
  visible: string;
  /** The hidden part ("" when none): concatenated hidden blocks. Never shown to students. */
  hidden: string;
  /** sha256 of the normalized visible source: detects a student's edits. */
  checksum: string;
}

export interface Assignment {
  /** File name without .ipynb, e.g. "hw01-activaciones". */
  name: string;
  file: string;
  source: Notebook;
  student: Notebook;
  tests: TestSpec[];
  maxPoints: number;
}

/** A malformed marker or test cell: names the file, the cell and the line. */
export class MarkerError extends NotebookError {}

interface TestMeta {
  id: string;
  points: number;
  name: string;
}

function testMeta(cell: Cell, where: string): TestMeta | undefined {
  const bp = cell.metadata?.backprop as { test?: unknown } | undefined;
  if (!bp || bp.test === undefined) return undefined;
  const t = bp.test as Record<string, unknown>;
  if (cell.cell_type !== "code") throw new MarkerError(`${where}: test metadata on a ${cell.cell_type} cell; tests must be code cells`);
  if (typeof t !== "object" || t === null) throw new MarkerError(`${where}: metadata backprop.test must be an object {id, points, name}`);
  if (typeof t.id !== "string" || !/^[A-Za-z0-9_.-]+$/.test(t.id)) {
    throw new MarkerError(`${where}: backprop.test.id must be a non-empty word (letters, digits, _ . -), got ${JSON.stringify(t.id)}`);
  }
  if (typeof t.points !== "number" || !(t.points > 0) || !Number.isFinite(t.points)) {
    throw new MarkerError(`${where}: backprop.test.points must be a positive number, got ${JSON.stringify(t.points)}`);
  }
  if (t.name !== undefined && typeof t.name !== "string") throw new MarkerError(`${where}: backprop.test.name must be a string`);
  return { id: t.id, points: t.points, name: (t.name as string | undefined) ?? t.id };
}

type Region = "solution" | "hidden";

/**
 * Splits a cell's lines by markers. Returns the student text, the hidden text, and whether a solution
 * region was seen. Throws MarkerError for BEGIN without END, END without BEGIN, nesting, and hidden blocks
 * outside test cells.
 */
function splitMarkers(text: string, isTest: boolean, where: string): { student: string; hidden: string; hasSolution: boolean } {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const student: string[] = [];
  const hidden: string[] = [];
  let open: { kind: Region; line: number } | undefined;
  let hasSolution = false;
  const markers: Record<string, { kind: Region; begin: boolean }> = {
    [SOLUTION_BEGIN]: { kind: "solution", begin: true },
    [SOLUTION_END]: { kind: "solution", begin: false },
    [HIDDEN_BEGIN]: { kind: "hidden", begin: true },
    [HIDDEN_END]: { kind: "hidden", begin: false },
  };
  const label = (k: Region) => (k === "solution" ? "SOLUTION" : "HIDDEN TESTS");
  lines.forEach((line, i) => {
    const at = `${where}, line ${i + 1}`;
    const trimmed = line.trim();
    const m = markers[trimmed];
    if (!m) {
      // A marker that is not alone on its line is almost certainly a mistake.
      for (const k of Object.keys(markers)) {
        if (trimmed.includes(k)) throw new MarkerError(`${at}: "${k}" must be alone on its line`);
      }
      if (open?.kind === "hidden") hidden.push(line);
      else if (open?.kind !== "solution") student.push(line);
      return;
    }
    if (m.begin) {
      if (open) throw new MarkerError(`${at}: BEGIN ${label(m.kind)} inside the BEGIN ${label(open.kind)} opened at line ${open.line}; close it first`);
      if (m.kind === "hidden" && !isTest) {
        throw new MarkerError(`${at}: BEGIN HIDDEN TESTS outside a test cell (hidden tests belong in a cell with backprop.test metadata)`);
      }
      if (m.kind === "solution" && isTest) throw new MarkerError(`${at}: BEGIN SOLUTION inside a test cell; solutions go in exercise cells`);
      open = { kind: m.kind, line: i + 1 };
      if (m.kind === "solution") {
        hasSolution = true;
        const indent = line.slice(0, line.length - line.trimStart().length);
        for (const p of PLACEHOLDER) student.push(indent + p);
      }
    } else {
      if (!open || open.kind !== m.kind) {
        throw new MarkerError(`${at}: END ${label(m.kind)} without a matching BEGIN ${label(m.kind)}`);
      }
      open = undefined;
    }
  });
  if (open) throw new MarkerError(`${where}, line ${open.line}: BEGIN ${label(open.kind)} without END ${label(open.kind)}`);
  return { student: student.join("\n"), hidden: hidden.join("\n"), hasSolution };
}

/** Parses a source notebook into its student version and test specs; throws MarkerError/NotebookError. */
export function parseAssignment(file: string, display = file): Assignment {
  const source = readNotebook(file, display);
  const name = path.basename(file).replace(/\.ipynb$/, "");
  const tests: TestSpec[] = [];
  const ids = new Set<string>();
  const cellIds = new Set<string>();
  const studentCells: Cell[] = [];
  source.cells.forEach((cell, index) => {
    const where = `${display}: cell ${index + 1}${cell.id ? ` (id ${cell.id})` : ""}`;
    if (!cell.id || typeof cell.id !== "string") throw new MarkerError(`${where}: has no cell id (save it with nbformat ≥ 4.5, or add "id")`);
    if (cellIds.has(cell.id)) throw new MarkerError(`${where}: duplicate cell id ${cell.id}`);
    cellIds.add(cell.id);
    const meta = testMeta(cell, where);
    const text = sourceText(cell);
    let studentText = text;
    if (cell.cell_type === "code") {
      const split = splitMarkers(text, meta !== undefined, where);
      studentText = split.student;
      if (meta) {
        if (ids.has(meta.id)) throw new MarkerError(`${where}: duplicate test id "${meta.id}"`);
        ids.add(meta.id);
        tests.push({
          id: meta.id,
          name: meta.name,
          points: meta.points,
          index,
          cellId: cell.id,
          visible: studentText,
          hidden: split.hidden,
          checksum: sha256(normalizeSource(studentText)),
        });
      }
    } else {
      for (const k of [SOLUTION_BEGIN, HIDDEN_BEGIN]) {
        const line = text.split("\n").findIndex((l) => l.trim() === k);
        if (line >= 0) throw new MarkerError(`${where}, line ${line + 1}: "${k}" in a ${cell.cell_type} cell; markers belong in code cells`);
      }
    }
    const metadata: Record<string, unknown> = { ...cell.metadata };
    const out: Cell = { cell_type: cell.cell_type, id: cell.id, metadata, source: sourceLines(studentText) };
    if (cell.cell_type === "code") {
      out.execution_count = null;
      out.outputs = [];
    }
    studentCells.push(out);
  });
  if (tests.length === 0) throw new MarkerError(`${display}: has no test cells (code cells with metadata backprop.test)`);
  const srcMeta = source.metadata as Record<string, unknown>;
  const student: Notebook = {
    cells: studentCells,
    metadata: {
      backprop: { assignment: name },
      kernelspec: { display_name: "TypeScript (backprop-lab)", language: "typescript", name: KERNEL_NAME },
      language_info: srcMeta.language_info ?? { file_extension: ".ts", mimetype: "text/typescript", name: "typescript" },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
  return { name, file, source, student, tests, maxPoints: tests.reduce((s, t) => s + t.points, 0) };
}

/**
 * `npm run release`: the folder (and archive) students get, as nbgrader's "release" step: the lectures,
 * the student exercises, the library, the kernel set-up and `npm run jupyter`, package.json with only the
 * students' scripts, and a student README (Spanish). Never solutions/, the hidden tests, the grader or its
 * corpus of hand-ins (test/), nor build outputs. Then every file of the release is searched for every
 * line of solution code and hidden test in solutions/ (`secretLines`); one found is an error and the
 * release is not written.
 *
 *   npm run release                     build/release/backprop-lab-estudiantes/ and .tar.gz next to it
 *   npm run release -- --out DIR        another folder (DIR/backprop-lab-estudiantes)
 */
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { ROOT, runMain } from "./jupyter-env";
import { parseCli } from "./cli";
import { readNotebook, sourceText } from "./homework/notebook";
import { SOLUTION_BEGIN, SOLUTION_END, HIDDEN_BEGIN, HIDDEN_END } from "./homework/assignment";

export const RELEASE_NAME = "backprop-lab-estudiantes";

/** What goes into the release, relative to the project (folders are copied whole, filtered). */
export const RELEASE_FILES = [
  "lib",
  "notebooks",
  "exercises",
  "data/.gitkeep",
  "data/pretrained",
  "data/results",
  "tools/kernel.js",
  "tools/tslab-kernel.js",
  "tools/tslab-protocol.js",
  "tools/student-notes.js",
  "tools/tslab-speed.js",
  "tools/kernel-cache.js",
  "tools/compiled-lib.js",
  "tools/lib-build.js",
  "tools/build-native.js",
  "native/blas",
  "tools/jupyter.ts",
  "tools/jupyter-env.ts",
  "tools/cli.ts",
  "tools/jupyter",
  "package-lock.json",
  "tsconfig.json",
];

/** The scripts students use (package.json keeps its dependencies as they are, so package-lock.json holds). */
const STUDENT_SCRIPTS = ["postinstall", "jupyter", "nbconvert", "typecheck"];

/** Never copied, wherever they are: build outputs, caches, checkpoints, editor and OS files. */
const EXCLUDED = /(^|\/)(node_modules|build|cache|\.ipynb_checkpoints|\.jupyter|__pycache__)(\/|$)|\.(log|tmp|tmp\.ts)$|(^|\/)\.DS_Store$/;

export interface SecretLine {
  file: string;
  cell: number;
  kind: "solution" | "hidden test";
  line: string;
}

/** A line worth searching for: not blank, not only punctuation, and long enough not to be anyone's code. */
function significant(line: string): boolean {
  const t = line.trim();
  return t.length >= 12 && /[A-Za-z0-9]/.test(t) && !t.startsWith("//");
}

/** Folders whose files the course publishes anyway (lectures, library): a solution line found there is no leak. */
export const PUBLIC_DIRS = ["lib", "notebooks"];

/** The trimmed lines of a file (a notebook: of its cells' sources). */
function fileLines(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  if (file.endsWith(".ipynb")) {
    try {
      return (JSON.parse(text) as { cells: { source: string | string[] }[] }).cells.flatMap((c) => [c.source].flat().join("").split("\n").map((l) => l.trim()));
    } catch {
      /* not JSON: its raw lines */
    }
  }
  return text.split("\n").map((l) => l.trim());
}

export interface Secrets {
  /** Lines of solution code and hidden tests that must not reach students. */
  secret: SecretLine[];
  /** Solution or hidden-test lines that the lectures or the library show anyway (reported, not searched). */
  alsoPublic: (SecretLine & { where: string })[];
}

/**
 * Every line of solution code and hidden test in the homework sources (solutions/*.ipynb), except lines
 * that are public anyway: those the student versions show too (hidden blocks are self-contained and declare
 * the visible tests' helpers again) and those in the lectures or the library (PUBLIC_DIRS).
 */
export function secretLines(solutionsDir = path.join(ROOT, "solutions")): Secrets {
  const all: SecretLine[] = [];
  const open = new Set<string>();
  for (const f of fs.readdirSync(solutionsDir).filter((x) => x.endsWith(".ipynb")).sort()) {
    const nb = readNotebook(path.join(solutionsDir, f));
    nb.cells.forEach((cell, k) => {
      let kind: SecretLine["kind"] | undefined;
      for (const line of sourceText(cell).split("\n")) {
        const t = line.trim();
        if (cell.cell_type === "code" && t === SOLUTION_BEGIN) kind = "solution";
        else if (cell.cell_type === "code" && t === HIDDEN_BEGIN) kind = "hidden test";
        else if (cell.cell_type === "code" && (t === SOLUTION_END || t === HIDDEN_END)) kind = undefined;
        else if (!kind) open.add(t);
        else if (significant(line)) all.push({ file: `solutions/${f}`, cell: k, kind, line: t });
      }
    });
  }
  const published = new Map<string, string>();
  for (const d of PUBLIC_DIRS) {
    if (!fs.existsSync(path.join(ROOT, d))) continue;
    for (const rel of walk(path.join(ROOT, d))) for (const l of fileLines(path.join(ROOT, d, rel))) if (!published.has(l)) published.set(l, `${d}/${rel}`);
  }
  const secret: SecretLine[] = [];
  const alsoPublic: Secrets["alsoPublic"] = [];
  for (const s of all) {
    if (open.has(s.line)) continue;
    const where = published.get(s.line);
    if (where) alsoPublic.push({ ...s, where });
    else secret.push(s);
  }
  return { secret, alsoPublic };
}

function walk(dir: string, rel = ""): string[] {
  const full = path.join(dir, rel);
  if (!fs.statSync(full).isDirectory()) return [rel];
  return fs.readdirSync(full).sort().flatMap((f) => walk(dir, rel ? `${rel}/${f}` : f));
}

export interface Leak extends SecretLine {
  /** The release file where the line was found. */
  found: string;
}

/** Every secret line found in a file of `dir` (compared line by line, trimmed; notebooks by their sources and raw). */
export function findLeaks(dir: string, secrets: SecretLine[]): Leak[] {
  const wanted = new Map<string, SecretLine[]>();
  for (const s of secrets) wanted.set(s.line, [...(wanted.get(s.line) ?? []), s]);
  const leaks: Leak[] = [];
  for (const rel of walk(dir)) {
    const file = path.join(dir, rel);
    const lines = new Set([...fileLines(file), ...fs.readFileSync(file, "utf8").split("\n").map((l) => l.trim())]);
    for (const l of lines) for (const s of wanted.get(l) ?? []) leaks.push({ ...s, found: rel });
  }
  return leaks;
}

const STUDENT_README = `# backprop-lab · material para estudiantes

Las clases (\`notebooks/\`) y las tareas (\`exercises/\`) del curso, con la biblioteca \`lib/\` que usan.

## Puesta en marcha

Necesitas Node.js 20 o posterior y el Jupyter Notebook de Debian:

\`\`\`sh
sudo apt-get install -y jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client
npm ci               # instala las dependencias y registra el kernel «TypeScript (backprop-lab)»
npm run jupyter      # abre Jupyter en esta carpeta
\`\`\`

\`npm run jupyter -- --no-browser --port 8889\` no abre el navegador y usa otro puerto.

## Cómo trabajar

- Abre una clase de \`notebooks/\` y ejecuta *Kernel → Restart & Run All*. La primera celda carga la biblioteca:
  tarda unos segundos y lo avisa.
- Para una tarea, abre \`exercises/hwNN-….ipynb\`. Completa el código donde dice \`// TU CÓDIGO AQUÍ\` y ejecuta
  la celda de tu solución y después la celda de prueba que la sigue. Si una prueba dice «sin implementar»
  aunque ya escribiste tu solución, es que la celda de tu solución no llegó a ejecutarse (por ejemplo, por
  un error de compilación): mira el error de esa celda, corrígelo y vuelve a ejecutarla.
- No cambies las celdas de prueba: al corregir se usan las originales, más otras pruebas que no ves.
- Guarda (*File → Save*) y entrega el archivo \`.ipynb\`.
`;

export interface ReleaseResult {
  dir: string;
  archive?: string;
  files: number;
  leaks: Leak[];
  /** Lines searched for. */
  searched: number;
  alsoPublic: Secrets["alsoPublic"];
}

/** Builds the release in OUT/backprop-lab-estudiantes (replacing it); with leaks, removes it again. */
export function buildRelease(out: string, opts: { archive?: boolean } = {}): ReleaseResult {
  const dir = path.join(out, RELEASE_NAME);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const rel of RELEASE_FILES) {
    const from = path.join(ROOT, rel);
    if (!fs.existsSync(from)) continue;
    fs.cpSync(from, path.join(dir, rel), { recursive: true, filter: (src) => !EXCLUDED.test(path.relative(ROOT, src).split(path.sep).join("/")) });
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string>; description?: string };
  pkg.scripts = Object.fromEntries(Object.entries(pkg.scripts).filter(([k]) => STUDENT_SCRIPTS.includes(k)));
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  fs.writeFileSync(path.join(dir, "README.md"), STUDENT_README);
  fs.writeFileSync(path.join(dir, ".gitignore"), "node_modules/\n.jupyter/\n.ipynb_checkpoints/\ndata/cache/\n");
  const { secret, alsoPublic } = secretLines();
  const leaks = findLeaks(dir, secret);
  const files = walk(dir).length;
  if (leaks.length > 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    return { dir, files, leaks, searched: secret.length, alsoPublic };
  }
  let archive: string | undefined;
  if (opts.archive !== false) {
    archive = path.join(out, `${RELEASE_NAME}.tar.gz`);
    const r = spawnSync("tar", ["-czf", archive, "-C", out, RELEASE_NAME], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  }
  return { dir, archive, files, leaks, searched: secret.length, alsoPublic };
}

async function main(): Promise<number> {
  const { values } = parseCli(process.argv.slice(2), { out: { type: "string" } }, "usage: npm run release -- [--out DIR]");
  const out = path.resolve(values.out ?? path.join(ROOT, "build", "release"));
  const r = buildRelease(out);
  const rel = (p: string) => path.relative(process.cwd(), p) || ".";
  if (r.leaks.length > 0) {
    for (const l of r.leaks.slice(0, 20)) console.error(`LEAK ${l.kind} line of ${l.file} (cell ${l.cell}) found in ${l.found}: ${l.line}`);
    console.error(`${r.leaks.length} line(s) of solutions or hidden tests in the release: nothing written`);
    return 1;
  }
  console.log(`release: ${r.files} files in ${rel(r.dir)}${r.archive ? `, archive ${rel(r.archive)}` : ""}; none of the ${r.searched} solution and hidden-test lines in it`);
  if (r.alsoPublic.length > 0) {
    const where = [...new Set(r.alsoPublic.map((a) => `${a.file} → ${a.where}`))];
    console.log(`note: ${r.alsoPublic.length} solution/hidden-test lines are also in the lectures or the library, which students get anyway:\n  ${where.join("\n  ")}`);
  }
  return 0;
}

if (require.main === module) runMain(main);

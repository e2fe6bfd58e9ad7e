/**
 * Finds (or installs) the Debian Jupyter that runs the notebooks, and the project's tslab kernel.
 * Shared by the course runner, the slide export and the grader.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { UsageError } from "./cli";

export const ROOT = path.resolve(__dirname, "..");
/** The project's Jupyter configuration folder (jupyter_notebook_config.py, nbconfig/, nbextensions/). */
export const JUPYTER_CONFIG = path.join(__dirname, "jupyter");
export const DEBIAN_PACKAGES = ["jupyter-notebook", "jupyter-nbconvert", "python3-nbclient", "jupyter-client"];
const INSTALL_COMMAND = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${DEBIAN_PACKAGES.join(" ")}`;
// eslint-disable-next-line @typescript-eslint/no-var-requires
const kernel = require("./kernel.js") as { install(): string; compileLib(log?: (s: string) => void): boolean; jupyterPath: string; kernelName: string };

export interface JupyterEnv {
  /** A python3 that imports nbclient and nbconvert. */
  python: string;
  /** Environment for Jupyter processes: JUPYTER_PATH points at the project's kernel. */
  env: NodeJS.ProcessEnv;
  kernelName: string;
}

function importsJupyter(python: string): boolean {
  const r = spawnSync(python, ["-c", "import nbclient, nbconvert, nbformat, jupyter_client"], { stdio: "ignore" });
  return r.status === 0;
}

function findPython(): string | undefined {
  // Debian's Jupyter lives in the system python; a python3 earlier on PATH (pyenv, venv) may lack it.
  const candidates = [process.env.BACKPROP_PYTHON, "/usr/bin/python3", "python3"].filter((p): p is string => !!p);
  return candidates.find(importsJupyter);
}

class SetupError extends Error {}

/** Returns a usable Jupyter, installing Debian's packages when running as root; else explains how. */
export function ensureJupyter(log: (s: string) => void = console.log): JupyterEnv {
  let python = findPython();
  if (!python) {
    const root = typeof process.getuid === "function" && process.getuid() === 0;
    const hasApt = spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status === 0;
    if (!root || !hasApt) {
      throw new SetupError(
        `Jupyter (nbclient, nbconvert) is not installed. Install Debian's packages, then run this again:\n` +
          `  sudo sh -c '${INSTALL_COMMAND}'`,
      );
    }
    log(`Jupyter is missing; installing Debian packages: ${DEBIAN_PACKAGES.join(" ")}`);
    const r = spawnSync("sh", ["-c", INSTALL_COMMAND], { stdio: ["ignore", "inherit", "inherit"] });
    python = findPython();
    if (r.status !== 0 || !python) {
      throw new SetupError(`Installing Jupyter failed (apt-get exit ${r.status}). Run it by hand:\n  ${INSTALL_COMMAND}`);
    }
  }
  const spec = path.join(kernel.jupyterPath, "kernels", kernel.kernelName, "kernel.json");
  if (!fs.existsSync(spec)) kernel.install();
  kernel.compileLib(log); // the kernels started from here import the compiled lib/ (tools/lib-build.js)
  // JUPYTER_PATH finds the project's kernel; JUPYTER_CONFIG_PATH adds the project's Jupyter configuration
  // (tools/jupyter/: pre-save hook, plotly.js served from node_modules, the MathJax fix), ahead of the user's.
  const configPath = [JUPYTER_CONFIG, process.env.JUPYTER_CONFIG_PATH].filter(Boolean).join(path.delimiter);
  const env = { ...process.env, JUPYTER_PATH: kernel.jupyterPath, JUPYTER_CONFIG_PATH: configPath, PYDEVD_DISABLE_FILE_VALIDATION: "1" };
  return { python, env, kernelName: kernel.kernelName };
}

/** Runs a tool's main, printing a set-up or usage mistake as one clear message (a stack only for bugs). */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(e instanceof SetupError || e instanceof UsageError ? e.message : e instanceof Error ? e.stack : String(e));
      process.exit(1);
    },
  );
}

export interface CellRecord {
  index: number | null;
  id?: string;
  status: "ok" | "error" | "timeout" | "dead" | "fatal";
  ms?: number;
  stderr?: string;
  message?: string;
  kernel_stderr?: string;
}

export interface NotebookRun {
  ok: boolean;
  cells: CellRecord[];
  failure: CellRecord | null;
  wall_ms: number;
  fatal?: string;
}

export interface NotebookJob {
  notebook: string;
  output?: string | null;
  cwd: string;
  kernel?: string;
  cell_timeout?: number;
  startup_timeout?: number;
  continue_on_error?: boolean;
  kernel_stderr?: string;
  cells?: number[] | null;
}

/** Executes one notebook through tools/nbrun.py (nbclient + the tslab kernel). */
export function executeNotebook(jenv: JupyterEnv, job: NotebookJob, tmpDir: string): NotebookRun {
  const jobFile = path.join(tmpDir, `job-${process.pid}-${Date.now()}.json`);
  fs.writeFileSync(jobFile, JSON.stringify({ kernel: jenv.kernelName, ...job }));
  try {
    const r = spawnSync(jenv.python, ["-Xfrozen_modules=off", path.join(__dirname, "nbrun.py"), jobFile], {
      env: jenv.env,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    const line = (r.stdout ?? "").trim().split("\n").pop() ?? "";
    try {
      return JSON.parse(line) as NotebookRun;
    } catch {
      return { ok: false, cells: [], failure: null, wall_ms: 0, fatal: `nbrun.py gave no result (exit ${r.status}): ${(r.stderr ?? "").slice(-2000)}` };
    }
  } finally {
    fs.rmSync(jobFile, { force: true });
  }
}

/**
 * Drives the real Jupyter Notebook 6 UI in headless Chromium (playwright-core), as a student does: open a
 * notebook, Kernel → Restart & Run All, save, reopen, add a cell, Clear All Outputs, reload. Used by
 * test/notebook-ui.test.ts; also a command that checks lecture 01 and leaves screenshots:
 *
 *   npx tsx tools/notebook-ui.ts [--notebook notebooks/01-neurona-activaciones.ipynb] [--screens DIR]
 *
 * The server runs on a temporary copy of the notebooks (the copies are what gets saved), with the project's
 * kernel (BACKPROP_ROOT points the kernel at this project) and the project's Jupyter configuration
 * (tools/jupyter/), and its own empty Jupyter data and config folders, so nothing of the user's is touched
 * or used. Requests that leave 127.0.0.1 are blocked: everything must work offline.
 */
import { spawn, ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import type { BrowserContext, Page } from "playwright-core";
import { ensureJupyter, ROOT } from "./jupyter-env";
import { launchChromium } from "./browser-check";

export interface NotebookServer {
  url: string;
  token: string;
  /** The folder the server serves (a temporary copy). */
  dir: string;
  /** Everything the server printed so far. */
  log: () => string;
  stop: () => Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/** Starts `jupyter notebook` (as `npm run jupyter` does) on `dir`, with fresh Jupyter data and config folders. */
export async function startNotebookServer(dir: string, timeoutMs = 60_000): Promise<NotebookServer> {
  const jenv = ensureJupyter();
  const port = await freePort();
  const token = Math.random().toString(36).slice(2);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "backprop-jhome-"));
  const env = {
    ...jenv.env,
    BACKPROP_ROOT: ROOT,
    JUPYTER_CONFIG_DIR: path.join(home, "config"),
    JUPYTER_DATA_DIR: path.join(home, "data"),
    JUPYTER_RUNTIME_DIR: path.join(home, "runtime"),
    BROWSER: "true",
  };
  const args = ["-m", "notebook", "--no-browser", `--port=${port}`, "--ip=127.0.0.1", `--NotebookApp.token=${token}`, "--notebook-dir", dir];
  if (typeof process.getuid === "function" && process.getuid() === 0) args.push("--allow-root");
  const child: ChildProcess = spawn(jenv.python, args, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const url = `http://127.0.0.1:${port}/`;
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`jupyter notebook exited (${child.exitCode}):\n${out}`);
    try {
      const r = await fetch(`${url}api/status?token=${token}`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`jupyter notebook did not answer in ${timeoutMs / 1000} s:\n${out}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    token,
    dir,
    log: () => out,
    stop: async () => {
      if (child.exitCode === null) {
        try {
          process.kill(-child.pid!, "SIGTERM");
        } catch {
          /* gone */
        }
        await new Promise((r) => setTimeout(r, 500));
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          /* gone */
        }
      }
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

declare const Jupyter: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const MathJax: any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface FigureState {
  /** Figure boxes in the page (.backprop-figure). */
  figures: number;
  /** Boxes that plotly drew into. */
  drawn: number;
  trusted: boolean;
  /** Texts of error outputs, if any. */
  errors: string[];
}

/** Opens a notebook of the server in a page and waits for the notebook and its kernel to be ready. */
export async function openNotebook(context: BrowserContext, server: NotebookServer, rel: string): Promise<Page> {
  const page = await context.newPage();
  if (process.env.BACKPROP_UI_DEBUG) page.on("console", (m) => console.log(`[console.${m.type()}] ${m.text()}`));
  if (process.env.BACKPROP_UI_DEBUG) page.on("pageerror", (e) => console.log(`[pageerror] ${e.message}`));
  await page.route("**/*", (route) => (route.request().url().startsWith(server.url) ? route.continue() : route.abort("blockedbyclient")));
  await gotoNotebook(page, server, rel);
  return page;
}

export async function gotoNotebook(page: Page, server: NotebookServer, rel: string): Promise<void> {
  await page.goto(`${server.url}notebooks/${rel}?token=${server.token}`);
  await page.waitForFunction(() => typeof Jupyter !== "undefined" && Jupyter.notebook && Jupyter.notebook._fully_loaded && Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected(), null, { timeout: 60_000 });
}

/** Waits until the kernel is idle and no code cell is queued or running. */
export async function waitIdle(page: Page, timeoutMs = 180_000): Promise<void> {
  await page.waitForFunction(
    () => {
      const cells = Jupyter.notebook.get_cells();
      const busy = cells.some((c: any) => c.cell_type === "code" && (c.input_prompt_number === "*" || c.element.hasClass("running"))); // eslint-disable-line @typescript-eslint/no-explicit-any
      return !busy && Jupyter.notebook.kernel && Jupyter.notebook.kernel._msg_callbacks && document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null;
    },
    null,
    { timeout: timeoutMs, polling: 250 },
  );
}

/** Kernel → Restart & Run All, through the menu and its confirmation dialog; returns once cells are queued. */
export async function startRestartRunAll(page: Page): Promise<void> {
  await page.click("#kernellink");
  await page.click("#restart_run_all a");
  await page.click(".modal-footer button.btn-danger");
  // The kernel restarts, then every cell is queued.
  await page.waitForFunction(() => Jupyter.notebook.get_cells().some((c: any) => c.cell_type === "code" && c.input_prompt_number === "*"), null, { timeout: 30_000 }); // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Kernel → Restart & Run All; waits for the run to end. */
export async function restartRunAll(page: Page, timeoutMs = 180_000): Promise<void> {
  await startRestartRunAll(page);
  await waitIdle(page, timeoutMs);
}

/** The first code cell: whether it is still running, and its output text so far. */
export async function firstCodeCell(page: Page): Promise<{ running: boolean; text: string }> {
  return page.evaluate(() => {
    const c = Jupyter.notebook.get_cells().find((x: any) => x.cell_type === "code"); // eslint-disable-line @typescript-eslint/no-explicit-any
    return { running: c.input_prompt_number === "*", text: c.output_area.element.text() as string };
  });
}

/** File → Save (Ctrl-S in command mode), waiting for the server to confirm. */
export async function save(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((resolve, reject) => {
    Jupyter.notebook.events.one("notebook_saved.Notebook", () => resolve());
    Jupyter.notebook.events.one("notebook_save_failed.Notebook", (_e: unknown, err: unknown) => reject(new Error(`save failed: ${String(err)}`)));
    Jupyter.notebook.command_mode();
    Jupyter.notebook.save_checkpoint();
  }));
}

/** Runs the code cell at `index` (as Shift-Enter does) and waits for it. */
export async function runCell(page: Page, index: number): Promise<void> {
  await page.evaluate((i) => {
    Jupyter.notebook.select(i);
    Jupyter.notebook.execute_cells([i]);
  }, index);
  await waitIdle(page);
}

/** Figures drawn, trust, errors; waits up to `waitMs` for every figure box to be drawn. */
export async function figureState(page: Page, waitMs = 15_000): Promise<FigureState> {
  const read = () =>
    page.evaluate(() => {
      const figs = Array.from(document.querySelectorAll(".backprop-figure"));
      return {
        figures: figs.length,
        drawn: figs.filter((f) => f.querySelector("svg.main-svg")).length,
        trusted: Jupyter.notebook.trusted === true,
        errors: Array.from(document.querySelectorAll(".output_error")).map((e) => (e.textContent ?? "").slice(0, 300)),
      };
    });
  const t0 = Date.now();
  let s = await read();
  while (s.drawn < s.figures && Date.now() - t0 < waitMs) {
    await page.waitForTimeout(250);
    s = await read();
  }
  return s;
}

/** Index of the first code cell whose source matches `re`. */
export async function findCell(page: Page, re: RegExp): Promise<number> {
  const i = await page.evaluate((src) => Jupyter.notebook.get_cells().findIndex((c: any) => c.cell_type === "code" && new RegExp(src).test(c.get_text())), re.source); // eslint-disable-line @typescript-eslint/no-explicit-any
  if (i < 0) throw new Error(`no code cell matches ${re}`);
  return i;
}

export interface TableMath {
  /** Formulas inside markdown table cells. */
  formulas: number;
  /** Formulas that MathJax typeset. */
  typeset: number;
  /** Formulas laid out on more than one line (their text, shortened). */
  broken: string[];
  /** MathJax errors shown. */
  errors: number;
}

/**
 * The formulas in the rendered markdown tables. MathJax 2 (HTML-CSS output) lays out a formula broken by
 * automatic line breaking as a stack of absolutely positioned line boxes, all at `left: 0em` and at
 * different `top`s, inside one relative box; a fraction's parts are centred (`left: 50%`) instead. A
 * formula counts as broken when such a stack of two or more lines appears in it.
 */
export async function tableMath(page: Page): Promise<TableMath> {
  await page.evaluate(() => new Promise<void>((resolve) => MathJax.Hub.Queue(() => resolve())));
  return page.evaluate(() => {
    const scripts = Array.from(document.querySelectorAll(".rendered_html td script[type^='math/tex']"));
    const broken: string[] = [];
    let typeset = 0;
    for (const s of scripts) {
      const jax = MathJax.Hub.getJaxFor(s);
      const frame = document.getElementById(s.id + "-Frame");
      if (!jax || !frame) continue;
      typeset++;
      const stacked = Array.from(frame.querySelectorAll<HTMLElement>("span")).some((box) => {
        const lines = Array.from(box.children).filter((c) => {
          const st = (c as HTMLElement).style;
          return st.position === "absolute" && st.left === "0em";
        }) as HTMLElement[];
        return new Set(lines.map((l) => l.style.top)).size >= 2;
      });
      if (stacked) broken.push((jax.originalText ?? "").slice(0, 60));
    }
    return { formulas: scripts.length, typeset, broken, errors: document.querySelectorAll(".MathJax_Error, merror").length };
  });
}

/** Copies notebooks (paths relative to the project) into a fresh folder, keeping their relative paths. */
export function copyNotebooks(rels: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "backprop-ui-"));
  for (const rel of rels) {
    fs.mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, rel), path.join(dir, rel));
  }
  return dir;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const rel = argv.includes("--notebook") ? argv[argv.indexOf("--notebook") + 1] : "notebooks/01-neurona-activaciones.ipynb";
  const screens = argv.includes("--screens") ? path.resolve(argv[argv.indexOf("--screens") + 1]) : path.join(ROOT, "build", "screens", "jupyter");
  fs.mkdirSync(screens, { recursive: true });
  const dir = copyNotebooks([rel]);
  const server = await startNotebookServer(dir);
  const browser = await launchChromium();
  try {
    const page = await openNotebook(browser.context, server, rel);
    const t0 = Date.now();
    await restartRunAll(page);
    console.log(`Restart & Run All: ${((Date.now() - t0) / 1000).toFixed(1)} s`, await figureState(page));
    await save(page);
    console.log(`saved: ${fs.statSync(path.join(dir, rel)).size} bytes`);
    await gotoNotebook(page, server, rel);
    console.log("reopened:", await figureState(page), await tableMath(page));
    await page.screenshot({ path: path.join(screens, "notebook-top.png") });
    console.log(`screenshots in ${screens}`);
    return 0;
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) main().then((c) => process.exit(c), (e) => { console.error(e); process.exit(1); });

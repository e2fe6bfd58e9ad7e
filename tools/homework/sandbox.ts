/**
 * Runs one untrusted notebook: a fresh work directory (a copy of lib/ and data/pretrained/, the kernel launcher, node_modules
 * read-only), one kernel process, limits on time, memory and output, and — where bubblewrap works — a
 * sandbox with no network, no view of the repository, and a read-only file system except a small /tmp.
 *
 * The whole runner (python + nbclient + the tslab kernel) runs inside the sandbox: with --unshare-net the
 * kernel's loopback is not the host's, so a host-side Jupyter client could not reach it. The notebook
 * (with the hidden tests) reaches nbrun.py on stdin and never touches the sandbox's disk.
 */
import { spawn, spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CellRecord, JupyterEnv, ROOT } from "../jupyter-env";
import type { Notebook } from "./notebook";

export const GRADER_KERNEL = "backprop-lab-grader";
/** The kernel launcher and what it loads, copied into each work directory. */
const KERNEL_TOOLS = ["tslab-kernel.js", "tslab-protocol.js", "student-notes.js", "compiled-lib.js", "lib-build.js", "tslab-speed.js", "kernel-cache.js", "nbrun.py"];
// eslint-disable-next-line @typescript-eslint/no-var-requires
const libBuild = require("../lib-build.js") as { OUT_NAME: string };
// eslint-disable-next-line @typescript-eslint/no-var-requires
const kernelCache = require("../kernel-cache.js") as { CACHE_NAME: string; cacheKey(execArgv: string[]): string; build(root: string, execArgv: string[]): string };

export type SandboxMode = "bwrap" | "none" | "auto";

export interface Sandbox {
  kind: "bwrap" | "none";
  /** bwrap only: whether an unprivileged user namespace (uid 65534) is used. */
  userns?: boolean;
  bwrap?: string;
  /** Why bwrap is not used (mode none or auto fallback). */
  why?: string;
}

export interface RunLimits {
  /** Seconds per cell. */
  cellTimeout: number;
  /** Seconds for the first code cell (it imports the library: slow when tslab has to compile lib/ itself). */
  firstCellTimeout?: number;
  /** Seconds for the whole notebook (kernel start excluded). */
  wallLimit: number;
  /** Kernel memory (resident, MB); also the V8 heap limit. */
  memoryMb: number;
  /** Bytes of output for the whole notebook. */
  outputBytes: number;
  /** Size of the sandbox's writable /tmp, MB. */
  tmpMb: number;
  /** Processes the hand-in may have at once inside the sandbox (kernel included); bubblewrap only. */
  maxProcesses?: number;
}

/** What the result channel accepts: the runner's records are small (stderr tails are cut to 4 000 characters). */
export const MAX_RECORD_CHARS = 256 * 1024;
export const MAX_CHANNEL_CHARS = 16 * 1024 * 1024;

/**
 * Node's permission model for the grader's kernel: reads anywhere (bubblewrap already limits what exists),
 * native addons (zeromq, the kernel's transport), and nothing else — no file writes, no child processes, no
 * worker threads, no inspector (which could rewrite the kernel's closures), no WASI.
 */
export const KERNEL_NODE_FLAGS = [
  // Node 20 and 22 call it --experimental-permission; 23.5 made it stable as --permission.
  Number(process.versions.node.split(".")[0]) >= 23 ? "--permission" : "--experimental-permission",
  "--allow-fs-read=*",
  "--allow-addons",
  "--no-warnings",
];

export interface RunResult {
  cells: CellRecord[];
  /** Set when the runner itself failed (kernel did not start, runner killed, ...). */
  fatal?: string;
  /** True when the runner had to be killed from outside (hard wall limit). */
  killed?: boolean;
  /** The runner died of a signal the grader did not send, after the kernel had started: the hand-in's doing. */
  runnerKilled?: string;
  wallMs: number;
  peakRssMb?: number;
  /** When each stage ended, in ms since runNotebook was called (see tools/homework/profile.ts). */
  timeline?: { workDir: number; started?: number; cells: number[]; end: number };
}

function bwrapPath(): string | undefined {
  for (const p of ["/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"]) if (fs.existsSync(p)) return p;
  const r = spawnSync("sh", ["-c", "command -v bwrap"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() || undefined : undefined;
}

/** Directories outside /usr that the interpreters live in (e.g. node from nvm), bound read-only. */
function extraRoots(python: string): string[] {
  const roots = new Set<string>();
  for (const exe of [process.execPath, python]) {
    let real: string;
    try {
      real = fs.realpathSync(exe);
    } catch {
      continue;
    }
    if (!real.startsWith("/usr/")) roots.add(path.dirname(path.dirname(real)));
  }
  return [...roots];
}

function bwrapArgs(sb: Sandbox, work: string, python: string, limits: RunLimits, env: Record<string, string>): string[] {
  const a = ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"];
  if (sb.userns) a.push("--unshare-user", "--uid", "65534", "--gid", "65534");
  a.push("--ro-bind", "/usr", "/usr");
  for (const l of ["bin", "lib", "lib64", "sbin", "lib32", "libx32"]) {
    const p = `/${l}`;
    try {
      const st = fs.lstatSync(p);
      if (st.isSymbolicLink()) a.push("--symlink", fs.readlinkSync(p), p);
      else if (st.isDirectory()) a.push("--ro-bind", p, p);
    } catch {
      /* absent */
    }
  }
  for (const r of extraRoots(python)) a.push("--ro-bind", r, r);
  a.push("--proc", "/proc", "--dev", "/dev", "--size", String(limits.tmpMb * 1024 * 1024), "--tmpfs", "/tmp");
  if (work) {
    a.push("--ro-bind", work, work);
    a.push("--ro-bind", path.join(ROOT, "node_modules"), path.join(work, "node_modules"));
  }
  a.push("--clearenv");
  for (const [k, v] of Object.entries(env)) a.push("--setenv", k, v);
  a.push("--chdir", work || "/");
  return a;
}

let cached: Sandbox | undefined;

/** Process groups of the runners in flight, so an interrupted grader can take them down with it. */
const live = new Set<number>();

/** Kills every runner still in flight (for SIGINT/SIGTERM handlers). */
export function killAllRunners(): void {
  for (const pid of live) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  live.clear();
}

/** Finds out whether bubblewrap can run the grader here (tries a user namespace, then plain root). */
export function detectSandbox(mode: SandboxMode, python: string): Sandbox {
  if (mode === "none") return { kind: "none", why: "--sandbox none was given" };
  if (cached && mode !== "bwrap") return cached;
  const bwrap = bwrapPath();
  let why = "bubblewrap (bwrap) is not installed: apt-get install bubblewrap";
  if (bwrap) {
    const limits: RunLimits = { cellTimeout: 1, wallLimit: 1, memoryMb: 1, outputBytes: 1, tmpMb: 16 };
    const errors: string[] = [];
    for (const userns of [true, false]) {
      const sb: Sandbox = { kind: "bwrap", userns, bwrap };
      const args = bwrapArgs(sb, "", python, limits, { PATH: "/usr/bin:/bin" });
      const r = spawnSync(bwrap, [...args, python, "-c", "import nbclient, socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print('ok')"], {
        encoding: "utf8",
        timeout: 30000,
      });
      if (r.status === 0 && r.stdout.trim() === "ok") {
        cached = sb;
        return sb;
      }
      errors.push(`${userns ? "with" : "without"} a user namespace: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim().split("\n")[0]}`);
    }
    why = `bubblewrap cannot create a sandbox here (${errors.join("; ")})`;
  }
  cached = { kind: "none", why };
  if (mode === "bwrap") {
    throw new Error(`${why}.\nInstall/enable bubblewrap, or grade without isolation with --sandbox none (see docs/homework.md).`);
  }
  return cached;
}

/** The Node flags of the grader's kernel (see kernel.json in makeWorkDir). */
function kernelFlags(limits: RunLimits): string[] {
  return [`--max-old-space-size=${limits.memoryMb}`, ...KERNEL_NODE_FLAGS];
}

const kernelCaches = new Map<string, string | null>();

/**
 * The kernel's code cache for these flags (tools/kernel-cache.js), made by the grader once per batch when it is
 * missing or stale; null when it cannot be made (the kernel then compiles as usual: slower, same grades).
 */
function kernelCacheFor(limits: RunLimits): string | null {
  const flags = kernelFlags(limits);
  const key = flags.join(" ");
  if (!kernelCaches.has(key)) {
    let dir: string | null = null;
    try {
      dir = kernelCache.build(ROOT, flags);
    } catch {
      dir = null;
    }
    kernelCaches.set(key, dir);
  }
  return kernelCaches.get(key) ?? null;
}

/** A fresh work directory: lib/ (copy), the kernel launcher, a kernel spec, the student's notebook. */
export function makeWorkDir(sb: Sandbox, limits: RunLimits, handinText: string | undefined): string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "bpgrade-"));
  fs.cpSync(path.join(ROOT, "lib"), path.join(work, "lib"), { recursive: true });
  // The pretrained networks homework starts from (hw09), read by lib/diagnostics/transfer.ts.
  fs.cpSync(path.join(ROOT, "data", "pretrained"), path.join(work, "data", "pretrained"), { recursive: true });
  fs.mkdirSync(path.join(work, "tools"));
  for (const f of KERNEL_TOOLS) fs.copyFileSync(path.join(ROOT, "tools", f), path.join(work, "tools", f));
  // the compiled library (see tools/lib-build.js): the kernel checks it against the copied lib/ and uses it
  const compiled = path.join(ROOT, libBuild.OUT_NAME);
  if (fs.existsSync(compiled)) fs.cpSync(compiled, path.join(work, libBuild.OUT_NAME), { recursive: true });
  // V8's code for TypeScript and TensorFlow.js, copied like the rest: the kernel only reads it (read-only folder,
  // no file writes under the permission model), so no hand-in can change what the next one runs
  const codeCache = kernelCacheFor(limits);
  try {
    if (codeCache) fs.cpSync(codeCache, path.join(work, kernelCache.CACHE_NAME, path.basename(codeCache)), { recursive: true });
  } catch {
    // another grader replacing the cache right now: this kernel compiles as usual (same grades)
    fs.rmSync(path.join(work, kernelCache.CACHE_NAME), { recursive: true, force: true });
  }
  fs.copyFileSync(path.join(ROOT, "tools", "homework", "harden.js"), path.join(work, "tools", "harden.js"));
  if (sb.kind === "bwrap") fs.mkdirSync(path.join(work, "node_modules")); // mount point for a read-only bind
  else fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(work, "node_modules"), "dir");
  const spec = path.join(work, ".jupyter", "kernels", GRADER_KERNEL);
  fs.mkdirSync(spec, { recursive: true });
  fs.writeFileSync(
    path.join(spec, "kernel.json"),
    JSON.stringify({
      argv: [process.execPath, ...kernelFlags(limits), path.join(work, "tools", "tslab-kernel.js"), "--config-path", "{connection_file}"],
      display_name: "TypeScript (backprop-lab grader)",
      language: "typescript",
      env: { BACKPROP_ROOT: work },
    }),
  );
  if (handinText !== undefined) fs.writeFileSync(path.join(work, "handin.ipynb"), handinText);
  if (sb.kind === "none") fs.mkdirSync(path.join(work, "home"));
  // Read-only for the sandbox user (uid 65534 when a user namespace is used).
  fs.chmodSync(work, 0o755);
  return work;
}

/**
 * Runs `nb` in a fresh kernel inside the sandbox; never throws. `prelude` is code the runner executes before
 * the first cell without recording it (the grader's hardening, see harden.js).
 *
 * The result channel: the runner writes its records to descriptor 3, a pipe only the runner holds (it makes
 * it non-inheritable before the kernel starts; the kernel's stdout and stderr are separate pipes the runner
 * drains). Each record carries a fresh random nonce sent on the runner's stdin; lines without it, or longer
 * than MAX_RECORD_CHARS, are ignored, and reading stops at MAX_CHANNEL_CHARS. The runner's own stdout and
 * stderr are only kept as a short tail for error messages.
 */
export function runNotebook(jenv: JupyterEnv, sb: Sandbox, nb: Notebook, limits: RunLimits, handinText?: string, prelude?: string): Promise<RunResult> {
  const t0 = Date.now();
  let work = "";
  const timeline: NonNullable<RunResult["timeline"]> = { workDir: 0, cells: [], end: 0 };
  try {
    work = makeWorkDir(sb, limits, handinText);
    timeline.workDir = Date.now() - t0;
  } catch (e) {
    return Promise.resolve({ cells: [], fatal: `could not prepare the work directory: ${(e as Error).message}`, wallMs: 0 });
  }
  const tmp = sb.kind === "bwrap" ? "/tmp" : path.join(work, "home");
  const env: Record<string, string> = {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: tmp,
    LANG: "C.UTF-8",
    JUPYTER_PATH: path.join(work, ".jupyter"),
    JUPYTER_RUNTIME_DIR: path.join(tmp, "jupyter-runtime"),
    JUPYTER_CONFIG_DIR: path.join(tmp, "jupyter-config"),
    JUPYTER_DATA_DIR: path.join(tmp, "jupyter-data"),
    IPYTHONDIR: path.join(tmp, "ipython"),
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
    BACKPROP_ROOT: work,
    // hand-ins are graded side by side (--jobs): one core each, so the native kernels stay on one thread
    // (their values do not depend on it)
    BACKPROP_THREADS: "1",
  };
  if (process.env.BACKPROP_BACKEND) env.BACKPROP_BACKEND = process.env.BACKPROP_BACKEND;
  const job = {
    notebook_json: nb,
    kernel: GRADER_KERNEL,
    cwd: work,
    cell_timeout: limits.cellTimeout,
    first_cell_timeout: limits.firstCellTimeout ?? Math.max(limits.cellTimeout, 120),
    startup_timeout: 60,
    continue_on_error: true,
    kernel_stderr: path.join(tmp, "kernel.stderr"),
    stream: true,
    output_limit: limits.outputBytes,
    memory_limit_mb: limits.memoryMb,
    wall_limit: limits.wallLimit,
    nondumpable: true,
    shutdown_kernel: "immediate",
    nonce: randomBytes(16).toString("hex"),
    prelude: prelude ?? null,
    // Inside bubblewrap's PID namespace every process but the runner is the hand-in's: count them all.
    whole_namespace: sb.kind === "bwrap",
    max_processes: sb.kind === "bwrap" ? (limits.maxProcesses ?? 32) : null,
  };
  const runner = path.join(work, "tools", "nbrun.py");
  const runnerArgs = ["-Xfrozen_modules=off", runner, "-", "--result-fd", "3"];
  const [cmd, args] =
    sb.kind === "bwrap"
      ? [sb.bwrap as string, [...bwrapArgs(sb, work, jenv.python, limits, env), jenv.python, ...runnerArgs]]
      : [jenv.python, runnerArgs];
  return new Promise((resolve) => {
    const cells: CellRecord[] = [];
    let summary: { cells?: CellRecord[]; fatal?: string; failure?: CellRecord | null; peak_rss_mb?: number } | undefined;
    let buf = "";
    let received = 0;
    let stderr = "";
    let stdout = "";
    let killed = false;
    let done = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let started = false; // the runner said the kernel is up and hardened: student code may be running
    const child = spawn(cmd, args, { cwd: work, env: sb.kind === "bwrap" ? {} : env, detached: true, stdio: ["pipe", "pipe", "pipe", "pipe"] });
    if (child.pid) live.add(child.pid);
    const killAll = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    };
    // Backstop for a runner that stops responding: its own limits should end it long before this.
    const hard = setTimeout(() => {
      killed = true;
      killAll();
    }, (limits.wallLimit + 90) * 1000);
    const onLine = (line: string) => {
      if (!line.trim() || line.length > MAX_RECORD_CHARS) return;
      try {
        const v = JSON.parse(line) as { nonce?: unknown; cell?: CellRecord; summary?: typeof summary; started?: unknown };
        if (!v || typeof v !== "object" || v.nonce !== job.nonce) return;
        if (v.started === true) {
          started = true;
          timeline.started = Date.now() - t0;
        } else if (v.cell && typeof v.cell === "object") {
          cells.push(v.cell);
          timeline.cells.push(Date.now() - t0);
        }
        else if (v.summary && typeof v.summary === "object") summary = v.summary;
      } catch {
        /* not a record */
      }
    };
    const channel = child.stdio[3] as NodeJS.ReadableStream | null;
    if (channel) {
      channel.setEncoding("utf8");
      channel.on("data", (d: string) => {
        if (received > MAX_CHANNEL_CHARS) return; // keep draining, stop listening
        received += d.length;
        buf += d;
        let i: number;
        while ((i = buf.indexOf("\n")) >= 0) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
        if (buf.length > MAX_RECORD_CHARS) buf = ""; // a runaway line is not a record
      });
      channel.on("error", () => undefined);
    }
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      stdout = (stdout + d).slice(-2000);
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => {
      stderr = (stderr + d).slice(-8000);
    });
    const finish = (fatal?: string) => {
      if (done) return;
      done = true;
      clearTimeout(hard);
      killAll(); // leftovers (a kernel's children) go with the group
      if (child.pid) live.delete(child.pid);
      if (buf && received <= MAX_CHANNEL_CHARS) onLine(buf);
      try {
        fs.rmSync(work, { recursive: true, force: true });
      } catch {
        /* best effort */
      }
      timeline.end = Date.now() - t0;
      const result: RunResult = { cells, wallMs: Date.now() - t0, killed: killed || undefined, peakRssMb: summary?.peak_rss_mb, timeline };
      if (summary?.fatal) result.fatal = summary.fatal;
      else if (summary?.failure && summary.failure.index === null && summary.failure.status === "fatal") result.fatal = summary.failure.message ?? "the kernel failed";
      else if (fatal) result.fatal = fatal;
      else if (!summary && !killed && started && (exit?.signal || (exit?.code ?? 0) > 128)) {
        // Killed by a signal we did not send while student code ran (bwrap reports it as 128 + signal).
        result.runnerKilled = exit?.signal ?? `signal ${(exit?.code ?? 128) - 128}`;
        result.fatal = `the runner was killed (${result.runnerKilled}) while the hand-in was running`;
      } else if (!summary) result.fatal = killed ? `the runner passed the hard limit of ${limits.wallLimit + 90} s and was killed` : `the runner ended without a result (${exit?.signal ?? `exit ${exit?.code}`}): ${(stderr || stdout).trim().split("\n").slice(-3).join(" | ")}`;
      resolve(result);
    };
    child.on("error", (e) => finish(`could not start the runner: ${e.message}`));
    child.on("exit", (code, signal) => {
      exit = { code, signal };
    });
    child.on("close", () => finish());
    child.stdin.on("error", () => undefined);
    child.stdin.end(JSON.stringify(job));
  });
}

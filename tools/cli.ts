/**
 * Command-line parsing shared by the course tools: Node's own `util.parseArgs` in strict mode, with
 * errors that name the bad option and show the tool's usage line.
 */
import { parseArgs } from "util";
import { execFileSync } from "child_process";
import * as os from "os";

/** A mistake in the command line; tools print its message without a stack trace. */
export class UsageError extends Error {}

type OptionSpec = { type: "string" | "boolean"; short?: string; multiple?: boolean };

/** Parses argv against `options`; unknown options, missing values or stray arguments are UsageErrors. */
export function parseCli<O extends Record<string, OptionSpec>>(argv: string[], options: O, usage: string, positionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: positionals });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split("\n")[0]}\n${usage}`);
  }
}

/** A numeric option value: a finite number ≥ min, or a UsageError naming the option. */
export function numberOption(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min) throw new UsageError(`--${name} needs a number ≥ ${min}, got "${raw}"`);
  return v;
}

/** The values of a repeatable, comma-separated option such as `--only 01,03 --only 05`. */
export function listOption(raw: string[] | undefined): string[] {
  return (raw ?? []).flatMap((v) => v.split(",")).filter(Boolean);
}

/** Whether a lecture file name is picked by `--only` (by number prefix or name fragment; none picks all). */
export function pickedByOnly(name: string, only: string[]): boolean {
  return only.length === 0 || only.some((o) => name.startsWith(o) || name.includes(o));
}

/** The commit a recorded run starts from, noting uncommitted changes in `paths` (repo-relative), for provenance. */
export function gitCommit(root: string, paths: readonly string[] = ["lib", "tools"]): string {
  try {
    const sha = execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", ...paths], { cwd: root, stdio: ["ignore", "pipe", "ignore"] }).toString().trim() !== "";
    return dirty ? `${sha} (with uncommitted changes in ${paths.join(", ")})` : sha;
  } catch {
    return "unknown (not a git checkout)";
  }
}

/** Where a recorded run ran: backend, Node, tfjs and the CPUs (for provenance). */
export function machineProvenance(backend: { name: string; engine: string }, tfjsVersion: string): Record<string, string> {
  return { backend: `${backend.name}: ${backend.engine}`, node: process.version, tfjs: tfjsVersion, cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}` };
}

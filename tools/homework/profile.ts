/**
 * `npx tsx tools/homework/profile.ts <assignment> <hand-in.ipynb> [--sandbox bwrap|auto|none]`: grades one
 * hand-in the way `npm run grade` does and prints where its time went: the work folder, the runner's start up
 * to the moment it says student code may run (bubblewrap, python + nbclient, the kernel's start, the prelude and
 * the two self-check cells), each cell (as the runner timed it, and when its record arrived), and the end
 * (kernel shutdown, clean-up). For the instructor and for benchmarks; it writes nothing.
 */
import * as path from "path";
import { parseCli, UsageError } from "../cli";
import { ensureJupyter } from "../jupyter-env";
import { parseAssignment } from "./assignment";
import { buildGradedNotebook, newGuardName, preludeSource } from "./grader";
import { asNotebook } from "./notebook";
import { RunLimits, SandboxMode, detectSandbox, runNotebook } from "./sandbox";
import { resolveAssignment } from "../grade";
import * as fs from "fs";
import { ROOT } from "../jupyter-env";

async function main(): Promise<void> {
  const usage = "usage: npx tsx tools/homework/profile.ts <assignment> <hand-in.ipynb> [--sandbox bwrap|auto|none]";
  const { values, positionals } = parseCli(process.argv.slice(2), { sandbox: { type: "string" } }, usage, true);
  if (positionals.length !== 2) throw new UsageError(usage);
  const file = resolveAssignment(positionals[0], path.join(ROOT, "solutions"));
  const a = parseAssignment(file);
  const text = fs.readFileSync(positionals[1], "utf8");
  const guard = newGuardName();
  const g = buildGradedNotebook(asNotebook(JSON.parse(text), "hand-in"), a, { guard });
  const jenv = ensureJupyter(() => undefined);
  const sb = detectSandbox((values.sandbox ?? "bwrap") as SandboxMode, jenv.python);
  const limits: RunLimits = { cellTimeout: 60, wallLimit: 300, memoryMb: 2048, outputBytes: 20e6, tmpMb: 256 };
  const run = await runNotebook(jenv, sb, g.nb, limits, text, preludeSource(guard));
  const t = run.timeline;
  if (!t || run.fatal) throw new Error(`the run failed: ${run.fatal ?? "no timeline"}`);
  const s = (ms: number) => (ms / 1000).toFixed(2).padStart(6);
  const started = t.started ?? 0;
  console.log(`${s(t.workDir)} s  work folder ready (copies of lib/, .lib-build/, data/pretrained, kernel tools)`);
  console.log(`${s(started)} s  runner started: sandbox, python + nbclient, kernel start, prelude, self-checks (${s(started - t.workDir).trim()} s)`);
  let cellSum = 0;
  run.cells.forEach((c, i) => {
    const ms = c.ms ?? 0;
    cellSum += ms;
    const at = c.index ?? -1;
    const kind = g.entries[at]?.kind ?? "?";
    const first = String(g.nb.cells[at]?.source ?? "").split("\n").find((l) => l.trim()) ?? "";
    console.log(`${s(t.cells[i])} s  cell ${String(at).padStart(2)} ${kind.padEnd(7)} ${String(ms).padStart(5)} ms ${c.status.padEnd(5)} ${first.slice(0, 50)}`);
  });
  console.log(`${s(t.end)} s  end: kernel shutdown and clean-up (${s(t.end - (t.cells[t.cells.length - 1] ?? started)).trim()} s)`);
  console.log(`cells: ${run.cells.length}, ${(cellSum / 1000).toFixed(2)} s in all; between records and overhead: ${((t.end - started - cellSum) / 1000).toFixed(2)} s`);
}

main().catch((e) => {
  console.error(e instanceof UsageError ? e.message : (e as Error).stack);
  process.exit(1);
});

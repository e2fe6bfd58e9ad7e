/**
 * npm run reproduce -- [experiment or lecture ...] [--jobs N] [--fresh] [--out-dir DIR] [--list] [--name value ...]
 *
 * Runs lectures' headline experiments at a larger scale than a lecture's minute and writes each one's results,
 * with provenance, to data/results/<id>.json, which the lecture reads (bp.diagnostics.loadResult). Without a
 * selection it runs every registered experiment (tools/reproduce/index.ts). Finished units are kept in the
 * results file: an interrupted run resumes where it stopped; --fresh starts over. --jobs N spreads the units
 * over N worker processes. --name value overrides an experiment option (--list shows them with their defaults).
 */
import { UsageError } from "./cli";
import { loadRegistry, reproduce, selectExperiments } from "./reproduce/runner";

const USAGE = "usage: npm run reproduce -- [experiment id | lecture number ...] [--jobs N] [--fresh] [--out-dir DIR] [--list] [--<option> value ...]";

/** Splits argv into selections, the runner's own flags and experiment options (--name value or --name=value). */
export function parseArgv(argv: string[]) {
  const select: string[] = [];
  const overrides: Record<string, string> = {};
  let jobs = 1, fresh = false, list = false, outDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) { select.push(a); continue; }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (name === "fresh" || name === "list") {
      if (eq >= 0) throw new UsageError(`--${name} takes no value\n${USAGE}`);
      if (name === "fresh") fresh = true; else list = true;
      continue;
    }
    if (name === "help") throw new UsageError(USAGE);
    const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith("--"))) throw new UsageError(`--${name} needs a value\n${USAGE}`);
    if (!/^[a-zA-Z][\w-]*$/.test(name)) throw new UsageError(`bad option "${a}"\n${USAGE}`);
    if (name === "jobs") {
      jobs = Number(value);
      if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs needs a positive integer, got "${value}"`);
    } else if (name === "out-dir") outDir = value;
    else overrides[name] = value;
  }
  return { select, overrides, jobs, fresh, list, outDir };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const args = parseArgv(argv);
  if (args.list) {
    for (const e of selectExperiments(await loadRegistry(), args.select)) {
      console.log(`${e.id.padEnd(20)} lecture ${e.lecture}  ${e.title}\n${" ".repeat(21)}options: ${Object.entries(e.defaults).map(([k, v]) => `--${k} ${v}`).join(" ") || "none"}`);
    }
    return 0;
  }
  await reproduce({ ...args, command: `npm run reproduce -- ${argv.join(" ")}`.trim() });
  return 0;
}

if (require.main === module) {
  main().then((code) => process.exit(code), (e) => {
    console.error(e instanceof UsageError ? e.message : e instanceof Error ? e.message : e);
    process.exit(e instanceof UsageError ? 2 : 1);
  });
}

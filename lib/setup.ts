/** One call at the top of a notebook or script: the backend, the seed, and a line saying which. */
import { initBackend, describeBackend, BackendReport } from "./backend";
import { seed, Rng } from "./random";

export interface Setup {
  backend: BackendReport;
  rng: Rng;
}

/**
 * Activates the fastest backend present, seeds the module-wide generator, and prints the backend line
 * (unless `quiet`). Notebooks call it in their first code cell: `const { rng } = await bp.setup(1);`
 */
export async function setup(seedValue: number, opts: { quiet?: boolean } = {}): Promise<Setup> {
  const backend = await initBackend();
  if (!opts.quiet) console.log(describeBackend(backend));
  return { backend, rng: seed(seedValue) };
}

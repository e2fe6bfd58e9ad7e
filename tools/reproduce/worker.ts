/**
 * A worker process of the reproduction runner (forked by runner.ts): loads the registry, sets up the backend,
 * then runs the units it is sent, one at a time, each after bp.setup(seed) so that it is deterministic
 * whichever worker runs it.
 *
 *   parent → worker  { type: "run", id, key, unit, options, seed }
 *   worker → parent  { type: "ready", backend } | { type: "progress", key, fraction }
 *                    | { type: "done", key, result, seconds } | { type: "error", key, message }
 */
import * as bp from "../../lib/index";
import { Experiment, Options } from "./experiment";

type Run = { type: "run"; id: string; key: string; unit: unknown; options: Options; seed: number };

function send(msg: unknown): void {
  process.send?.(msg);
}

async function main(): Promise<void> {
  const registry = process.argv[2];
  if (!registry || !process.send) throw new Error("worker.ts is started by the reproduction runner (fork with an IPC channel and the registry's path)");
  const { experiments } = (await import(registry)) as { experiments: Experiment[] };
  const { backend } = await bp.setup(1, { quiet: true });
  let queue = Promise.resolve();
  process.on("message", (msg: Run) => {
    if (msg?.type !== "run") return;
    queue = queue.then(() => runUnit(experiments, msg));
  });
  send({ type: "ready", backend: `${backend.name}: ${backend.engine}` });
}

async function runUnit(experiments: Experiment[], msg: Run): Promise<void> {
  try {
    const e = experiments.find((x) => x.id === msg.id);
    if (!e) throw new Error(`experiment "${msg.id}" is not in the registry`);
    await bp.setup(msg.seed, { quiet: true });
    let last = 0;
    const progress = (fraction: number) => {
      const now = performance.now();
      if (now - last < 500) return;
      last = now;
      send({ type: "progress", key: msg.key, fraction });
    };
    const t0 = performance.now();
    const result = await e.run(msg.unit, msg.options, progress);
    send({ type: "done", key: msg.key, result, seconds: (performance.now() - t0) / 1000 });
  } catch (err) {
    send({ type: "error", key: msg.key, message: err instanceof Error ? err.stack ?? err.message : String(err) });
  }
}

main().catch((err) => {
  send({ type: "error", key: null, message: err instanceof Error ? err.stack ?? err.message : String(err) });
  process.exit(1);
});

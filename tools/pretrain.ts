/**
 * npm run pretrain [-- mlp|lenet5 ...]: trains the source networks of lecture 13 on digits 0–4 (embedded
 * MNIST) and writes data/pretrained/<kind>-digits04.json: the weights, the architecture, a checksum and
 * the provenance (command, seed, data split, settings, backend, test accuracy, the losses of the first
 * updates, which test/transfer.test.ts reruns so that the file cannot drift from the code that made it).
 */
import * as fs from "fs";
import * as path from "path";
import { UsageError, gitCommit, machineProvenance } from "./cli";

const USAGE = "usage: npm run pretrain [-- mlp|lenet5 ...]   (default: both)";

async function main(): Promise<number> {
  const bp = await import("../lib/index");
  const T = bp.diagnostics;
  const args = process.argv.slice(2);
  const bad = args.find((a) => !(T.SOURCE_KINDS as readonly string[]).includes(a));
  if (bad) throw new UsageError(`unknown network "${bad}"\n${USAGE}`);
  const kinds = (args.length ? args : T.SOURCE_KINDS) as import("../lib/diagnostics/transfer").SourceKind[];
  const { backend } = await bp.setup(0, { quiet: true });
  const root = path.resolve(__dirname, "..");
  const commit = gitCommit(root);
  for (const kind of kinds) {
    const settings = T.PRETRAIN_SETTINGS[kind];
    const run = T.pretrain(kind, settings);
    const out = T.pretrainedFile(kind);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const provenance = {
      command: `npm run pretrain -- ${kind}`,
      commit,
      created: new Date().toISOString(),
      task: run.description,
      splitSeed: T.SPLIT_SEED,
      sizes: run.sizes,
      ...settings,
      optimizer: `Adam(ε=${settings.learningRate}), minibatches of ${settings.batchSize}; ${T.RECORDED_STEPS} recorded updates, then ${settings.epochs} epochs`,
      firstLosses: run.firstLosses,
      testAccuracy: run.accuracy,
      trainSeconds: Math.round(run.seconds),
      ...machineProvenance(backend, bp.tf.version.tfjs),
    };
    const w = bp.nn.saveWeights(run.net, out, provenance);
    console.log(`${kind}: test accuracy on digits 0–4 ${(100 * run.accuracy).toFixed(2)} % (${run.seconds.toFixed(0)} s); wrote ${path.relative(process.cwd(), out)} (sha256 ${w.sha256.slice(0, 12)}…)`);
    run.net.dispose();
  }
  return 0;
}

main().then((code) => process.exit(code), (e) => {
  console.error(e instanceof UsageError ? e.message : e);
  process.exit(e instanceof UsageError ? 2 : 1);
});

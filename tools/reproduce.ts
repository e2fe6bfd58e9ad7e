/**
 * npm run reproduce -- <experiment> [options]: runs an experiment that is too long for a lecture's minute and
 * writes its results, with provenance, to data/results/<experiment>.json, which the lecture reads.
 *
 * Experiments:
 *   fig20-2   Prince Fig. 20.2: 1..4 hidden layers (298, 100, 75, 63 units) fit 4 000 MNIST-1D examples with
 *             random labels, full-batch gradient descent, He init, ρ = 0.0025 (lecture 09).
 *             Options: --epochs N (most epochs per net, default 20000), --every N (record every N epochs,
 *             default 10), --depths 1,2,3,4 (in this order), --rho R (default 0.0025, Prince's), --label-seed N (1), --weight-seed N (1), --out FILE.
 *   transfer  lecture 13: the three regimes (frozen, finetune, scratch) on both targets (digits 5–9, digits 0–4
 *             rotated) for 1, 5, 10, 50, 100 and all labels per class, the freeze-depth sweep and the
 *             time-to-accuracy curves, from the pretrained nets of data/pretrained (npm run pretrain).
 *             Options: --kind mlp|lenet5 (default mlp), --seeds 1,2,3,4,5, --per-class 1,5,10,50,100,all,
 *             --steps N (updates per run, default 150), --out FILE (default data/results/transfer-<kind>.json).
 */
import * as fs from "fs";
import * as path from "path";
import { parseCli, numberOption, listOption, UsageError, gitCommit, machineProvenance } from "./cli";

const USAGE = "usage: npm run reproduce -- fig20-2 [--epochs N] [--every N] [--depths 1,2,3,4] [--rho R] [--label-seed N] [--weight-seed N] [--out FILE]\n" +
  "       npm run reproduce -- transfer [--kind mlp|lenet5] [--seeds 1,2,3,4,5] [--per-class 1,5,10,50,100,all] [--steps N] [--out FILE]";

async function fig20_2(argv: string[]): Promise<void> {
  const { values } = parseCli(argv, {
    epochs: { type: "string" }, every: { type: "string" }, depths: { type: "string", multiple: true },
    "label-seed": { type: "string" }, "weight-seed": { type: "string" }, out: { type: "string" }, rho: { type: "string" },
  }, USAGE);
  const bp = await import("../lib/index");
  const epochs = numberOption("epochs", values.epochs, 20000, 1);
  const rho = numberOption("rho", values.rho, bp.diagnostics.FIG20_2_RHO, Number.MIN_VALUE);
  const every = numberOption("every", values.every, 10, 1);
  const labelSeed = numberOption("label-seed", values["label-seed"], 1, 0);
  const weightSeed = numberOption("weight-seed", values["weight-seed"], 1, 0);
  const depths = listOption(values.depths).map(Number);
  const nets = depths.length === 0 ? bp.diagnostics.FIG20_2_NETS : depths.map((d) => bp.diagnostics.FIG20_2_NETS.find((n) => n.depth === d)).filter((n) => n !== undefined) as { depth: number; width: number }[];
  if (nets.length === 0 || nets.length !== depths.length && depths.length > 0) throw new UsageError(`--depths must pick some of 1, 2, 3, 4\n${USAGE}`);
  const root = path.resolve(__dirname, "..");
  const out = values.out ? path.resolve(values.out) : path.join(bp.diagnostics.resultsDir(), "fig20-2.json");

  const { backend } = await bp.setup(weightSeed, { quiet: true });
  const data = bp.diagnostics.randomLabelData(labelSeed);
  const started = new Date();
  const commit = gitCommit(root);   // the code that runs: read once, before training
  const t0 = performance.now();
  const runs: import("../lib/diagnostics/random-labels").RandomLabelRun[] = [];
  for (const { depth, width } of nets) {
    let lastLine = 0;
    const run = bp.diagnostics.fitRandomLabels(data, {
      depth, width, epochs, every, learningRate: rho, seed: weightSeed,
      onPoint: (epoch, loss, error) => {
        if (performance.now() - lastLine > 10000) {
          lastLine = performance.now();
          console.log(`  ${depth} × ${width}: epoch ${epoch}, loss ${loss.toFixed(4)}, error ${(100 * error).toFixed(1)} %`);
        }
      },
    });
    console.log(`${depth} hidden layer(s) × ${width}: ${run.params} parameters, ${run.epochsToFit === null ? `not fitted in ${epochs} epochs` : `fitted at epoch ${run.epochsToFit}`} (${run.seconds.toFixed(0)} s)`);
    runs.push(run);
    write(runs.length < nets.length);
  }
  bp.tf.dispose([data.x, data.t]);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);

  /** Writes what has run so far (atomically): a partial file after each net, the final one at the end. */
  function write(partial: boolean): void {
  const result = {
    experiment: "fig20-2",
    description: "Prince, Understanding Deep Learning, Fig. 20.2: MNIST-1D (4000 training sequences, default generator, seed 42) " +
      "with random labels; fully connected ReLU nets, softmax + cross-entropy, full-batch gradient descent, He normal weights, " +
      "zero biases, no momentum or regularization. epochsToFit: first epoch with 100 % training accuracy.",
    provenance: {
      command: `npm run reproduce -- fig20-2 ${argv.join(" ")}`.trim(),
      commit,
      started: started.toISOString(),
      wallSeconds: Math.round((performance.now() - t0) / 1000),
      ...machineProvenance(backend, bp.tf.version.tfjs),
    },
    options: { epochs, rho, labelSeed, weightSeed, n: data.n, every },
    partial,
    runs,
  };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(result) + "\n");
  fs.renameSync(tmp, out);
  }
}

async function transfer(argv: string[]): Promise<void> {
  const { values } = parseCli(argv, { kind: { type: "string" }, seeds: { type: "string", multiple: true }, "per-class": { type: "string", multiple: true }, steps: { type: "string" }, out: { type: "string" } }, USAGE);
  const bp = await import("../lib/index");
  const T = bp.diagnostics;
  const kind = (values.kind ?? "mlp") as import("../lib/diagnostics/transfer").SourceKind;
  if (!T.SOURCE_KINDS.includes(kind)) throw new UsageError(`--kind must be one of ${T.SOURCE_KINDS.join(", ")}\n${USAGE}`);
  const seeds = listOption(values.seeds).map((v) => numberOption("seeds", v, 0, 0));
  const perClass = listOption(values["per-class"]).map((v) => (v === "all" ? "all" as const : numberOption("per-class", v, 1, 1)));
  const steps = numberOption("steps", values.steps, 150, 1);
  const opts = { kind, seeds: seeds.length ? seeds : [1, 2, 3, 4, 5], steps };
  const out = values.out ? path.resolve(values.out) : path.join(T.resultsDir(), `transfer-${kind}.json`);
  const { backend } = await bp.setup(0, { quiet: true });
  const commit = gitCommit(path.resolve(__dirname, ".."));
  const started = new Date(), t0 = performance.now();
  const targets: Record<string, unknown> = {};
  for (const target of T.TARGETS) {
    const labels = T.labelSweep({ ...opts, target, perClass: perClass.length ? perClass : [1, 5, 10, 50, 100, "all"] });
    console.log(`${target}: label sweep done (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    const depth = T.freezeDepthSweep({ ...opts, target, perClass: [10, 100] });
    const curves = T.timeCurves({ kind, target, perClass: 100, seeds: opts.seeds.slice(0, 3), steps: 2 * steps });
    console.log(`${target}: freeze depth and time curves done (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    targets[target] = { description: T.transferTask(kind, target).description, labels, depth, curves };
  }
  const pretrained = T.pretrainedWeights(kind);
  const result = {
    experiment: "transfer",
    description: "Lecture 13: regimes frozen (all pretrained layers below a new head fixed), finetune (pretrained layers at 0.1 × the rate), " +
      "scratch; Adam(ε=0.003), minibatches of 32 (or the whole subset), a fixed number of updates per run; test accuracy on every test digit of the target. " +
      "depth: the first `copied` layers from the source, frozen or fine-tuned at the full rate, the rest from the seed. curves: validation accuracy per epoch, 100 labels per class.",
    provenance: {
      command: `npm run reproduce -- transfer ${argv.join(" ")}`.trim(),
      commit, started: started.toISOString(), wallSeconds: Math.round((performance.now() - t0) / 1000),
      pretrained: { file: path.relative(path.resolve(__dirname, ".."), T.pretrainedFile(kind)), sha256: pretrained.sha256 },
      ...machineProvenance(backend, bp.tf.version.tfjs),
    },
    options: { ...opts, lowerRate: 0.1, learningRate: 0.003 },
    targets,
  };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(result) + "\n");
  console.log(`wrote ${path.relative(process.cwd(), out)} (${result.provenance.wallSeconds} s)`);
}

async function main(): Promise<number> {
  const [experiment, ...rest] = process.argv.slice(2);
  if (experiment === "fig20-2") await fig20_2(rest);
  else if (experiment === "transfer") await transfer(rest);
  else throw new UsageError(`unknown experiment "${experiment ?? ""}"\n${USAGE}`);
  return 0;
}

main().then((code) => process.exit(code), (e) => {
  console.error(e instanceof UsageError ? e.message : e);
  process.exit(e instanceof UsageError ? 2 : 1);
});

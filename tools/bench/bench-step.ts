/**
 * One training step of a bench workload on one batch of 64, for the tools that time steps rather than epochs
 * (profile-lenet.ts, ab-routes.ts): our layers (hand-written backward), the same net by tf.variableGrads, or
 * tf.layers trainOnBatch, plain SGD as in the benchmark. The MLPs train on the first 64 bench digits, LeNet-5 on
 * 64 random images (its kernels do not depend on the values).
 */
import * as tf from "@tensorflow/tfjs";
import { lenet5 } from "../../lib/nn/lenet";
import { Rng } from "../../lib/random";
import { AutodiffNetwork, layersTwin } from "../../lib/tf/conv-twins";
import { sgd, stepVariables } from "../../lib/scratch/optimizers";
import { initMlp } from "../../lib/scratch/init";
import { MatrixMlp } from "../../lib/nn/mlp";
import { AutodiffMlp } from "../../lib/tf/mlp-autodiff";
import { LayersMlp } from "../../lib/tf/mlp-layers";
import { Model } from "../../lib/train/model";
import { WORKLOADS, WORKLOAD_NAMES, WorkloadName, BATCH_SIZE, LEARNING_RATE, BENCH_SEED, benchData, dataTensors } from "./workloads";

export type StepImpl = "matrix" | "autodiff" | "fit";
export const STEP_IMPLS: readonly StepImpl[] = ["matrix", "autodiff", "fit"];

/** A step function of `impl` on `workload` (its model built from the bench seed), checked names first. */
export function benchStep(workload: string, impl: string, opts: { pool?: "avg" | "max" } = {}): () => Promise<void> | void {
  if (!STEP_IMPLS.includes(impl as StepImpl)) throw new Error(`implementation "${impl}" is not one of ${STEP_IMPLS.join(", ")}`);
  if (!WORKLOAD_NAMES.includes(workload as WorkloadName)) throw new Error(`workload "${workload}" is not one of ${WORKLOAD_NAMES.join(", ")}`);
  const spec = WORKLOADS[workload as WorkloadName].spec;
  let x: tf.Tensor, t: tf.Tensor2D, fitModel: () => tf.LayersModel, model: () => Model;
  if (spec) {
    ({ x, t } = dataTensors(benchData(BATCH_SIZE)));
    const weights = initMlp(spec, { rng: new Rng(BENCH_SEED) });
    fitModel = () => new LayersMlp(spec, weights).model;
    model = () => (impl === "matrix" ? new MatrixMlp(spec, weights) : new AutodiffMlp(spec, weights));
  } else {
    const net = lenet5({ rng: new Rng(1), pool: opts.pool ?? "avg" });
    x = tf.randomUniform([BATCH_SIZE, 28, 28, 1]);
    t = tf.oneHot(tf.tensor1d(Array.from({ length: BATCH_SIZE }, (_, i) => i % 10), "int32"), 10).toFloat() as tf.Tensor2D;
    fitModel = () => layersTwin(net);
    model = () => (impl === "matrix" ? net : new AutodiffNetwork(net));
  }
  if (impl === "fit") {
    const m = fitModel();
    m.compile({ optimizer: tf.train.sgd(LEARNING_RATE), loss: "categoricalCrossentropy" });
    return async () => void (await m.trainOnBatch(x, t));
  }
  const m = model();
  const o = sgd({ learningRate: LEARNING_RATE });
  return () => void stepVariables(o, m.params, () => m.lossAndGrads(x, t));
}

/**
 * The benchmark's workloads and the one training epoch every implementation runs, so that the numbers
 * compare like with like: the same network, the same data, the same shuffled mini-batches, plain SGD.
 *
 *   (a) mlp        MLP 784-300-100-10, ReLU hidden units, softmax + cross-entropy;
 *   (b) deep       deep sigmoid net 784-100-100-100-100-100-10 (5 hidden layers of 100), softmax + CE;
 *   (c) lenet5     LeNet-5 (lib/nn/lenet.ts: tanh, average pooling, softmax + CE) on 28×28×1 images; a
 *                  subset of LENET_N digits per epoch (scaled to the full 10 000 like every subset).
 * Data: the 10 000 embedded MNIST digits (all of them, no split), batch 64, SGD(ρ = 0.05).
 */
import * as tf from "@tensorflow/tfjs";
import { MlpSpec } from "../../lib/scratch/init";
import { loadMnist } from "../../lib/data/mnist";
import { Rng } from "../../lib/random";

export type WorkloadName = "mlp" | "deep" | "lenet5";
export const WORKLOAD_NAMES: readonly WorkloadName[] = ["mlp", "deep", "lenet5"];

export interface Workload {
  name: WorkloadName;
  title: string;
  /** The MLP (undefined when the workload is skipped). */
  spec?: MlpSpec;
  /** Why the workload is skipped, when it is. */
  skip?: string;
  /** LeNet-5 (lib/nn/lenet.ts) instead of an MLP. */
  lenet?: boolean;
}

export const WORKLOADS: Record<WorkloadName, Workload> = {
  mlp: {
    name: "mlp",
    title: "(a) MLP 784-300-100-10 (ReLU, softmax + CE)",
    spec: { sizes: [784, 300, 100, 10], hidden: "relu", output: "softmax", loss: "crossEntropy" },
  },
  deep: {
    name: "deep",
    title: "(b) deep sigmoid 784-5×100-10 (softmax + CE)",
    spec: { sizes: [784, 100, 100, 100, 100, 100, 10], hidden: "sigmoid", output: "softmax", loss: "crossEntropy" },
  },
  lenet5: {
    name: "lenet5",
    title: "(c) LeNet-5 (tanh, avg-pool, softmax + CE)",
    lenet: true,
  },
};

/** The digits of a full epoch: every time is scaled to it. */
export const FULL_N = 10_000;
/** Digits per measured LeNet-5 epoch (smoke runs: LENET_SMOKE_N); ms are scaled to 10 000. */
export const LENET_N = 1000;
export const LENET_SMOKE_N = 128;

/**
 * Warm-up epochs of a run: `warmup` epochs' worth of batches, whatever the epoch's size. A LeNet-5 epoch of
 * LENET_N digits is 16 batches where an MLP epoch is 157, and the wasm route takes ~60 steps to settle (11.5 →
 * ~5 ms a step over its first five 16-batch epochs, bench/RESULTS.md round five), so its warm-up is scaled by
 * FULL_N / LENET_N like its times. Smoke runs keep `warmup` as given.
 */
export function warmupEpochs(w: WorkloadName, warmup: number, smoke = false): number {
  return WORKLOADS[w].lenet && !smoke ? warmup * Math.round(FULL_N / LENET_N) : warmup;
}

/** Mini-batch size of every run. */
export const BATCH_SIZE = 64;
/** SGD learning rate of every run. */
export const LEARNING_RATE = 0.05;
/** Seed of the weights and of the batch order. */
export const BENCH_SEED = 1;

/** The first `n` embedded MNIST digits of a fixed stratified draw, as flat arrays. */
export function benchData(n: number): { x: Float32Array; t: Float32Array; labels: Int32Array; n: number } {
  const d = loadMnist({ seed: BENCH_SEED, limit: n, validation: 0, test: 0 });
  return { x: d.train.x, t: d.train.oneHot, labels: d.train.labels, n: d.train.n };
}

/** The batch order of epoch `epoch` (1-based): a permutation drawn from the bench seed. */
export function epochOrder(n: number, epoch: number): number[] {
  return new Rng(BENCH_SEED * 1000 + epoch).permutation(n);
}

/** Splits an order into mini-batches of BATCH_SIZE (the last one may be smaller). */
export function batches(order: number[], size = BATCH_SIZE): number[][] {
  const out: number[][] = [];
  for (let s = 0; s < order.length; s += size) out.push(order.slice(s, s + size));
  return out;
}

/** Tensors of the whole data set, kept for the run. */
export function dataTensors(d: { x: Float32Array; t: Float32Array; n: number }, opts: { image?: boolean } = {}): { x: tf.Tensor; t: tf.Tensor2D } {
  const x = opts.image ? tf.tensor4d(d.x, [d.n, 28, 28, 1]) : tf.tensor2d(d.x, [d.n, d.x.length / d.n]);
  return { x, t: tf.tensor2d(d.t, [d.n, d.t.length / d.n]) };
}

/** The implementations the benchmark times (see child.ts for what each one runs). */
export type ImplName = "scalar" | "matrix" | "autodiff" | "layers-fit" | "matrix-dp" | "autodiff-dp";
export const IMPL_NAMES: readonly ImplName[] = ["scalar", "matrix", "autodiff", "layers-fit", "matrix-dp", "autodiff-dp"];

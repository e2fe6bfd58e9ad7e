/**
 * What the main thread and the data-parallel workers share: the start-up data of a worker, the messages
 * they exchange, and the layout of the gradient exchange buffer.
 */
import type { MlpSpec, MlpWeights } from "../../scratch/init";
import type { BackendName } from "../../backend";

/** Which MLP each worker trains: hand-written backward ("matrix") or tfjs autodiff ("autodiff"). */
export type ParallelModelKind = "matrix" | "autodiff";

/** Everything a worker gets when it starts (typed arrays over SharedArrayBuffers are shared, not copied). */
export interface WorkerInit {
  /** This worker's number, 0..workers-1. */
  rank: number;
  workers: number;
  spec: MlpSpec;
  weights: MlpWeights;
  model: ParallelModelKind;
  /** SGD learning rate ρ. */
  learningRate: number;
  /** tfjs backend of the worker ("wasm" unless asked otherwise). */
  backend: BackendName;
  /** Install lib/perf/fast-grads's wasm kernels (default true). */
  fastKernels: boolean;
  /** Inputs, n × features, and targets, n × outputs, shared by all workers. */
  x: Float32Array;
  t: Float32Array;
  n: number;
  /** The current epoch's sample order (written by the main thread before each epoch). */
  order: Int32Array;
  /** Barrier state (see barrier.ts). */
  control: Int32Array;
  /**
   * Gradient exchange: 2 buffers (even and odd steps) × workers slots × (parameters + 1) floats.
   * Slot k holds worker k's mean gradient over its share of the batch, all parameters flattened in the
   * order of `model.params`, then its mean loss.
   */
  exchange: Float32Array;
}

/**
 * Where a worker's time went during an epoch, in ms: computing its slice's gradient (and copying it to
 * its slot), waiting at the barrier for the others, averaging the slots, and the SGD update.
 */
export interface WorkerTime {
  compute: number;
  wait: number;
  average: number;
  update: number;
}

/** Main thread → worker. */
export type ToWorker =
  | { type: "epoch"; count: number; batchSize: number }
  | { type: "weights" }
  | { type: "close" };

/** Worker → main thread. */
export type FromWorker =
  | { type: "ready"; engine: string }
  | { type: "epoch"; loss: number; updates: number; time: WorkerTime }
  | { type: "weights"; weights: MlpWeights }
  | { type: "error"; message: string };

/** Floats of one worker's slot: every parameter, then the loss. */
export function slotSize(paramCount: number): number {
  return paramCount + 1;
}

/** Worker `rank`'s slot in buffer `step % 2`. */
export function slotOf(exchange: Float32Array, paramCount: number, workers: number, step: number, rank: number): Float32Array {
  const size = slotSize(paramCount);
  const start = ((step % 2) * workers + rank) * size;
  return exchange.subarray(start, start + size);
}

/**
 * How a batch of `len` samples is shared among `workers`: worker k takes positions [lo, hi) of it, in
 * contiguous slices whose sizes differ by at most one.
 */
export function shareOf(len: number, workers: number, rank: number): { lo: number; hi: number } {
  return { lo: Math.floor((rank * len) / workers), hi: Math.floor(((rank + 1) * len) / workers) };
}

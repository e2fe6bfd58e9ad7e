/**
 * Data-parallel training on the CPU cores: the lesson's "split the batch, average the gradients".
 *
 * Every worker thread holds a full copy (replica) of the MLP and its own tfjs backend (wasm runs on one
 * thread, so two workers use two cores). For each mini-batch, worker k computes the gradient on its slice
 * of the batch, the workers exchange gradients through a SharedArrayBuffer, and each one applies the
 * same averaged gradient to its replica (see worker.ts for the five steps). The main thread only hands
 * out the sample order and waits, so a notebook stays responsive.
 *
 * Same seed, same batch order → the same weights as the single-threaded loop, up to float32 rounding
 * (the batch's gradient is summed in a different order).
 *
 *   const trainer = await DataParallelTrainer.create({ spec, weights, data: { x, t, n }, workers: 2 });
 *   const { loss, ms } = await trainer.epoch(rng.permutation(n), 64);
 *   const trained = await trainer.getWeights();
 *   await trainer.close();
 */
import * as os from "os";
import * as path from "path";
import { Worker } from "worker_threads";
import { MlpSpec, MlpWeights, checkWeights, fullSpec, layerCount, layerWidth, layerActivation } from "../../scratch/init";
import { BackendName } from "../../backend";
import { BARRIER_INTS } from "./barrier";
import { FromWorker, ParallelModelKind, ToWorker, WorkerInit, WorkerTime, slotSize } from "./protocol";

export type { ParallelModelKind, WorkerTime } from "./protocol";

export interface DataParallelOptions {
  spec: MlpSpec;
  /** Initial weights in the shared format (initMlp). */
  weights: MlpWeights;
  /** Training set: x is n × inputs, t is n × outputs (e.g. a LabeledSet's x and oneHot). */
  data: { x: Float32Array; t: Float32Array; n: number };
  /** Worker threads (default: the number of CPU cores, at least 1). */
  workers?: number;
  /** Hand-written backward ("matrix", default) or tfjs autodiff ("autodiff"). */
  model?: ParallelModelKind;
  /** SGD learning rate ρ (default 0.05). */
  learningRate?: number;
  /** Backend of every worker (default "wasm": one thread each, which is what makes the split pay). */
  backend?: BackendName;
  /** Use lib/perf/fast-grads's wasm kernels in the workers (default true). */
  fastKernels?: boolean;
}

export interface ParallelEpoch {
  /** Mean training loss over the epoch's mini-batches (measured before each update). */
  loss: number;
  /** Parameter updates made. */
  updates: number;
  /** Wall time of the epoch in milliseconds. */
  ms: number;
  /** Per worker: ms spent computing, waiting for the others, averaging and updating. */
  workerTime: WorkerTime[];
}

/** Number of parameters of an MLP (weights, biases, PReLU α). */
function paramCount(spec: MlpSpec): number {
  const full = fullSpec(spec);
  let count = 0;
  for (let l = 1; l <= layerCount(full); l++) {
    const width = layerWidth(full, l);
    count += full.sizes[l - 1] * width + width + (layerActivation(full, l) === "prelu" ? full.sizes[l] : 0);
  }
  return count;
}

/** A typed array of `length` elements over a new SharedArrayBuffer, optionally filled from `from`. */
function shared<T extends Float32Array | Int32Array>(Kind: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, length: number, from?: ArrayLike<number>): T {
  const a = new Kind(new SharedArrayBuffer(length * Kind.BYTES_PER_ELEMENT));
  if (from) a.set(from);
  return a;
}

export class DataParallelTrainer {
  private closed = false;
  private failure: Error | undefined;

  private constructor(
    private readonly workers: Worker[],
    private readonly order: Int32Array,
    /** Number of training samples. */
    readonly n: number,
    /** What each worker runs on, e.g. "wasm + fast kernels". */
    readonly engine: string,
  ) {}

  /** Starts the workers (each loads tfjs and its backend: about a second) and gives them the data. */
  static async create(opts: DataParallelOptions): Promise<DataParallelTrainer> {
    const spec = fullSpec(opts.spec);
    checkWeights(spec, opts.weights);
    const { x, t, n } = opts.data;
    const inputs = spec.sizes[0], outputs = spec.sizes[spec.sizes.length - 1];
    if (!Number.isInteger(n) || n < 1 || x.length !== n * inputs || t.length !== n * outputs) {
      throw new Error(`DataParallelTrainer: data should be x [${n}, ${inputs}] and t [${n}, ${outputs}] as flat arrays, ` +
        `got ${x.length} and ${t.length} values`);
    }
    const count = opts.workers ?? Math.max(1, os.cpus().length);
    if (!Number.isInteger(count) || count < 1) throw new Error(`DataParallelTrainer: workers must be a positive integer, got ${opts.workers}`);
    const learningRate = opts.learningRate ?? 0.05;
    if (!(learningRate > 0) || !Number.isFinite(learningRate)) throw new Error(`DataParallelTrainer: the learning rate must be a positive number, got ${learningRate}`);

    // Shared memory: the data (copied once), the epoch's order, the barrier, the gradient exchange.
    const common = {
      workers: count,
      spec,
      weights: opts.weights,
      model: opts.model ?? "matrix",
      learningRate,
      backend: opts.backend ?? "wasm",
      fastKernels: opts.fastKernels ?? true,
      x: x.buffer instanceof SharedArrayBuffer ? x : shared(Float32Array, x.length, x),
      t: t.buffer instanceof SharedArrayBuffer ? t : shared(Float32Array, t.length, t),
      n,
      order: shared(Int32Array, n),
      control: shared(Int32Array, BARRIER_INTS),
      exchange: shared(Float32Array, 2 * count * slotSize(paramCount(spec))),
    };
    const workers: Worker[] = [];
    try {
      const engines = await Promise.all(
        Array.from({ length: count }, (_, rank) => {
          const data: WorkerInit = { ...common, rank };
          // execArgv: [] — the bootstrap registers the TypeScript loader itself (see worker-bootstrap.js)
          const w = new Worker(path.join(__dirname, "worker-bootstrap.js"), { workerData: data, execArgv: [] });
          workers.push(w);
          return reply(w, "ready").then((m) => (m as { engine: string }).engine);
        }),
      );
      return new DataParallelTrainer(workers, common.order, n, `${count} × ${engines[0]}`);
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
  }

  /** Number of worker threads. */
  get size(): number {
    return this.workers.length;
  }

  /**
   * One epoch: mini-batches of `batchSize` taken from `order` (a permutation of 0..n-1, or any list of
   * sample indices), one SGD update each, the batch split among the workers.
   */
  async epoch(order: ArrayLike<number>, batchSize: number): Promise<ParallelEpoch> {
    this.usable();
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`DataParallelTrainer.epoch: batchSize must be a positive integer, got ${batchSize}`);
    if (order.length < 1 || order.length > this.n) throw new Error(`DataParallelTrainer.epoch: order must list 1..${this.n} sample indices, got ${order.length}`);
    for (let i = 0; i < order.length; i++) {
      const k = order[i];
      if (!Number.isInteger(k) || k < 0 || k >= this.n) throw new Error(`DataParallelTrainer.epoch: order[${i}] = ${k} is not a sample index in [0, ${this.n})`);
    }
    this.order.set(order);
    const start = performance.now();
    const replies = await this.all({ type: "epoch", count: order.length, batchSize }, "epoch");
    const ms = performance.now() - start;
    const epochs = replies as Extract<FromWorker, { type: "epoch" }>[];
    return { loss: epochs[0].loss, updates: epochs[0].updates, ms, workerTime: epochs.map((e) => e.time) };
  }

  /** The trained weights (every replica holds the same ones; worker 0's are read). */
  async getWeights(): Promise<MlpWeights> {
    this.usable();
    this.workers[0].postMessage({ type: "weights" } satisfies ToWorker);
    const m = await reply(this.workers[0], "weights");
    return (m as { weights: MlpWeights }).weights;
  }

  /** Stops the workers (and frees their tensors). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.workers.forEach((w) => w.postMessage({ type: "close" } satisfies ToWorker));
    await Promise.all(this.workers.map((w) => new Promise<void>((resolve) => {
      const timer = setTimeout(() => void w.terminate().then(() => resolve()), 2000);
      w.once("exit", () => { clearTimeout(timer); resolve(); });
    })));
  }

  private usable(): void {
    if (this.closed) throw new Error("DataParallelTrainer: already closed; create a new one");
    if (this.failure) throw new Error(`DataParallelTrainer: a worker failed earlier (${this.failure.message}); create a new one`);
  }

  /** Sends `m` to every worker and waits for each one's reply of type `type`. */
  private async all(m: ToWorker, type: FromWorker["type"]): Promise<FromWorker[]> {
    try {
      return await Promise.all(this.workers.map((w) => {
        const r = reply(w, type);
        w.postMessage(m);
        return r;
      }));
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e));
      throw e;
    }
  }
}

/** The next message of type `type` from worker w; rejects on an error message or if the worker dies. */
function reply(w: Worker, type: FromWorker["type"]): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      w.off("message", onMessage);
      w.off("error", onError);
      w.off("exit", onExit);
    };
    const onMessage = (m: FromWorker) => {
      if (m.type !== type && m.type !== "error") return;
      cleanup();
      if (m.type === "error") reject(new Error(m.message));
      else resolve(m);
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`a data-parallel worker exited (code ${code}) before answering "${type}"`));
    };
    w.on("message", onMessage);
    w.on("error", onError);
    w.on("exit", onExit);
  });
}

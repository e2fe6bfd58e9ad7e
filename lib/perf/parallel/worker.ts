/**
 * One data-parallel worker (a worker thread with its own tfjs backend and its own copy of the weights).
 *
 * For every mini-batch of the epoch's order, all workers run in lockstep:
 *   1. take my slice of the batch (shareOf) and compute the mean loss and gradient over it;
 *   2. write that gradient into my slot of the shared exchange buffer;
 *   3. wait at the barrier until every worker has written its slot;
 *   4. average: g = Σ_k (n_k / n) g_k over the slots, in rank order, so that every worker adds the same
 *      numbers in the same order and gets bit-for-bit the same g;
 *   5. SGD step θ ← θ - ρ g on my replica: all replicas make the same update and stay identical.
 *      (Steps 4 and 5 are one loop over the parameters: see `step`.)
 * Because the mean over the batch is the size-weighted mean of the slices' means, g is the gradient the
 * single-threaded loop computes on the whole batch (up to float32 rounding of the different sum order).
 * Slots alternate between two buffers on even and odd steps, so a fast worker writing step s+1 cannot
 * overwrite what a slow one still reads from step s, and one barrier per step is enough.
 */
import { parentPort, workerData } from "worker_threads";
import * as tf from "@tensorflow/tfjs";
import { Barrier } from "./barrier";
import { FromWorker, ToWorker, WorkerInit, shareOf, slotOf } from "./protocol";
import { MatrixMlp } from "../../nn/mlp";
import { AutodiffMlp } from "../../tf/mlp-autodiff";
import { installFastWasmKernels } from "../fast-grads";

const init = workerData as WorkerInit;
const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);

/** Makes `name` the tfjs backend of this thread (the wasm one is loaded on demand). */
async function startBackend(name: WorkerInit["backend"]): Promise<string> {
  if (name === "wasm") require("@tensorflow/tfjs-backend-wasm");
  if (name === "tensorflow") require("@tensorflow/tfjs-node");
  if (name === "cpu") tf.env().set("PROD", true);
  if (!(await tf.setBackend(name))) throw new Error(`worker ${init.rank}: the ${name} backend failed to initialize`);
  const fast = name === "wasm" && init.fastKernels && installFastWasmKernels();
  return `${name}${fast ? " + fast kernels" : ""}`;
}

/** The values of a float32 tensor: a view of the wasm heap (no copy), or dataSync on other backends. */
function readView(t: tf.Tensor): Float32Array {
  const backend = tf.backend() as unknown as { typedArrayFromHeap?: (t: tf.Tensor) => Float32Array };
  return backend.typedArrayFromHeap && t.dtype === "float32" ? backend.typedArrayFromHeap(t) : (t.dataSync() as Float32Array);
}

async function main(): Promise<void> {
  const engine = await startBackend(init.backend);
  const { rank, workers, n } = init;
  const model: MatrixMlp | AutodiffMlp = init.model === "matrix" ? new MatrixMlp(init.spec, init.weights) : new AutodiffMlp(init.spec, init.weights);
  const updated = model.params.map((p) => new Float32Array(p.size)); // next θ, reused every step
  const barrier = new Barrier(init.control, workers);
  const features = init.x.length / n, outputs = init.t.length / n;
  const sizes = model.params.map((p) => p.size);
  const paramCount = sizes.reduce((a, b) => a + b, 0);

  /** Rows `rows` of a shared [n, width] array as a tensor. */
  const gatherRows = (src: Float32Array, width: number, rows: Int32Array): tf.Tensor2D => {
    const out = new Float32Array(rows.length * width);
    rows.forEach((r, i) => out.set(src.subarray(r * width, (r + 1) * width), i * width));
    return tf.tensor2d(out, [rows.length, width]);
  };

  /** Where this worker's time goes, ms, summed over the epoch (reported with the epoch). */
  const time = { compute: 0, wait: 0, average: 0, update: 0 };
  let clock = performance.now();
  const lap = (part: keyof typeof time) => {
    const now = performance.now();
    time[part] += now - clock;
    clock = now;
  };

  /** One SGD step on the batch `rows`; returns the batch's mean loss. */
  const step = (s: number, rows: Int32Array): number => {
    clock = performance.now();
    const mine = slotOf(init.exchange, paramCount, workers, s, rank);
    const { lo, hi } = shareOf(rows.length, workers, rank);
    if (hi > lo) {
      // 1-2. my slice's mean loss and gradient → my slot
      tf.tidy(() => {
        const xb = gatherRows(init.x, features, rows.subarray(lo, hi));
        const tb = gatherRows(init.t, outputs, rows.subarray(lo, hi));
        const { loss, grads } = model.lossAndGrads(xb, tb);
        let offset = 0;
        grads.forEach((g) => {
          mine.set(readView(g), offset);
          offset += g.size;
        });
        mine[paramCount] = loss.dataSync()[0];
      });
    }
    lap("compute");
    // 3. everyone has written
    barrier.wait();
    lap("wait");
    // 4-5. θ ← θ - ρ Σ_k (n_k / n) g_k, one pass over the parameters in plain JS: averaging the slots and
    // the SGD step together. The slots are summed in rank order, so every worker computes the same
    // numbers and the replicas stay identical. (Done with tfjs ops this was ~4 passes over memory per
    // parameter: upload each slot, add, scale, subtract; with ~270 000 weights those passes cost as much
    // as the gradient itself.)
    let loss = 0;
    const terms: { slot: Float32Array; rate: number }[] = [];
    for (let k = 0; k < workers; k++) {
      const share = shareOf(rows.length, workers, k);
      const weight = (share.hi - share.lo) / rows.length;
      if (weight === 0) continue;
      const slot = slotOf(init.exchange, paramCount, workers, s, k);
      terms.push({ slot, rate: init.learningRate * weight });
      loss += weight * slot[paramCount];
    }
    let offset = 0;
    model.params.forEach((p, j) => {
      const next = updated[j];
      next.set(readView(p));
      for (const { slot, rate } of terms) {
        for (let i = 0; i < next.length; i++) next[i] -= rate * slot[offset + i];
      }
      offset += next.length;
    });
    lap("average");
    tf.tidy(() => model.params.forEach((p, j) => p.assign(tf.tensor(updated[j], p.shape, "float32"))));
    lap("update");
    return loss;
  };

  let steps = 0; // across epochs, so the even/odd buffers keep alternating
  port.on("message", (m: ToWorker) => {
    try {
      if (m.type === "epoch") {
        let total = 0, updates = 0;
        Object.keys(time).forEach((k) => (time[k as keyof typeof time] = 0));
        for (let start = 0; start < m.count; start += m.batchSize) {
          const rows = init.order.subarray(start, Math.min(start + m.batchSize, m.count));
          total += step(steps++, rows) * rows.length;
          updates++;
        }
        send({ type: "epoch", loss: total / m.count, updates, time: { ...time } });
      } else if (m.type === "weights") {
        send({ type: "weights", weights: model.getWeights() });
      } else if (m.type === "close") {
        model.dispose();
        port.close();
      }
    } catch (e) {
      barrier.abort();
      send({ type: "error", message: `worker ${rank}: ${e instanceof Error ? e.message : String(e)}` });
    }
  });
  send({ type: "ready", engine });
}

main().catch((e) => send({ type: "error", message: `worker ${init.rank} failed to start: ${e instanceof Error ? e.stack ?? e.message : String(e)}` }));

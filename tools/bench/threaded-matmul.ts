/**
 * Which way of using two cores wins for the MLP's training step on wasm: a multi-threaded matMul, or
 * data parallelism? Measures the 9 matrix products of one SGD step of 784-300-100-10 at batch 64
 * (forward X W, backward Xᵀ dΦ and dΦ Wᵀ), three ways:
 *   single     one thread, as the hand-written path does them;
 *   threaded   each product split by columns of B: this thread computes the left half, a worker (its own
 *              wasm backend) the right half; A and B's half go through a SharedArrayBuffer, the halves
 *              are concatenated (products smaller than `minFlops` stay on one thread);
 *   data-par   two workers each compute all 9 products on half the batch (32 rows), with one barrier per
 *              step (what lib/perf/parallel does, without the gradient exchange).
 * Usage: npx tsx tools/bench/threaded-matmul.ts [steps]   (prints ms per step for each)
 */
import { Worker, isMainThread, parentPort, workerData } from "worker_threads";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { installFastWasmKernels } from "../../lib/perf/fast-grads";

/** [M, K, N] of the step's products at batch B (transposes are explicit, as in mlp-matrix.ts). */
function products(B: number): [number, number, number][] {
  return [
    [B, 784, 300], [B, 300, 100], [B, 100, 10], // forward
    [100, B, 10], [B, 10, 100], [300, B, 100], [B, 100, 300], [784, B, 300], [B, 300, 784], // backward
  ];
}

const MAX = 784 * 300 + 64 * 784 + 64 * 784; // floats: the largest A + B (+ C) that go through shared memory
interface Shared { ctl: Int32Array; buf: Float32Array }

/** A worker running this file (TypeScript: tsx's require hook is registered first). */
function spawn(data: unknown): Worker {
  const boot = `require("tsx/cjs/api").register(); require(${JSON.stringify(__filename)});`;
  return new Worker(boot, { eval: true, workerData: data, execArgv: [] });
}

function rand(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);
}

async function worker(): Promise<void> {
  await tf.setBackend("wasm");
  installFastWasmKernels();
  const { ctl, buf, mode, B } = workerData as Shared & { mode: string; B: number };
  if (mode === "threaded") {
    // loop: wait for a job (ctl[0] = job number), compute C_right = A · B_right, signal done (ctl[1])
    let job = 0;
    for (;;) {
      Atomics.wait(ctl, 0, job);
      job = Atomics.load(ctl, 0);
      if (job < 0) break;
      const [M, K, N] = [ctl[2], ctl[3], ctl[4]];
      const a = tf.tensor2d(buf.subarray(0, M * K), [M, K]);
      const b = tf.tensor2d(buf.subarray(M * K, M * K + K * N), [K, N]);
      const c = tf.matMul(a, b);
      buf.set(c.dataSync(), M * K + K * N);
      tf.dispose([a, b, c]);
      Atomics.store(ctl, 1, job);
      Atomics.notify(ctl, 1);
    }
  } else {
    // data-parallel: all products at half the batch, then the barrier (ctl[0] counts arrivals per step)
    const steps = ctl[5];
    const ts = products(B).map(([M, K, N]) => [tf.tensor2d(rand(M * K), [M, K]), tf.tensor2d(rand(K * N), [K, N])]);
    for (let s = 0; s < steps; s++) {
      for (const [a, b] of ts) {
        const bb = tf.add(b, 0); // new data every step, as weights after an update (XNNPACK repacks them)
        const c = tf.matMul(a, bb);
        c.dataSync();
        tf.dispose([c, bb]);
      }
      const gen = Atomics.load(ctl, 7);
      if (Atomics.add(ctl, 6, 1) === 1) {
        Atomics.store(ctl, 6, 0);
        Atomics.add(ctl, 7, 1);
        Atomics.notify(ctl, 7);
      } else while (Atomics.load(ctl, 7) === gen) Atomics.wait(ctl, 7, gen);
    }
  }
  parentPort!.postMessage("done");
}

async function main(): Promise<void> {
  const steps = Number(process.argv[2] ?? 40);
  await tf.setBackend("wasm");
  installFastWasmKernels();
  const B = 64;
  const ts = products(B).map(([M, K, N]) => [tf.tensor2d(rand(M * K), [M, K]), tf.tensor2d(rand(K * N), [K, N])] as tf.Tensor2D[]);

  // single thread
  const single = () => {
    for (const [a, b] of ts) {
      const bb = tf.add(b, 0) as tf.Tensor2D;
      const c = tf.matMul(a, bb);
      c.dataSync();
      tf.dispose([c, bb]);
    }
  };
  for (let i = 0; i < 3; i++) single();
  let t0 = performance.now();
  for (let i = 0; i < steps; i++) single();
  const singleMs = (performance.now() - t0) / steps;

  // threaded matMul: this thread + one worker
  const sh: Shared = { ctl: new Int32Array(new SharedArrayBuffer(64)), buf: new Float32Array(new SharedArrayBuffer(4 * MAX * 2)) };
  const w = spawn({ ...sh, mode: "threaded", B });
  const done = new Promise((r) => w.once("message", r));
  await new Promise((r) => setTimeout(r, 1500)); // let the worker start its backend
  let job = 0;
  const minFlops = 2e6;
  const threaded = () => {
    for (const [a, b] of ts) {
      const [M, K] = a.shape, N = b.shape[1];
      const bb = tf.add(b, 0) as tf.Tensor2D;
      if (M * K * N < minFlops || N < 16) {
        const c = tf.matMul(a, bb);
        c.dataSync();
        tf.dispose([c, bb]);
        continue;
      }
      const half = N >> 1;
      const [left, right] = tf.split(bb, [half, N - half], 1);
      sh.buf.set(a.dataSync(), 0);
      sh.buf.set(right.dataSync(), M * K);
      sh.ctl[2] = M; sh.ctl[3] = K; sh.ctl[4] = N - half;
      Atomics.store(sh.ctl, 0, ++job);
      Atomics.notify(sh.ctl, 0);
      const cl = tf.matMul(a, left);
      while (Atomics.load(sh.ctl, 1) !== job) Atomics.wait(sh.ctl, 1, job - 1);
      const cr = tf.tensor2d(sh.buf.subarray(M * K + K * (N - half), M * K + K * (N - half) + M * (N - half)), [M, N - half]);
      const c = tf.concat([cl, cr], 1);
      c.dataSync();
      tf.dispose([bb, left, right, cl, cr, c]);
    }
  };
  for (let i = 0; i < 3; i++) threaded();
  t0 = performance.now();
  for (let i = 0; i < steps; i++) threaded();
  const threadedMs = (performance.now() - t0) / steps;
  Atomics.store(sh.ctl, 0, -1);
  Atomics.notify(sh.ctl, 0);
  await done;

  // data-parallel: two workers, half the batch each
  const ctl = new Int32Array(new SharedArrayBuffer(64));
  ctl[5] = steps;
  const ws = [0, 1].map(() => spawn({ ctl, buf: sh.buf, mode: "data", B: B / 2 }));
  // (the workers' start-up is excluded: time from their first barrier to the end would be better; the
  // start-up, ~1 s, is subtracted by timing a zero-step run below)
  t0 = performance.now();
  await Promise.all(ws.map((x) => new Promise((r) => x.once("message", r))));
  const dpTotal = performance.now() - t0;
  const ctl0 = new Int32Array(new SharedArrayBuffer(64));
  const ws0 = [0, 1].map(() => spawn({ ctl: ctl0, buf: sh.buf, mode: "data", B: B / 2 }));
  t0 = performance.now();
  await Promise.all(ws0.map((x) => new Promise((r) => x.once("message", r))));
  const startup = performance.now() - t0;
  const dpMs = (dpTotal - startup) / steps;

  console.log(JSON.stringify({ singleMs, threadedMs, dataParallelMs: dpMs, speedupThreaded: singleMs / threadedMs, speedupDataParallel: singleMs / dpMs }));
}

if (isMainThread) main();
else worker();

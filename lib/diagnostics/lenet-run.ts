/**
 * Lecture 12's LeNet-5 recipe in one place: Adam (ρ = 10⁻³), mini-batches of 32, the order drawn from
 * Rng(orderSeed). The lecture trains 3 epochs on 2 100 embedded digits; `npm run reproduce -- lenet5-error`
 * runs the same recipe on every embedded digit, for more epochs and several seeds.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { datasetToTensors, loadMnist } from "../data/mnist";
import { lenet5, LeNet5Options } from "../nn/lenet";
import { adam } from "../scratch/optimizers";
import { train, accuracy, History, TrainOptions, TrainData } from "../train/train";

/** The training options of the lecture's LeNet-5 (logEvery 1 prints a line per epoch, 0 none). */
export function lenetTrainOptions(epochs: number, validation: TrainData | undefined, opts: { orderSeed?: number; logEvery?: number } = {}): TrainOptions {
  return { epochs, batchSize: 32, optimizer: adam({ learningRate: 1e-3 }), rng: new Rng(opts.orderSeed ?? 1), validation, logEvery: opts.logEvery ?? 1 };
}

export interface LenetRunOptions {
  /** Embedded digits to use (split 70/10/20) and the split's seed. */
  limit: number;
  dataSeed: number;
  epochs: number;
  /** Seed of the initial weights (the lecture: 12) and of the mini-batch order (the lecture: 1). */
  weightSeed: number;
  orderSeed: number;
  net?: Pick<LeNet5Options, "activation" | "pool">;
  onEpoch?: (epoch: number) => void;
}

export interface LenetRun {
  testError: number;
  testCount: number;
  trainCount: number;
  loss: number[];
  valAccuracy: number[];
}

/** Trains a fresh LeNet-5 with the lecture's recipe and measures its test error (a fraction). */
export function runLenet5(o: LenetRunOptions): LenetRun {
  const digits = loadMnist({ seed: o.dataSeed, limit: o.limit });
  const sets = [digits.train, digits.validation, digits.test].map((s) => datasetToTensors(s, { image: true }));
  const [trainImg, valImg, testImg] = sets;
  const model = lenet5({ rng: new Rng(o.weightSeed), ...o.net });
  try {
    const history: History = train(model, trainImg, { ...lenetTrainOptions(o.epochs, valImg, { orderSeed: o.orderSeed, logEvery: 0 }), progress: false, onEpoch: (s) => o.onEpoch?.(s.epoch) });
    const s = model.predict(testImg.x);
    const acc = accuracy(s, testImg.t);
    s.dispose();
    return { testError: 1 - acc, testCount: digits.test.n, trainCount: digits.train.n, loss: history.loss, valAccuracy: history.valAccuracy };
  } finally {
    tf.dispose(sets as unknown as tf.Tensor[]);
    model.dispose();
  }
}

/**
 * The reference models of MNIST-1D (Greydanus 2020), built from this library's layers and trained the way
 * the reference does: Adam with ρ = 10⁻², mini-batches of 100, PyTorch's default initialization U(±1/√n),
 * 6 000 steps (150 epochs of the 4 000 training sequences). The reference's test accuracies: logistic
 * regression ≈ 32 %, MLP ≈ 68 %, CNN ≈ 94 %.
 *
 *   logistic  40 → 10
 *   mlp       40 → 100 → ReLU → (+ residual: h + ReLU(W h + b)) → 10
 *   cnn       three convolutions along the sequence (25 channels, kernels 5, 3, 3, stride 2, ReLU) → 125 → 10
 *
 * Differences from the reference: shuffled mini-batches (the reference walks the set in order), and the
 * convolutions pad "same" (40 → 20 → 10 → 5) where the reference pads 1 (40 → 19 → 10 → 5).
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import type { LabeledSet } from "../data/mnist";
import { datasetToTensors } from "../data/mnist";
import { makeMnist1d, Mnist1dData } from "../data/mnist1d";
import { Activation } from "../nn/activation";
import { Conv2D } from "../nn/conv";
import { Dense } from "../nn/dense";
import { Flatten } from "../nn/flatten";
import { heads } from "../nn/heads";
import { Layer } from "../nn/layer";
import { Network } from "../nn/network";
import { Residual } from "../nn/sequential";
import { adam } from "../scratch/optimizers";
import { train, accuracy, History } from "../train/train";

export const MNIST1D_MODELS = ["logistic", "mlp", "cnn"] as const;
export type Mnist1dModel = (typeof MNIST1D_MODELS)[number];
/** The reference's test accuracies (Greydanus 2020, README and paper), in %. */
export const MNIST1D_REFERENCE: Record<Mnist1dModel, number> = { logistic: 32, mlp: 68, cnn: 94 };

/** One of the reference models, weights from `rng`. The CNN reads sequences as [n, 1, 40, 1] images. */
export function mnist1dModel(kind: Mnist1dModel, rng: Rng, inputs = 40, classes = 10, hidden = 100, channels = 25): Network {
  const init = { init: "standardUniform" as const, rng };
  let layers: Layer[];
  let inputShape = [inputs];
  if (kind === "logistic") layers = [Dense.init(inputs, classes, init)];
  else if (kind === "mlp") {
    layers = [Dense.init(inputs, hidden, init), new Activation("relu"), new Residual([Dense.init(hidden, hidden, init), new Activation("relu")]), Dense.init(hidden, classes, init)];
  } else if (kind === "cnn") {
    const conv = (k: number, cin: number) => Conv2D.init([1, k], cin, channels, { stride: 2, padding: "same", ...init });
    const convs = [conv(5, 1), conv(3, channels), conv(3, channels)];
    let shape: [number, number, number] = [1, inputs, 1];
    for (const c of convs) shape = c.outputShape(shape);
    inputShape = [1, inputs, 1];
    layers = [convs[0], new Activation("relu"), convs[1], new Activation("relu"), convs[2], new Activation("relu"), new Flatten(), Dense.init(shape[0] * shape[1] * shape[2], classes, init)];
  } else throw new Error(`mnist1dModel: unknown model "${String(kind)}"; valid: ${MNIST1D_MODELS.join(", ")}`);
  return new Network(layers, heads.softmaxCrossEntropy(), { inputShape });
}

export interface Mnist1dRunOptions {
  kind: Mnist1dModel;
  /** Seed of the weights and of the mini-batch order. */
  seed: number;
  /** Epochs over the training set (default 150: the reference's 6 000 steps of 100). */
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** The data (default makeMnist1d(): 4 000 train / 1 000 test, seed 42). */
  data?: Mnist1dData;
  /** Called after each epoch (progress). */
  onEpoch?: (epoch: number) => void;
}

export interface Mnist1dRun {
  kind: Mnist1dModel;
  params: number;
  epochs: number;
  trainAccuracy: number;
  testAccuracy: number;
  /** Training loss and test accuracy after each epoch. */
  loss: number[];
  testCurve: number[];
}

const asInput = (kind: Mnist1dModel, set: LabeledSet) => {
  const d = datasetToTensors(set);
  if (kind !== "cnn") return d;
  const x = d.x.reshape([set.n, 1, set.features, 1]);
  d.x.dispose();
  return { ...d, x };
};

/** Trains one reference model on MNIST-1D and measures it (accuracies as fractions). */
export function runMnist1dBaseline(o: Mnist1dRunOptions): Mnist1dRun {
  const data = o.data ?? makeMnist1d();
  const rng = new Rng(o.seed);
  const model = mnist1dModel(o.kind, rng, data.train.features, data.train.numClasses);
  const trainSet = asInput(o.kind, data.train), testSet = asInput(o.kind, data.test);
  const measure = (set: { x: tf.Tensor; t: tf.Tensor2D }) => {
    const s = model.predict(set.x);
    try { return accuracy(s, set.t); } finally { s.dispose(); }
  };
  try {
    const testCurve: number[] = [];
    const history: History = train(model, trainSet, {
      epochs: o.epochs ?? 150, batchSize: o.batchSize ?? 100, optimizer: adam({ learningRate: o.learningRate ?? 1e-2 }), rng,
      logEvery: 0, progress: false,
      onEpoch: (s) => { testCurve.push(measure(testSet)); o.onEpoch?.(s.epoch); },
    });
    return {
      kind: o.kind, params: model.params.reduce((n, v) => n + v.size, 0), epochs: history.epochs,
      trainAccuracy: measure(trainSet), testAccuracy: measure(testSet), loss: history.loss, testCurve,
    };
  } finally {
    tf.dispose([trainSet, testSet] as unknown as tf.Tensor[]);
    model.dispose();
  }
}

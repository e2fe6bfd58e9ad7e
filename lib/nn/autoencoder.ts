/**
 * Autoencoders (seed 000: backprop on the identity with a narrower hidden layer; seed 003: undercomplete
 * and deep autoencoders, Hinton & Salakhutdinov 2006). Built from the one layer contract:
 *
 *   encoder    c = f(x):  Dense(d→h₁), g, Dense(h₁→h₂), g, ..., Dense(→k), g_code
 *   decoder    x̂ = r(c):  Dense(k→...), g, ..., Dense(h₁→d), then the head's output g_out
 *   loss       squared error  q = ½ Σ_i (x̂_i − x_i)²                       (g_out linear by default)
 *              cross-entropy  q = −Σ_i x_i log x̂_i + (1 − x_i) log(1 − x̂_i)  (pixels in [0, 1]; g_out sigmoid)
 *
 * The whole thing is a `Network` (encoder and decoder layers, then a reconstruction head) trained with the
 * usual loop on targets t = x: `bp.train(ae.network, { x, t: x }, ...)`. With `tied`, each decoder matrix is
 * the transpose of its encoder matrix (a `TiedPair` layer holds both uses). With `noise`, an `InputNoise`
 * layer first corrupts the input on every training pass (a denoising autoencoder: noisy in, clean out).
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { ActivationName, activation as lookupActivation } from "../scratch/activations";
import { InitChoice } from "../scratch/init";
import { adam, sgd } from "../scratch/optimizers";
import { train } from "../train/train";
import { Context, INFERENCE, Layer } from "./layer";
import { Dense } from "./dense";
import { Activation } from "./activation";
import { Sequential } from "./sequential";
import { LossHead, heads } from "./heads";
import { Network } from "./network";
import { TiedPair } from "./tied";
import { InputNoise, NoiseSpec, checkNoise } from "./noise";

export type ReconstructionLoss = "squaredError" | "crossEntropy";

/** The reconstruction head: ½ squared error of g_out(z) (linear by default), or sigmoid + cross-entropy. */
export function reconstructionHead(loss: ReconstructionLoss = "squaredError", output: ActivationName = "linear"): LossHead {
  if (loss === "squaredError") return heads.squaredError(output);
  if (loss === "crossEntropy") {
    if (output !== "linear" && output !== "sigmoid") throw new Error(`reconstructionHead: cross-entropy reconstructs pixels in [0, 1] through a sigmoid; drop output "${output}"`);
    return heads.sigmoidBinaryCrossEntropy();
  }
  throw new Error(`reconstructionHead: loss must be "squaredError" or "crossEntropy", got ${JSON.stringify(loss)}`);
}

/** Mean over samples of the squared reconstruction error per sample, Σ_i (x̂_i − x_i)² (no ½), in float64. */
export function reconstructionError(x: tf.Tensor2D, xHat: tf.Tensor2D): number {
  if (!tf.util.arraysEqual(x.shape, xHat.shape)) throw new Error(`reconstructionError: x is [${x.shape.join(", ")}] but x̂ is [${xHat.shape.join(", ")}]`);
  const a = x.dataSync(), b = xHat.dataSync();
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / x.shape[0];
}

export interface AutoencoderOptions {
  /** Widths from the input to the code: [d, h₁, ..., k] (at least [d, k]); the decoder mirrors them. */
  sizes: number[];
  /** g of the hidden layers, a registry name (default "sigmoid"). */
  activation?: ActivationName;
  /** g of the code layer (default: `activation`; "linear" for the linear autoencoder). */
  codeActivation?: ActivationName;
  /** Reconstruction loss (default "squaredError"). */
  loss?: ReconstructionLoss;
  /** Output g for squared error (default "linear"; cross-entropy always uses the sigmoid). */
  output?: ActivationName;
  /** W_dec = W_encᵀ for every layer (default false). */
  tied?: boolean;
  /** Corrupt the input in training (denoising). */
  noise?: NoiseSpec;
  /** Initial weights (default Glorot uniform), drawn from `rng`. */
  init?: InitChoice;
  rng?: Rng;
}

export class Autoencoder {
  /** What `train` trains: [noise?] encoder, decoder, and the reconstruction head; targets t = x. */
  readonly network: Network;
  /** x → c: Dense, g, ..., Dense, g_code (shared with `network`). */
  readonly encoder: Sequential;
  /** The decoder's matrices and biases, from the code up: x̂ = g_out(… g(c W + b) …). */
  private readonly decoderSteps: { W: () => tf.Tensor2D; b: tf.Variable; g?: Activation }[];
  readonly sizes: readonly number[];
  readonly tied: boolean;

  constructor(opts: AutoencoderOptions) {
    const sizes = opts.sizes;
    if (!Array.isArray(sizes) || sizes.length < 2 || !sizes.every((n) => Number.isInteger(n) && n > 0)) {
      throw new Error(`Autoencoder: sizes must be [inputs, ..., code], at least two positive integers, got ${JSON.stringify(sizes)}`);
    }
    const g = opts.activation ?? "sigmoid", gCode = opts.codeActivation ?? g;
    for (const name of [g, gCode]) if (lookupActivation(name).kind !== "elementwise" || name === "prelu") throw new Error(`Autoencoder: activation "${name}" is not supported here; use an elementwise one (sigmoid, tanh, relu, linear, ...)`);
    if (opts.noise) checkNoise("Autoencoder", opts.noise);
    this.sizes = sizes.slice();
    this.tied = opts.tied ?? false;
    const L = sizes.length - 1;
    const init = { init: opts.init, rng: opts.rng };
    const encDense = Array.from({ length: L }, (_, l) => Dense.init(sizes[l], sizes[l + 1], init));
    const encActs = encDense.map((_, l) => new Activation(l === L - 1 ? gCode : g));
    this.encoder = new Sequential(encDense.flatMap((d, l) => [d, encActs[l]]));
    const head = reconstructionHead(opts.loss, opts.output);

    let body: Layer[];
    if (this.tied) {
      // Innermost pair first: Tied(D_L, g_code), then Tied(D_{L-1}, [g, Tied(D_L, ...), g]), ...
      let inner: Layer = encActs[L - 1];
      const pairs: TiedPair[] = [];
      for (let l = L - 1; l >= 0; l--) {
        const pair = new TiedPair(encDense[l], inner);
        pairs.unshift(pair);
        if (l > 0) inner = new Sequential([encActs[l - 1], pair, new Activation(g)]);
      }
      body = [pairs[0]];
      this.decoderSteps = pairs.slice().reverse().map((p, j) => ({
        W: () => tf.transpose(p.encoder.params.W) as tf.Tensor2D,
        b: p.c,
        g: j < L - 1 ? new Activation(g) : undefined,
      }));
    } else {
      const decDense = Array.from({ length: L }, (_, j) => Dense.init(sizes[L - j], sizes[L - j - 1], init));
      const decoder: Layer[] = decDense.flatMap((d, j) => (j < L - 1 ? [d, new Activation(g)] : [d]));
      body = [this.encoder, ...decoder];
      this.decoderSteps = decDense.map((d, j) => ({ W: () => d.params.W as unknown as tf.Tensor2D, b: d.params.b, g: j < L - 1 ? (decoder[2 * j + 1] as Activation) : undefined }));
    }
    if (opts.noise) body.unshift(new InputNoise(opts.noise));
    this.network = new Network(body, head, { inputShape: [sizes[0]], outputSize: sizes[0] });
  }

  /** The encoder's Dense layers, input side first (their W are the tied decoder's too). */
  get encoderDense(): Dense[] {
    return this.encoder.layers.filter((l): l is Dense => l instanceof Dense);
  }

  /** The codes c = f(x) [N, k] at inference. The caller disposes them. */
  encode(x: tf.Tensor2D, ctx: Context = INFERENCE): tf.Tensor2D {
    return tf.tidy(() => this.encoder.forward(x, ctx).out as tf.Tensor2D);
  }

  /** x̂ = r(c), through the head's output g_out. The caller disposes it. */
  decode(c: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let s: tf.Tensor2D = c;
      for (const step of this.decoderSteps) {
        s = tf.add(tf.matMul(s, step.W()), step.b) as tf.Tensor2D;
        if (step.g) s = step.g.forward(s, INFERENCE).out as tf.Tensor2D;
      }
      return this.network.head.predict(s);
    });
  }

  /** x̂ = r(f(x)) at inference (no noise). The caller disposes it. */
  reconstruct(x: tf.Tensor2D): tf.Tensor2D {
    return this.network.predict(x);
  }

  /**
   * The decoder's last matrix transposed, [d, h₁]: its columns span every x̂ − c before g_out (for the
   * linear autoencoder, the subspace it reconstructs in, to compare with PCA's). The caller disposes it.
   */
  outputBasis(): tf.Tensor2D {
    return tf.tidy(() => tf.transpose(this.decoderSteps[this.decoderSteps.length - 1].W()) as tf.Tensor2D);
  }

  dispose(): void {
    this.network.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------
// Greedy layer-wise pretraining (seed 000: train, freeze, train the next one on the codes, drop decoders)
// ---------------------------------------------------------------------------------------------------

export interface PretrainOptions {
  rng: Rng;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Registry name of g in every layer (default "sigmoid"). */
  activation?: string;
  /** Denoising: corrupt each layer's input in training. */
  noise?: { kind: "mask" | "gaussian"; level: number };
  /** "sgd" (default, plain minibatch SGD as in Bengio et al. 2007) or "adam" (faster in few epochs). */
  optimizer?: "sgd" | "adam";
}

/** True when every entry of x is in [0, 1] (pixels, sigmoid codes): cross-entropy applies. */
function inUnitRange(x: tf.Tensor): boolean {
  return tf.tidy(() => tf.min(x).dataSync()[0] >= 0 && tf.max(x).dataSync()[0] <= 1);
}

/**
 * Greedy layer-wise pretraining: one autoencoder per hidden size, each trained on the codes of the one below, decoders dropped. Returns the encoder's layers (Dense, Activation, Dense, Activation, ...) ready for new Network([...layers, Dense.init(last, classes), ...], head) and fine-tuning. Synchronous (train() is).
 *
 * Each autoencoder is d → h → d with g in both layers; its loss is cross-entropy (sigmoid output) when its
 * input lies in [0, 1] (pixels, sigmoid codes), else squared error with a linear output. Training: minibatch
 * SGD (or Adam, `optimizer`) with `learningRate`, `epochs` passes, blocks of `batchSize`, shuffled by `rng`.
 */
export function pretrainAutoencoders(x: tf.Tensor2D, hiddenSizes: number[], options: PretrainOptions): Layer[] {
  if (x.rank !== 2) throw new Error(`pretrainAutoencoders: x should be [N, inputs], got [${x.shape.join(", ")}]`);
  if (!Array.isArray(hiddenSizes) || hiddenSizes.length === 0 || !hiddenSizes.every((n) => Number.isInteger(n) && n > 0)) {
    throw new Error(`pretrainAutoencoders: hiddenSizes must be a non-empty list of positive integers, got ${JSON.stringify(hiddenSizes)}`);
  }
  if (!(options?.rng instanceof Rng)) throw new Error("pretrainAutoencoders: give options.rng, e.g. new bp.Rng(1)");
  const g = (options.activation ?? "sigmoid") as ActivationName;
  const which = options.optimizer ?? "sgd";
  if (which !== "sgd" && which !== "adam") throw new Error(`pretrainAutoencoders: optimizer must be "sgd" or "adam", got ${JSON.stringify(which)}`);
  const layers: Layer[] = [];
  let input = x;
  try {
    for (const h of hiddenSizes) {
      const loss: ReconstructionLoss = inUnitRange(input) ? "crossEntropy" : "squaredError";
      const ae = new Autoencoder({ sizes: [input.shape[1], h], activation: g, loss, noise: options.noise, rng: options.rng });
      train(ae.network, { x: input, t: input }, {
        epochs: options.epochs, batchSize: options.batchSize, optimizer: which === "sgd" ? sgd({ learningRate: options.learningRate }) : adam({ learningRate: options.learningRate }),
        rng: options.rng, logEvery: 0, progress: false, accuracy: false,
      });
      // Keep the encoder (copies: disposing the autoencoder frees its variables), drop the decoder.
      const [d] = ae.encoderDense;
      const kept = new Dense(tf.variable(d.params.W.clone()), tf.variable(d.params.b.clone()));
      layers.push(kept, new Activation(g));
      const next = ae.encode(input);
      ae.dispose();
      if (input !== x) input.dispose();
      input = next;
    }
  } finally {
    if (input !== x) input.dispose();
  }
  return layers;
}

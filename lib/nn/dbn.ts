/**
 * Deep belief net pretraining (Hinton, Osindero & Teh 2006; lecture 11): train an RBM on the data, then a second
 * RBM on the first one's hidden probabilities p(h|v), and so on, greedily, one layer at a time. Unrolled, the
 * stack is a feed-forward net of the one layer contract: Dense(W, a) + sigmoid per RBM, whose forward pass is
 * exactly the stack of p(h|v); an output layer on top and backprop on everything fine-tune it.
 *
 * `pretrainRbms` has the signature of the autoencoder pretrainer (lecture 10), so an experiment can swap them.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { Activation } from "./activation";
import { PretrainOptions } from "./autoencoder";
import { Dense } from "./dense";
import { Layer } from "./layer";
import { Rbm } from "./rbm";
import { VisibleUnits } from "./rbm-exact";
import { RbmHistory, trainRbm } from "./rbm-train";

/** The autoencoder pretrainer's options (activation must be sigmoid, no noise, optimizer ignored) and the RBM recipe. */
export interface RbmPretrainOptions extends Omit<PretrainOptions, "onLayer"> {
  /** Gibbs steps per update (default 1). */
  k?: number;
  persistent?: boolean;
  momentum?: number;
  weightDecay?: number;
  /** Visible units of the first RBM (default "bernoulli"; the layers above are always Bernoulli). */
  visible?: VisibleUnits;
  /** Learning rate of a Gaussian first RBM (default learningRate / 10). */
  gaussianLearningRate?: number;
  /** Called with each trained RBM and its curves (the autoencoder pretrainer's hook passes codes instead). */
  onLayer?: (depth: number, rbm: Rbm, history: RbmHistory) => void;
}

/** Greedy layer-wise RBM training on the rows of x; returns the unrolled layers [Dense, sigmoid, Dense, sigmoid, ...]. */
export function pretrainRbms(x: tf.Tensor2D, hiddenSizes: number[], options: RbmPretrainOptions): Layer[] {
  const rbms = trainRbmStack(x, hiddenSizes, options);
  const layers = unrollRbms(rbms);
  rbms.forEach((r) => r.dispose());
  return layers;
}

/** The greedy stack itself: RBM l is trained on p(h|v) of RBM l−1 (the data for the first). */
export function trainRbmStack(x: tf.Tensor2D, hiddenSizes: number[], options: RbmPretrainOptions): Rbm[] {
  if (!(options?.rng instanceof Rng)) throw new Error("pretrainRbms: pass { rng } (a bp.Rng) so that pretraining is reproducible");
  if (options.activation !== undefined && options.activation !== "sigmoid") {
    throw new Error(`pretrainRbms: RBM hidden units are sigmoid (p(h=1|v) = σ(vW + a)); drop activation "${options.activation}" or use the autoencoder pretrainer`);
  }
  if (options.noise !== undefined) throw new Error("pretrainRbms: RBMs take no input noise (their sampling is the noise); drop the noise option");
  if (x.rank !== 2) throw new Error(`pretrainRbms: x should be [N, inputs], got [${x.shape}]`);
  if (hiddenSizes.length === 0 || hiddenSizes.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`pretrainRbms: hiddenSizes must list at least one layer width (whole numbers ≥ 1), got [${hiddenSizes}]`);
  }
  const rbms: Rbm[] = [];
  let input = x;
  hiddenSizes.forEach((units, l) => {
    const visible = l === 0 ? options.visible ?? "bernoulli" : "bernoulli";
    const rbm = Rbm.init(input.shape[1], units, { rng: options.rng, visible, data: input });
    const history = trainRbm(rbm, input, {
      rng: options.rng, epochs: options.epochs, batchSize: options.batchSize,
      learningRate: visible === "gaussian" ? options.gaussianLearningRate ?? options.learningRate / 10 : options.learningRate,
      k: options.k, persistent: options.persistent, momentum: options.momentum, weightDecay: options.weightDecay,
    });
    options.onLayer?.(l + 1, rbm, history);
    rbms.push(rbm);
    const next = rbm.hiddenProbs(input);
    if (input !== x) input.dispose();
    input = next;
  });
  if (input !== x) input.dispose();
  return rbms;
}

/** Dense(W, a) + sigmoid for each RBM, with copies of its weights and hidden biases: forward = the stack of p(h|v). */
export function unrollRbms(rbms: readonly Rbm[]): Layer[] {
  rbms.forEach((r, l) => {
    if (l > 0 && r.visibleUnits !== rbms[l - 1].hiddenUnits) {
      throw new Error(`unrollRbms: RBM ${l + 1} has ${r.visibleUnits} visible units but RBM ${l} has ${rbms[l - 1].hiddenUnits} hidden ones`);
    }
  });
  return rbms.flatMap((r) => [new Dense(tf.variable(r.W.clone()), tf.variable(r.a.clone())), new Activation("sigmoid")]);
}

/**
 * Transfer learning with the layers of this library (seed 003: "reuse some layers and fine-tune the
 * layers of interest"): freeze layers, give the lower layers a smaller learning rate, cut a network at a
 * layer and put a new head on it.
 *
 *   frozen layer      θ_l is not updated and ∂q/∂θ_l is not asked for: the network's backward stops at
 *                     the lowest trainable layer (below it nothing needs ∂q/∂s)
 *   per-layer rate    θ_l ← θ_l + c_l Δθ_l, Δθ_l the optimizer's own step: SGD with rate c_l ε on layer l
 *                     (for momentum and Adam too: their step is linear in ε)
 *
 * Freezing lives in the Network (its `params` leave the frozen layers out, so every optimizer and
 * `train()` skip them); the calls here say it in the lecture's words. A frozen BatchNorm still moves
 * its running averages in training mode (it is not in LeNet-5 or the MLPs the lecture transfers).
 */
import * as tf from "@tensorflow/tfjs";
import { Layer, INFERENCE } from "./layer";
import { Network } from "./network";
import { LossHead } from "./heads";
import { GradientAt, Optimizer } from "../scratch/optimizers";

/** Indices of the layers that have parameters (LeNet-5: C1, C3, F5, F6 and the output layer). */
export function parametricLayers(net: Network): number[] {
  return net.layers.flatMap((l, k) => (Object.keys(l.params).length > 0 ? [k] : []));
}

/**
 * Freezes the first `l` layers with parameters (and the parameter-free layers among them); the others
 * train. `freezeFirst(net, 0)` unfreezes everything. Returns the frozen layer indices.
 */
export function freezeFirst(net: Network, l: number): number[] {
  const withParams = parametricLayers(net);
  if (!Number.isInteger(l) || l < 0 || l > withParams.length) {
    throw new Error(`freezeFirst: l must be an integer in 0..${withParams.length} (the layers with parameters), got ${l}`);
  }
  unfreeze(net);
  const upTo = l === 0 ? -1 : withParams[l - 1];
  const frozen = Array.from({ length: upTo + 1 }, (_, k) => k);
  net.setFrozen(frozen, true);
  return frozen;
}

/** Freezes the layers at `indices` (or every layer when none are given). */
export function freeze(net: Network, indices?: readonly number[]): void {
  net.setFrozen(indices ?? net.layers.map((_, k) => k), true);
}

/** Unfreezes the layers at `indices` (or every layer when none are given). */
export function unfreeze(net: Network, indices?: readonly number[]): void {
  net.setFrozen(indices ?? net.layers.map((_, k) => k), false);
}

/** Number of parameters that train and that are frozen. */
export function countParams(net: Network): { trainable: number; frozen: number } {
  const all = Object.values(net.allParams).reduce((s, p) => s + p.size, 0);
  const trainable = net.params.reduce((s, p) => s + p.size, 0);
  return { trainable, frozen: all - trainable };
}

/** A learning-rate factor per layer index: an array (missing entries 1) or a function. */
export type LayerRates = readonly number[] | ((layer: number) => number);

/**
 * `opt` with the learning rate of layer k multiplied by `rates[k]` (fine-tuning: 0.1 below, 1 for the new
 * head). It scales each entry of the optimizer's step θ_new − θ, which for SGD, momentum and Adam is the
 * same as running them with the rate c_k ε on that layer. (Look-ahead Nesterov takes its gradient at the
 * unscaled look-ahead point.) Works with any network state: the factors are read from the trainable
 * parameters at every step.
 */
export function layerRates(opt: Optimizer, net: Network, rates: LayerRates): Optimizer {
  const factor = (k: number) => {
    const c = typeof rates === "function" ? rates(k) : rates[k] ?? 1;
    if (!(typeof c === "number" && c >= 0 && Number.isFinite(c))) throw new Error(`layerRates: the factor of layer ${k} must be a number ≥ 0, got ${c}`);
    return c;
  };
  return {
    name: `${opt.name} × per-layer rates`,
    get iterations() {
      return opt.iterations;
    },
    currentLearningRate: () => opt.currentLearningRate(),
    step(theta: Float64Array, gradientAt: GradientAt) {
      const scale = new Float64Array(theta.length);
      let at = 0;
      net.params.forEach((p, i) => {
        scale.fill(factor(Number(net.paramNames[i].split(".")[0])), at, at + p.size);
        at += p.size;
      });
      if (at !== theta.length) throw new Error(`layerRates: θ has ${theta.length} entries but the network's trainable parameters ${at}; wrap the optimizer of this network`);
      const old = Float64Array.from(theta);
      opt.step(theta, gradientAt);
      for (let i = 0; i < theta.length; i++) theta[i] = old[i] + scale[i] * (theta[i] - old[i]);
    },
    reset: () => opt.reset(),
  };
}

/** The layers below index `at` (shared with `net`, not copies): the feature extractor. */
export function layersBelow(net: Network, at: number): Layer[] {
  if (!Number.isInteger(at) || at < 1 || at > net.layers.length) {
    throw new Error(`cut: the cut must be a layer index in 1..${net.layers.length} (keep the layers below it), got ${at}`);
  }
  return net.layers.slice(0, at);
}

/** Shape of one sample after the layers below `at`, e.g. [84] after LeNet-5's F6 and its activation. */
export function featureShape(net: Network, at: number): number[] {
  const below = layersBelow(net, at);
  return tf.tidy(() => {
    let s: tf.Tensor = tf.zeros([1, ...net.inputShape]);
    for (const l of below) s = l.forward(s, INFERENCE).out;
    return s.shape.slice(1);
  });
}

/** What the layers below `at` make of x, at inference: the features a new head sees. The caller disposes it. */
export function featuresAt(net: Network, at: number, x: tf.Tensor): tf.Tensor {
  const below = layersBelow(net, at);
  return tf.tidy(() => below.reduce((s, l) => l.forward(s, INFERENCE).out, x));
}

/**
 * A new network: the layers of `net` below `at` (shared, and frozen where they were) and `head` on top,
 * with `lossHead` (default: net's). Dispose only one of the two networks, or load a fresh copy of the
 * source for each new network (loadWeights) so that training one does not move the other.
 */
export function cut(net: Network, at: number, head: readonly Layer[], lossHead: LossHead = net.head): Network {
  const below = layersBelow(net, at);
  if (head.length === 0) throw new Error("cut: give the new head's layers, e.g. [Dense.init(84, 5, { rng })]");
  const out = new Network([...below, ...head], lossHead, { inputShape: net.inputShape });
  out.setFrozen(net.frozen.filter((k) => k < at), true);
  return out;
}

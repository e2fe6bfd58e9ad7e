/**
 * Input corruption for denoising autoencoders (Vincent et al. 2008): the network sees a corrupted x̃ and
 * is asked for the clean x. Two kinds, with `level`:
 *
 *   mask       x̃_i = x_i · m_i,   m_i ~ Bernoulli(1 − level)     (a fraction `level` of the inputs set to 0)
 *   gaussian   x̃_i = x_i + ε_i,   ε_i ~ N(0, level²)
 *
 * As a layer (`InputNoise`, first in the network) it draws fresh noise on every training pass from ctx.rng
 * and is the identity at inference; backward: ∂q/∂x = ∂q/∂x̃ ⊙ m (mask) or ∂q/∂x̃ (gaussian).
 * Unlike dropout, masking does not rescale the kept inputs: the target is the clean x, not its mean.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { Context, Layer, NO_GRADS, checkContext } from "./layer";
import { dropoutMask } from "./dropout";

export interface NoiseSpec {
  kind: "mask" | "gaussian";
  /** mask: the fraction of inputs zeroed, in [0, 1); gaussian: the standard deviation, ≥ 0. */
  level: number;
}

export function checkNoise(where: string, noise: NoiseSpec): void {
  if (!noise || (noise.kind !== "mask" && noise.kind !== "gaussian")) {
    throw new Error(`${where}: noise.kind must be "mask" or "gaussian", got ${JSON.stringify(noise?.kind)}`);
  }
  const ok = noise.kind === "mask" ? noise.level >= 0 && noise.level < 1 : noise.level >= 0;
  if (!Number.isFinite(noise.level) || !ok) {
    throw new Error(`${where}: noise.level must be ${noise.kind === "mask" ? "a fraction in [0, 1)" : "a standard deviation ≥ 0"}, got ${noise.level}`);
  }
}

/** x̃ = x ⊙ m (mask) or x + ε (gaussian), and the mask (null for gaussian). */
function draw(x: tf.Tensor, noise: NoiseSpec, rng: Rng): { out: tf.Tensor; mask: tf.Tensor | null } {
  if (noise.kind === "mask") {
    const mask = dropoutMask(x.shape, 1 - noise.level, rng);
    return { out: tf.mul(x, mask), mask };
  }
  return { out: tf.tidy(() => tf.add(x, rng.normalTensor(x.shape, 0, noise.level))), mask: null };
}

/** A corrupted copy of x (for figures and evaluation); the caller disposes it. */
export function corrupt(x: tf.Tensor, noise: NoiseSpec, rng: Rng): tf.Tensor {
  checkNoise("corrupt", noise);
  const { out, mask } = draw(x, noise, rng);
  mask?.dispose();
  return out;
}

export class InputNoise implements Layer<tf.Tensor | null> {
  readonly name: string;
  readonly params = {};

  constructor(readonly noise: NoiseSpec) {
    checkNoise("InputNoise", noise);
    this.name = `Noise(${noise.kind}, ${noise.level})`;
  }

  /** x̃ in training (fresh noise from ctx.rng), x at inference. */
  forward(x: tf.Tensor, ctx: Context): { out: tf.Tensor; cache: tf.Tensor | null } {
    checkContext(this.name, ctx);
    if (!ctx.training || this.noise.level === 0) return { out: tf.clone(x), cache: null };
    if (!ctx.rng) throw new Error(`${this.name}: a training pass needs the generator: bp.nn.trainingContext(rng)`);
    const { out, mask } = draw(x, this.noise, ctx.rng);
    return { out, cache: mask };
  }

  backward(dout: tf.Tensor, mask: tf.Tensor | null) {
    return { dx: mask ? tf.mul(dout, mask) : tf.clone(dout), grads: NO_GRADS };
  }

  dispose(): void {}
}

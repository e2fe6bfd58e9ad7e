/**
 * The deep MLP of lecture 07's experiments, built as a Network: `depth` hidden layers of `width` units,
 * each Dense → [BatchNorm] → g, optionally with residual connections around hidden layers 2..depth, and a
 * softmax + cross-entropy head:
 *
 *   layer 1:        h¹ = g(BN(x W¹ + b¹))                          inputs → width
 *   layers 2..K:    hˡ = g(BN(hˡ⁻¹ Wˡ + bˡ)) [+ hˡ⁻¹ if residual]   width → width
 *   output:         z = h^K W^{K+1} + b^{K+1},  S = softmax(z)
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { Layer, Context, trainingContext } from "./layer";
import { Dense } from "./dense";
import { Activation } from "./activation";
import { BatchNorm, BatchNormOptions } from "./normalization";
import { Residual } from "./sequential";
import { heads } from "./heads";
import { Network } from "./network";

/** The activations this net offers. */
export type DeepActivation = "sigmoid" | "tanh" | "relu";
const DEEP_ACTIVATIONS: readonly DeepActivation[] = ["sigmoid", "tanh", "relu"];

export interface DeepMlpSpec {
  inputs: number;
  /** Units of every hidden layer. */
  width: number;
  /** Number of hidden layers (≥ 1). */
  depth: number;
  outputs: number;
  /** g of the hidden layers (default "sigmoid"). */
  activation?: DeepActivation;
  /** Batch normalization before every hidden activation. */
  batchNorm?: boolean;
  /** Skip connections around hidden layers 2..depth. */
  residual?: boolean;
  /**
   * Weights ~ N(0, (gain)² · 2/(fan_in + fan_out)): gain 1 is Glorot normal; larger gains make the
   * forward signal and the gradients grow layer by layer (the exploding case).
   */
  gain?: number;
  /** Options of the batch-norm layers (default momentum 0.9). */
  batchNormOptions?: BatchNormOptions;
  rng: Rng;
}

export class DeepMlp extends Network {
  readonly description: string;
  /** ‖∂q/∂Wˡ‖ of each Dense layer (hidden layers, then output) from the last lossAndGrads. */
  lastGradNorms: number[] = [];
  private readonly kernelIndex: number[];

  constructor(spec: DeepMlpSpec) {
    const { inputs, width, depth, outputs, rng } = spec;
    for (const [k, v] of Object.entries({ inputs, width, depth, outputs })) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`DeepMlp: ${k} must be a positive integer, got ${v}`);
    }
    if (!(rng instanceof Rng)) throw new Error("DeepMlp: pass a seeded Rng (rng) so the weights are reproducible");
    const act = spec.activation ?? "sigmoid";
    if (!DEEP_ACTIVATIONS.includes(act)) throw new Error(`DeepMlp: activation must be one of ${DEEP_ACTIVATIONS.join(", ")}, got "${act}"`);
    const gain = spec.gain ?? 1;
    if (!(gain > 0)) throw new Error(`DeepMlp: gain must be positive, got ${gain}`);
    const dense = (fanIn: number, fanOut: number) => new Dense(
      tf.tidy(() => tf.variable(rng.normalTensor([fanIn, fanOut], 0, gain * Math.sqrt(2 / (fanIn + fanOut))))),
      tf.tidy(() => tf.variable(tf.zeros([fanOut]))),
    );
    const layers: Layer[] = [];
    for (let l = 0; l < depth; l++) {
      const block: Layer[] = [dense(l === 0 ? inputs : width, width)];
      if (spec.batchNorm) block.push(new BatchNorm(width, { momentum: 0.9, ...spec.batchNormOptions }));
      block.push(new Activation(act));
      if (spec.residual && l > 0) layers.push(new Residual(block));
      else layers.push(...block);
    }
    layers.push(dense(width, outputs));
    super(layers, heads.softmaxCrossEntropy(), { inputShape: [inputs], outputSize: outputs });
    this.kernelIndex = this.paramNames.flatMap((n, k) => (n.endsWith(".W") ? [k] : []));
    this.description = `${depth}×${width} ${act}${spec.batchNorm ? " + BN" : ""}${spec.residual ? " + residual" : ""}`;
  }

  /** The Network's lossAndGrads, recording ‖∂q/∂Wˡ‖ per layer in `lastGradNorms`. */
  override lossAndGrads(x: tf.Tensor, t: tf.Tensor2D, ctx: Context = trainingContext()): { loss: tf.Scalar; grads: tf.Tensor[] } {
    const result = super.lossAndGrads(x, t, ctx);
    this.lastGradNorms = this.kernelIndex.map((k) => tf.tidy(() => tf.norm(result.grads[k]).dataSync()[0]));
    return result;
  }
}

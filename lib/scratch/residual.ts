/**
 * A deep MLP for lecture 07's experiments, in matrix form with hand-written backward (tfjs ops), with
 * optional batch normalization and residual (skip) connections (seed 002, "Conexión residual": if a block
 * computes s → f(s) with f(s) the same size as s, the residual connection makes it s → f(s) + s).
 *
 *   layer 1:        h¹ = g(BN(x W¹ + b¹))                       inputs → width
 *   layers 2..L-1:  hˡ = g(BN(hˡ⁻¹ Wˡ + bˡ)) [+ hˡ⁻¹ if residual]  width → width
 *   output:         z = h^{L-1} W^L + b^L, softmax + cross-entropy
 *
 * Backward of a residual block: the gradient reaching hˡ goes both through f and straight to hˡ⁻¹, so
 * ∂q/∂hˡ⁻¹ = (∂q/∂hˡ) (∂f/∂hˡ⁻¹) + ∂q/∂hˡ: the identity path carries it down undiminished.
 *
 * It has the training loop's Model shape (params, predict, loss, lossAndGrads), so the scratch optimizers
 * drive it with `stepVariables`.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { BatchNorm, BatchNormMode, NormCache, disposeCache } from "./norm";
import { activations, ElementwiseActivation } from "./activations";

/** The activations this net offers; g and g' come from the shared registry in ./activations. */
export type DeepActivation = "sigmoid" | "tanh" | "relu";
const DEEP_ACTIVATIONS: readonly DeepActivation[] = ["sigmoid", "tanh", "relu"];
const ACT = activations as { readonly [K in DeepActivation]: ElementwiseActivation };

/** N(0, std²) entries from the seeded generator, as a float32 [rows, cols] tensor. */
function normalMatrix(rng: Rng, rows: number, cols: number, std: number): tf.Tensor2D {
  return rng.normalTensor([rows, cols], 0, std) as tf.Tensor2D;
}

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
  /** Running-average momentum of the batch-norm layers (default 0.9). */
  bnMomentum?: number;
  rng: Rng;
}

interface HiddenLayer {
  W: tf.Variable;
  b: tf.Variable;
  bn?: BatchNorm;
  skip: boolean;
}

export interface ForwardRecord {
  /** Inputs of each hidden activation g (after batch norm where there is one), when asked for. */
  preActivations: Float32Array[];
}

export class DeepMlp {
  readonly params: tf.Variable[];
  readonly inputSize: number;
  readonly outputSize: number;
  readonly name: string;
  private readonly hidden: HiddenLayer[];
  private readonly out: { W: tf.Variable; b: tf.Variable };
  private readonly act: DeepActivation;
  /** ‖∂q/∂Wˡ‖ of each layer (hidden layers, then output) from the last lossAndGrads. */
  lastGradNorms: number[] = [];

  constructor(spec: DeepMlpSpec) {
    const { inputs, width, depth, outputs, rng } = spec;
    for (const [k, v] of Object.entries({ inputs, width, depth, outputs })) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`DeepMlp: ${k} must be a positive integer, got ${v}`);
    }
    if (!(rng instanceof Rng)) throw new Error("DeepMlp: pass a seeded Rng (rng) so the weights are reproducible");
    this.act = spec.activation ?? "sigmoid";
    if (!DEEP_ACTIVATIONS.includes(this.act)) throw new Error(`DeepMlp: activation must be one of ${DEEP_ACTIVATIONS.join(", ")}, got "${this.act}"`);
    const gain = spec.gain ?? 1;
    if (!(gain > 0)) throw new Error(`DeepMlp: gain must be positive, got ${gain}`);
    const dense = (fanIn: number, fanOut: number) => ({
      // Created inside tidy so the initial tensors (copied into the variables) are released.
      W: tf.tidy(() => tf.variable(normalMatrix(rng, fanIn, fanOut, gain * Math.sqrt(2 / (fanIn + fanOut))))),
      b: tf.tidy(() => tf.variable(tf.zeros([fanOut]))),
    });
    this.hidden = Array.from({ length: depth }, (_, l) => ({
      ...dense(l === 0 ? inputs : width, width),
      bn: spec.batchNorm ? new BatchNorm(width, { momentum: spec.bnMomentum ?? 0.9 }) : undefined,
      skip: Boolean(spec.residual) && l > 0,
    }));
    this.out = dense(width, outputs);
    this.params = [...this.hidden.flatMap((h) => [h.W, h.b, ...(h.bn ? [h.bn.gamma, h.bn.beta] : [])]), this.out.W, this.out.b];
    this.inputSize = inputs;
    this.outputSize = outputs;
    this.name = `${depth}×${width} ${this.act}${spec.batchNorm ? " + BN" : ""}${spec.residual ? " + residual" : ""}`;
  }

  /** Logits for x [N, inputs]; BN mode "inference" by default. Optionally records the pre-activations. */
  logits(x: tf.Tensor2D, mode: BatchNormMode = "inference", record?: ForwardRecord): tf.Tensor2D {
    return tf.tidy(() => {
      let h: tf.Tensor2D = x;
      for (const layer of this.hidden) {
        let u = tf.add(tf.matMul(h, layer.W), layer.b) as tf.Tensor2D;
        if (layer.bn) {
          const f = layer.bn.forward(u, mode);
          disposeCache(f.cache);
          u = f.out;
        }
        if (record) record.preActivations.push(u.dataSync() as Float32Array);
        const a = ACT[this.act].tensor(u) as tf.Tensor2D;
        h = layer.skip ? (tf.add(h, a) as tf.Tensor2D) : a;
      }
      return tf.add(tf.matMul(h, this.out.W), this.out.b) as tf.Tensor2D;
    });
  }

  /** Class probabilities (inference mode). The caller disposes the result. */
  predict(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.softmax(this.logits(x)));
  }

  /** Mean cross-entropy over the batch (inference mode). */
  loss(x: tf.Tensor2D, t: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => tf.losses.softmaxCrossEntropy(t, this.logits(x)) as tf.Scalar);
  }

  /** Fraction of rows whose arg-max matches `labels` (int32 [N]); BN in `mode`. */
  accuracy(x: tf.Tensor2D, labels: tf.Tensor1D, mode: BatchNormMode = "inference"): number {
    return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(this.logits(x, mode), 1), labels), "float32")).dataSync()[0]);
  }

  /**
   * Training-mode forward and hand-written backward: mean cross-entropy and ∂q/∂p for every p of `params`
   * (same order). Updates the BN running averages. Records ‖∂q/∂Wˡ‖ in `lastGradNorms`.
   */
  lossAndGrads(x: tf.Tensor2D, t: tf.Tensor2D, record?: ForwardRecord): { loss: tf.Scalar; grads: tf.Tensor[] } {
    const caches: NormCache[] = [];
    const result = tf.tidy(() => {
      const inputs: tf.Tensor2D[] = [], us: tf.Tensor2D[] = [];
      let h: tf.Tensor2D = x;
      for (const layer of this.hidden) {
        inputs.push(h);
        let u = tf.add(tf.matMul(h, layer.W), layer.b) as tf.Tensor2D;
        if (layer.bn) {
          const f = layer.bn.forward(u, "train");
          caches.push(f.cache);
          u = f.out;
        }
        if (record) record.preActivations.push(u.dataSync() as Float32Array);
        const a = ACT[this.act].tensor(u) as tf.Tensor2D;
        us.push(u);
        h = layer.skip ? (tf.add(h, a) as tf.Tensor2D) : a;
      }
      const logits = tf.add(tf.matMul(h, this.out.W), this.out.b) as tf.Tensor2D;
      const loss = tf.losses.softmaxCrossEntropy(t, logits) as tf.Scalar;
      // Backward. Output layer: ∂q/∂z = (softmax(z) - t)/N.
      const dz = tf.div(tf.sub(tf.softmax(logits), t), x.shape[0]) as tf.Tensor2D;
      const gradsOut = [tf.matMul(tf.transpose(h), dz), tf.sum(dz, 0)];
      let dh = tf.matMul(dz, tf.transpose(this.out.W)) as tf.Tensor2D;
      const gradsHidden: tf.Tensor[][] = [];
      let c = caches.length;
      for (let l = this.hidden.length - 1; l >= 0; l--) {
        const layer = this.hidden[l];
        let du = tf.mul(dh, ACT[this.act].tensorPrime(us[l])) as tf.Tensor2D;
        const bnGrads: tf.Tensor[] = [];
        if (layer.bn) {
          const back = layer.bn.backward(du, caches[--c]);
          du = back.dx;
          bnGrads.push(back.dgamma, back.dbeta);
        }
        gradsHidden.unshift([tf.matMul(tf.transpose(inputs[l]), du), tf.sum(du, 0), ...bnGrads]);
        const down = tf.matMul(du, tf.transpose(layer.W)) as tf.Tensor2D;
        dh = layer.skip ? (tf.add(down, dh) as tf.Tensor2D) : down;
      }
      return { loss, grads: [...gradsHidden.flat(), ...gradsOut] };
    });
    caches.forEach(disposeCache);
    let k = 0;
    this.lastGradNorms = [];
    for (const layer of this.hidden) {
      this.lastGradNorms.push(tf.tidy(() => tf.norm(result.grads[k]).dataSync()[0]));
      k += layer.bn ? 4 : 2;
    }
    this.lastGradNorms.push(tf.tidy(() => tf.norm(result.grads[k]).dataSync()[0]));
    return result;
  }

  dispose(): void {
    tf.dispose(this.params);
    for (const h of this.hidden) h.bn?.dispose();
  }
}

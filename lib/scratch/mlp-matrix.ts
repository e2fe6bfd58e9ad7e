/**
 * The MLP in matrix form: a batch X [N, M_0] flows through layers as whole matrices with tfjs ops, and the
 * backward pass is written by hand, layer by layer, with the layer contract of CS231n:
 *   forward(x)          -> { out, cache }
 *   backward(dout, cache) -> { dx, grads }      (dout = ∂q/∂out, dx = ∂q/∂x, grads = ∂q/∂params)
 * In matrix form the lecture's per-unit formulas become, for a batch (rows are samples):
 *   Φ^l = S^{l-1} W^l + b^l,  S^l = g(Φ^l)
 *   ∂q/∂Φ^l = ∂q/∂S^l ⊙ g'(Φ^l)         (= -δ^l of the lecture, one row per sample)
 *   ∂q/∂W^l = (S^{l-1})ᵀ ∂q/∂Φ^l,  ∂q/∂b^l = Σ_rows ∂q/∂Φ^l,  ∂q/∂S^{l-1} = ∂q/∂Φ^l (W^l)ᵀ
 * Transposes are explicit (tf.transpose then matMul): matMul's transpose flags are ~10x slower on wasm.
 */
import * as tf from "@tensorflow/tfjs";
import { activations, ActivationName } from "./activations";
import { losses, isFusedOutput } from "./losses";
import { MlpSpec, FullMlpSpec, MlpWeights, fullSpec, checkWeights, layerCount, layerActivation } from "./init";
import { Model, checkBatch } from "../train/model";

/** A layer with a hand-written backward pass. */
export interface Layer<C = unknown> {
  /** Its trainable parameters (possibly none). */
  readonly params: tf.Variable[];
  /** out = layer(x), and what backward will need. */
  forward(x: tf.Tensor2D): { out: tf.Tensor2D; cache: C };
  /** From dout = ∂q/∂out: dx = ∂q/∂x and ∂q/∂p for each p of params (same order). */
  backward(dout: tf.Tensor2D, cache: C): { dx: tf.Tensor2D; grads: tf.Tensor[] };
}

/** Affine layer Φ = X W + b (W is [inputs, units], a tfjs Dense kernel). */
export class Dense implements Layer<tf.Tensor2D> {
  readonly params: tf.Variable[];
  constructor(readonly W: tf.Variable, readonly b: tf.Variable) {
    this.params = [W, b];
  }
  /** out = x W + b; caches x. */
  forward(x: tf.Tensor2D) {
    return { out: tf.add(tf.matMul(x, this.W), this.b) as tf.Tensor2D, cache: x };
  }
  /** dx = dout Wᵀ, dW = xᵀ dout, db = Σ_rows dout. */
  backward(dout: tf.Tensor2D, x: tf.Tensor2D) {
    return { dx: tf.matMul(dout, tf.transpose(this.W)) as tf.Tensor2D, grads: this.paramGrads(dout, x) };
  }
  /** ∂q/∂W = Xᵗ·dout and ∂q/∂b = Σ dout, without ∂q/∂X (which the first layer does not need). */
  paramGrads(dout: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor[] {
    return [tf.matMul(tf.transpose(x), dout), tf.sum(dout, 0)];
  }
}

/** Activation layer S = g(Φ) for any activation of the registry; PReLU's α is its parameter. */
export class ActivationLayer implements Layer<tf.Tensor2D> {
  readonly params: tf.Variable[];
  /**
   * `alpha`: the slope of leakyRelu/elu (a number) or PReLU's learned α (a variable, one per unit);
   * `pieces`: maxout's k.
   */
  constructor(readonly name: ActivationName, readonly alpha: number | tf.Variable, readonly pieces: number) {
    this.params = alpha instanceof tf.Variable ? [alpha] : [];
  }
  /** out = g(z); caches z. */
  forward(z: tf.Tensor2D) {
    const act = activations[this.name];
    const out = act.kind === "elementwise" ? act.tensor(z, this.alpha) : act.tensor(z, this.pieces);
    return { out: out as tf.Tensor2D, cache: z };
  }
  /** dz = dout ⊙ g'(z) (elementwise) or Jᵀ dout (softmax, maxout); PReLU adds dα = Σ_rows dout ⊙ ∂g/∂α. */
  backward(dout: tf.Tensor2D, z: tf.Tensor2D) {
    const act = activations[this.name];
    if (act.kind === "vector") return { dx: act.tensorBackward(z, dout, this.pieces), grads: [] };
    const dx = tf.mul(dout, act.tensorPrime(z, this.alpha)) as tf.Tensor2D;
    const grads = this.params.length > 0 ? [tf.sum(tf.mul(dout, act.tensorAlphaPrime!(z)), 0)] : [];
    return { dx, grads };
  }
}

/** Tensors of one layer of the shared weights format. */
export interface LayerVariables {
  W: tf.Variable;
  b: tf.Variable;
  alpha?: tf.Variable;
}

/**
 * The parameters of an MLP in the order every tensor implementation uses: W^1, b^1, [α^1], W^2, b^2, ...
 * Turns a list in that order (the parameters or their gradients) into the shared weights format.
 */
export function weightsFromTensors(spec: MlpSpec, tensors: tf.Tensor[]): MlpWeights {
  const full = fullSpec(spec);
  const out: MlpWeights = [];
  let k = 0;
  const next = () => {
    if (k >= tensors.length) throw new Error(`weightsFromTensors: ran out of tensors at ${k}; expected W, b (and α for PReLU) per layer`);
    return tensors[k++];
  };
  for (let l = 1; l <= layerCount(full); l++) {
    const W = next().arraySync() as number[][];
    const b = next().arraySync() as number[];
    out.push(layerActivation(full, l) === "prelu" ? { W, b, alpha: next().arraySync() as number[] } : { W, b });
  }
  if (k !== tensors.length) throw new Error(`weightsFromTensors: ${tensors.length} tensors for ${k} parameters of sizes ${JSON.stringify(full.sizes)}`);
  return out;
}

/**
 * Shared base of the tensor MLPs (matrix, autodiff): the spec, the weights as float32 variables, and
 * everything but the way gradients are computed.
 */
export abstract class TensorMlp implements Model {
  readonly spec: FullMlpSpec;
  readonly vars: LayerVariables[];
  readonly params: tf.Variable[];
  readonly inputSize: number;
  readonly outputSize: number;

  constructor(spec: MlpSpec, weights: MlpWeights) {
    this.spec = fullSpec(spec);
    checkWeights(this.spec, weights);
    this.inputSize = this.spec.sizes[0];
    this.outputSize = this.spec.sizes[this.spec.sizes.length - 1];
    // Inside tidy the initial tensors are freed; variables are never tidied away.
    this.vars = tf.tidy(() => weights.map(({ W, b, alpha }) => ({
      W: tf.variable(tf.tensor2d(W, undefined, "float32")),
      b: tf.variable(tf.tensor1d(b, "float32")),
      ...(alpha ? { alpha: tf.variable(tf.tensor1d(alpha, "float32")) } : {}),
    })));
    this.params = this.vars.flatMap(({ W, b, alpha }) => (alpha ? [W, b, alpha] : [W, b]));
  }

  /** Outputs s^L for a batch. */
  abstract predict(x: tf.Tensor2D): tf.Tensor2D;
  /** Mean loss and its gradient for every parameter (order of `params`). */
  abstract lossAndGrads(x: tf.Tensor2D, t: tf.Tensor2D): { loss: tf.Scalar; grads: tf.Tensor[] };

  /** Mean loss q_S over the batch. */
  loss(x: tf.Tensor2D, t: tf.Tensor2D): tf.Scalar {
    checkBatch("loss", this, x, t);
    return tf.tidy(() => losses[this.spec.loss].tensor(this.predict(x), t));
  }

  /** The weights in the shared format (float32 values as numbers). */
  getWeights(): MlpWeights {
    return weightsFromTensors(this.spec, this.params);
  }

  /** Loads weights in the shared format. */
  setWeights(weights: MlpWeights): void {
    checkWeights(this.spec, weights);
    weights.forEach(({ W, b, alpha }, l) => {
      const v = this.vars[l];
      tf.tidy(() => {
        v.W.assign(tf.tensor2d(W, undefined, "float32"));
        v.b.assign(tf.tensor1d(b, "float32"));
        if (alpha && v.alpha) v.alpha.assign(tf.tensor1d(alpha, "float32"));
      });
    });
  }

  /** Frees the variables. */
  dispose(): void {
    this.params.forEach((p) => p.dispose());
  }
}

/** The MLP as a stack of layers with hand-written backward passes. */
export class MatrixMlp extends TensorMlp {
  /** Dense^1, g^1, Dense^2, g^2, ..., Dense^L, g^L. */
  readonly layers: Layer[];

  /** An MLP for `spec` holding float32 variables initialized from `weights` (shared format). */
  constructor(spec: MlpSpec, weights: MlpWeights) {
    super(spec, weights);
    this.layers = this.vars.flatMap((v, k) => [
      new Dense(v.W, v.b),
      new ActivationLayer(layerActivation(this.spec, k + 1), v.alpha ?? this.spec.alpha, this.spec.pieces),
    ]);
  }

  /** Forward through every layer; the caches are what `backward` needs. */
  forward(x: tf.Tensor2D): { out: tf.Tensor2D; caches: unknown[] } {
    checkBatch("MatrixMlp.forward", this, x);
    const caches: unknown[] = [];
    let out = x;
    for (const layer of this.layers) {
      const r = layer.forward(out);
      caches.push(r.cache);
      out = r.out;
    }
    return { out, caches };
  }

  /**
   * Backward from dout = ∂q/∂(output of layer `from`) down to the first layer; returns ∂q/∂params in the
   * order of `params`. `from` defaults to the last layer.
   */
  backward(dout: tf.Tensor2D, caches: unknown[], from = this.layers.length - 1): tf.Tensor[] {
    const perLayer: tf.Tensor[][] = this.layers.map(() => []);
    let d = dout;
    for (let k = from; k >= 0; k--) {
      const layer = this.layers[k];
      // Nothing uses ∂q/∂X of the input layer; skipping it saves a third of the backward work on MNIST.
      if (k === 0 && layer instanceof Dense) {
        perLayer[0] = layer.paramGrads(d, caches[0] as tf.Tensor2D);
        break;
      }
      const r = layer.backward(d, caches[k]);
      perLayer[k] = r.grads;
      d = r.dx;
    }
    return perLayer.flat();
  }

  /** Outputs s^L for a batch. */
  predict(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.forward(x).out);
  }

  /**
   * Mean loss and gradients by the hand-written backward pass. With softmax + cross-entropy (or sigmoid +
   * binary cross-entropy) ∂q_S/∂Φ^L = (S^L - T)/N goes straight into the last Dense layer.
   */
  lossAndGrads(x: tf.Tensor2D, t: tf.Tensor2D): { loss: tf.Scalar; grads: tf.Tensor[] } {
    checkBatch("MatrixMlp.lossAndGrads", this, x, t);
    return tf.tidy(() => {
      const { out, caches } = this.forward(x);
      const q = losses[this.spec.loss];
      const loss = q.tensor(out, t);
      const last = this.layers.length - 1;
      const grads = isFusedOutput(this.spec.output, this.spec.loss)
        ? this.backward(tf.div(tf.sub(out, t), x.shape[0]) as tf.Tensor2D, caches, last - 1)
        : this.backward(q.tensorGrad(out, t), caches, last);
      return { loss, grads };
    });
  }
}

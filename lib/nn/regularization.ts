/**
 * Parameter-norm penalties and max-norm (seed 003, "Regularización"): the objective becomes
 *
 *   J̃(Θ) = J(Θ) + α Ω(w)
 *
 *   L2 (weight decay)   Ω = ½ wᵀw       ∇_w J̃ = α w + ∇_w J
 *   L1                  Ω = Σ_i |w_i|    ∇_w J̃ = α sign(w) + ∇_w J
 *
 * applied to the weights w (the kernels "W"), not to the biases. One SGD step on the L2 objective is
 *
 *   w ← w − ε(α w + ∇_w J) = (1 − εα) w − ε ∇_w J
 *
 * the weight-decay form: `weightDecay(optimizer, …)` applies (1 − εα) to w directly after any optimizer's
 * step. For SGD the two are the same update; for Adam, RMSProp and AdaGrad they are not (the penalty's α w
 * is divided by √r̂ like the rest of the gradient; decoupled decay is not — Loshchilov & Hutter's AdamW).
 *
 * Max-norm (Srebro & Shraibman 2005; Srivastava et al. 2014 use it with dropout): after every update, each
 * unit's incoming weight vector w_j (a column of W [inputs, units]) is projected onto the ball ‖w_j‖ ≤ c:
 *
 *   w_j ← w_j · min(1, c / ‖w_j‖)
 */
import * as tf from "@tensorflow/tfjs";
import { Optimizer, GradientAt } from "../scratch/optimizers";
import { Context, INFERENCE, trainingContext } from "./layer";
import type { Network } from "./network";
import type { Model } from "../train/model";

/** Which parameters a penalty or constraint acts on, by name ("0.W", "2.b", ...). Default: the kernels "…W". */
export type ParamSelector = (name: string) => boolean;
export const isWeight: ParamSelector = (name) => name.split(".").pop() === "W";

/** Indices (in net.params) of the selected parameters. */
export function selectedParams(net: Pick<Network, "paramNames">, select: ParamSelector = isWeight): number[] {
  const idx = net.paramNames.flatMap((n, k) => (select(n) ? [k] : []));
  if (idx.length === 0) throw new Error(`no parameter matches the selector among ${net.paramNames.join(", ")}`);
  return idx;
}

/** L2 penalty of the tensors ws: value (α/2) Σ w², gradient α w (one per tensor). */
export function l2Penalty(ws: readonly tf.Tensor[], alpha: number): { value: tf.Scalar; grads: tf.Tensor[] } {
  return tf.tidy(() => ({
    value: tf.mul(alpha / 2, tf.addN(ws.map((w) => tf.sum(tf.square(w))))) as tf.Scalar,
    grads: ws.map((w) => tf.mul(alpha, w)),
  }));
}

/** L1 penalty of the tensors ws: value α Σ |w|, (sub)gradient α sign(w) (0 at w = 0). */
export function l1Penalty(ws: readonly tf.Tensor[], alpha: number): { value: tf.Scalar; grads: tf.Tensor[] } {
  return tf.tidy(() => ({
    value: tf.mul(alpha, tf.addN(ws.map((w) => tf.sum(tf.abs(w))))) as tf.Scalar,
    grads: ws.map((w) => tf.mul(alpha, tf.sign(w))),
  }));
}

export interface PenaltyOptions {
  /** α of the L2 penalty (α/2)‖w‖². */
  l2?: number;
  /** α of the L1 penalty α‖w‖₁. */
  l1?: number;
  /** Which parameters are penalized (default the kernels "…W"). */
  select?: ParamSelector;
}

/**
 * A network trained on J̃ = J + α Ω: `lossAndGrads` (what `train` calls) adds the penalty's value and
 * gradient; `loss` and `predict` are the network's own, so the curves `train` records are the data loss
 * J on training and validation alike (comparable with an unpenalized net). `penalty()` is α Ω now.
 */
export class Regularized implements Model {
  readonly params: tf.Variable[];
  readonly inputShape: readonly number[];
  readonly outputSize: number;
  readonly name: string;
  private readonly picked: number[];

  constructor(readonly net: Network, readonly opts: PenaltyOptions) {
    const { l2 = 0, l1 = 0 } = opts;
    if (!(l2 >= 0) || !(l1 >= 0) || l1 + l2 === 0) throw new Error(`Regularized: give l2 and/or l1 ≥ 0 (not both 0), got l2=${opts.l2}, l1=${opts.l1}`);
    this.params = net.params;
    this.inputShape = net.inputShape;
    this.outputSize = net.outputSize;
    this.picked = selectedParams(net, opts.select);
    this.name = [l2 > 0 ? `L2(α=${l2})` : "", l1 > 0 ? `L1(α=${l1})` : ""].filter(Boolean).join(" + ");
  }

  predict(x: tf.Tensor): tf.Tensor2D {
    return this.net.predict(x);
  }

  loss(x: tf.Tensor, t: tf.Tensor2D, ctx: Context = INFERENCE): tf.Scalar {
    return this.net.loss(x, t, ctx);
  }

  /** α Ω(w) and its gradient for each selected parameter (index in params → gradient). */
  private penaltyTerms(): { value: tf.Scalar; grads: Map<number, tf.Tensor> } {
    const ws = this.picked.map((k) => this.params[k]);
    const parts = [
      ...(this.opts.l2 ? [l2Penalty(ws, this.opts.l2)] : []),
      ...(this.opts.l1 ? [l1Penalty(ws, this.opts.l1)] : []),
    ];
    const value = tf.addN(parts.map((p) => p.value)) as tf.Scalar;
    const grads = new Map(this.picked.map((k, i) => [k, tf.addN(parts.map((p) => p.grads[i]))]));
    return { value, grads };
  }

  /** α Ω(w) now, a number. */
  penalty(): number {
    return tf.tidy(() => this.penaltyTerms().value.dataSync()[0]);
  }

  /** J̃ and ∇J̃ = ∇J + α ∇Ω. */
  lossAndGrads(x: tf.Tensor, t: tf.Tensor2D, ctx: Context = trainingContext()): { loss: tf.Scalar; grads: tf.Tensor[] } {
    return tf.tidy(() => {
      const base = this.net.lossAndGrads(x, t, ctx);
      const pen = this.penaltyTerms();
      const grads = base.grads.map((g, k) => (pen.grads.has(k) ? tf.add(g, pen.grads.get(k)!) : g));
      return { loss: tf.add(base.loss, pen.value) as tf.Scalar, grads };
    });
  }
}

/** 1 at the entries of the selected parameters in the flat θ that optimizers see (params in order, row-major). */
export function weightMask(net: Pick<Network, "params" | "paramNames">, select: ParamSelector = isWeight): Float64Array {
  const total = net.params.reduce((s, p) => s + p.size, 0);
  const mask = new Float64Array(total);
  let offset = 0;
  net.params.forEach((p, k) => {
    if (select(net.paramNames[k])) mask.fill(1, offset, offset + p.size);
    offset += p.size;
  });
  return mask;
}

/**
 * Weight decay in the update: after the optimizer's own step, w ← w − ε_k α w_old on the entries where
 * mask = 1 (ε_k the step's learning rate, w_old the weights before the step). With SGD this is exactly
 * w ← (1 − εα) w − ε∇J, the L2 penalty's update; with an adaptive optimizer it is decoupled decay.
 */
export function weightDecay(opt: Optimizer, opts: { alpha: number; mask: Float64Array }): Optimizer {
  const { alpha, mask } = opts;
  if (!(alpha >= 0)) throw new Error(`weightDecay: α must be ≥ 0, got ${alpha}`);
  return {
    name: `${opt.name} + decay(α=${alpha})`,
    get iterations() {
      return opt.iterations;
    },
    currentLearningRate: () => opt.currentLearningRate(),
    step(theta: Float64Array, gradientAt: GradientAt) {
      if (mask.length !== theta.length) throw new Error(`weightDecay: the mask has ${mask.length} entries, θ has ${theta.length}`);
      const eps = opt.currentLearningRate();
      const old = Float64Array.from(theta);
      opt.step(theta, gradientAt);
      for (let i = 0; i < theta.length; i++) if (mask[i]) theta[i] -= eps * alpha * old[i];
    },
    reset: () => opt.reset(),
  };
}

/** Max-norm of a kernel W [inputs, units]: each column w_j ← w_j · min(1, c/‖w_j‖). */
export function maxNormTensor(W: tf.Tensor2D, c: number): tf.Tensor2D {
  return tf.tidy(() => {
    const norms = tf.sqrt(tf.sum(tf.square(W), 0, true));
    return tf.mul(W, tf.minimum(1, tf.div(c, tf.maximum(norms, 1e-30)))) as tf.Tensor2D;
  });
}

/**
 * The max-norm projection on the flat θ: for every selected 2-D kernel W [inputs, units] (row-major in θ),
 * each column onto ‖w_j‖ ≤ c. Returns the number of columns it shrank.
 */
export function maxNormProjection(net: Pick<Network, "params" | "paramNames">, c: number, select: ParamSelector = isWeight): (theta: Float64Array) => number {
  if (!(c > 0)) throw new Error(`maxNorm: c must be > 0, got ${c}`);
  const blocks: { offset: number; rows: number; cols: number }[] = [];
  let offset = 0;
  net.params.forEach((p, k) => {
    if (select(net.paramNames[k])) {
      if (p.rank !== 2) throw new Error(`maxNorm: ${net.paramNames[k]} is [${p.shape.join(", ")}]; max-norm here takes 2-D kernels [inputs, units]`);
      const [rows, cols] = p.shape as [number, number];
      blocks.push({ offset, rows, cols });
    }
    offset += p.size;
  });
  return (theta) => {
    let shrunk = 0;
    for (const { offset, rows, cols } of blocks) {
      for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let i = 0; i < rows; i++) s += theta[offset + i * cols + j] ** 2;
        const norm = Math.sqrt(s);
        if (norm <= c) continue;
        const f = c / norm;
        for (let i = 0; i < rows; i++) theta[offset + i * cols + j] *= f;
        shrunk++;
      }
    }
    return shrunk;
  };
}

/** An optimizer whose every step is followed by `project(θ)` (a constraint such as max-norm). */
export function constrained(opt: Optimizer, project: (theta: Float64Array) => unknown, label = "constraint"): Optimizer {
  return {
    name: `${opt.name} + ${label}`,
    get iterations() {
      return opt.iterations;
    },
    currentLearningRate: () => opt.currentLearningRate(),
    step(theta: Float64Array, gradientAt: GradientAt) {
      opt.step(theta, gradientAt);
      project(theta);
    },
    reset: () => opt.reset(),
  };
}

/** `opt` followed by the max-norm projection of `net`'s kernels onto ‖w_j‖ ≤ c. */
export function maxNorm(opt: Optimizer, net: Pick<Network, "params" | "paramNames">, c: number, select?: ParamSelector): Optimizer {
  return constrained(opt, maxNormProjection(net, c, select), `maxNorm(c=${c})`);
}

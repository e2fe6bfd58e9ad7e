/**
 * A restricted Boltzmann machine in tensor form, for training (lecture 11; notation of seed 003 and of the
 * float64 form in rbm-exact.ts): rows of V [N, I] are visible vectors, W [I, J] (the kernel of a Dense layer),
 * b [I] visible biases, a [J] hidden biases.
 *
 *   p(h = 1 | v) = σ(v W + a)          E[v | h] = σ(h Wᵀ + b)  (Bernoulli)   or   h Wᵀ + b  (Gaussian, variance 1)
 *   F(v) = −v·b − Σ_j softplus(v W + a)_j      (Gaussian: ½|v − b|² instead of −v·b)
 *
 * Learning follows ∂ log p(v)/∂w_ij = E_data[v_i h_j] − E_model[v_i h_j]. CD-k replaces the model's
 * expectation by the end of a k-step block Gibbs chain started at the data (h ~ p(h|v), v ~ p(v|h), k times);
 * PCD keeps the chains between updates instead of restarting them at the data. Both phases use the hidden
 * probabilities p(h|v), not samples: same expectation, less noise.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { RbmGradient, RbmParams, VisibleUnits, VISIBLE_UNITS } from "./rbm-exact";

/** A CD-k (or PCD) estimate of the log-likelihood gradient, as tensors, and where the chains ended. */
export interface RbmTensorGradient {
  W: tf.Tensor2D;
  b: tf.Tensor1D;
  a: tf.Tensor1D;
  /** The chains' last visible states (the persistent chains of PCD). */
  chainEnd: tf.Tensor2D;
}

export class Rbm {
  readonly W: tf.Variable<tf.Rank.R2>;
  readonly b: tf.Variable<tf.Rank.R1>;
  readonly a: tf.Variable<tf.Rank.R1>;
  readonly visibleUnits: number;
  readonly hiddenUnits: number;
  readonly name: string;

  /** From W [I, J], b [I] (visible) and a [J] (hidden); arrays and tensors are copied into new variables. */
  constructor(W: tf.Tensor2D | number[][], b: tf.Tensor1D | number[], a: tf.Tensor1D | number[], readonly visible: VisibleUnits = "bernoulli") {
    if (!VISIBLE_UNITS.includes(visible)) throw new Error(`Rbm: visible must be one of ${VISIBLE_UNITS.join(", ")}, got "${visible}"`);
    [this.W, this.b, this.a] = tf.tidy(() => [
      tf.variable(Array.isArray(W) ? tf.tensor2d(W, undefined, "float32") : W.clone()),
      tf.variable(Array.isArray(b) ? tf.tensor1d(b, "float32") : b.clone()),
      tf.variable(Array.isArray(a) ? tf.tensor1d(a, "float32") : a.clone()),
    ]) as [tf.Variable<tf.Rank.R2>, tf.Variable<tf.Rank.R1>, tf.Variable<tf.Rank.R1>];
    if (this.W.rank !== 2 || this.b.shape[0] !== this.W.shape[0] || this.a.shape[0] !== this.W.shape[1]) {
      const shapes = `[${this.W.shape}], [${this.b.shape}], [${this.a.shape}]`;
      this.dispose();
      throw new Error(`Rbm: W must be [I, J] with b [I] and a [J], got ${shapes}`);
    }
    [this.visibleUnits, this.hiddenUnits] = this.W.shape;
    this.name = `RBM(${visible === "gaussian" ? "Gauss" : "Bern"} ${this.visibleUnits}→${this.hiddenUnits})`;
  }

  /**
   * Small random weights N(0, std²) (default std 0.01, Hinton's guide), zero hidden biases, and visible biases
   * log(p/(1−p)) of the data's mean activation when `data` is given (Bernoulli), else 0.
   */
  static init(visibleUnits: number, hiddenUnits: number, opts: { rng: Rng; visible?: VisibleUnits; std?: number; data?: tf.Tensor2D }): Rbm {
    if (!(opts?.rng instanceof Rng)) throw new Error("Rbm.init: pass { rng } (a bp.Rng, e.g. from bp.setup) so that the weights are reproducible");
    const visible = opts.visible ?? "bernoulli";
    const [W, b] = tf.tidy(() => {
      const W = opts.rng.normalTensor([visibleUnits, hiddenUnits], 0, opts.std ?? 0.01) as tf.Tensor2D;
      if (!opts.data) return [W, tf.zeros([visibleUnits]) as tf.Tensor1D];
      if (visible === "gaussian") return [W, tf.mean(opts.data, 0) as tf.Tensor1D];
      const m = tf.clipByValue(tf.mean(opts.data, 0), 1e-3, 1 - 1e-3);
      return [W, tf.log(tf.div(m, tf.sub(1, m))) as tf.Tensor1D];
    });
    const a = tf.zeros([hiddenUnits]) as tf.Tensor1D;
    const rbm = new Rbm(W, b, a, visible);
    tf.dispose([W, b, a]);
    return rbm;
  }

  /** From the float64 form (for the small exact checks). */
  static fromParams(p: RbmParams): Rbm {
    return new Rbm(p.W, p.b, p.a, p.visible ?? "bernoulli");
  }

  /** The float64 form of the current parameters. */
  toParams(): RbmParams {
    return { W: this.W.arraySync(), b: this.b.arraySync(), a: this.a.arraySync(), visible: this.visible };
  }

  private checkV(where: string, v: tf.Tensor): tf.Tensor2D {
    if (v.rank !== 2 || v.shape[1] !== this.visibleUnits) throw new Error(`${this.name}.${where}: v should be [N, ${this.visibleUnits}], got [${v.shape}]`);
    return v as tf.Tensor2D;
  }

  /** p(h = 1 | v) = σ(v W + a), [N, J]. */
  hiddenProbs(v: tf.Tensor2D): tf.Tensor2D {
    this.checkV("hiddenProbs", v);
    return tf.tidy(() => tf.sigmoid(tf.add(tf.matMul(v, this.W), this.a)) as tf.Tensor2D);
  }

  /** E[v | h]: σ(h Wᵀ + b) for Bernoulli units, h Wᵀ + b for Gaussian ones, [N, I]. */
  visibleMean(h: tf.Tensor2D): tf.Tensor2D {
    if (h.rank !== 2 || h.shape[1] !== this.hiddenUnits) throw new Error(`${this.name}.visibleMean: h should be [N, ${this.hiddenUnits}], got [${h.shape}]`);
    return tf.tidy(() => {
      const x = tf.add(tf.matMul(h, tf.transpose(this.W)), this.b) as tf.Tensor2D;
      return this.visible === "gaussian" ? x : tf.sigmoid(x);
    });
  }

  /** h ~ p(h | v): 1 where a uniform draw falls below p(h_j = 1 | v). */
  sampleHidden(v: tf.Tensor2D, rng: Rng): tf.Tensor2D {
    return tf.tidy(() => bernoulliSample(this.hiddenProbs(v), rng));
  }

  /** v ~ p(v | h): Bernoulli draws, or the mean plus N(0, 1) noise for Gaussian units. */
  sampleVisible(h: tf.Tensor2D, rng: Rng): tf.Tensor2D {
    return tf.tidy(() => {
      const m = this.visibleMean(h);
      return this.visible === "gaussian" ? tf.add(m, rng.normalTensor(m.shape)) : bernoulliSample(m, rng);
    });
  }

  /** k steps of block Gibbs sampling from v: h ~ p(h|v), v ~ p(v|h), k times; returns the last v. */
  gibbs(v: tf.Tensor2D, k: number, rng: Rng): tf.Tensor2D {
    this.checkV("gibbs", v);
    if (!Number.isInteger(k) || k < 0) throw new Error(`${this.name}.gibbs: k must be a whole number of steps ≥ 0, got ${k}`);
    let x = v.clone();
    for (let step = 0; step < k; step++) {
      const next = tf.tidy(() => this.sampleVisible(this.sampleHidden(x, rng), rng));
      x.dispose();
      x = next;
    }
    return x;
  }

  /** F(v) for every row, [N]. */
  freeEnergy(v: tf.Tensor2D): tf.Tensor1D {
    this.checkV("freeEnergy", v);
    return tf.tidy(() => {
      const hidden = tf.sum(tf.softplus(tf.add(tf.matMul(v, this.W), this.a)), 1);
      const visible = this.visible === "gaussian"
        ? tf.mul(0.5, tf.sum(tf.square(tf.sub(v, this.b)), 1))
        : tf.neg(tf.sum(tf.mul(v, this.b), 1));
      return tf.sub(visible, hidden) as tf.Tensor1D;
    });
  }

  /**
   * The CD-k estimate of ∂ mean log p(v)/∂θ on the batch v0: positive phase v0ᵀ p(h|v0)/N minus negative phase
   * v_kᵀ p(h|v_k)/N, with v_k the end of a k-step Gibbs chain from v0, or from `chains` (PCD's persistent
   * chains, any number of rows).
   */
  cdGradient(v0: tf.Tensor2D, opts: { k: number; rng: Rng; chains?: tf.Tensor2D }): RbmTensorGradient {
    this.checkV("cdGradient", v0);
    const vk = this.gibbs(opts.chains ?? v0, opts.k, opts.rng);
    const grads = tf.tidy(() => {
      const ph0 = this.hiddenProbs(v0);
      const phk = this.hiddenProbs(vk);
      const n0 = v0.shape[0], nk = vk.shape[0];
      const positive = tf.div(tf.matMul(tf.transpose(v0), ph0), n0);
      const negative = tf.div(tf.matMul(tf.transpose(vk), phk), nk);
      return {
        W: tf.sub(positive, negative) as tf.Tensor2D,
        b: tf.sub(tf.mean(v0, 0), tf.mean(vk, 0)) as tf.Tensor1D,
        a: tf.sub(tf.mean(ph0, 0), tf.mean(phk, 0)) as tf.Tensor1D,
      };
    });
    return { ...grads, chainEnd: vk };
  }

  /**
   * Mean squared reconstruction error of the rows of v (per unit): v against E[v | h] with h = p(h | v), the
   * usual (and only indirect) monitor of RBM training.
   */
  reconstructionError(v: tf.Tensor2D): number {
    return tf.tidy(() => tf.mean(tf.square(tf.sub(v, this.visibleMean(this.hiddenProbs(v))))).dataSync()[0]);
  }

  /**
   * Pseudo-log-likelihood per example, Σ_i log p(v_i | v_{−i}), estimated as in scikit-learn: for each row one
   * unit i (drawn by rng, or given in `units`) is flipped and I · log σ(F(ṽ) − F(v)) is averaged over the rows.
   * Its expectation over i is the exact sum. Bernoulli visible units only.
   */
  pseudoLogLikelihood(v: tf.Tensor2D, opts: { rng?: Rng; units?: number[] }): number {
    this.checkV("pseudoLogLikelihood", v);
    if (this.visible !== "bernoulli") throw new Error(`${this.name}.pseudoLogLikelihood: needs Bernoulli visible units; use the reconstruction error for Gaussian ones`);
    const n = v.shape[0], I = this.visibleUnits;
    const units = opts.units ?? (opts.rng ? Array.from({ length: n }, () => opts.rng!.int(0, I)) : undefined);
    if (!units || units.length !== n || units.some((i) => !Number.isInteger(i) || i < 0 || i >= I)) {
      throw new Error(`${this.name}.pseudoLogLikelihood: pass { rng } or { units } with one unit index in 0..${I - 1} per row`);
    }
    return tf.tidy(() => {
      const mask = tf.oneHot(tf.tensor1d(units, "int32"), I).toFloat();
      const flipped = tf.add(tf.mul(v, tf.sub(1, mask)), tf.mul(tf.sub(1, v), mask)) as tf.Tensor2D;
      const delta = tf.sub(this.freeEnergy(flipped), this.freeEnergy(v));
      return tf.mul(I, tf.mean(tf.logSigmoid(delta))).dataSync()[0];
    });
  }

  /** Frees the variables. */
  dispose(): void {
    tf.dispose([this.W, this.b, this.a]);
  }
}

/** 1 where a uniform draw falls below p, else 0. */
export function bernoulliSample(p: tf.Tensor2D, rng: Rng): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.less(rng.uniformTensor(p.shape), p), "float32") as tf.Tensor2D);
}

/** The float64 form of a tensor gradient (for comparisons with the exact one). */
export function gradientToArrays(g: Pick<RbmTensorGradient, "W" | "b" | "a">): RbmGradient {
  return { W: g.W.arraySync(), b: g.b.arraySync(), a: g.a.arraySync() };
}

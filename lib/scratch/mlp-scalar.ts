/**
 * The multilayer perceptron and BackProp exactly as the lecture writes them (seed 002, "Algoritmo
 * BACKPROP"), unit by unit, with plain numbers in float64. Slow on purpose: it is the reference the matrix,
 * autodiff and tf.layers versions are checked against, and it reads next to the formulas.
 *
 * Notation (indices are the lecture's, so arrays keep an unused slot 0 where the lecture starts at 1):
 *   s^0 = x, and s^l_0 = 1 for every layer (homogeneous coordinates: θ^l_i0 is the bias/threshold);
 *   φ^l_i = Σ_{j=0}^{M_{l-1}} θ^l_ij s^{l-1}_j            pre-activation of unit i of layer l
 *   s^l_i = g(φ^l_i)                                      its output
 *   δ^L_i = g'(φ^L_i) (t_i - s^L_i)                       output layer, squared error
 *   δ^l_i = g'(φ^l_i) Σ_r δ^{l+1}_r θ^{l+1}_ri             hidden layers
 *   ∂q_n/∂θ^l_ij = -δ^l_i s^{l-1}_j,   q_S = (1/N) Σ_n q_n,   Δθ^l_ij = -ρ ∂q_S/∂θ^l_ij
 * For other losses the output's error term t_i - s^L_i becomes e^L_i = -∂q_n/∂s^L_i; with softmax +
 * cross-entropy (or sigmoid + binary cross-entropy) δ^L_i simplifies to t_i - s^L_i again.
 * Softmax and maxout are not unit by unit: δ^l = Jᵀ e^l with their Jacobian J (see activations.ts).
 */
import { ACTIVATIONS, ElementwiseActivation } from "./activations";
import { LOSSES, isFusedOutput } from "./losses";
import { MlpSpec, FullMlpSpec, MlpWeights, fullSpec, checkWeights, layerCount, layerActivation, layerWidth } from "./init";

/** Everything the forward pass computes for one sample, indexed as in the lecture. */
export interface ScalarForward {
  /** φ[l][i], l = 1..L, i = 1..(units·pieces); φ[0] and φ[l][0] unused. */
  phi: number[][];
  /** s[l][i], l = 0..L, i = 0..M_l, with s[l][0] = 1 and s[0] = (1, x_1, ..., x_M0). */
  s: number[][];
}

/** The loss q_S and its gradient ∂q_S/∂Θ in the shared weights format. */
export interface ScalarGradients {
  loss: number;
  grads: MlpWeights;
}

export class ScalarMlp {
  readonly spec: FullMlpSpec;
  /** L, the number of layers with weights. */
  readonly L: number;
  /** θ[l][i][j]: weight from unit j of layer l-1 to unit i of layer l (j = 0: bias). θ[0], θ[l][0] unused. */
  theta: number[][][] = [];
  /** α[l][i]: PReLU slope of unit i of layer l (empty for other layers). */
  alpha: number[][] = [];

  /** An MLP for `spec` holding a float64 copy of `weights` (shared format, see init.ts). */
  constructor(spec: MlpSpec, weights: MlpWeights) {
    this.spec = fullSpec(spec);
    this.L = layerCount(this.spec);
    this.setWeights(weights);
  }

  /** Loads weights in the shared format: θ^l_i0 = b[i-1], θ^l_ij = W[j-1][i-1]. */
  setWeights(weights: MlpWeights): void {
    checkWeights(this.spec, weights);
    this.theta = [[]];
    this.alpha = [[]];
    for (let l = 1; l <= this.L; l++) {
      const { W, b, alpha } = weights[l - 1];
      const rows: number[][] = [[]];
      for (let i = 1; i <= b.length; i++) rows.push([b[i - 1], ...W.map((row) => row[i - 1])]);
      this.theta.push(rows);
      this.alpha.push(alpha ? [Number.NaN, ...alpha] : []);
    }
  }

  /** The weights in the shared format (a copy). */
  getWeights(): MlpWeights {
    return this.toShared(this.theta, this.alpha);
  }

  /** Forward pass for one sample x (length M_0): every φ^l_i and s^l_i. */
  forward(x: readonly number[]): ScalarForward {
    const M = this.spec.sizes;
    if (x.length !== M[0]) throw new Error(`ScalarMlp.forward: x has ${x.length} values, expected M_0 = ${M[0]}`);
    const s: number[][] = [[1, ...x]];
    const phi: number[][] = [[]];
    for (let l = 1; l <= this.L; l++) {
      const act = ACTIVATIONS[layerActivation(this.spec, l)];
      const width = layerWidth(this.spec, l);
      phi[l] = [Number.NaN];
      for (let i = 1; i <= width; i++) {
        let sum = 0;
        for (let j = 0; j <= M[l - 1]; j++) sum += this.theta[l][i][j] * s[l - 1][j]; // φ^l_i = Σ_j θ^l_ij s^{l-1}_j
        phi[l][i] = sum;
      }
      s[l] = [1];
      if (act.kind === "elementwise") {
        for (let i = 1; i <= M[l]; i++) s[l][i] = act.g(phi[l][i], this.alphaOf(l, i)); // s^l_i = g(φ^l_i)
      } else {
        s[l].push(...act.g(phi[l].slice(1), this.spec.pieces)); // s^l = g(φ^l) as a whole vector
      }
    }
    return { phi, s };
  }

  /** The network's outputs s^L_1..s^L_{M_L} for one sample. */
  predict(x: readonly number[]): number[] {
    return this.forward(x).s[this.L].slice(1);
  }

  /** q_S(Θ) = (1/N) Σ_n q_n(Θ) over samples X (N × M_0) with targets T (N × M_L). */
  loss(X: readonly (readonly number[])[], T: readonly (readonly number[])[]): number {
    this.checkData(X, T);
    const q = LOSSES[this.spec.loss];
    let total = 0;
    for (let n = 0; n < X.length; n++) total += q.q(this.predict(X[n]), T[n]);
    return total / X.length;
  }

  /**
   * BackProp over the samples X, T: q_S and ∂q_S/∂θ^l_ij = -(1/N) Σ_n δ^l_i(x_n) s^{l-1}_j(x_n)
   * (plus ∂q_S/∂α for PReLU layers), returned in the shared weights format.
   */
  backprop(X: readonly (readonly number[])[], T: readonly (readonly number[])[]): ScalarGradients {
    this.checkData(X, T);
    const M = this.spec.sizes, L = this.L, N = X.length;
    const q = LOSSES[this.spec.loss];
    const fused = isFusedOutput(this.spec.output, this.spec.loss);
    // dTheta[l][i][j] accumulates ∂q_S/∂θ^l_ij; dAlpha[l][i] accumulates ∂q_S/∂α^l_i.
    const dTheta = this.theta.map((layer) => layer.map((row) => row.map(() => 0)));
    const dAlpha = this.alpha.map((layer) => layer.map(() => 0));
    let total = 0;

    for (let n = 0; n < N; n++) {
      const { phi, s } = this.forward(X[n]);
      const t = T[n];
      const sL = s[L].slice(1);
      total += q.q(sL, t);

      // e[l][i] = -∂q_n/∂s^l_i, the error arriving at the output of unit i of layer l.
      const e: number[][] = [];
      const delta: number[][] = [];
      const dq = q.grad(sL, t);
      e[L] = [Number.NaN, ...dq.map((v) => -v)]; // t_i - s^L_i for squared error
      for (let l = L; l >= 1; l--) {
        if (l < L) {
          e[l] = [Number.NaN];
          for (let i = 1; i <= M[l]; i++) {
            let sum = 0;
            for (let r = 1; r <= layerWidth(this.spec, l + 1); r++) sum += delta[l + 1][r] * this.theta[l + 1][r][i]; // Σ_r δ^{l+1}_r θ^{l+1}_ri
            e[l][i] = sum;
          }
        }
        delta[l] = this.deltas(l, phi[l], e[l], fused && l === L ? sL.map((si, i) => t[i] - si) : undefined);
        for (let i = 1; i < delta[l].length; i++) {
          for (let j = 0; j <= M[l - 1]; j++) dTheta[l][i][j] -= delta[l][i] * s[l - 1][j]; // ∂q_n/∂θ^l_ij = -δ^l_i s^{l-1}_j
        }
        if (this.alpha[l].length > 0) {
          const prelu = ACTIVATIONS.prelu as ElementwiseActivation;
          for (let i = 1; i <= M[l]; i++) dAlpha[l][i] -= e[l][i] * prelu.alphaPrime!(phi[l][i]); // ∂q_n/∂α^l_i
        }
      }
    }
    const mean = (v: number) => v / N;
    return {
      loss: total / N,
      grads: this.toShared(dTheta.map((layer) => layer.map((row) => row.map(mean))), dAlpha.map((layer) => layer.map(mean))),
    };
  }

  /** One gradient step with learning rate ρ: θ^l_ij ← θ^l_ij - ρ ∂q_S/∂θ^l_ij (grads from backprop). */
  step(grads: MlpWeights, rho: number): void {
    if (!(rho > 0) || !Number.isFinite(rho)) throw new Error(`ScalarMlp.step: the learning rate ρ must be a positive number, got ${rho}`);
    const w = this.getWeights();
    w.forEach((layer, l) => {
      const g = grads[l];
      layer.W.forEach((row, j) => row.forEach((_, i) => (row[i] -= rho * g.W[j][i])));
      layer.b.forEach((_, i) => (layer.b[i] -= rho * g.b[i]));
      layer.alpha?.forEach((_, i) => (layer.alpha![i] -= rho * g.alpha![i]));
    });
    this.setWeights(w);
  }

  /**
   * δ^l_i = -∂q_n/∂φ^l_i from e^l: g'(φ^l_i) e^l_i unit by unit, or Jᵀ e^l for softmax and maxout
   * (linear in e, so the vector backward of activations.ts applies to e as it does to ∂q/∂s).
   * `fusedDelta` is the output layer's t - s when output and loss simplify together.
   */
  private deltas(l: number, phi: number[], e: number[], fusedDelta?: number[]): number[] {
    if (fusedDelta) return [Number.NaN, ...fusedDelta];
    const act = ACTIVATIONS[layerActivation(this.spec, l)];
    if (act.kind === "vector") return [Number.NaN, ...act.backward(phi.slice(1), e.slice(1), this.spec.pieces)];
    const d = [Number.NaN];
    for (let i = 1; i < phi.length; i++) d[i] = act.gPrime(phi[i], this.alphaOf(l, i)) * e[i]; // δ^l_i = g'(φ^l_i) e^l_i
    return d;
  }

  /** α of unit i of layer l: its own for PReLU, the spec's for leakyRelu/elu. */
  private alphaOf(l: number, i: number): number {
    return this.alpha[l].length > 0 ? this.alpha[l][i] : this.spec.alpha;
  }

  /** θ-form arrays (weights or their gradients) → shared format. */
  private toShared(theta: number[][][], alpha: number[][]): MlpWeights {
    const out: MlpWeights = [];
    for (let l = 1; l <= this.L; l++) {
      const rows = theta[l].slice(1);
      const W = Array.from({ length: this.spec.sizes[l - 1] }, (_, j) => rows.map((row) => row[j + 1]));
      out.push({ W, b: rows.map((row) => row[0]), ...(alpha[l].length > 0 ? { alpha: alpha[l].slice(1) } : {}) });
    }
    return out;
  }

  private checkData(X: readonly (readonly number[])[], T: readonly (readonly number[])[]): void {
    const [M0, ML] = [this.spec.sizes[0], this.spec.sizes[this.L]];
    if (X.length === 0) throw new Error("ScalarMlp: no samples (X is empty)");
    if (X.length !== T.length) throw new Error(`ScalarMlp: X has ${X.length} samples but T has ${T.length}; give one target row per sample`);
    const badX = X.findIndex((x) => x.length !== M0);
    if (badX >= 0) throw new Error(`ScalarMlp: X should be [N, ${M0}], but row ${badX} has ${X[badX].length} values`);
    const badT = T.findIndex((t) => t.length !== ML);
    if (badT >= 0) throw new Error(`ScalarMlp: T should be [N, ${ML}], but row ${badT} has ${T[badT].length} values`);
  }
}

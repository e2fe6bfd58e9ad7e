/**
 * The optimizers of the lectures (seed 003, algorithms 8.1–8.7 of Goodfellow et al.), written element by
 * element on a float64 parameter vector θ so that each line reads like the algorithm:
 *
 *   SGD        θ ← θ - ε_k g                          with the decay ε_k = (1-α)ε_0 + αε_τ, α = k/τ (k ≤ τ)
 *   momentum   v ← νv - εg;  θ ← θ + v                 (Polyak)
 *   Nesterov   g at θ̃ = θ + νv;  v ← νv - εg;  θ ← θ + v
 *   AdaGrad    r ← r + g⊙g;  θ ← θ - ε/(δ + √r) ⊙ g
 *   RMSProp    r ← ρr + (1-ρ) g⊙g;  θ ← θ - ε/√(δ + r) ⊙ g      (+ Nesterov momentum: algorithm 8.6)
 *   Adam       s ← ρ₁s + (1-ρ₁)g;  r ← ρ₂r + (1-ρ₂)g⊙g;  ŝ = s/(1-ρ₁ᵗ);  r̂ = r/(1-ρ₂ᵗ);  θ ← θ - ε ŝ/√(r̂ + δ)
 *
 * Every optimizer has options that make it follow `tf.train`'s formulas instead where they differ (where δ
 * enters, AdaGrad's initial accumulator, the Nesterov form); `tfjsLike.*` builds those configurations with
 * tf.train's own signatures and defaults.
 *
 * The one optimizer interface of the library: `step(θ, gradientAt)` updates θ in place and asks
 * `gradientAt(point)` for ∇J where it needs it (at θ, or at the look-ahead point θ̃ for Nesterov).
 * `stepVariables` runs a step on tf.Variables; the training loop (lib/train) uses it, so every optimizer,
 * the look-ahead Nesterov included, trains any model.
 */
import * as tf from "@tensorflow/tfjs";
import { variableBridge } from "../perf/variable-bridge";

/** ∇J at the point it is given (a float64 vector of the same length). */
export type GradientAt = (theta: Float64Array) => Float64Array;

/** A learning-rate schedule: ε_k for the step k = 0, 1, 2, ... */
export type Schedule = (k: number) => number;

/** A fixed learning rate ε or a schedule k ↦ ε_k. */
export type LearningRate = number | Schedule;

/** An optimizer over a float64 parameter vector θ. */
export interface Optimizer {
  /** Name with hyper-parameters, for legends and logs: "Adam(ε=0.001)". */
  readonly name: string;
  /** Steps taken so far (k, or t in Adam). */
  readonly iterations: number;
  /** The learning rate ε_k that the next step will use. */
  currentLearningRate(): number;
  /** One update of θ, in place. `gradientAt(p)` must return ∇J(p); it may be called at a point other than θ. */
  step(theta: Float64Array, gradientAt: GradientAt): void;
  /** Forgets the state (velocity, accumulators, k): the next step is a first step again. */
  reset(): void;
}

/** The ε of tf.train's optimizers when none is given: the float32 backends' epsilon (`tf.backend().epsilon()`). */
export const TFJS_EPSILON = 1e-7;

// ---------------------------------------------------------------------------------------------------
// Learning-rate schedules
// ---------------------------------------------------------------------------------------------------

/**
 * The lecture's linear decay: ε_k = (1-α)ε_0 + αε_τ with α = k/τ for k ≤ τ, then ε_k = ε_τ.
 * (The lecture suggests ε_τ ≈ ε_0/100 and a τ of a few hundred passes over the data.)
 */
export function linearDecay(opts: { initial: number; final: number; tau: number }): Schedule {
  const { initial, final, tau } = opts;
  positive("linearDecay: the initial rate ε_0", initial);
  positive("linearDecay: the final rate ε_τ", final);
  if (!Number.isInteger(tau) || tau < 1) throw new Error(`linearDecay: τ must be a positive integer number of steps, got ${tau}`);
  return (k) => {
    const alpha = Math.min(k / tau, 1);
    return (1 - alpha) * initial + alpha * final;
  };
}

/** Exponential decay ε_k = ε_0 γ^k (0 < γ ≤ 1), for comparison with the linear one. */
export function exponentialDecay(opts: { initial: number; gamma: number }): Schedule {
  positive("exponentialDecay: the initial rate ε_0", opts.initial);
  if (!(opts.gamma > 0 && opts.gamma <= 1)) throw new Error(`exponentialDecay: γ must be in (0, 1], got ${opts.gamma}`);
  return (k) => opts.initial * opts.gamma ** k;
}

/** Step decay: ε_k = ε_0 · factor^⌊k / every⌋ (e.g. halve every 100 steps). */
export function stepDecay(opts: { initial: number; factor: number; every: number }): Schedule {
  positive("stepDecay: the initial rate ε_0", opts.initial);
  if (!(opts.factor > 0 && opts.factor <= 1)) throw new Error(`stepDecay: factor must be in (0, 1], got ${opts.factor}`);
  if (!Number.isInteger(opts.every) || opts.every < 1) throw new Error(`stepDecay: every must be a positive integer, got ${opts.every}`);
  return (k) => opts.initial * opts.factor ** Math.floor(k / opts.every);
}

/** ε_k of a fixed rate or a schedule. */
export function rateAt(rate: LearningRate, k: number): number {
  return typeof rate === "number" ? rate : rate(k);
}

// ---------------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------------

function positive(what: string, v: number): void {
  if (!(typeof v === "number" && Number.isFinite(v) && v > 0)) throw new Error(`${what} must be a positive number, got ${v}`);
}
function inUnitInterval(what: string, v: number, hint: string): void {
  if (!(typeof v === "number" && v >= 0 && v < 1)) throw new Error(`${what} must be in [0, 1), got ${v} (${hint})`);
}
function checkRate(who: string, rate: LearningRate): void {
  if (typeof rate === "function") return;
  positive(`${who}: the learning rate ε`, rate);
}
function rateText(rate: LearningRate): string {
  return typeof rate === "number" ? `ε=${rate}` : "ε_k";
}

/** Shared bookkeeping: k, the learning rate, state vectors created on the first step, size checks. */
abstract class BaseOptimizer implements Optimizer {
  abstract readonly name: string;
  private k = 0;
  private state = new Map<string, Float64Array>();
  private size = -1;

  protected constructor(protected readonly rate: LearningRate) {}

  get iterations(): number {
    return this.k;
  }

  currentLearningRate(): number {
    return rateAt(this.rate, this.k);
  }

  step(theta: Float64Array, gradientAt: GradientAt): void {
    if (this.size === -1) this.size = theta.length;
    if (theta.length !== this.size) {
      throw new Error(`${this.name}: θ has ${theta.length} entries but this optimizer's state has ${this.size}; use one optimizer per model (or reset())`);
    }
    const eps = this.currentLearningRate();
    positive(`${this.name}: the learning rate ε_${this.k}`, eps);
    const grad = (p: Float64Array) => {
      const g = gradientAt(p);
      if (g.length !== p.length) throw new Error(`${this.name}: the gradient has ${g.length} entries but θ has ${p.length}`);
      return g;
    };
    this.k++;
    this.update(theta, grad, eps, this.k);
  }

  reset(): void {
    this.k = 0;
    this.state.clear();
    this.size = -1;
  }

  /** A state vector (velocity, accumulator, ...) of θ's size, filled with `init` on first use. */
  protected vector(name: string, n: number, init = 0): Float64Array {
    let v = this.state.get(name);
    if (!v) {
      v = new Float64Array(n).fill(init);
      this.state.set(name, v);
    }
    return v;
  }

  /** The update of step t = k + 1 (1-based, as Adam's t) with learning rate ε. */
  protected abstract update(theta: Float64Array, grad: GradientAt, eps: number, t: number): void;
}

// ---------------------------------------------------------------------------------------------------
// SGD and momentum
// ---------------------------------------------------------------------------------------------------

export interface SgdOptions {
  /** ε, or a schedule such as `linearDecay(...)`. */
  learningRate: LearningRate;
}

class SgdOptimizer extends BaseOptimizer {
  readonly name: string;
  constructor(opts: SgdOptions) {
    checkRate("SGD", opts.learningRate);
    super(opts.learningRate);
    this.name = `SGD(${rateText(opts.learningRate)})`;
  }
  protected update(theta: Float64Array, grad: GradientAt, eps: number): void {
    const g = grad(theta);
    for (let i = 0; i < theta.length; i++) theta[i] -= eps * g[i];
  }
}

/** Algorithm 8.1: θ ← θ - ε_k g. */
export function sgd(opts: SgdOptions): Optimizer {
  return new SgdOptimizer(opts);
}

/**
 * Where Nesterov's gradient is taken.
 *  - "lookahead" (the lecture, algorithm 8.3): g = ∇J(θ + νv), then v ← νv - εg, θ ← θ + v.
 *  - "reformulated" (tf.train.momentum with useNesterov, Keras, Sutskever 2013): g = ∇J(θ) and
 *    θ ← θ + νv - εg. Its θ is the lecture's look-ahead point θ + νv: same sequence, shifted by νv, and it
 *    needs only the gradient at the current parameters.
 */
export type NesterovForm = "lookahead" | "reformulated";

export interface MomentumOptions {
  learningRate: LearningRate;
  /** ν, the "friction" in [0, 1): 0.5, 0.9, 0.99 are common. Default 0.9. */
  momentum?: number;
  /** Nesterov's correction (default false: Polyak's heavy ball). */
  nesterov?: boolean;
  /** Only with nesterov: default "lookahead", the lecture's. */
  nesterovForm?: NesterovForm;
}

class MomentumOptimizer extends BaseOptimizer {
  readonly name: string;
  private readonly nu: number;
  private readonly form: NesterovForm | "polyak";
  constructor(opts: MomentumOptions) {
    checkRate("Momentum", opts.learningRate);
    super(opts.learningRate);
    this.nu = opts.momentum ?? 0.9;
    inUnitInterval("Momentum: ν", this.nu, "0.9 is usual; ν ≥ 1 never forgets a gradient and diverges");
    if (opts.nesterovForm !== undefined && !opts.nesterov) throw new Error("Momentum: nesterovForm only applies with nesterov: true");
    if (opts.nesterovForm !== undefined && !["lookahead", "reformulated"].includes(opts.nesterovForm)) {
      throw new Error(`Momentum: nesterovForm must be "lookahead" or "reformulated", got "${opts.nesterovForm}"`);
    }
    this.form = opts.nesterov ? opts.nesterovForm ?? "lookahead" : "polyak";
    const kind = this.form === "polyak" ? "Momentum" : this.form === "lookahead" ? "Nesterov" : "Nesterov[tfjs]";
    this.name = `${kind}(${rateText(opts.learningRate)}, ν=${this.nu})`;
  }
  protected update(theta: Float64Array, grad: GradientAt, eps: number): void {
    const n = theta.length, nu = this.nu;
    const v = this.vector("v", n);
    if (this.form === "lookahead") {
      const interim = new Float64Array(n);
      for (let i = 0; i < n; i++) interim[i] = theta[i] + nu * v[i]; // θ̃ ← θ + νv
      const g = grad(interim);
      for (let i = 0; i < n; i++) {
        v[i] = nu * v[i] - eps * g[i];
        theta[i] += v[i];
      }
      return;
    }
    const g = grad(theta);
    for (let i = 0; i < n; i++) {
      v[i] = nu * v[i] - eps * g[i];
      theta[i] += this.form === "polyak" ? v[i] : nu * v[i] - eps * g[i];
    }
  }
}

/** Algorithms 8.2 (Polyak) and 8.3 (Nesterov): v ← νv - εg, θ ← θ + v. */
export function momentum(opts: MomentumOptions): Optimizer {
  return new MomentumOptimizer(opts);
}

/** Nesterov momentum (algorithm 8.3), the lecture's look-ahead form unless `nesterovForm` says otherwise. */
export function nesterov(opts: Omit<MomentumOptions, "nesterov">): Optimizer {
  return new MomentumOptimizer({ ...opts, nesterov: true });
}

// ---------------------------------------------------------------------------------------------------
// Adaptive learning rates
// ---------------------------------------------------------------------------------------------------

/** Where δ enters the denominator: ε/(δ + √r) ("outsideSqrt") or ε/√(r + δ) ("insideSqrt"). */
export type DeltaPlacement = "outsideSqrt" | "insideSqrt";

function checkDelta(who: string, delta: number, placement: DeltaPlacement): void {
  if (!(typeof delta === "number" && Number.isFinite(delta) && delta >= 0)) throw new Error(`${who}: δ must be a small number ≥ 0, got ${delta}`);
  if (placement !== "outsideSqrt" && placement !== "insideSqrt") {
    throw new Error(`${who}: deltaPlacement must be "outsideSqrt" or "insideSqrt", got "${placement}"`);
  }
}
function denominator(r: number, delta: number, placement: DeltaPlacement): number {
  return placement === "outsideSqrt" ? delta + Math.sqrt(r) : Math.sqrt(r + delta);
}

export interface AdagradOptions {
  learningRate: LearningRate;
  /** δ, default 1e-7 (the lecture's). */
  delta?: number;
  /** Default "outsideSqrt", the lecture's ε/(δ + √r); tf.train uses "insideSqrt". */
  deltaPlacement?: DeltaPlacement;
  /** r at the start: 0 in the lecture, 0.1 in tf.train.adagrad. */
  initialAccumulator?: number;
}

class AdagradOptimizer extends BaseOptimizer {
  readonly name: string;
  private readonly delta: number;
  private readonly placement: DeltaPlacement;
  private readonly r0: number;
  constructor(opts: AdagradOptions) {
    checkRate("AdaGrad", opts.learningRate);
    super(opts.learningRate);
    this.delta = opts.delta ?? 1e-7;
    this.placement = opts.deltaPlacement ?? "outsideSqrt";
    this.r0 = opts.initialAccumulator ?? 0;
    checkDelta("AdaGrad", this.delta, this.placement);
    if (!(this.r0 >= 0 && Number.isFinite(this.r0))) throw new Error(`AdaGrad: initialAccumulator must be ≥ 0, got ${this.r0}`);
    this.name = `AdaGrad(${rateText(opts.learningRate)})`;
  }
  protected update(theta: Float64Array, grad: GradientAt, eps: number): void {
    const g = grad(theta);
    const r = this.vector("r", theta.length, this.r0);
    for (let i = 0; i < theta.length; i++) {
      r[i] += g[i] * g[i];
      theta[i] -= (eps / denominator(r[i], this.delta, this.placement)) * g[i];
    }
  }
}

/** Algorithm 8.4: r ← r + g⊙g, θ ← θ - ε/(δ + √r) ⊙ g. */
export function adagrad(opts: AdagradOptions): Optimizer {
  return new AdagradOptimizer(opts);
}

export interface RmspropOptions {
  learningRate: LearningRate;
  /** ρ, the decay of the moving average of g⊙g. Default 0.9. */
  rho?: number;
  /** δ, default 1e-6 (the lecture's). */
  delta?: number;
  /** Default "insideSqrt", the lecture's ε/√(δ + r) (tf.train does the same). */
  deltaPlacement?: DeltaPlacement;
  /** ν: 0 (default) is plain RMSProp, algorithm 8.5. */
  momentum?: number;
  /**
   * With momentum > 0: true (default) is the lecture's RMSProp with Nesterov momentum (algorithm 8.6,
   * gradient at θ + νv); false is classical momentum on the scaled step, as tf.train.rmsprop(…, momentum).
   */
  nesterov?: boolean;
  /** With Nesterov momentum: "lookahead" (default, the lecture's) or "reformulated" (gradient at θ; see NesterovForm). */
  nesterovForm?: NesterovForm;
}

class RmspropOptimizer extends BaseOptimizer {
  readonly name: string;
  private readonly rho: number;
  private readonly delta: number;
  private readonly placement: DeltaPlacement;
  private readonly nu: number;
  private readonly nesterov: boolean;
  private readonly form: NesterovForm;
  constructor(opts: RmspropOptions) {
    checkRate("RMSProp", opts.learningRate);
    super(opts.learningRate);
    this.rho = opts.rho ?? 0.9;
    this.delta = opts.delta ?? 1e-6;
    this.placement = opts.deltaPlacement ?? "insideSqrt";
    this.nu = opts.momentum ?? 0;
    this.nesterov = opts.nesterov ?? true;
    inUnitInterval("RMSProp: ρ", this.rho, "the weight of the past in the moving average of g², 0.9 is usual");
    inUnitInterval("RMSProp: the momentum ν", this.nu, "0 for plain RMSProp, 0.9 is usual");
    checkDelta("RMSProp", this.delta, this.placement);
    if (opts.nesterov !== undefined && this.nu === 0) throw new Error("RMSProp: nesterov only applies with momentum > 0");
    this.form = opts.nesterovForm ?? "lookahead";
    if (opts.nesterovForm !== undefined && !(this.nu > 0 && this.nesterov)) throw new Error("RMSProp: nesterovForm only applies with Nesterov momentum (momentum > 0)");
    if (this.form !== "lookahead" && this.form !== "reformulated") throw new Error(`RMSProp: nesterovForm must be "lookahead" or "reformulated", got "${this.form}"`);
    const kind = this.nu === 0 ? "RMSProp" : this.nesterov ? "RMSProp+Nesterov" : "RMSProp+momentum";
    this.name = `${kind}(${rateText(opts.learningRate)}, ρ=${this.rho}${this.nu ? `, ν=${this.nu}` : ""})`;
  }
  protected update(theta: Float64Array, grad: GradientAt, eps: number): void {
    const n = theta.length, { rho, nu, delta, placement } = this;
    const r = this.vector("r", n);
    let g: Float64Array;
    const lookahead = nu > 0 && this.nesterov && this.form === "lookahead";
    const reformulated = nu > 0 && this.nesterov && this.form === "reformulated";
    if (lookahead) {
      const v0 = this.vector("v", n);
      const interim = new Float64Array(n);
      for (let i = 0; i < n; i++) interim[i] = theta[i] + nu * v0[i]; // θ̃ ← θ + νv
      g = grad(interim);
    } else g = grad(theta);
    const v = nu > 0 ? this.vector("v", n) : undefined;
    for (let i = 0; i < n; i++) {
      r[i] = rho * r[i] + (1 - rho) * g[i] * g[i];
      const scaled = (eps / denominator(r[i], delta, placement)) * g[i];
      if (v) {
        v[i] = nu * v[i] - scaled;
        // Reformulated Nesterov holds the look-ahead point θ + νv: it moves by νv_new - scaled.
        theta[i] += reformulated ? nu * v[i] - scaled : v[i];
      } else theta[i] -= scaled;
    }
  }
}

/** Algorithm 8.5 (and 8.6 with momentum > 0): r ← ρr + (1-ρ)g⊙g, θ ← θ - ε/√(δ + r) ⊙ g. */
export function rmsprop(opts: RmspropOptions): Optimizer {
  return new RmspropOptimizer(opts);
}

/**
 * Algorithm 8.6, RMSProp with Nesterov momentum: g at θ̃ = θ + νv, r ← ρr + (1-ρ)g⊙g, v ← νv - ε/√r ⊙ g.
 * The lecture writes √r without δ; we keep δ inside the root as in algorithm 8.5 (a zero gradient in the
 * first step would otherwise divide 0 by 0).
 */
export function rmspropNesterov(opts: Omit<RmspropOptions, "nesterov"> & { momentum?: number }): Optimizer {
  return new RmspropOptimizer({ ...opts, momentum: opts.momentum ?? 0.9, nesterov: true });
}

export interface AdamOptions {
  /** ε, default 0.001. */
  learningRate?: LearningRate;
  /** ρ₁, decay of the first moment s. Default 0.9. */
  rho1?: number;
  /** ρ₂, decay of the second moment r. Default 0.999. */
  rho2?: number;
  /** δ, default 1e-8 (the lecture's). */
  delta?: number;
  /** Default "insideSqrt", the lecture's ŝ/√(r̂ + δ); tf.train uses ŝ/(√r̂ + δ), "outsideSqrt". */
  deltaPlacement?: DeltaPlacement;
}

class AdamOptimizer extends BaseOptimizer {
  readonly name: string;
  private readonly rho1: number;
  private readonly rho2: number;
  private readonly delta: number;
  private readonly placement: DeltaPlacement;
  constructor(opts: AdamOptions) {
    const rate = opts.learningRate ?? 0.001;
    checkRate("Adam", rate);
    super(rate);
    this.rho1 = opts.rho1 ?? 0.9;
    this.rho2 = opts.rho2 ?? 0.999;
    this.delta = opts.delta ?? 1e-8;
    this.placement = opts.deltaPlacement ?? "insideSqrt";
    inUnitInterval("Adam: ρ₁", this.rho1, "0.9 is the suggested default");
    inUnitInterval("Adam: ρ₂", this.rho2, "0.999 is the suggested default");
    checkDelta("Adam", this.delta, this.placement);
    this.name = `Adam(${rateText(rate)}, ρ₁=${this.rho1}, ρ₂=${this.rho2})`;
  }
  protected update(theta: Float64Array, grad: GradientAt, eps: number, t: number): void {
    const n = theta.length, { rho1, rho2, delta, placement } = this;
    const g = grad(theta);
    const s = this.vector("s", n), r = this.vector("r", n);
    const c1 = 1 - rho1 ** t, c2 = 1 - rho2 ** t; // bias corrections
    for (let i = 0; i < n; i++) {
      s[i] = rho1 * s[i] + (1 - rho1) * g[i];
      r[i] = rho2 * r[i] + (1 - rho2) * g[i] * g[i];
      const sHat = s[i] / c1, rHat = r[i] / c2;
      theta[i] -= (eps * sHat) / denominator(rHat, delta, placement);
    }
  }
}

/** Algorithm 8.7, Adam with bias correction. */
export function adam(opts: AdamOptions = {}): Optimizer {
  return new AdamOptimizer(opts);
}

/**
 * Scratch optimizers configured to follow tf.train's formulas exactly, with tf.train's signatures and
 * defaults: `tfjsLike.adam(0.01)` does what `tf.train.adam(0.01)` does. What they change from the lecture:
 *  - momentum with useNesterov: the reformulated Nesterov (gradient at the current θ, which is the
 *    lecture's look-ahead point);
 *  - adagrad: r starts at initialAccumulatorValue (0.1) and δ = 1e-7 goes inside the root, ε/√(r + δ);
 *  - rmsprop: δ = epsilon (default 1e-7, not 1e-6); momentum is classical, not Nesterov;
 *  - adam: δ = epsilon (default 1e-7, not 1e-8) outside the root, ε ŝ/(√r̂ + δ).
 */
export const tfjsLike = {
  sgd: (learningRate: number) => sgd({ learningRate }),
  momentum: (learningRate: number, momentumValue: number, useNesterov = false) =>
    momentum({ learningRate, momentum: momentumValue, ...(useNesterov ? { nesterov: true, nesterovForm: "reformulated" as const } : {}) }),
  adagrad: (learningRate: number, initialAccumulatorValue = 0.1) =>
    adagrad({ learningRate, initialAccumulator: initialAccumulatorValue, delta: TFJS_EPSILON, deltaPlacement: "insideSqrt" }),
  rmsprop: (learningRate: number, decay = 0.9, momentumValue = 0, epsilon = TFJS_EPSILON) =>
    rmsprop({ learningRate, rho: decay, momentum: momentumValue, delta: epsilon, deltaPlacement: "insideSqrt", ...(momentumValue > 0 ? { nesterov: false } : {}) }),
  adam: (learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = TFJS_EPSILON) =>
    adam({ learningRate, rho1: beta1, rho2: beta2, delta: epsilon, deltaPlacement: "outsideSqrt" }),
};

// ---------------------------------------------------------------------------------------------------
// Running an optimizer
// ---------------------------------------------------------------------------------------------------

export interface OptimizerRun {
  /** θ_0, θ_1, ..., θ_steps (copies). */
  path: number[][];
  /** J(θ_k) for every point of the path, when a loss was given. */
  losses: number[];
}

/**
 * Runs `steps` steps from θ_0 (not modified) and records the path: trajectories on 2-D surfaces.
 * Stops early (keeping the path so far) if θ stops being finite, i.e. the method diverged.
 */
export function runOptimizer(opt: Optimizer, theta0: ArrayLike<number>, gradientAt: GradientAt, steps: number, loss?: (theta: Float64Array) => number): OptimizerRun {
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`runOptimizer: steps must be an integer ≥ 0, got ${steps}`);
  const theta = Float64Array.from(theta0);
  const path = [Array.from(theta)];
  const losses = loss ? [loss(theta)] : [];
  for (let k = 0; k < steps; k++) {
    opt.step(theta, gradientAt);
    if (!theta.every(Number.isFinite)) break;
    path.push(Array.from(theta));
    if (loss) losses.push(loss(theta));
  }
  return { path, losses };
}

// ---------------------------------------------------------------------------------------------------
// Adapters: tfjs tensors and variables, and the training loop's Optimizer
// ---------------------------------------------------------------------------------------------------

/** Number of entries of all tensors together. */
export function totalSize(tensors: readonly tf.Tensor[]): number {
  return tensors.reduce((n, t) => n + t.size, 0);
}

/** The values of `tensors`, concatenated in order, as one float64 vector (reads them; does not dispose). */
export function tensorsToVector(tensors: readonly tf.Tensor[]): Float64Array {
  const out = new Float64Array(totalSize(tensors));
  let at = 0;
  for (const t of tensors) {
    out.set(t.dataSync() as Float32Array, at);
    at += t.size;
  }
  return out;
}

/** Writes the float64 vector `v` into the variables, in order (float32 on the tfjs side). */
export function assignVector(vars: readonly tf.Variable[], v: Float64Array): void {
  const n = totalSize(vars);
  if (v.length !== n) throw new Error(`assignVector: the vector has ${v.length} entries but the variables have ${n}`);
  let at = 0;
  for (const p of vars) {
    const values = Float32Array.from(v.subarray(at, at + p.size));
    tf.tidy(() => p.assign(tf.tensor(values, p.shape, "float32")));
    at += p.size;
  }
}

/**
 * One optimizer step on tf.Variables. `lossAndGrads()` computes the loss and ∂J/∂p for each variable (same
 * order) at the variables' current values, e.g. with `tf.variableGrads` or a model's hand-written backward.
 * The optimizer may ask for the gradient at a look-ahead point: the variables are moved there for the call.
 * Returns the loss at the first gradient evaluation (NaN with readLoss false, which saves a read of the
 * loss). Disposes what `lossAndGrads` returns.
 * (On wasm the library's own optimizers get θ and ∇J vectors reused from step to step; any other optimizer,
 * e.g. one written in a notebook, gets fresh ones, so it may keep them.)
 */
export function stepVariables(opt: Optimizer, vars: tf.Variable[], lossAndGrads: () => { loss: tf.Scalar; grads: tf.Tensor[] }, opts: { readLoss?: boolean } = {}): number {
  // On wasm the engine's bridge (lib/perf/variable-bridge.ts) gives the same float64 θ and ∇J without copies.
  const bridge = variableBridge(opt, vars, { lend: opt instanceof BaseOptimizer });
  const theta = bridge ? bridge.read() : tensorsToVector(vars);
  let loss = Number.NaN, first = true;
  try {
    opt.step(theta, (point) => {
      if (point !== theta) {
        if (bridge) bridge.write(point, false);
        else assignVector(vars, point);
      }
      const res = lossAndGrads();
      if (first && (opts.readLoss ?? true)) loss = res.loss.dataSync()[0];
      first = false;
      if (res.grads.length !== vars.length) {
        tf.dispose([res.loss, ...res.grads]);
        throw new Error(`stepVariables: ${res.grads.length} gradients for ${vars.length} variables; return one per variable, same order`);
      }
      const g = bridge ? bridge.gradients(res.grads) : tensorsToVector(res.grads);
      tf.dispose([res.loss, ...res.grads]);
      return g;
    });
    if (bridge) bridge.write(theta, true);
    else assignVector(vars, theta);
  } catch (e) {
    bridge?.forget();
    throw e;
  }
  return loss;
}

/**
 * An optimizer that changes each gradient with `transform` before `opt` uses it, e.g. clipping:
 * `transformGradient(sgd({ learningRate: 0.1 }), (g) => clipByGlobalNorm(g, 1).clipped)`.
 */
export function transformGradient(opt: Optimizer, transform: (g: Float64Array) => Float64Array): Optimizer {
  return {
    get name() { return opt.name; },
    get iterations() { return opt.iterations; },
    currentLearningRate: () => opt.currentLearningRate(),
    step: (theta, gradientAt) => opt.step(theta, (point) => {
      const g = transform(gradientAt(point));
      if (g.length !== point.length) throw new Error(`transformGradient: the transform returned ${g.length} entries for ${point.length} parameters`);
      return g;
    }),
    reset: () => opt.reset(),
  };
}

// Newton's method and gradient clipping belong to the same group of the public API (bp.optimizers).
export { solveLinear, newtonStep, newton, measureNewtonCost } from "./newton";
export type { HessianAt, NewtonOptions, NewtonCost } from "./newton";
export { clipByValue, clipByValueBackward, globalNorm, clipByGlobalNorm, clipByGlobalNormBackward, clipTensorsByGlobalNorm, clipped } from "./clip";
export type { ClipOptions } from "./clip";

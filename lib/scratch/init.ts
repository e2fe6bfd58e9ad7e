/**
 * Weight initializers, and the MLP description and weights format that every implementation shares
 * (scalar, matrix, autodiff and tf.layers), so that all of them can be loaded with the same numbers.
 *
 * Initializers return a fanIn × fanOut matrix (number[][], float64) drawn from a seeded `Rng`
 * (the module-wide `rng()` when none is given):
 *   standardNormal N(0, 1); standardUniform U(±1/√fan_in); glorotNormal N(0, 1/fan_avg); glorotUniform U(±√(3/fan_avg));
 *   heNormal N(0, 2/fan_in); heUniform U(±√(6/fan_in)); lecunNormal N(0, 1/fan_in); lecunUniform U(±√(3/fan_in));
 * with fan_avg = (fan_in + fan_out)/2. (Keras and tfjs draw the "normal" ones from a truncated normal.)
 */
import { Rng, rng as sharedRng } from "../random";
import { ActivationName, ACTIVATION_NAMES, ACTIVATIONS, MAXOUT_PIECES } from "./activations";
import { LossName, LOSS_NAMES } from "./losses";

export type InitName =
  | "standardNormal"
  | "standardUniform"
  | "glorotNormal"
  | "glorotUniform"
  | "heNormal"
  | "heUniform"
  | "lecunNormal"
  | "lecunUniform";

export type Initializer = (fanIn: number, fanOut: number, rng?: Rng) => number[][];

function matrix(fanIn: number, fanOut: number, draw: () => number): number[][] {
  for (const [name, v] of [["fanIn", fanIn], ["fanOut", fanOut]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`initializer: ${name} must be a positive integer, got ${v}`);
  }
  return Array.from({ length: fanIn }, () => Array.from({ length: fanOut }, draw));
}
const normal = (std: number): Initializer => (fanIn, fanOut, r = sharedRng()) => matrix(fanIn, fanOut, () => r.normal(0, std));
const uniform = (limit: number): Initializer => (fanIn, fanOut, r = sharedRng()) => matrix(fanIn, fanOut, () => r.uniform(-limit, limit));
const fanAvg = (fanIn: number, fanOut: number) => (fanIn + fanOut) / 2;

/** N(0, 1): the naive initialization that saturates deep sigmoid nets (Glorot & Bengio 2010). */
export function standardNormal(fanIn: number, fanOut: number, rng?: Rng): number[][] {
  return normal(1)(fanIn, fanOut, rng);
}
/**
 * Glorot & Bengio's "standard" initialization U[−1/√n, +1/√n] with n = fan_in (variance 1/(3 fan_in)),
 * the common heuristic before 2010 against which they measured their normalized one.
 */
export function standardUniform(fanIn: number, fanOut: number, rng?: Rng): number[][] {
  return uniform(1 / Math.sqrt(fanIn))(fanIn, fanOut, rng);
}
/** Glorot (Xavier) normal: N(0, 1/fan_avg). */
export function glorotNormal(fanIn: number, fanOut: number, rng?: Rng): number[][] {
  return normal(Math.sqrt(1 / fanAvg(fanIn, fanOut)))(fanIn, fanOut, rng);
}
/** Glorot (Xavier) uniform: U(-√(3/fan_avg), +√(3/fan_avg)), variance 1/fan_avg. */
export function glorotUniform(fanIn: number, fanOut: number, rng?: Rng): number[][] {
  return uniform(Math.sqrt(3 / fanAvg(fanIn, fanOut)))(fanIn, fanOut, rng);
}
/** He normal: N(0, 2/fan_in), for ReLU layers (half the units are off, so twice the variance). */
export function heNormal(fanIn: number, fanOut: number, rng?: Rng): number[][] {
  return normal(Math.sqrt(2 / fanIn))(fanIn, fanOut, rng);
}
/** He uniform: U(±√(6/fan_in)), variance 2/fan_in. */
export function heUniform(fanIn: number, fanOut: number, rng?: Rng): number[][] {
  return uniform(Math.sqrt(6 / fanIn))(fanIn, fanOut, rng);
}
/** LeCun normal: N(0, 1/fan_in). */
export function lecunNormal(fanIn: number, fanOut: number, rng?: Rng): number[][] {
  return normal(Math.sqrt(1 / fanIn))(fanIn, fanOut, rng);
}
/** LeCun uniform: U(±√(3/fan_in)), variance 1/fan_in. */
export function lecunUniform(fanIn: number, fanOut: number, rng?: Rng): number[][] {
  return uniform(Math.sqrt(3 / fanIn))(fanIn, fanOut, rng);
}

/** Every initializer by name. */
export const initializers: { readonly [K in InitName]: Initializer } = {
  standardNormal, standardUniform, glorotNormal, glorotUniform, heNormal, heUniform, lecunNormal, lecunUniform,
};
export const INIT_NAMES = Object.keys(initializers) as InitName[];

/** An initializer by name (one of `INIT_NAMES`) or as a function, e.g. your own. */
export type InitChoice = InitName | Initializer;

// ---------------------------------------------------------------------------------------------------
// The MLP every implementation shares
// ---------------------------------------------------------------------------------------------------

/** An MLP: layer sizes M_0 (inputs), M_1, ..., M_L (outputs), activations and loss. */
export interface MlpSpec {
  /** [M_0, M_1, ..., M_L]: inputs, hidden units per layer, outputs. */
  sizes: number[];
  /** g of every hidden layer (default "sigmoid", the lecture's). */
  hidden?: ActivationName;
  /** g of the output layer (default "linear"). */
  output?: ActivationName;
  /** q_n (default "squaredError"). */
  loss?: LossName;
  /** α of leakyRelu / elu, and the initial α of prelu (defaults: the activation's). */
  alpha?: number;
  /** k, the pieces per unit of maxout (default 2). */
  pieces?: number;
}

/** An MlpSpec with every default filled in, checked. */
export type FullMlpSpec = Required<MlpSpec>;

/**
 * Weights of one layer l in the shared format (float64):
 *  - W[j][i]: from unit j+1 of layer l-1 to unit i+1 of layer l, i.e. the lecture's θ^l_{i+1,j+1}
 *    (W is M_{l-1} × M_l as a tfjs Dense kernel; maxout layers have M_l·k columns, k per unit);
 *  - b[i]: the bias (threshold) θ^l_{i+1,0};
 *  - alpha[i]: PReLU's learned slope of unit i+1 (only for prelu layers).
 */
export interface LayerWeights {
  W: number[][];
  b: number[];
  alpha?: number[];
}
/** Weights (or gradients, same shapes) of a whole MLP: one entry per layer l = 1..L. */
export type MlpWeights = LayerWeights[];

/** Fills the defaults of `spec` and checks it; errors say what is wrong and how to fix it. */
export function fullSpec(spec: MlpSpec): FullMlpSpec {
  const full: FullMlpSpec = {
    sizes: spec.sizes,
    hidden: spec.hidden ?? "sigmoid",
    output: spec.output ?? "linear",
    loss: spec.loss ?? "squaredError",
    alpha: spec.alpha ?? Number.NaN,
    pieces: spec.pieces ?? MAXOUT_PIECES,
  };
  const { sizes } = full;
  if (!Array.isArray(sizes) || sizes.length < 2 || !sizes.every((m) => Number.isInteger(m) && m >= 1)) {
    throw new Error(`MLP sizes must be [inputs, ...hidden, outputs] with positive integers, got ${JSON.stringify(sizes)}`);
  }
  for (const key of ["hidden", "output"] as const) {
    if (!(ACTIVATION_NAMES as readonly string[]).includes(full[key])) {
      throw new Error(`MLP ${key} activation "${full[key]}" is unknown. Valid names: ${ACTIVATION_NAMES.join(", ")}`);
    }
  }
  if (!(LOSS_NAMES as readonly string[]).includes(full.loss)) {
    throw new Error(`MLP loss "${full.loss}" is unknown. Valid names: ${LOSS_NAMES.join(", ")}`);
  }
  const needsProbabilities: Partial<Record<LossName, ActivationName[]>> = {
    binaryCrossEntropy: ["sigmoid"],
    crossEntropy: ["softmax", "sigmoid"],
    kl: ["softmax"],
  };
  const allowed = needsProbabilities[full.loss];
  if (allowed && !allowed.includes(full.output)) {
    throw new Error(`MLP loss "${full.loss}" takes the log of the outputs, which must be probabilities: ` +
      `use output "${allowed.join('" or "')}" (got "${full.output}")`);
  }
  if (!Number.isInteger(full.pieces) || full.pieces < 2) {
    throw new Error(`MLP pieces (maxout's k) must be an integer ≥ 2, got ${full.pieces}`);
  }
  if (Number.isNaN(full.alpha)) {
    const uses = [full.hidden, full.output].map((n) => ACTIVATIONS[n]).find((a) => a.kind === "elementwise" && a.defaultAlpha !== undefined);
    full.alpha = uses && uses.kind === "elementwise" ? uses.defaultAlpha! : 0;
  }
  if (!Number.isFinite(full.alpha)) throw new Error(`MLP alpha must be a finite number, got ${spec.alpha}`);
  return full;
}

/** Number of layers L (hidden + output). */
export function layerCount(spec: MlpSpec): number {
  return spec.sizes.length - 1;
}

/** Activation name of layer l = 1..L. */
export function layerActivation(spec: FullMlpSpec, l: number): ActivationName {
  return l === layerCount(spec) ? spec.output : spec.hidden;
}

/** Pre-activations φ^l per layer l (M_l·k for maxout, M_l otherwise): the columns of W^l. */
export function layerWidth(spec: FullMlpSpec, l: number): number {
  return spec.sizes[l] * (layerActivation(spec, l) === "maxout" ? spec.pieces : 1);
}

/**
 * Random weights for `spec`: W from `init` (a name or an `Initializer`; default glorotUniform, as Keras),
 * biases 0, PReLU α = spec.alpha. The layers draw from the generator in order l = 1..L.
 * Pass an Rng for reproducible weights (default: the module-wide `rng()`).
 */
export function initMlp(spec: MlpSpec, opts: { init?: InitChoice; rng?: Rng } = {}): MlpWeights {
  const full = fullSpec(spec);
  const init = opts.init ?? "glorotUniform";
  if (typeof init !== "function" && !(init in initializers)) throw new Error(`Unknown initializer "${init}". Valid names: ${INIT_NAMES.join(", ")}`);
  const draw: Initializer = typeof init === "function" ? init : initializers[init];
  const r = opts.rng ?? sharedRng();
  const weights: MlpWeights = [];
  for (let l = 1; l <= layerCount(full); l++) {
    const width = layerWidth(full, l);
    const layer: LayerWeights = { W: draw(full.sizes[l - 1], width, r), b: new Array<number>(width).fill(0) };
    if (layerActivation(full, l) === "prelu") layer.alpha = new Array<number>(full.sizes[l]).fill(full.alpha);
    weights.push(layer);
  }
  return weights;
}

/** Checks that `weights` fit `spec` (layer count and every shape); the error names expected and given shapes. */
export function checkWeights(spec: MlpSpec, weights: MlpWeights): void {
  const full = fullSpec(spec);
  const L = layerCount(full);
  if (!Array.isArray(weights) || weights.length !== L) {
    throw new Error(`weights: expected ${L} layers for sizes ${JSON.stringify(full.sizes)}, got ${Array.isArray(weights) ? weights.length : typeof weights}`);
  }
  for (let l = 1; l <= L; l++) {
    const { W, b, alpha } = weights[l - 1];
    const rows = full.sizes[l - 1], cols = layerWidth(full, l);
    const shapeW = Array.isArray(W) ? `[${W.length}, ${Array.isArray(W[0]) ? W[0].length : "?"}]` : typeof W;
    if (!Array.isArray(W) || W.length !== rows || !W.every((row) => row.length === cols)) {
      throw new Error(`weights: layer ${l} W should be [${rows}, ${cols}] (inputs × units${cols !== full.sizes[l] ? "·pieces" : ""}), got ${shapeW}`);
    }
    if (!Array.isArray(b) || b.length !== cols) throw new Error(`weights: layer ${l} b should have ${cols} entries, got ${Array.isArray(b) ? b.length : typeof b}`);
    const wantAlpha = layerActivation(full, l) === "prelu";
    if (wantAlpha && (!Array.isArray(alpha) || alpha.length !== full.sizes[l])) {
      throw new Error(`weights: layer ${l} is PReLU and needs alpha with ${full.sizes[l]} entries, got ${alpha ? alpha.length : "none"}`);
    }
    if (!wantAlpha && alpha !== undefined) throw new Error(`weights: layer ${l} is not PReLU but has alpha; remove it`);
  }
}

/** A deep copy of weights (or gradients). */
export function cloneWeights(weights: MlpWeights): MlpWeights {
  return weights.map(({ W, b, alpha }) => ({ W: W.map((row) => row.slice()), b: b.slice(), ...(alpha ? { alpha: alpha.slice() } : {}) }));
}

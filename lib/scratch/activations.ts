/**
 * Activation functions g and their derivatives g', as in the lectures (seed 002, "Funciones de activación
 * y sus derivadas"; seeds 001/002 for LeakyReLU, ELU, PReLU, maxout).
 *
 * Two forms of each one:
 *  - scalar: `sigmoid(z)`, `sigmoidPrime(z)`, ... on plain numbers (float64), readable next to the formula;
 *  - tensor: `activations.sigmoid.tensor(z)`, `activations.sigmoid.tensorPrime(z)` on tfjs tensors (float32).
 * The registry `activations` is keyed by `ActivationName`, so models take an activation by name.
 *
 * Elementwise activations map each φ_i to s_i = g(φ_i). Two are not elementwise:
 *  - softmax couples all units: s_i = exp(z_i) / Σ_j exp(z_j), and its Jacobian is not diagonal;
 *  - maxout pools k consecutive pre-activations ("pieces") into one output: s_i = max_p z_{ik+p}.
 * Where the lecture says a derivative is undefined (ReLU and step at 0), we use the value tfjs uses.
 */
import * as tf from "@tensorflow/tfjs";

export type ActivationName =
  | "linear"
  | "step"
  | "sigmoid"
  | "tanh"
  | "relu"
  | "softsign"
  | "leakyRelu"
  | "elu"
  | "prelu"
  | "softmax"
  | "maxout";

export const ACTIVATION_NAMES: readonly ActivationName[] = [
  "linear", "step", "sigmoid", "tanh", "relu", "softsign", "leakyRelu", "elu", "prelu", "softmax", "maxout",
];

// ---------------------------------------------------------------------------------------------------
// Scalar forms (float64)
// ---------------------------------------------------------------------------------------------------

/** LINEAL: g_L(z) = z. */
export function linear(z: number): number {
  return z;
}
/** g'_L(z) = 1. */
export function linearPrime(_z: number): number {
  return 1;
}

/** ESCALÓN (sign): g_E(z) = sgn(z) = +1 if z > 0, -1 if z < 0 (0 at z = 0, as Math.sign). */
export function step(z: number): number {
  return Math.sign(z);
}
/** g'_E(z) = 0 for z ≠ 0 (undefined at 0; 0 here, as tfjs): no gradient flows through a step. */
export function stepPrime(_z: number): number {
  return 0;
}

/** SIGMOID: g_S(z) = 1 / (1 + exp(-z)), computed without overflow for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z); // exp(-z) would overflow for very negative z
  return e / (1 + e);
}
/** g'_S(z) = g_S(z) (1 - g_S(z)). */
export function sigmoidPrime(z: number): number {
  const s = sigmoid(z);
  return s * (1 - s);
}

/** TANGENTE HIPERBÓLICA: g_T(z) = (e^z - e^-z) / (e^z + e^-z) = 2 g_S(2z) - 1. */
export function tanh(z: number): number {
  return Math.tanh(z);
}
/** g'_T(z) = 1 - g_T(z)². */
export function tanhPrime(z: number): number {
  const t = Math.tanh(z);
  return 1 - t * t;
}

/** RELU: g_U(z) = max(0, z). */
export function relu(z: number): number {
  return z > 0 ? z : 0;
}
/** g'_U(z) = 1 if z > 0, 0 if z < 0 (undefined at 0; 0 here, as tfjs). */
export function reluPrime(z: number): number {
  return z > 0 ? 1 : 0;
}

/** RÁPIDA (softsign): g_F(z) = z / (1 + |z|). */
export function softsign(z: number): number {
  return z / (1 + Math.abs(z));
}
/** g'_F(z) = 1 / (1 + |z|)² (= (g_F(z)/z)² for z ≠ 0). */
export function softsignPrime(z: number): number {
  const d = 1 + Math.abs(z);
  return 1 / (d * d);
}

/** Default slope of LeakyReLU for z < 0 (Keras and tfjs use 0.3 in the layer, 0.2 in tf.leakyRelu). */
export const LEAKY_RELU_ALPHA = 0.01;
/** Default α of ELU. */
export const ELU_ALPHA = 1;
/** Default initial α of PReLU (He et al. 2015). */
export const PRELU_ALPHA = 0.25;
/** Default number of pieces k of maxout (the lecture's max(w1 z + b1, w2 z + b2)). */
export const MAXOUT_PIECES = 2;

/** LeakyReLU_α(z) = max(αz, z) for 0 ≤ α < 1: z if z > 0, αz otherwise. */
export function leakyRelu(z: number, alpha = LEAKY_RELU_ALPHA): number {
  return z > 0 ? z : alpha * z;
}
/** d/dz LeakyReLU_α(z) = 1 if z > 0, α otherwise. */
export function leakyReluPrime(z: number, alpha = LEAKY_RELU_ALPHA): number {
  return z > 0 ? 1 : alpha;
}

/** ELU_α(z) = z if z > 0, α (e^z - 1) otherwise. */
export function elu(z: number, alpha = ELU_ALPHA): number {
  return z > 0 ? z : alpha * Math.expm1(z);
}
/** d/dz ELU_α(z) = 1 if z > 0, α e^z otherwise. */
export function eluPrime(z: number, alpha = ELU_ALPHA): number {
  return z > 0 ? 1 : alpha * Math.exp(z);
}

/** PReLU: max(αz, z) like LeakyReLU, but α is a parameter learned by backprop (one per unit). */
export function prelu(z: number, alpha = PRELU_ALPHA): number {
  return leakyRelu(z, alpha);
}
/** ∂/∂z PReLU(z; α) = 1 if z > 0, α otherwise. */
export function preluPrime(z: number, alpha = PRELU_ALPHA): number {
  return leakyReluPrime(z, alpha);
}
/** ∂/∂α PReLU(z; α) = z if z < 0, 0 otherwise: the gradient that trains α. */
export function preluAlphaPrime(z: number): number {
  return z > 0 ? 0 : z;
}

/** SOFTMAX: g_M(z)_i = exp(z_i) / Σ_j exp(z_j), shifted by max(z) so exp cannot overflow. */
export function softmax(z: readonly number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}
/**
 * The softmax Jacobian J_ij = ∂s_i/∂z_j = s_i (δ_ij - s_j). Its diagonal is the lecture's
 * g'_M(z_i) = g_M(z_i)(1 - g_M(z_i)); the off-diagonal terms -s_i s_j are why softmax is not elementwise.
 */
export function softmaxJacobian(z: readonly number[]): number[][] {
  const s = softmax(z);
  return s.map((si, i) => s.map((sj, j) => si * ((i === j ? 1 : 0) - sj)));
}
/**
 * Jacobian-vector product J v = s ⊙ (v - (s·v)), without building J (O(n) instead of O(n²)).
 * J is symmetric, so this is also vᵀJ: the backward pass ∂q/∂z from v = ∂q/∂s.
 */
export function softmaxJvp(z: readonly number[], v: readonly number[]): number[] {
  checkSameLength("softmaxJvp", z.length, v.length);
  const s = softmax(z);
  const sv = s.reduce((acc, si, i) => acc + si * v[i], 0);
  return s.map((si, i) => si * (v[i] - sv));
}

/** MAXOUT with k pieces: output i is the max of z[i·k .. i·k + k - 1]; z.length must be a multiple of k. */
export function maxout(z: readonly number[], pieces = MAXOUT_PIECES): number[] {
  const units = maxoutUnits("maxout", z.length, pieces);
  return Array.from({ length: units }, (_, i) => z[maxoutWinner(z, i, pieces)]);
}
/**
 * Maxout's backward pass: the gradient ds_i of each output goes to the piece that won the max, and the
 * other pieces get 0 (the "routing" gradient). On a tie ONE piece gets it, the first maximum (as PyTorch's
 * `max(dim)` does), not all of them. Returns ∂q/∂z (length z.length) from ds = ∂q/∂s.
 */
export function maxoutGrad(z: readonly number[], ds: readonly number[], pieces = MAXOUT_PIECES): number[] {
  const units = maxoutUnits("maxoutGrad", z.length, pieces);
  checkSameLength("maxoutGrad (ds vs units)", units, ds.length);
  const dz = new Array<number>(z.length).fill(0);
  for (let i = 0; i < units; i++) dz[maxoutWinner(z, i, pieces)] = ds[i];
  return dz;
}

/** Index in z of the piece that wins output unit i (the first one on ties). */
function maxoutWinner(z: readonly number[], i: number, pieces: number): number {
  let best = i * pieces;
  for (let p = 1; p < pieces; p++) if (z[i * pieces + p] > z[best]) best = i * pieces + p;
  return best;
}

function maxoutUnits(where: string, n: number, pieces: number): number {
  if (!Number.isInteger(pieces) || pieces < 1) {
    throw new Error(`${where}: pieces must be a positive integer (k ≥ 2 for a real maxout), got ${pieces}`);
  }
  if (n % pieces !== 0) {
    throw new Error(`${where}: ${n} pre-activations cannot be split into groups of ${pieces} pieces; ` +
      `give units × pieces values (e.g. ${Math.ceil(n / pieces) * pieces})`);
  }
  return n / pieces;
}

function checkSameLength(where: string, a: number, b: number): void {
  if (a !== b) throw new Error(`${where}: lengths differ (${a} vs ${b}); both vectors need one entry per unit`);
}

// ---------------------------------------------------------------------------------------------------
// Tensor forms (tfjs, float32). Inputs are [..., units]; softmax and maxout act on the last axis.
// ---------------------------------------------------------------------------------------------------

/** α of a parametric activation: a number, or a tensor broadcast over the last axis (PReLU's α per unit). */
export type Alpha = number | tf.Tensor;

/** An activation that acts on each unit alone: s_i = g(φ_i). */
export interface ElementwiseActivation {
  readonly kind: "elementwise";
  readonly name: ActivationName;
  /** Default α for the parametric ones (leakyRelu, elu, prelu); undefined for the others. */
  readonly defaultAlpha?: number;
  /** g(z), float64. */
  g(z: number, alpha?: number): number;
  /** g'(z), float64. */
  gPrime(z: number, alpha?: number): number;
  /** g applied to every entry of a tensor. */
  tensor(z: tf.Tensor, alpha?: Alpha): tf.Tensor;
  /** g' applied to every entry of a tensor (the hand-written derivative, not autodiff). */
  tensorPrime(z: tf.Tensor, alpha?: Alpha): tf.Tensor;
  /** PReLU only: ∂g/∂α, scalar and tensor. */
  alphaPrime?(z: number): number;
  tensorAlphaPrime?(z: tf.Tensor): tf.Tensor;
}

/** An activation of a whole vector of units (softmax) or of groups of them (maxout). */
export interface VectorActivation {
  readonly kind: "vector";
  readonly name: ActivationName;
  /** Pre-activations per output unit: k for maxout, 1 for softmax. */
  piecesPerUnit(pieces?: number): number;
  /** s = g(z) for one sample, float64. */
  g(z: readonly number[], pieces?: number): number[];
  /** ∂q/∂z from ds = ∂q/∂s for one sample, float64. */
  backward(z: readonly number[], ds: readonly number[], pieces?: number): number[];
  /** g on a batch [N, units·pieces] → [N, units]. */
  tensor(z: tf.Tensor2D, pieces?: number): tf.Tensor2D;
  /** ∂q/∂z [N, units·pieces] from ds = ∂q/∂s [N, units] (hand-written, not autodiff). */
  tensorBackward(z: tf.Tensor2D, ds: tf.Tensor2D, pieces?: number): tf.Tensor2D;
}

export type Activation = ElementwiseActivation | VectorActivation;

function alphaOf(alpha: Alpha | undefined, fallback: number): Alpha {
  return alpha === undefined ? fallback : alpha;
}

/** max(αz, z) with α a number or a per-unit tensor; 1 or α as its derivative. */
function leakyTensor(z: tf.Tensor, alpha: Alpha): tf.Tensor {
  return typeof alpha === "number" ? tf.leakyRelu(z, alpha) : tf.prelu(z, alpha);
}
function leakyTensorPrime(z: tf.Tensor, alpha: Alpha): tf.Tensor {
  return tf.tidy(() => tf.where(tf.greater(z, 0), tf.onesLike(z), tf.mul(tf.onesLike(z), alpha)));
}

const elementwise = (a: Omit<ElementwiseActivation, "kind">): ElementwiseActivation => ({ kind: "elementwise", ...a });

/** Every activation by name: `ACTIVATIONS.relu.gPrime(0.5)`, `ACTIVATIONS.softmax.tensor(z)`. */
export const ACTIVATIONS: { readonly [K in ActivationName]: Activation } = {
  linear: elementwise({
    name: "linear",
    g: linear,
    gPrime: linearPrime,
    tensor: (z) => tf.clone(z), // a new tensor, so callers may dispose input and output independently
    tensorPrime: (z) => tf.onesLike(z),
  }),
  step: elementwise({
    name: "step",
    g: step,
    gPrime: stepPrime,
    tensor: (z) => tf.sign(z),
    tensorPrime: (z) => tf.zerosLike(z),
  }),
  sigmoid: elementwise({
    name: "sigmoid",
    g: sigmoid,
    gPrime: sigmoidPrime,
    tensor: (z) => tf.sigmoid(z),
    tensorPrime: (z) => tf.tidy(() => { const s = tf.sigmoid(z); return tf.mul(s, tf.sub(1, s)); }),
  }),
  tanh: elementwise({
    name: "tanh",
    g: tanh,
    gPrime: tanhPrime,
    tensor: (z) => tf.tanh(z),
    tensorPrime: (z) => tf.tidy(() => tf.sub(1, tf.square(tf.tanh(z)))),
  }),
  relu: elementwise({
    name: "relu",
    g: relu,
    gPrime: reluPrime,
    tensor: (z) => tf.relu(z),
    tensorPrime: (z) => tf.step(z), // 1 where z > 0, else 0
  }),
  softsign: elementwise({
    name: "softsign",
    g: softsign,
    gPrime: softsignPrime,
    tensor: (z) => tf.tidy(() => tf.div(z, tf.add(1, tf.abs(z)))),
    tensorPrime: (z) => tf.tidy(() => tf.reciprocal(tf.square(tf.add(1, tf.abs(z))))),
  }),
  leakyRelu: elementwise({
    name: "leakyRelu",
    defaultAlpha: LEAKY_RELU_ALPHA,
    g: leakyRelu,
    gPrime: leakyReluPrime,
    tensor: (z, alpha) => leakyTensor(z, alphaOf(alpha, LEAKY_RELU_ALPHA)),
    tensorPrime: (z, alpha) => leakyTensorPrime(z, alphaOf(alpha, LEAKY_RELU_ALPHA)),
  }),
  elu: elementwise({
    name: "elu",
    defaultAlpha: ELU_ALPHA,
    g: elu,
    gPrime: eluPrime,
    // relu(z) + α(e^min(z,0) - 1) instead of tf.where: differentiable by tfjs (tf.greater has no gradient),
    // and exp never sees a large positive z (Infinity there would turn the gradient into NaN).
    tensor: (z, alpha) => tf.tidy(() => tf.add(tf.relu(z), tf.mul(alphaOf(alpha, ELU_ALPHA), tf.expm1(tf.minimum(z, 0))))),
    tensorPrime: (z, alpha) =>
      tf.tidy(() => tf.where(tf.greater(z, 0), tf.onesLike(z), tf.mul(alphaOf(alpha, ELU_ALPHA), tf.exp(tf.minimum(z, 0))))),
  }),
  prelu: elementwise({
    name: "prelu",
    defaultAlpha: PRELU_ALPHA,
    g: prelu,
    gPrime: preluPrime,
    tensor: (z, alpha) => leakyTensor(z, alphaOf(alpha, PRELU_ALPHA)),
    tensorPrime: (z, alpha) => leakyTensorPrime(z, alphaOf(alpha, PRELU_ALPHA)),
    alphaPrime: preluAlphaPrime,
    tensorAlphaPrime: (z) => tf.minimum(z, 0),
  }),
  softmax: {
    kind: "vector",
    name: "softmax",
    piecesPerUnit: () => 1,
    g: (z) => softmax(z),
    backward: (z, ds) => softmaxJvp(z, ds),
    tensor: (z) => tf.softmax(z),
    tensorBackward: (z, ds) =>
      tf.tidy(() => {
        const s = tf.softmax(z);
        return tf.mul(s, tf.sub(ds, tf.sum(tf.mul(s, ds), -1, true)));
      }),
  },
  maxout: {
    kind: "vector",
    name: "maxout",
    piecesPerUnit: (pieces = MAXOUT_PIECES) => pieces,
    g: (z, pieces) => maxout(z, pieces),
    backward: (z, ds, pieces) => maxoutGrad(z, ds, pieces),
    tensor: (z, pieces = MAXOUT_PIECES) => tf.tidy(() => tf.max(groupPieces(z, pieces), 2)),
    tensorBackward: (z, ds, pieces = MAXOUT_PIECES) =>
      tf.tidy(() => {
        // Route ds to ONE piece per unit, the first maximum, as maxoutGrad does (and PyTorch's max). On a tie
        // the pieces do not share it: tf.max's own gradient (autodiff through `tensor`) gives every tied
        // piece the full ds, so tf.grad of `tensor` differs from this on ties only.
        const g = groupPieces(z, pieces);
        const atMax = tf.cast(tf.equal(g, tf.max(g, 2, true)), "float32");
        // Among the pieces equal to the max, keep the first: the running count of maxima along the pieces is 1
        // there and only there (exact in float32; no reliance on a backend's tie order in argMax).
        const first = tf.mul(atMax, tf.cast(tf.equal(tf.cumsum(atMax, 2), 1), "float32"));
        return tf.reshape(tf.mul(first, tf.expandDims(ds, 2)), z.shape) as tf.Tensor2D;
      }),
  },
};

/** [N, units·k] → [N, units, k]: the k pieces of each unit side by side. */
function groupPieces(z: tf.Tensor2D, pieces: number): tf.Tensor3D {
  const [n, width] = z.shape;
  const units = maxoutUnits("maxout", width, pieces);
  return tf.reshape(z, [n, units, pieces]);
}

/** The activation registered under `name`, or an error listing the valid names. */
export function activation(name: string): Activation {
  if (!(ACTIVATION_NAMES as readonly string[]).includes(name)) {
    throw new Error(`Unknown activation "${name}". Valid names: ${ACTIVATION_NAMES.join(", ")}`);
  }
  return ACTIVATIONS[name as ActivationName];
}

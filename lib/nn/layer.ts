/**
 * The one layer contract of the library (CS231n's shape): every layer — dense, activation, normalization,
 * residual block, and later dropout, convolution, pooling — is an object with
 *
 *   forward(x, ctx)        -> { out, cache }     out = f(x; θ); cache = what backward needs
 *   backward(dout, cache)  -> { dx, grads }      dout = ∂q/∂out;  dx = ∂q/∂x;  grads[name] = ∂q/∂θ_name
 *
 * and named parameters `params` (tf.Variables, updated in place by an optimizer). Tensors may have any
 * rank: a dense layer takes [N, inputs], a convolution [N, height, width, channels].
 *
 * `ctx` says whether the pass is for training or inference (batch norm uses the batch's statistics or its
 * running averages; dropout drops units or not) and carries the seeded generator for layers that draw
 * random numbers, so that a run is reproducible.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";

/** What a forward pass is for. */
export interface Context {
  /** true: training (batch statistics, running averages move, dropout on); false: inference. */
  readonly training: boolean;
  /** The generator of layers that draw (dropout masks); required by them in training. */
  readonly rng?: Rng;
  /**
   * Training-mode statistics without moving batch norm's running averages: what a model left in training
   * mode at test time computes (lecture 07's pitfall). Default false.
   */
  readonly frozenStats?: boolean;
}

/** The inference context: running statistics, no dropout. */
export const INFERENCE: Context = Object.freeze({ training: false });

/** A training context with its generator (for dropout; optional for layers that draw nothing). */
export function trainingContext(rng?: Rng, opts: { frozenStats?: boolean } = {}): Context {
  return Object.freeze({ training: true, rng, frozenStats: opts.frozenStats ?? false });
}

/** Named trainable parameters of a layer, e.g. { W, b } or { gamma, beta }. */
export type Params = Readonly<Record<string, tf.Variable>>;
/** ∂q/∂θ for each parameter name of the layer. */
export type Grads = Record<string, tf.Tensor>;

/** A layer with a hand-written backward pass. */
export interface Layer<C = unknown> {
  /** For tables and errors: "Dense(784→300)". */
  readonly name: string;
  /** Trainable parameters by name (possibly none). */
  readonly params: Params;
  /** out = f(x); cache = what `backward` needs. */
  forward(x: tf.Tensor, ctx: Context): { out: tf.Tensor; cache: C };
  /** dx = ∂q/∂x and ∂q/∂θ for each parameter, from dout = ∂q/∂out. */
  backward(dout: tf.Tensor, cache: C): { dx: tf.Tensor; grads: Grads };
  /** Frees the parameters and any state (running averages). */
  dispose(): void;
}

/** A layer without parameters returns these grads. */
export const NO_GRADS: Grads = Object.freeze({}) as Grads;

/** Checks that `ctx` is a Context; the error says how to make one. */
export function checkContext(where: string, ctx: unknown): asserts ctx is Context {
  if (typeof ctx !== "object" || ctx === null || typeof (ctx as Context).training !== "boolean") {
    throw new Error(`${where}: the second argument must be a context: bp.nn.INFERENCE or bp.nn.trainingContext(rng)`);
  }
}

/** Checks that x has `rank` dimensions and, where given, the sizes of `tail` after the batch dimension. */
export function checkInput(where: string, x: tf.Tensor, tail: readonly number[]): void {
  const ok = x.rank === tail.length + 1 && tail.every((n, k) => n === x.shape[k + 1]);
  if (!ok) throw new Error(`${where}: x should be [N, ${tail.join(", ")}], got [${x.shape.join(", ")}]`);
}

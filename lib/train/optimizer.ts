/**
 * The optimizer interface of the training loop, and plain gradient descent (the lecture's
 * Δθ = -ρ ∂q_S/∂θ). Momentum, Adam, ... implement the same interface (lib/scratch/optimizers.ts).
 */
import * as tf from "@tensorflow/tfjs";

export interface Optimizer {
  /** Human-readable name with hyper-parameters, for logs: "SGD(ρ=0.1)". */
  readonly name: string;
  /** Updates every param in place from its gradient (same order). Must not keep or dispose `grads`. */
  step(params: tf.Variable[], grads: tf.Tensor[]): void;
}

/** Checks that params and grads pair up one to one with equal shapes. */
export function checkParamsAndGrads(where: string, params: tf.Variable[], grads: tf.Tensor[]): void {
  if (params.length !== grads.length) {
    throw new Error(`${where}: ${params.length} parameters but ${grads.length} gradients; give one gradient per parameter, same order`);
  }
  params.forEach((p, k) => {
    if (!tf.util.arraysEqual(p.shape, grads[k].shape)) {
      throw new Error(`${where}: parameter ${k} has shape [${p.shape.join(", ")}] but its gradient has [${grads[k].shape.join(", ")}]`);
    }
  });
}

/** Plain (stochastic) gradient descent: θ ← θ - ρ ∇θ q. */
export class Sgd implements Optimizer {
  readonly name: string;

  /** `rho` is the learning rate ρ (> 0). */
  constructor(readonly rho: number) {
    if (!(rho > 0) || !Number.isFinite(rho)) throw new Error(`SGD: the learning rate ρ must be a positive number, got ${rho}`);
    this.name = `SGD(ρ=${rho})`;
  }

  /** θ ← θ - ρ g for every parameter. */
  step(params: tf.Variable[], grads: tf.Tensor[]): void {
    checkParamsAndGrads("SGD.step", params, grads);
    tf.tidy(() => params.forEach((p, k) => p.assign(tf.sub(p, tf.mul(this.rho, grads[k])))));
  }
}


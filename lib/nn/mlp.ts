/**
 * The MLP of lectures 02–07 as a Network: Dense^1, g^1, Dense^2, g^2, ..., Dense^L and a head with g^L and
 * the loss, loaded from the weights format every implementation shares (lib/scratch/init.ts), so that the
 * scalar MLP, this one, the autodiff one and the tf.layers one can hold the same numbers.
 */
import * as tf from "@tensorflow/tfjs";
import { MlpSpec, FullMlpSpec, MlpWeights, fullSpec, checkWeights, layerCount, layerActivation } from "../scratch/init";
import { Layer } from "./layer";
import { Dense } from "./dense";
import { Activation } from "./activation";
import { LossHead } from "./heads";
import { Network } from "./network";

/** The tensors of one layer of the shared weights format. */
export interface LayerVariables {
  W: tf.Variable;
  b: tf.Variable;
  alpha?: tf.Variable;
}

/** float32 variables holding `weights` (checked against `spec`). */
export function mlpVariables(spec: FullMlpSpec, weights: MlpWeights): LayerVariables[] {
  checkWeights(spec, weights);
  // Inside tidy the initial tensors are freed; variables are never tidied away.
  return tf.tidy(() => weights.map(({ W, b, alpha }) => ({
    W: tf.variable(tf.tensor2d(W, undefined, "float32")),
    b: tf.variable(tf.tensor1d(b, "float32")),
    ...(alpha ? { alpha: tf.variable(tf.tensor1d(alpha, "float32")) } : {}),
  })));
}

/** Loads `weights` (shared format) into the variables of an MLP, in the order W^1, b^1, [α^1], W^2, ... */
export function assignMlpWeights(spec: FullMlpSpec, params: readonly tf.Variable[], weights: MlpWeights): void {
  checkWeights(spec, weights);
  const values = weights.flatMap(({ W, b, alpha }) => [W, b, ...(alpha ? [alpha] : [])]);
  if (values.length !== params.length) throw new Error(`setWeights: ${values.length} arrays for ${params.length} parameters`);
  tf.tidy(() => params.forEach((p, k) => p.assign(tf.tensor(values[k], p.shape, "float32"))));
}

/**
 * The parameters of an MLP in the order every tensor implementation uses: W^1, b^1, [α^1], W^2, b^2, ...
 * Turns a list in that order (the parameters or their gradients) into the shared weights format.
 */
export function weightsFromTensors(spec: MlpSpec, tensors: readonly tf.Tensor[]): MlpWeights {
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

/** The layers and head of an MLP over the given variables. */
function mlpLayers(spec: FullMlpSpec, vars: LayerVariables[]): { layers: Layer[]; head: LossHead } {
  const L = layerCount(spec);
  const layers: Layer[] = [];
  const act = (l: number, v: LayerVariables) =>
    new Activation(layerActivation(spec, l), { alpha: v.alpha ?? spec.alpha, pieces: spec.pieces });
  vars.forEach((v, k) => {
    layers.push(new Dense(v.W, v.b));
    if (k + 1 < L || v.alpha) layers.push(act(k + 1, v));
  });
  // PReLU learns α, so a PReLU output stays a layer and the head is linear.
  const output = vars[L - 1].alpha ? "linear" : spec.output;
  return { layers, head: new LossHead(output, spec.loss, { alpha: spec.alpha, pieces: spec.pieces }) };
}

/** The MLP in matrix form with hand-written backward passes: a Network built from an MlpSpec and weights. */
export class MatrixMlp extends Network {
  readonly spec: FullMlpSpec;

  /** An MLP for `spec` holding float32 variables initialized from `weights` (shared format). */
  constructor(spec: MlpSpec, weights: MlpWeights) {
    const full = fullSpec(spec);
    const { layers, head } = mlpLayers(full, mlpVariables(full, weights));
    super(layers, head, { inputShape: [full.sizes[0]], outputSize: full.sizes[full.sizes.length - 1] });
    this.spec = full;
  }

  /** The weights in the shared format (float32 values as numbers). */
  getWeights(): MlpWeights {
    return weightsFromTensors(this.spec, this.params);
  }

  /** Loads weights in the shared format. */
  setWeights(weights: MlpWeights): void {
    assignMlpWeights(this.spec, this.params, weights);
  }
}

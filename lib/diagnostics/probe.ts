/**
 * Looks inside an MLP on one batch: for every layer l = 1..L the pre-activations Φ^l, the outputs S^l,
 * the back-propagated gradients ∂q/∂Φ^l (the lecture's deltas, up to sign) and ∂q/∂S^l, the weights W^l
 * and their gradient ∂q/∂W^l. Works on the three tensor MLPs that share the weights format, reading each
 * one's own computation:
 *   - MatrixMlp (scratch): the network's taps (every layer's output and the gradient at it);
 *   - AutodiffMlp and LayersMlp (TensorFlow.js): the forward pass with zero "probe" variables added to
 *     Φ^l and S^l, and tf.variableGrads, so tfjs autodiff gives ∂q/∂Φ^l = ∂q/∂(probe) along with ∂q/∂W^l.
 *     For LayersMlp every number comes from the tf.layers objects themselves (Dense kernels and biases,
 *     tf.layers activations), not from lib/scratch.
 * So the same statistics can be computed for a from-scratch model and a tfjs model, and compared.
 */
import * as tf from "@tensorflow/tfjs";
import { ActivationName } from "../scratch/activations";
import { LOSSES } from "../scratch/losses";
import { FullMlpSpec, layerActivation, layerCount, layerWidth } from "../scratch/init";
import { MatrixMlp } from "../nn/mlp";
import { Dense } from "../nn/dense";
import { AutodiffMlp, ForwardHooks } from "../tf/mlp-autodiff";
import { LayersMlp } from "../tf/mlp-layers";
import { checkBatch } from "../train/model";

/** The MLPs that can be probed. */
export type ProbedModel = MatrixMlp | AutodiffMlp | LayersMlp;

/** Everything about one layer l on one batch of N samples (row-major float32 copies). */
export interface LayerProbe {
  /** l = 1..L. */
  layer: number;
  activation: ActivationName;
  /** True for the output layer L. */
  isOutput: boolean;
  /** Output units M_l (columns of S^l). */
  units: number;
  /** Pre-activations per sample (columns of Φ^l): M_l·k for maxout, M_l otherwise. */
  width: number;
  /** Samples N. */
  samples: number;
  /** Φ^l = S^{l-1} W^l + b^l, [N, width]. */
  pre: Float32Array;
  /** S^l = g(Φ^l), [N, units]. */
  post: Float32Array;
  /** ∂q/∂Φ^l, [N, width]: the back-propagated gradient (−δ^l of the lecture). */
  dPre: Float32Array;
  /** ∂q/∂S^l, [N, units]. */
  dPost: Float32Array;
  /** W^l, [M_{l-1}, width]. */
  W: Float32Array;
  /** ∂q/∂W^l, [M_{l-1}, width]. */
  dW: Float32Array;
}

/** One layer's tensors (disposed by `probe` once copied); a type so that tf.tidy may return it. */
type LayerTensors = {
  pre: tf.Tensor;
  post: tf.Tensor;
  dPre: tf.Tensor;
  dPost: tf.Tensor;
  W: tf.Tensor;
  dW: tf.Tensor;
};

/**
 * Probes `model` on the batch x [N, M_0] with targets t [N, M_L]: one entry per layer l = 1..L.
 * The loss is the model's own mean loss q_S over the batch, so gradients match its `lossAndGrads`.
 */
export function probe(model: ProbedModel, x: tf.Tensor, t: tf.Tensor2D): LayerProbe[] {
  if (!(model instanceof MatrixMlp || model instanceof AutodiffMlp || model instanceof LayersMlp)) {
    throw new Error("probe: the model must be a MatrixMlp, AutodiffMlp or LayersMlp (the MLPs that share the weights format)");
  }
  checkBatch("probe", model, x, t);
  const x2 = x as tf.Tensor2D;
  const tensors = model instanceof MatrixMlp ? probeMatrix(model, x2, t) : probeAutodiff(model, x2, t);
  try {
    return tensors.map((k, i) => {
      const l = i + 1;
      return {
        layer: l,
        activation: layerActivation(model.spec, l),
        isOutput: l === layerCount(model.spec),
        units: model.spec.sizes[l],
        width: layerWidth(model.spec, l),
        samples: x.shape[0],
        pre: k.pre.dataSync() as Float32Array,
        post: k.post.dataSync() as Float32Array,
        dPre: k.dPre.dataSync() as Float32Array,
        dPost: k.dPost.dataSync() as Float32Array,
        W: k.W.dataSync() as Float32Array,
        dW: k.dW.dataSync() as Float32Array,
      };
    });
  } finally {
    tensors.forEach((k) => tf.dispose([k.pre, k.post, k.dPre, k.dPost, k.dW]));
  }
}

/** The scratch model: its taps. Dense^l is followed by g^l (the last g in the head, or a PReLU layer). */
function probeMatrix(model: MatrixMlp, x: tf.Tensor2D, t: tf.Tensor2D): LayerTensors[] {
  return tf.tidy(() => {
    const taps = model.taps(x, t);
    const L = layerCount(model.spec);
    const denseAt = taps.layers.flatMap((_, k) => (model.layers[k] instanceof Dense ? [k] : []));
    return denseAt.map((k, i) => {
      const l = i + 1;
      const dense = taps.layers[k];
      const last = l === L;
      // S^l and ∂q/∂S^l: the next layer's (g^l), or the head's for the output layer.
      const act = last ? undefined : taps.layers[k + 1];
      return {
        pre: dense.output,
        post: act ? act.output : taps.s,
        dPre: dense.dOutput,
        dPost: act ? act.dOutput : taps.ds,
        W: (model.layers[k] as Dense).params.W,
        dW: taps.grads[`${k}.W`],
      };
    });
  });
}

/** A forward step of a tfjs model: Φ^l from S^{l-1}, and S^l from Φ^l. */
interface TfStep {
  W: tf.Variable;
  affine(s: tf.Tensor2D): tf.Tensor2D;
  activate(phi: tf.Tensor2D): tf.Tensor2D;
}

/** The forward steps of a LayersMlp, read off its tf.layers: Dense kernel/bias, then tf.layers activations. */
function layersSteps(model: LayersMlp): TfStep[] {
  const steps: TfStep[] = [];
  const layers = model.model.layers;
  for (let i = 0; i < layers.length; ) {
    const dense = layers[i++];
    if (dense.getClassName() !== "Dense") throw new Error(`probe: expected a Dense layer at position ${i - 1} of the LayersMlp, found ${dense.getClassName()}`);
    const [kernel, bias] = dense.trainableWeights.map((w) => w.read() as tf.Variable);
    const fused = String(dense.getConfig().activation ?? "linear");
    const after: tf.layers.Layer[] = [];
    while (i < layers.length && layers[i].getClassName() !== "Dense") after.push(layers[i++]);
    // A Dense with a built-in activation: the same tfjs activation applied as its own layer.
    const fusedLayer = fused === "linear" ? undefined : tf.layers.activation({ activation: fused as "sigmoid" });
    steps.push({
      W: kernel,
      affine: (s) => tf.add(tf.matMul(s, kernel), bias) as tf.Tensor2D,
      activate: (phi) => {
        let s: tf.Tensor = fusedLayer ? (fusedLayer.apply(phi) as tf.Tensor) : phi;
        for (const layer of after) s = layer.apply(s, { training: true }) as tf.Tensor;
        return s as tf.Tensor2D;
      },
    });
  }
  if (steps.length !== layerCount(model.spec)) throw new Error(`probe: the LayersMlp has ${steps.length} Dense layers, its spec says ${layerCount(model.spec)}`);
  return steps;
}

/** A forward pass with hooks on Φ^l and S^l, and the kernels W^l: what the tfjs probe needs of a model. */
interface HookedForward {
  Ws: tf.Variable[];
  run(x: tf.Tensor2D, hooks: Required<ForwardHooks>): tf.Tensor2D;
}

/** A LayersMlp's steps run one after the other. */
function layersForward(model: LayersMlp): HookedForward {
  const steps = layersSteps(model);
  return {
    Ws: steps.map((s) => s.W),
    run: (x, hooks) => steps.reduce((s, step, k) => hooks.post(k + 1, step.activate(hooks.pre(k + 1, step.affine(s)))), x),
  };
}

/** A tfjs model: zero probes on Φ^l and S^l, and tfjs autodiff for their gradients and the weights'. */
function probeAutodiff(model: AutodiffMlp | LayersMlp, x: tf.Tensor2D, t: tf.Tensor2D): LayerTensors[] {
  const spec: FullMlpSpec = model.spec;
  const fwd: HookedForward = model instanceof AutodiffMlp
    ? { Ws: model.vars.map((v) => v.W), run: (xs, hooks) => model.forward(xs, hooks) }
    : layersForward(model);
  const N = x.shape[0];
  const L = layerCount(spec);
  // Inside tidy, so the zeros the variables start from are freed (a variable shares their data).
  const zeroVar = (cols: number) => tf.tidy(() => tf.variable(tf.zeros([N, cols]), true, undefined, "float32"));
  const pPre = Array.from({ length: L }, (_, k) => zeroVar(layerWidth(spec, k + 1)));
  const pPost = Array.from({ length: L }, (_, k) => zeroVar(spec.sizes[k + 1]));
  const kept: { pre: tf.Tensor[]; post: tf.Tensor[] } = { pre: [], post: [] };
  const hooks: Required<ForwardHooks> = {
    pre: (l, phi) => { const p = tf.add(phi, pPre[l - 1]) as tf.Tensor2D; kept.pre.push(tf.keep(p)); return p; },
    post: (l, s) => { const p = tf.add(s, pPost[l - 1]) as tf.Tensor2D; kept.post.push(tf.keep(p)); return p; },
  };
  try {
    const { value, grads } = tf.variableGrads(() => LOSSES[spec.loss].tensor(fwd.run(x, hooks), t), [...fwd.Ws, ...pPre, ...pPost]);
    value.dispose();
    const out: LayerTensors[] = [];
    for (let k = 0; k < L; k++) {
      out.push({ pre: kept.pre[k], post: kept.post[k], dPre: grads[pPre[k].name], dPost: grads[pPost[k].name], W: fwd.Ws[k], dW: grads[fwd.Ws[k].name] });
    }
    return out;
  } catch (e) {
    tf.dispose([...kept.pre, ...kept.post]);
    throw e;
  } finally {
    tf.dispose([...pPre, ...pPost]);
  }
}

/**
 * Looks inside an MLP on one batch: for every layer l = 1..L the pre-activations Φ^l, the outputs S^l,
 * the back-propagated gradients ∂q/∂Φ^l (the lecture's deltas, up to sign) and ∂q/∂S^l, the weights W^l
 * and their gradient ∂q/∂W^l. Works on the three tensor MLPs that share the weights format:
 *   - MatrixMlp (scratch): its own layers forward and its hand-written backward passes, layer by layer;
 *   - AutodiffMlp and LayersMlp (TensorFlow.js): the forward pass with zero "probe" variables added to
 *     Φ^l and S^l, and tf.variableGrads, so tfjs autodiff gives ∂q/∂Φ^l = ∂q/∂(probe) along with ∂q/∂W^l.
 *     For LayersMlp every number comes from the tf.layers objects themselves (Dense kernels and biases,
 *     tf.layers activations), not from lib/scratch.
 * So the same statistics can be computed for a from-scratch model and a tfjs model, and compared.
 */
import * as tf from "@tensorflow/tfjs";
import { ActivationName, activations } from "../scratch/activations";
import { losses, isFusedOutput } from "../scratch/losses";
import { FullMlpSpec, layerActivation, layerCount, layerWidth } from "../scratch/init";
import { MatrixMlp, Dense, ActivationLayer } from "../scratch/mlp-matrix";
import { AutodiffMlp } from "../tf/mlp-autodiff";
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
export function probe(model: ProbedModel, x: tf.Tensor2D, t: tf.Tensor2D): LayerProbe[] {
  if (!(model instanceof MatrixMlp || model instanceof AutodiffMlp || model instanceof LayersMlp)) {
    throw new Error("probe: the model must be a MatrixMlp, AutodiffMlp or LayersMlp (the MLPs that share the weights format)");
  }
  checkBatch("probe", model, x, t);
  const tensors = model instanceof MatrixMlp ? probeMatrix(model, x, t) : probeAutodiff(model, x, t);
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

/** The scratch model: its layers' forward, then their hand-written backward passes. */
function probeMatrix(model: MatrixMlp, x: tf.Tensor2D, t: tf.Tensor2D): LayerTensors[] {
  return tf.tidy(() => {
    const { out, caches } = model.forward(x);
    const L = layerCount(model.spec);
    const q = losses[model.spec.loss];
    // Layers come in pairs: Dense^l (cache S^{l-1}) then g^l (cache Φ^l).
    const pre = (l: number) => caches[2 * l - 1] as tf.Tensor2D;
    const post = (l: number) => (l === L ? out : (caches[2 * l] as tf.Tensor2D));
    const dense = (l: number) => model.layers[2 * l - 2] as Dense;
    const act = (l: number) => model.layers[2 * l - 1] as ActivationLayer;

    const dPost = q.tensorGrad(out, t);
    // With softmax + cross-entropy (or sigmoid + BCE) the fused ∂q/∂Φ^L = (S^L − T)/N, as lossAndGrads does.
    let dPre = isFusedOutput(model.spec.output, model.spec.loss)
      ? (tf.div(tf.sub(out, t), x.shape[0]) as tf.Tensor2D)
      : act(L).backward(dPost, pre(L)).dx;
    const result: LayerTensors[] = [];
    let dS = dPost;
    for (let l = L; l >= 1; l--) {
      if (l < L) dPre = act(l).backward(dS, pre(l)).dx;
      const back = dense(l).backward(dPre, caches[2 * l - 2] as tf.Tensor2D);
      result[l - 1] = { pre: pre(l), post: post(l), dPre, dPost: dS, W: dense(l).W, dW: back.grads[0] };
      dS = back.dx;
    }
    return result;
  });
}

/** A forward step of a tfjs model: Φ^l from S^{l-1}, and S^l from Φ^l. */
interface TfStep {
  W: tf.Variable;
  affine(s: tf.Tensor2D): tf.Tensor2D;
  activate(phi: tf.Tensor2D): tf.Tensor2D;
}

/** The forward steps of an AutodiffMlp (its variables and the tensor activations it uses). */
function autodiffSteps(model: AutodiffMlp): TfStep[] {
  return model.vars.map((v, k) => {
    const act = activations[layerActivation(model.spec, k + 1)];
    return {
      W: v.W,
      affine: (s) => tf.add(tf.matMul(s, v.W), v.b) as tf.Tensor2D,
      activate: (phi) => (act.kind === "elementwise" ? act.tensor(phi, v.alpha ?? model.spec.alpha) : act.tensor(phi, model.spec.pieces)) as tf.Tensor2D,
    };
  });
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

/** A tfjs model: zero probes on Φ^l and S^l, and tfjs autodiff for their gradients and the weights'. */
function probeAutodiff(model: AutodiffMlp | LayersMlp, x: tf.Tensor2D, t: tf.Tensor2D): LayerTensors[] {
  const spec: FullMlpSpec = model.spec;
  const steps = model instanceof AutodiffMlp ? autodiffSteps(model) : layersSteps(model);
  const N = x.shape[0];
  const L = steps.length;
  // Inside tidy, so the zeros the variables start from are freed (a variable shares their data).
  const zeroVar = (cols: number) => tf.tidy(() => tf.variable(tf.zeros([N, cols]), true, undefined, "float32"));
  const pPre = steps.map((_, k) => zeroVar(layerWidth(spec, k + 1)));
  const pPost = steps.map((_, k) => zeroVar(spec.sizes[k + 1]));
  const kept: { pre: tf.Tensor[]; post: tf.Tensor[] } = { pre: [], post: [] };
  try {
    const Ws = steps.map((s) => s.W);
    const { value, grads } = tf.variableGrads(() => {
      let s = x;
      steps.forEach((step, k) => {
        const phi = tf.add(step.affine(s), pPre[k]) as tf.Tensor2D;
        s = tf.add(step.activate(phi), pPost[k]) as tf.Tensor2D;
        kept.pre.push(tf.keep(phi));
        kept.post.push(tf.keep(s));
      });
      return losses[spec.loss].tensor(s, t);
    }, [...Ws, ...pPre, ...pPost]);
    value.dispose();
    const out: LayerTensors[] = [];
    for (let k = 0; k < L; k++) {
      out.push({ pre: kept.pre[k], post: kept.post[k], dPre: grads[pPre[k].name], dPost: grads[pPost[k].name], W: Ws[k], dW: grads[Ws[k].name] });
    }
    return out;
  } catch (e) {
    tf.dispose([...kept.pre, ...kept.post]);
    throw e;
  } finally {
    tf.dispose([...pPre, ...pPost]);
  }
}

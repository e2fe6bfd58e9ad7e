/**
 * Gradient check of any layer of the one contract, CS231n style: with a fixed upstream gradient dout, the
 * layer's backward pass must give the derivatives of
 *
 *   f(x, θ) = Σ out(x, θ) ⊙ dout
 *
 * with respect to x and to every parameter. They are compared with central differences
 * (f(v + h) − f(v − h)) / 2h, with f summed in float64. The layer computes in float32 (tfjs), so the
 * numeric derivative carries rounding of about 1e-7·√n / h: with h = 1e-3 a right backward pass gives
 * relative errors around 1e-4..1e-3 and a wrong one ≳ 1e-1. Entries are sampled (`entries` per tensor).
 *
 * Layers that draw random numbers (dropout) see the same draws in every forward pass: each one gets a
 * fresh training context seeded alike; batch norm's running averages are left alone (frozenStats).
 *
 * `layerGrads` and `tfLayerGrads` give the same quantities for a layer of ours and for a tf.layers layer
 * (by TensorFlow.js autodiff), to compare the two with `compare`.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { Context, INFERENCE, Layer, trainingContext } from "../nn/layer";
import { GradCheckEntry, GradCheckResult } from "./gradcheck";

export interface LayerCheckOptions {
  /** ∂q/∂out; default N(0, 1) entries drawn from `seed`. */
  dout?: tf.Tensor;
  /** Training (default) or inference context. */
  training?: boolean;
  /** Seeds dout, the sampled entries and the layer's own draws (default 0). */
  seed?: number;
  /** Step of the central difference (default 1e-3). */
  h?: number;
  /** Denominator floor of the relative error (default 1e-2: float32 noise is judged in absolute terms). */
  floor?: number;
  /** Entries checked per tensor (default 30; all when the tensor is smaller). */
  entries?: number;
}

export interface LayerCheckResult extends GradCheckResult {
  /** Worst relative error per checked tensor: "x", then each parameter name. */
  byTensor: Record<string, number>;
}

function contextFor(training: boolean, seed: number): Context {
  return training ? trainingContext(new Rng(seed + 7919), { frozenStats: true }) : INFERENCE;
}

/** out, ∂q/∂x and ∂q/∂θ of one of our layers for a given dout (the layer's hand-written backward). */
export function layerGrads(layer: Layer, x: tf.Tensor, dout: tf.Tensor, ctx: Context): { out: tf.Tensor; dx: tf.Tensor; grads: Record<string, tf.Tensor> } {
  return tf.tidy(() => {
    const { out, cache } = layer.forward(x, ctx);
    const { dx, grads } = layer.backward(dout, cache);
    return { out, dx, grads };
  });
}

/**
 * out, ∂q/∂x and ∂q/∂w of a tf.layers layer for q = Σ out ⊙ dout, by tfjs autodiff; `grads` follow the
 * order of layer.trainableWeights. `training` is passed to the layer (batch statistics for batch norm).
 */
export function tfLayerGrads(layer: tf.layers.Layer, x: tf.Tensor, dout: tf.Tensor, opts: { training?: boolean } = {}): { out: tf.Tensor; dx: tf.Tensor; grads: tf.Tensor[] } {
  const xv = tf.variable(x.clone());
  const weights = layer.trainableWeights.map((w) => (w as unknown as { read(): tf.Variable }).read());
  let out: tf.Tensor | undefined;
  try {
    const { grads, value } = tf.variableGrads(() => {
      const y = layer.apply(xv, { training: opts.training ?? true }) as tf.Tensor;
      out = tf.keep(y.clone());
      return tf.sum(tf.mul(y, dout)) as tf.Scalar;
    }, [xv, ...weights]);
    value.dispose();
    return { out: out!, dx: grads[xv.name], grads: weights.map((w) => grads[w.name]) };
  } finally {
    xv.dispose();
  }
}

/** Checks `layer`'s backward pass at x against central differences (see the file comment). */
export function checkLayer(layer: Layer, x: tf.Tensor, opts: LayerCheckOptions = {}): LayerCheckResult {
  const seed = opts.seed ?? 0, h = opts.h ?? 1e-3, floor = opts.floor ?? 1e-2, perTensor = opts.entries ?? 30;
  const training = opts.training ?? true;
  const r = new Rng(seed);
  const ctx = () => contextFor(training, seed);
  const xData = Float32Array.from(x.dataSync());
  const probeOut = tf.tidy(() => layer.forward(x, ctx()).out);
  const dout = opts.dout ?? r.normalTensor(probeOut.shape);
  const up = Float64Array.from(dout.dataSync());
  probeOut.dispose();
  /** f = Σ out ⊙ dout in float64, for the input values `xs`. */
  const f = (xs: Float32Array): number => {
    const values = tf.tidy(() => layer.forward(tf.tensor(xs, x.shape), ctx()).out.dataSync());
    let s = 0;
    for (let i = 0; i < values.length; i++) s += values[i] * up[i];
    return s;
  };
  const analytic = layerGrads(layer, x, dout, ctx());
  const entries: GradCheckEntry[] = [];
  const byTensor: Record<string, number> = {};
  const sample = (n: number) => (n <= perTensor ? Array.from({ length: n }, (_, i) => i) : r.permutation(n).slice(0, perTensor));
  const judge = (path: string, a: number, numeric: number) => {
    const absError = Math.abs(a - numeric);
    const relError = absError / Math.max(Math.abs(a), Math.abs(numeric), floor);
    entries.push({ path, analytic: a, numeric, absError, relError: Number.isNaN(relError) ? Infinity : relError });
    return entries[entries.length - 1].relError;
  };
  try {
    // ∂f/∂x
    const dx = analytic.dx.dataSync();
    let worst = 0;
    for (const i of sample(xData.length)) {
      const v = xData[i];
      xData[i] = v + h; const fp = f(xData);
      xData[i] = v - h; const fm = f(xData);
      xData[i] = v;
      worst = Math.max(worst, judge(`x[${i}]`, dx[i], (fp - fm) / (2 * h)));
    }
    byTensor.x = worst;
    // ∂f/∂θ for every parameter
    for (const [name, p] of Object.entries(layer.params)) {
      const g = analytic.grads[name];
      if (!g) throw new Error(`checkLayer: ${layer.name}.backward returned no gradient for its parameter "${name}"`);
      const original = Float32Array.from(p.dataSync());
      const values = Float32Array.from(original);
      const gv = g.dataSync();
      const set = (vals: Float32Array) => tf.tidy(() => p.assign(tf.tensor(vals, p.shape)));
      worst = 0;
      try {
        for (const i of sample(values.length)) {
          const v = values[i];
          values[i] = v + h; set(values); const fp = f(xData);
          values[i] = v - h; set(values); const fm = f(xData);
          values[i] = v;
          worst = Math.max(worst, judge(`${name}[${i}]`, gv[i], (fp - fm) / (2 * h)));
        }
      } finally {
        set(original);
      }
      byTensor[name] = worst;
    }
    for (const name of Object.keys(analytic.grads)) {
      if (!(name in layer.params)) throw new Error(`checkLayer: ${layer.name}.backward returned a gradient for "${name}", which is not one of its parameters`);
    }
  } finally {
    tf.dispose([analytic.out, analytic.dx, ...Object.values(analytic.grads)]);
    if (!opts.dout) dout.dispose();
  }
  const sorted = entries.slice().sort((a, b) => b.relError - a.relError);
  return {
    maxRelError: sorted.length ? sorted[0].relError : 0,
    maxAbsError: entries.reduce((m, e) => Math.max(m, e.absError), 0),
    checked: entries.length,
    worst: sorted.slice(0, 5),
    byTensor,
  };
}

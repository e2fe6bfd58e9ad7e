/**
 * Convolution and pooling from scratch: plain loops over float64 arrays that read like the formulas of the
 * lecture (seed 003). They are slow and exact; the layers in lib/nn/conv.ts and lib/nn/pool.ts are the fast
 * tensor forms and are checked against these.
 *
 * Layout (TensorFlow's): images are [N, H, W, C] (sample, row, column, channel), kernels [KH, KW, CI, CO].
 *
 *   convolution (mathematics)   S(i, j) = Σ_m Σ_n I(m, n) K(i − m, j − n)      the kernel is flipped
 *   cross-correlation (CNNs)    S(i, j) = Σ_m Σ_n I(i + m, j + n) K(m, n)      no flip; what "conv" layers compute
 *
 * A convolution layer with stride s computes, for every sample n and output channel o,
 *
 *   out[n, i, j, o] = b[o] + Σ_{a, c, ci} xp[n, s·i + a, s·j + c, ci] · W[a, c, ci, o]
 *
 * with xp the input padded with zeros (none for "valid"). Its backward pass, from dout = ∂q/∂out:
 *
 *   ∂q/∂W[a, c, ci, o] = Σ_{n, i, j} xp[n, s·i + a, s·j + c, ci] · dout[n, i, j, o]   (input ⋆ δ)
 *   ∂q/∂b[o]           = Σ_{n, i, j} dout[n, i, j, o]
 *   ∂q/∂xp[n, p, r, ci] = Σ_{i, j, o} dout[n, i, j, o] · W[p − s·i, r − s·j, ci, o]     (the transposed operation)
 *
 * For stride 1 the last sum is the *full* cross-correlation of dout with the kernel flipped in both axes
 * (`inputGradAsFullConvolution` computes it that way), i.e. a true convolution of δ with W.
 */

/** A float64 array with its shape, row-major (the last index varies fastest). */
export interface Array4 {
  shape: [number, number, number, number];
  data: Float64Array;
}

export type Padding = "valid" | "same";

export function zeros4(shape: [number, number, number, number]): Array4 {
  return { shape, data: new Float64Array(shape[0] * shape[1] * shape[2] * shape[3]) };
}

/** From nested arrays or a flat array and a shape. */
export function array4(data: ArrayLike<number>, shape: [number, number, number, number]): Array4 {
  const n = shape[0] * shape[1] * shape[2] * shape[3];
  if (data.length !== n) throw new Error(`array4: ${data.length} values do not fill [${shape.join(", ")}] (${n})`);
  return { shape, data: Float64Array.from(data) };
}

/** Flat index of [a, b, c, d] in an array of `shape`. */
export function at(shape: readonly number[], a: number, b: number, c: number, d: number): number {
  return ((a * shape[1] + b) * shape[2] + c) * shape[3] + d;
}

/**
 * Output size of a convolution or pooling along one axis: ⌊(n + 2p − k)/s⌋ + 1 with p zeros on each side.
 * "valid": p = 0; "same": TensorFlow's rule, ⌈n/s⌉ outputs, the padding split with the odd one at the end.
 */
export function outputSize(n: number, k: number, stride = 1, padding: Padding | number = "valid"): number {
  if (padding === "same") return Math.ceil(n / stride);
  const p = padding === "valid" ? 0 : padding;
  const out = Math.floor((n + 2 * p - k) / stride) + 1;
  if (out < 1) throw new Error(`outputSize: a kernel of ${k} does not fit in ${n} + 2·${p} inputs`);
  return out;
}

/** Zeros before and after along one axis for TensorFlow's "same" padding (and none for "valid"). */
export function padAmounts(n: number, k: number, stride: number, padding: Padding): [number, number] {
  if (padding === "valid") return [0, 0];
  const total = Math.max((Math.ceil(n / stride) - 1) * stride + k - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** 1-D convolution (flip) or cross-correlation (no flip) of x with k, "valid" part: n − k + 1 values. */
export function conv1d(x: readonly number[], k: readonly number[], mode: "convolution" | "correlation"): number[] {
  const out: number[] = [];
  for (let i = 0; i + k.length <= x.length; i++) {
    let s = 0;
    for (let m = 0; m < k.length; m++) s += x[i + m] * (mode === "correlation" ? k[m] : k[k.length - 1 - m]);
    out.push(s);
  }
  return out;
}

/**
 * 2-D convolution of an image I (rows of numbers) with a kernel K, "valid" part, in the lecture's form
 * S(i, j) = Σ_m Σ_n I(m, n) K(i − m, j − n) (indices shifted so that S starts where K fits whole), or the
 * cross-correlation S(i, j) = Σ_m Σ_n I(i + m, j + n) K(m, n) that CNN layers compute.
 */
export function conv2dSingle(image: readonly (readonly number[])[], kernel: readonly (readonly number[])[], mode: "convolution" | "correlation"): number[][] {
  const H = image.length, W = image[0].length, kh = kernel.length, kw = kernel[0].length;
  const out: number[][] = [];
  for (let i = 0; i + kh <= H; i++) {
    const row: number[] = [];
    for (let j = 0; j + kw <= W; j++) {
      let s = 0;
      for (let m = 0; m < kh; m++) {
        for (let n = 0; n < kw; n++) {
          // convolution: S(i', j') = Σ I(m', n') K(i' − m', j' − n') with i' = i + kh − 1, m' = i + m
          const k = mode === "correlation" ? kernel[m][n] : kernel[kh - 1 - m][kw - 1 - n];
          s += image[i + m][j + n] * k;
        }
      }
      row.push(s);
    }
    out.push(row);
  }
  return out;
}

/** x padded with zeros: `top`/`left` before, `bottom`/`right` after. */
export function pad4(x: Array4, top: number, bottom: number, left: number, right: number): Array4 {
  const [N, H, W, C] = x.shape;
  const out = zeros4([N, H + top + bottom, W + left + right, C]);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++)
        for (let c = 0; c < C; c++) out.data[at(out.shape, n, i + top, j + left, c)] = x.data[at(x.shape, n, i, j, c)];
  return out;
}

export interface ConvOptions {
  stride?: number;
  padding?: Padding;
}

function convGeometry(x: Array4, w: Array4, opts: ConvOptions) {
  const s = opts.stride ?? 1, padding = opts.padding ?? "valid";
  const [, H, W, C] = x.shape, [KH, KW, CI] = w.shape;
  if (CI !== C) throw new Error(`conv2d: the kernel has ${CI} input channels, the image ${C}`);
  const [top, bottom] = padAmounts(H, KH, s, padding), [left, right] = padAmounts(W, KW, s, padding);
  return { s, top, bottom, left, right, OH: outputSize(H + top + bottom, KH, s), OW: outputSize(W + left + right, KW, s) };
}

/** out[n, i, j, o] = b[o] + Σ_{a, c, ci} xp[n, s·i + a, s·j + c, ci] W[a, c, ci, o]  (cross-correlation). */
export function conv2dForward(x: Array4, w: Array4, b: readonly number[], opts: ConvOptions = {}): Array4 {
  const { s, top, bottom, left, right, OH, OW } = convGeometry(x, w, opts);
  const xp = pad4(x, top, bottom, left, right);
  const [N] = x.shape, [KH, KW, CI, CO] = w.shape;
  const out = zeros4([N, OH, OW, CO]);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++)
        for (let o = 0; o < CO; o++) {
          let sum = b[o];
          for (let a = 0; a < KH; a++)
            for (let c = 0; c < KW; c++)
              for (let ci = 0; ci < CI; ci++) sum += xp.data[at(xp.shape, n, s * i + a, s * j + c, ci)] * w.data[at(w.shape, a, c, ci, o)];
          out.data[at(out.shape, n, i, j, o)] = sum;
        }
  return out;
}

/** ∂q/∂x, ∂q/∂W and ∂q/∂b of `conv2dForward` from dout (the formulas of the file comment). */
export function conv2dBackward(x: Array4, w: Array4, dout: Array4, opts: ConvOptions = {}): { dx: Array4; dW: Array4; db: number[] } {
  const { s, top, bottom, left, right, OH, OW } = convGeometry(x, w, opts);
  const xp = pad4(x, top, bottom, left, right);
  const [N, H, W] = x.shape, [KH, KW, CI, CO] = w.shape;
  const dxp = zeros4(xp.shape), dW = zeros4(w.shape), db = new Array<number>(CO).fill(0);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++)
        for (let o = 0; o < CO; o++) {
          const d = dout.data[at(dout.shape, n, i, j, o)];
          db[o] += d;
          for (let a = 0; a < KH; a++)
            for (let c = 0; c < KW; c++)
              for (let ci = 0; ci < CI; ci++) {
                const p = at(xp.shape, n, s * i + a, s * j + c, ci), k = at(w.shape, a, c, ci, o);
                dW.data[k] += xp.data[p] * d;   // input ⋆ δ
                dxp.data[p] += w.data[k] * d;   // every input gets back what it sent, weighted
              }
        }
  // crop the padding off: the zeros added are not inputs
  const dx = zeros4(x.shape);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++)
        for (let ci = 0; ci < CI; ci++) dx.data[at(dx.shape, n, i, j, ci)] = dxp.data[at(dxp.shape, n, i + top, j + left, ci)];
  return { dx, dW, db };
}

/**
 * ∂q/∂x of a stride-1 "valid" convolution layer computed as the lecture writes it: pad dout with KH − 1 rows
 * and KW − 1 columns of zeros on every side ("full"), then cross-correlate with the kernel flipped in both
 * spatial axes and with its channel axes swapped (W[KH−1−a, KW−1−c, ci, o] takes o to ci).
 */
export function inputGradAsFullConvolution(dout: Array4, w: Array4): Array4 {
  const [KH, KW, CI, CO] = w.shape;
  const flipped = zeros4([KH, KW, CO, CI]);
  for (let a = 0; a < KH; a++)
    for (let c = 0; c < KW; c++)
      for (let ci = 0; ci < CI; ci++)
        for (let o = 0; o < CO; o++) flipped.data[at(flipped.shape, a, c, o, ci)] = w.data[at(w.shape, KH - 1 - a, KW - 1 - c, ci, o)];
  const full = pad4(dout, KH - 1, KH - 1, KW - 1, KW - 1);
  return conv2dForward(full, flipped, new Array<number>(CI).fill(0));
}

export interface PoolOptions {
  /** Window side (default 2). */
  size?: number;
  /** Step between windows (default: the window side, windows that do not overlap). */
  stride?: number;
}

function poolGeometry(x: Array4, opts: PoolOptions) {
  const k = opts.size ?? 2, s = opts.stride ?? k;
  return { k, s, OH: outputSize(x.shape[1], k, s), OW: outputSize(x.shape[2], k, s) };
}

/**
 * Max-pooling ("valid": windows that fit whole): out[n, i, j, c] = max over the k × k window at (s·i, s·j).
 * `winners` holds, for every output, the flat index in x of the first maximum in row-major order: the
 * backward pass sends each output's gradient to that one input (ties included: one winner per window).
 */
export function maxPoolForward(x: Array4, opts: PoolOptions = {}): { out: Array4; winners: Int32Array } {
  const { k, s, OH, OW } = poolGeometry(x, opts);
  const [N, , , C] = x.shape;
  const out = zeros4([N, OH, OW, C]);
  const winners = new Int32Array(out.data.length);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++)
        for (let c = 0; c < C; c++) {
          let best = -Infinity, where = -1;
          for (let a = 0; a < k; a++)
            for (let b = 0; b < k; b++) {
              const p = at(x.shape, n, s * i + a, s * j + b, c);
              if (x.data[p] > best) { best = x.data[p]; where = p; }
            }
          const o = at(out.shape, n, i, j, c);
          out.data[o] = best;
          winners[o] = where;
        }
  return { out, winners };
}

/** ∂q/∂x of max-pooling: each output's gradient goes to its window's winner (accumulated when windows overlap). */
export function maxPoolBackward(dout: Array4, winners: Int32Array, xShape: [number, number, number, number]): Array4 {
  const dx = zeros4(xShape);
  for (let o = 0; o < dout.data.length; o++) dx.data[winners[o]] += dout.data[o];
  return dx;
}

/** Average pooling: out = (1/k²) Σ over the window. */
export function avgPoolForward(x: Array4, opts: PoolOptions = {}): Array4 {
  const { k, s, OH, OW } = poolGeometry(x, opts);
  const [N, , , C] = x.shape;
  const out = zeros4([N, OH, OW, C]);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++)
        for (let c = 0; c < C; c++) {
          let sum = 0;
          for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) sum += x.data[at(x.shape, n, s * i + a, s * j + b, c)];
          out.data[at(out.shape, n, i, j, c)] = sum / (k * k);
        }
  return out;
}

/** ∂q/∂x of average pooling: each output's gradient spread evenly, 1/k² to every input of its window. */
export function avgPoolBackward(dout: Array4, xShape: [number, number, number, number], opts: PoolOptions = {}): Array4 {
  const k = opts.size ?? 2, s = opts.stride ?? k;
  const [N, OH, OW, C] = dout.shape;
  const dx = zeros4(xShape);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++)
        for (let c = 0; c < C; c++) {
          const d = dout.data[at(dout.shape, n, i, j, c)] / (k * k);
          for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) dx.data[at(xShape, n, s * i + a, s * j + b, c)] += d;
        }
  return dx;
}

/** Parameters of a convolution layer (KH·KW·CI·CO weights + CO biases) and of a dense layer doing the same mapping. */
export function parameterCounts(input: [number, number, number], kernel: number, filters: number, opts: ConvOptions = {}): { conv: number; dense: number; outputShape: [number, number, number] } {
  const [H, W, C] = input, s = opts.stride ?? 1, padding = opts.padding ?? "valid";
  const OH = padding === "same" ? Math.ceil(H / s) : outputSize(H, kernel, s);
  const OW = padding === "same" ? Math.ceil(W / s) : outputSize(W, kernel, s);
  const outputs = OH * OW * filters;
  return { conv: kernel * kernel * C * filters + filters, dense: H * W * C * outputs + outputs, outputShape: [OH, OW, filters] };
}

/**
 * Decision boundaries of a 2-D classifier, as TensorFlow Playground draws them: the plane is coloured by
 * what the model predicts at every point of a grid, and the training points are drawn on top.
 *
 * The builders know nothing of models or tensors: they take a `predict` callback that receives the grid
 * points (a flat Float32Array, `count` rows of [x₁, x₂]) and returns the class probabilities, `count`
 * rows of C values (or one value per point: the probability of class 1). From a tfjs model:
 *
 *   const predict = (pts, n) => tf.tidy(() => model.predict(tf.tensor2d(pts, [n, 2])).dataSync());
 *   show(decisionBoundary(predict, set, { title: "XOR" }));
 *
 * Two classes: the background is P(class 1) on an orange–white–blue scale with the 0.5 contour drawn.
 * More classes: the background is the predicted class (argmax), each in a light tint of its colour.
 * `decisionBoundaries` puts several such panels in one figure (e.g. XOR, circles, spirals, blobs).
 */
import { Figure, AxisTitles, Trace, baseLayout, linspace } from "./figure";

/** Class colours: Playground's orange and blue first, then Plotly's cycle. */
export const CLASS_COLORS = ["#f59322", "#0877bd", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/** Labelled 2-D points: x holds n rows of [x₁, x₂] (row-major), labels the classes 0..numClasses-1. */
export interface BoundaryData {
  x: ArrayLike<number>;
  labels: ArrayLike<number>;
  numClasses: number;
}

/** Grid points for a prediction: row r is ys[r], column c is xs[c]; `points` lists them row by row. */
export interface BoundaryGrid {
  xs: number[];
  ys: number[];
  /** ys.length · xs.length rows of [x₁, x₂], row-major (the x₁ index runs fastest). */
  points: Float32Array;
}

/** Model outputs at `count` grid points: count × C probabilities, or count values of P(class 1). */
export type GridPredict = (points: Float32Array, count: number) => ArrayLike<number>;

export interface GridOptions {
  /** Grid points per axis (default 80). */
  resolution?: number;
  /** Fraction of the data's extent added on every side (default 0.15). */
  margin?: number;
  /** Fixed ranges instead of the data's extent plus the margin. */
  xRange?: [number, number];
  yRange?: [number, number];
}

export interface BoundaryOptions extends AxisTitles, GridOptions {
  /** Legend names of the classes (default "clase k"). */
  classNames?: string[];
  /** Panels per row in `decisionBoundaries` (default: all in one row, at most 4). */
  cols?: number;
}

/** One panel of `decisionBoundaries`. */
export interface BoundaryPanel {
  title?: string;
  predict: GridPredict;
  data: BoundaryData;
}

function checkData(where: string, data: BoundaryData): number {
  const n = data.labels.length;
  if (n === 0) throw new Error(`${where}: no points to draw (labels is empty)`);
  if (data.x.length !== 2 * n) {
    throw new Error(`${where}: ${n} labels need ${2 * n} coordinates (n rows of [x₁, x₂]), got ${data.x.length}; the builder is for 2-D inputs only`);
  }
  if (!Number.isInteger(data.numClasses) || data.numClasses < 2) throw new Error(`${where}: numClasses must be an integer ≥ 2, got ${data.numClasses}`);
  for (let i = 0; i < n; i++) {
    const c = data.labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= data.numClasses) throw new Error(`${where}: label ${c} of point ${i} is not a class in [0, ${data.numClasses})`);
  }
  return n;
}

function extent(x: ArrayLike<number>, offset: 0 | 1, margin: number): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = offset; i < x.length; i += 2) {
    lo = Math.min(lo, x[i]);
    hi = Math.max(hi, x[i]);
  }
  const pad = margin * (hi - lo || 1);
  return [lo - pad, hi + pad];
}

/** Six significant digits: enough for any axis, short in the page. */
const tidy = (v: number) => Number(v.toPrecision(6));

/** A regular grid over the points x (n rows of [x₁, x₂]) plus a margin, or over the given ranges. */
export function boundaryGrid(x: ArrayLike<number>, opts: GridOptions = {}): BoundaryGrid {
  const res = opts.resolution ?? 80;
  if (!Number.isInteger(res) || res < 2) throw new Error(`boundaryGrid: resolution must be an integer ≥ 2, got ${res}`);
  const margin = opts.margin ?? 0.15;
  if (x.length < 2 || x.length % 2 !== 0) throw new Error(`boundaryGrid: x must hold rows of [x₁, x₂], got ${x.length} numbers`);
  const [x0, x1] = opts.xRange ?? extent(x, 0, margin);
  const [y0, y1] = opts.yRange ?? extent(x, 1, margin);
  const xs = linspace(x0, x1, res).map(tidy), ys = linspace(y0, y1, res).map(tidy);
  const points = new Float32Array(2 * res * res);
  ys.forEach((yv, r) => xs.forEach((xv, c) => {
    points[2 * (r * res + c)] = xv;
    points[2 * (r * res + c) + 1] = yv;
  }));
  return { xs, ys, points };
}

/** "#rrggbb" mixed with white: weight 1 is the colour, 0 is white. */
function tint(hex: string, weight: number): string {
  const n = parseInt(hex.slice(1), 16);
  const mix = (v: number) => Math.round(255 + (v - 255) * weight);
  return `rgb(${mix((n >> 16) & 255)}, ${mix((n >> 8) & 255)}, ${mix(n & 255)})`;
}

const color = (c: number) => CLASS_COLORS[c % CLASS_COLORS.length];

/** The background and points of one panel, on axes x{suffix}, y{suffix}. */
function panelTraces(panel: BoundaryPanel, opts: BoundaryOptions, suffix: string, legendShown: Set<number>, showScale: boolean): { traces: Trace[]; xRange: [number, number]; yRange: [number, number] } {
  const { data } = panel;
  const n = checkData("decisionBoundary", data);
  const grid = boundaryGrid(data.x, opts);
  const count = grid.xs.length * grid.ys.length;
  const out = panel.predict(grid.points, count);
  const C = data.numClasses;
  if (out.length !== count && out.length !== count * C) {
    throw new Error(`decisionBoundary: predict returned ${out.length} values for ${count} grid points; ` +
      `expected ${count} × ${C} class probabilities (or ${count} values of P(class 1) for two classes)`);
  }
  const perPoint = out.length / count;
  if (perPoint === 1 && C !== 2) throw new Error(`decisionBoundary: one value per point is P(class 1) and needs 2 classes, the data has ${C}`);
  const axes = { xaxis: `x${suffix}`, yaxis: `y${suffix}` };
  const at = (r: number, c: number, k: number) => out[(r * grid.xs.length + c) * perPoint + k];
  // three decimals are plenty for a colour and keep the page small (float32 values print with ~17 digits)
  const round = (v: number) => Math.round(v * 1000) / 1000;
  const traces: Trace[] = [];
  if (C === 2) {
    // P(class 1): from the probabilities' second column, or the single output
    const z = grid.ys.map((_, r) => grid.xs.map((_, c) => round(at(r, c, perPoint === 1 ? 0 : 1))));
    traces.push({
      type: "heatmap", x: grid.xs, y: grid.ys, z, zmin: 0, zmax: 1, ...axes, hoverinfo: "skip",
      colorscale: [[0, tint(color(0), 0.55)], [0.5, "rgb(255, 255, 255)"], [1, tint(color(1), 0.55)]],
      showscale: showScale,
      ...(showScale ? { colorbar: { title: { text: "P(clase 1)" }, thickness: 12, len: 0.8 } } : {}),
    });
    traces.push({
      type: "contour", x: grid.xs, y: grid.ys, z, ...axes, hoverinfo: "skip", showscale: false, showlegend: false,
      contours: { start: 0.5, end: 0.5, size: 1, coloring: "none" }, line: { color: "#333", width: 2 },
    });
  } else {
    const z = grid.ys.map((_, r) => grid.xs.map((_, c) => {
      let best = 0;
      for (let k = 1; k < C; k++) if (at(r, c, k) > at(r, c, best)) best = k;
      return best;
    }));
    // a stepped colour scale: class k covers [k - 0.5, k + 0.5] of [−0.5, C − 0.5]
    const colorscale: [number, string][] = [];
    for (let k = 0; k < C; k++) {
      colorscale.push([k / C, tint(color(k), 0.35)], [(k + 1) / C, tint(color(k), 0.35)]);
    }
    traces.push({ type: "heatmap", x: grid.xs, y: grid.ys, z, zmin: -0.5, zmax: C - 0.5, colorscale, showscale: false, hoverinfo: "skip", ...axes });
  }
  for (let k = 0; k < C; k++) {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (data.labels[i] === k) idx.push(i);
    if (idx.length === 0) continue;
    traces.push({
      type: "scatter", mode: "markers", name: opts.classNames?.[k] ?? `clase ${k}`, legendgroup: `class-${k}`,
      showlegend: !legendShown.has(k), ...axes,
      x: idx.map((i) => data.x[2 * i]), y: idx.map((i) => data.x[2 * i + 1]),
      marker: { size: n <= 20 ? 12 : 6, color: color(k), line: { color: "white", width: 1 } },
    });
    legendShown.add(k);
  }
  return { traces, xRange: [grid.xs[0], grid.xs[grid.xs.length - 1]], yRange: [grid.ys[0], grid.ys[grid.ys.length - 1]] };
}

/**
 * Several decision-boundary panels in one figure, `cols` per row, each with its own axes and title.
 * The legend lists each class once.
 */
export function decisionBoundaries(panels: BoundaryPanel[], opts: BoundaryOptions = {}): Figure {
  if (panels.length === 0) throw new Error("decisionBoundaries needs at least one panel");
  const cols = Math.min(opts.cols ?? Math.min(panels.length, 4), panels.length);
  if (!Number.isInteger(cols) || cols < 1) throw new Error(`decisionBoundaries: cols must be a positive integer, got ${opts.cols}`);
  const rows = Math.ceil(panels.length / cols);
  const single = panels.length === 1;
  const base = baseLayout({ ...opts, title: opts.title });
  const layout: Record<string, unknown> = {
    ...base,
    height: opts.height ?? (single ? 460 : rows * 370 + (opts.title ? 90 : 50)),
    // one panel: a colour bar on the right and the legend below; several: the legend on the right
    margin: { l: 60, r: 20, t: opts.title ? 80 : 40, b: single ? 100 : 60 },
    legend: single ? { orientation: "h", x: 0, y: -0.22, yanchor: "top" } : { x: 1.02, y: 1, yanchor: "top" },
    annotations: [] as unknown[],
  };
  if (!single) layout.grid = { rows, columns: cols, pattern: "independent", xgap: 0.12, ygap: 0.32 };
  const legendShown = new Set<number>();
  const data: Trace[] = [];
  panels.forEach((panel, k) => {
    const suffix = k === 0 ? "" : String(k + 1);
    const { traces, xRange, yRange } = panelTraces(panel, opts, suffix, legendShown, single);
    data.push(...traces);
    layout[`xaxis${suffix}`] = { title: { text: opts.xTitle ?? "x₁" }, range: xRange, zeroline: false, constrain: "domain" };
    layout[`yaxis${suffix}`] = { title: { text: opts.yTitle ?? "x₂" }, range: yRange, zeroline: false, scaleanchor: `x${suffix}`, constrain: "domain" };
    if (panel.title && !single) {
      (layout.annotations as unknown[]).push({
        text: panel.title, xref: `x${suffix} domain`, yref: `y${suffix} domain`, x: 0.5, y: 1.02,
        xanchor: "center", yanchor: "bottom", showarrow: false, font: { size: 14 },
      });
    }
  });
  if (single && panels[0].title && !opts.title) layout.title = { text: panels[0].title };
  return { data, layout };
}

/** The decision boundary of one classifier over its 2-D training points (see the module comment). */
export function decisionBoundary(predict: GridPredict, data: BoundaryData, opts: BoundaryOptions = {}): Figure {
  return decisionBoundaries([{ predict, data }], opts);
}

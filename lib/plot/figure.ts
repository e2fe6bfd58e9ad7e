/**
 * Plotly figure builders. A figure is plain data ({ data, layout }): notebooks show it with `show()`,
 * tests and graders read its numbers (e.g. hw01 grades the traces of a returned figure).
 */

/** A Plotly trace: { type, x, y, name, mode, ... } as plotly.js documents it. */
export type Trace = Record<string, unknown>;

export interface Figure {
  data: Trace[];
  layout: Record<string, unknown>;
}

export interface AxisTitles {
  /** Figure title. */
  title?: string;
  /** x-axis title. */
  xTitle?: string;
  /** y-axis title. */
  yTitle?: string;
  width?: number;
  height?: number;
}

type Numbers = ArrayLike<number>;

/** Copies typed arrays into plain arrays, which Plotly and JSON both accept. */
export function toArray(xs: Numbers): number[] {
  return Array.from(xs);
}

/** Evenly spaced numbers from `start` to `stop` inclusive, like NumPy's linspace. */
export function linspace(start: number, stop: number, n: number): number[] {
  if (!Number.isInteger(n) || n < 2) throw new Error(`linspace needs n ≥ 2 points, got ${n}`);
  return Array.from({ length: n }, (_, i) => start + ((stop - start) * i) / (n - 1));
}

/** The base layout: titles, size, a legible font, and room for axis titles. */
export function baseLayout(t: AxisTitles = {}): Record<string, unknown> {
  return {
    title: t.title ? { text: t.title } : undefined,
    xaxis: { title: { text: t.xTitle ?? "" }, zeroline: false },
    yaxis: { title: { text: t.yTitle ?? "" }, zeroline: false },
    width: t.width,
    height: t.height ?? 420,
    margin: { l: 65, r: 20, t: t.title ? 50 : 20, b: 65 },
    font: { size: 14 },
    template: "plotly_white",
  };
}

/** Builds a figure from traces and axis titles. */
export function figure(data: Trace[], t: AxisTitles = {}, layout: Record<string, unknown> = {}): Figure {
  return { data, layout: { ...baseLayout(t), ...layout } };
}

export interface Series {
  name: string;
  y: Numbers;
  /** Own x values; defaults to the chart's x. */
  x?: Numbers;
  dash?: "solid" | "dash" | "dot" | "dashdot";
  mode?: "lines" | "markers" | "lines+markers";
}

/** Line chart: one trace per series over a shared x (e.g. a function and its derivative). */
export function lineChart(x: Numbers, series: Series[], t: AxisTitles = {}): Figure {
  return figure(
    series.map((s) => ({
      type: "scatter",
      mode: s.mode ?? "lines",
      name: s.name,
      x: toArray(s.x ?? x),
      y: toArray(s.y),
      line: { dash: s.dash ?? "solid" },
    })),
    t,
  );
}

/** Training curves: one line per named history array, epochs on x starting at 1. */
export function curves(histories: Record<string, Numbers>, t: AxisTitles = {}): Figure {
  const series = Object.entries(histories).map(([name, y]) => ({ name, y, x: Array.from({ length: y.length }, (_, i) => i + 1) }));
  return lineChart([], series, { xTitle: "época", yTitle: "pérdida", ...t });
}

/** 2-D points coloured by class label (one trace per class, so the legend names them). */
export function scatterByClass(x: Numbers, y: Numbers, labels: ArrayLike<number>, t: AxisTitles = {}, classNames?: string[]): Figure {
  const classes = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  return figure(
    classes.map((c) => {
      const idx = Array.from(labels).flatMap((l, i) => (l === c ? [i] : []));
      return {
        type: "scatter",
        mode: "markers",
        name: classNames?.[c] ?? `clase ${c}`,
        x: idx.map((i) => x[i]),
        y: idx.map((i) => y[i]),
        marker: { size: 6, opacity: 0.8 },
      };
    }),
    t,
    { yaxis: { title: { text: t.yTitle ?? "" }, scaleanchor: "x", zeroline: false } },
  );
}

/** Histogram of values, optionally several overlaid. */
export function histogram(values: Record<string, Numbers>, t: AxisTitles = {}, nbins = 50): Figure {
  return figure(
    Object.entries(values).map(([name, v]) => ({ type: "histogram", name, x: toArray(v), nbinsx: nbins, opacity: 0.6 })),
    { yTitle: "frecuencia", ...t },
    { barmode: "overlay" },
  );
}

/** Heat map of z[row][col] over the grid x (columns) × y (rows). */
export function heatmap(z: number[][], x: Numbers, y: Numbers, t: AxisTitles = {}, colorscale = "RdBu"): Figure {
  return figure([{ type: "heatmap", z, x: toArray(x), y: toArray(y), colorscale }], t);
}

/** Contour plot of z[row][col] over x × y (e.g. a loss surface), with optional extra traces on top. */
export function contour(z: number[][], x: Numbers, y: Numbers, t: AxisTitles = {}, overlay: Trace[] = []): Figure {
  return figure([{ type: "contour", z, x: toArray(x), y: toArray(y), colorscale: "Viridis", ncontours: 30, showscale: false }, ...overlay], t);
}

/** Box plots, one per named group of samples (e.g. test error per depth over seeds). */
export function boxPlot(groups: Record<string, Numbers>, t: AxisTitles = {}): Figure {
  return figure(
    Object.entries(groups).map(([name, v]) => ({ type: "box", name, y: toArray(v), boxpoints: "all", jitter: 0.3 })),
    t,
    { showlegend: false },
  );
}

/** Bar chart of named values. */
export function barChart(labels: string[], values: Numbers, t: AxisTitles = {}): Figure {
  return figure([{ type: "bar", x: labels, y: toArray(values) }], t);
}

/**
 * A grid of grey-scale images (e.g. MNIST digits or learned filters), `cols` per row, each image
 * given as a flat array of `height × width` pixels in row-major order.
 */
export function imageGrid(images: Numbers[], height: number, width: number, opts: { cols?: number; titles?: string[]; title?: string; colorscale?: string } = {}): Figure {
  if (images.length === 0) throw new Error("imageGrid needs at least one image");
  for (const [i, im] of images.entries()) {
    if (im.length !== height * width) throw new Error(`image ${i} has ${im.length} pixels; expected ${height}×${width} = ${height * width}`);
  }
  const cols = Math.min(opts.cols ?? 10, images.length);
  const rows = Math.ceil(images.length / cols);
  const layout: Record<string, unknown> = {
    title: opts.title ? { text: opts.title } : undefined,
    grid: { rows, columns: cols, pattern: "independent" },
    height: Math.max(160, rows * 90 + (opts.title ? 50 : 10)),
    margin: { l: 10, r: 10, t: opts.title ? 50 : 10, b: 10 },
    showlegend: false,
    annotations: [] as unknown[],
  };
  const data = images.map((im, k) => {
    const axis = k === 0 ? "" : String(k + 1);
    layout[`xaxis${axis}`] = { visible: false };
    layout[`yaxis${axis}`] = { visible: false, autorange: "reversed", scaleanchor: `x${axis}` };
    if (opts.titles?.[k] !== undefined) {
      (layout.annotations as unknown[]).push({ text: opts.titles[k], xref: `x${axis} domain`, yref: `y${axis} domain`, x: 0.5, y: 1.15, showarrow: false, font: { size: 11 } });
    }
    const z = Array.from({ length: height }, (_, r) => Array.from({ length: width }, (_, c) => im[r * width + c]));
    return { type: "heatmap", z, xaxis: `x${axis}`, yaxis: `y${axis}`, colorscale: opts.colorscale ?? "Greys", reversescale: opts.colorscale === undefined, showscale: false };
  });
  return { data, layout };
}

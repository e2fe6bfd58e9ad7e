/**
 * Figures of a deep net layer by layer: distributions per layer over training (percentile bands, as in
 * Glorot & Bengio 2010, Fig. 2), one line per layer over training, and profiles across layers.
 */
import { Figure, AxisTitles, Trace, figure, toArray } from "./figure";

type Numbers = ArrayLike<number>;

/** Plotly's default colour cycle, so a layer keeps its colour in band and line. */
export const LAYER_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

function rgba(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** One layer's distribution over time: a low and a high percentile around the median. */
export interface LayerBand {
  name: string;
  lo: Numbers;
  mid: Numbers;
  hi: Numbers;
}

/** Extra options of the layer figures. */
export interface LayerFigureOptions extends AxisTitles {
  /** Logarithmic y axis. */
  logY?: boolean;
}

function yAxis(t: LayerFigureOptions): Record<string, unknown> {
  return { yaxis: { title: { text: t.yTitle ?? "" }, zeroline: false, ...(t.logY ? { type: "log", exponentformat: "power" } : {}) } };
}

function checkLength(where: string, name: string, n: number, v: Numbers): void {
  if (v.length !== n) throw new Error(`${where}: "${name}" has ${v.length} values but x has ${n}; give one value per x`);
}

/**
 * Distribution per layer over training: for each layer a shaded band from `lo` to `hi` (e.g. the 5th and
 * 95th percentiles of its activations) and a line at the median, over x (updates or epochs).
 */
export function layerBands(x: Numbers, layers: LayerBand[], t: LayerFigureOptions = {}): Figure {
  if (layers.length === 0) throw new Error("layerBands needs at least one layer");
  const xs = toArray(x);
  const data: Trace[] = [];
  layers.forEach((band, k) => {
    for (const key of ["lo", "mid", "hi"] as const) checkLength("layerBands", `${band.name}.${key}`, xs.length, band[key]);
    const color = LAYER_COLORS[k % LAYER_COLORS.length];
    data.push(
      { type: "scatter", mode: "lines", x: xs, y: toArray(band.hi), line: { width: 0, color }, showlegend: false, hoverinfo: "skip", legendgroup: band.name },
      { type: "scatter", mode: "lines", x: xs, y: toArray(band.lo), line: { width: 0, color }, fill: "tonexty", fillcolor: rgba(color, 0.18), showlegend: false, hoverinfo: "skip", legendgroup: band.name },
      { type: "scatter", mode: "lines", name: band.name, x: xs, y: toArray(band.mid), line: { color, width: 2 }, legendgroup: band.name },
    );
  });
  return figure(data, { xTitle: "actualizaciones", yTitle: "activación", ...t }, yAxis(t));
}

/** One line per layer over x, e.g. the fraction of saturated units or a gradient norm during training. */
export function layerLines(x: Numbers, perLayer: Numbers[], t: LayerFigureOptions = {}, names?: string[]): Figure {
  const xs = toArray(x);
  const data = perLayer.map((y, k) => {
    const name = names?.[k] ?? `capa ${k + 1}`;
    checkLength("layerLines", name, xs.length, y);
    return { type: "scatter", mode: "lines", name, x: xs, y: toArray(y), line: { color: LAYER_COLORS[k % LAYER_COLORS.length] } };
  });
  return figure(data, { xTitle: "actualizaciones", ...t }, yAxis(t));
}

/**
 * Profiles across layers: x is the layer 1..L, one line (with markers) per named series, e.g. the
 * variance of the activations per layer for each initialization.
 */
export function layerProfile(series: Record<string, Numbers>, t: LayerFigureOptions = {}, opts: { dash?: Record<string, "solid" | "dash" | "dot"> } = {}): Figure {
  const data = Object.entries(series).map(([name, y]) => ({
    type: "scatter",
    mode: "lines+markers",
    name,
    x: Array.from({ length: y.length }, (_, i) => i + 1),
    y: toArray(y),
    line: { dash: opts.dash?.[name] ?? "solid" },
  }));
  return figure(data, { xTitle: "capa l", ...t }, { ...yAxis(t), xaxis: { title: { text: t.xTitle ?? "capa l" }, dtick: 1, zeroline: false } });
}

/**
 * A lecture's classroom run next to its recorded reproduction (npm run reproduce) and the paper's number:
 * for each group (an activation, a model), one box of the classroom seeds, one of the recorded seeds, and
 * a star at the published value.
 */
import { AxisTitles, Figure, figure, toArray } from "./figure";

type Numbers = ArrayLike<number>;

export interface ReproductionGroup {
  name: string;
  classroom: Numbers;
  recorded: Numbers;
  /** The paper's value, if it reports one for this group. */
  paper?: number;
}

export interface ReproductionLabels {
  /** Legend entries (the notebook's language): e.g. "clase (1 050 dígitos, 4 épocas)". */
  classroom: string;
  recorded: string;
  paper: string;
}

/** Grouped boxes (classroom, recorded) per group, with the paper's values as stars. */
export function reproductionChart(groups: ReproductionGroup[], labels: ReproductionLabels, t: AxisTitles & { logY?: boolean } = {}): Figure {
  const names = groups.map((g) => g.name);
  const box = (which: "classroom" | "recorded", color: string) => ({
    type: "box", name: labels[which], marker: { color }, boxpoints: "all", jitter: 0.3, pointpos: 0,
    x: groups.flatMap((g) => toArray(g[which]).map(() => g.name)), y: groups.flatMap((g) => toArray(g[which])),
  });
  const withPaper = groups.filter((g) => g.paper !== undefined);
  return figure([
    box("classroom", "#1f77b4"),
    box("recorded", "#ff7f0e"),
    { type: "scatter", mode: "markers", name: labels.paper, x: withPaper.map((g) => g.name), y: withPaper.map((g) => g.paper), marker: { symbol: "star", size: 14, color: "#2ca02c" } },
  ], t, {
    boxmode: "group", legend: { orientation: "h", y: -0.3, yanchor: "top" }, margin: { l: 65, r: 20, t: t.title ? 50 : 20, b: 110 },
    xaxis: { type: "category", categoryarray: names, title: { text: t.xTitle ?? "" } },
    ...(t.logY ? { yaxis: { type: "log", title: { text: t.yTitle ?? "" } } } : {}),
  });
}

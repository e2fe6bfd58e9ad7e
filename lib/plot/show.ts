/**
 * Shows Plotly figures in the tslab kernel. plotly.js (from the npm package, so it works offline) is
 * emitted once per kernel, in the same output as the first figure; the exported HTML then draws every
 * figure without a network. Outside a kernel (scripts, tests) `show` prints a one-line summary instead.
 */
import * as fs from "fs";
import type { Figure } from "./figure";

let plotlyEmitted = false;
let counter = 0;

/** The plotly.js bundle inside a script tag marked so exporters can find it. */
export function plotlyScript(): string {
  const src = fs.readFileSync(require.resolve("plotly.js-dist-min"), "utf8");
  return `<script data-backprop-plotly="1">${src.replace(/<\/script/gi, "<\\/script")}</script>`;
}

/** HTML for one figure: a div (class backprop-figure) and the script that draws it. */
export function figureHtml(fig: Figure, id = `bp-fig-${process.pid}-${++counter}`): string {
  const json = JSON.stringify({ data: fig.data, layout: fig.layout }).replace(/</g, "\\u003c");
  return (
    `<div id="${id}" class="backprop-figure" style="width:100%;min-height:${Number(fig.layout.height ?? 420)}px"></div>` +
    `<script>(function(){var f=${json};` +
    `Plotly.newPlot("${id}",f.data,f.layout,{responsive:true,displaylogo:false});})();</script>`
  );
}

interface TslabDisplay {
  html(s: string): void;
}

function kernelDisplay(): TslabDisplay | undefined {
  // Only the tslab kernel can display; elsewhere tslab's display throws, and loading it costs a second.
  if (!process.env.JPY_PARENT_PID && !process.argv.includes("--config-path")) return undefined;
  try {
    return (require("tslab") as { display: TslabDisplay }).display;
  } catch {
    return undefined;
  }
}

/** Displays a figure in the notebook (or prints its title and trace names outside one). */
export function show(fig: Figure): void {
  const display = kernelDisplay();
  if (!display) {
    const title = (fig.layout.title as { text?: string } | undefined)?.text ?? "figure";
    console.log(`[${title}: ${fig.data.length} trace(s)]`);
    return;
  }
  const html = (plotlyEmitted ? "" : plotlyScript()) + figureHtml(fig);
  display.html(html);
  plotlyEmitted = true;
}

/**
 * Shows Plotly figures in the tslab kernel. Each figure's output draws on its own: a div, the figure's JSON
 * and a small loader that uses the page's plotly.js when there is one (exported pages and slides load it
 * once in the head, from build/assets/) and otherwise loads it from the notebook server — plotly.js is
 * never copied into the notebook. Live in Jupyter the loader asks RequireJS for
 * <base_url>nbextensions/plotly.js-dist-min/plotly.min.js (served from node_modules by the project's Jupyter
 * configuration, tools/jupyter/), falling back to <base_url>files/node_modules/... (a Jupyter started
 * elsewhere on the project folder). So a figure draws after a rerun of any cell, save and reopen, Clear All
 * Outputs, or a page reload, offline; if plotly.js cannot be found the box says so in Spanish.
 * Outside a kernel (scripts, tests) `show` prints a one-line summary instead.
 */
import type { Figure } from "./figure";

let counter = 0;
const session = Math.random().toString(36).slice(2, 8);

/** Where the notebook server serves plotly.js, relative to its base URL (no ".js": RequireJS adds it). */
export const PLOTLY_URLS = ["nbextensions/plotly.js-dist-min/plotly.min", "files/node_modules/plotly.js-dist-min/plotly.min"];

/** Shown in the figure's box when plotly.js could not be loaded. */
export const PLOTLY_MISSING =
  "No se pudo cargar plotly.js para dibujar esta figura. Abre el cuaderno con «npm run jupyter» desde la carpeta del proyecto " +
  "(sirve plotly.js desde node_modules) y vuelve a ejecutar la celda.";

/**
 * The loader every figure carries (one line of JavaScript; `f` is the figure, `id` its div). It draws with
 * window.Plotly when present, else loads plotly.js once per page through RequireJS (the classic notebook) or a
 * script tag (a page without RequireJS), trying PLOTLY_URLS in order.
 */
function loader(id: string): string {
  const urls = JSON.stringify(PLOTLY_URLS);
  const missing = JSON.stringify(PLOTLY_MISSING);
  return (
    `var el=document.getElementById("${id}");if(!el)return;` +
    `function draw(P){P=P||window.Plotly;if(!P||!P.newPlot)return fail();window.Plotly=P;P.newPlot(el,f.data,f.layout,{responsive:true,displaylogo:false});}` +
    `function fail(){el.style.minHeight="0";el.textContent=${missing};}` +
    `if(window.Plotly&&window.Plotly.newPlot)return draw(window.Plotly);` +
    `var b=(document.body&&document.body.getAttribute("data-base-url"))||"/";if(b.slice(-1)!=="/")b+="/";` +
    `var u=${urls}.map(function(p){return b+p;});` +
    `var rq=window.requirejs;` +
    `if(typeof rq==="function"&&rq.config){rq.config({paths:{"backprop-plotly":u},shim:{"backprop-plotly":{exports:"Plotly"}}});rq(["backprop-plotly"],draw,fail);return;}` +
    `var q=window.__backpropPlotly=window.__backpropPlotly||{wait:[],tried:false};if(q.failed)return fail();q.wait.push([draw,fail]);if(q.tried)return;q.tried=true;` +
    `(function next(i){if(i>=u.length){q.failed=true;q.wait.forEach(function(w){w[1]();});q.wait=[];return;}` +
    `var s=document.createElement("script");s.src=u[i]+".js";` +
    `s.onload=function(){var w=q.wait;q.wait=[];w.forEach(function(d){d[0](window.Plotly);});};` +
    `s.onerror=function(){next(i+1);};document.head.appendChild(s);})(0);`
  );
}

/** HTML for one figure: a div (class backprop-figure) and the script that draws it, self-contained. */
export function figureHtml(fig: Figure, id = `bp-fig-${session}-${++counter}`): string {
  const json = JSON.stringify({ data: fig.data, layout: fig.layout }).replace(/</g, "\\u003c");
  return (
    `<div id="${id}" class="backprop-figure" style="width:100%;min-height:${Number(fig.layout.height ?? 420)}px"></div>` +
    `<script>(function(){var f=${json};${loader(id)}})();</script>`
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
  display.html(figureHtml(fig));
}

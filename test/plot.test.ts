import { test } from "node:test";
import assert from "node:assert/strict";
import { lineChart, imageGrid, figureHtml, linspace, curves } from "../lib/plot/index";

test("lineChart keeps the series data and the axis titles", () => {
  const x = linspace(-1, 1, 5);
  const fig = lineChart(x, [{ name: "a", y: [1, 2, 3, 4, 5] }, { name: "b", y: new Float32Array([0, 0, 0, 0, 1]) }], { xTitle: "z", yTitle: "g(z)" });
  assert.deepEqual(fig.data[0].x, [-1, -0.5, 0, 0.5, 1]);
  assert.deepEqual(fig.data[1].y, [0, 0, 0, 0, 1]);
  assert.equal((fig.layout.xaxis as { title: { text: string } }).title.text, "z");
  assert.deepEqual(curves({ train: [3, 2] }).data[0].x, [1, 2]);
});

test("linspace and imageGrid reject bad input with a clear message", () => {
  assert.throws(() => linspace(0, 1, 1), /n ≥ 2/);
  assert.throws(() => imageGrid([[1, 2, 3]], 2, 2), /image 0 has 3 pixels; expected 2×2 = 4/);
  const g = imageGrid([[0, 1, 1, 0], [1, 0, 0, 1]], 2, 2, { cols: 2, titles: ["a", "b"] });
  assert.equal(g.data.length, 2);
  assert.deepEqual(g.data[1].z, [[1, 0], [0, 1]]);
});

test("figureHtml draws into its own div and escapes '<' so data cannot close the script", () => {
  const html = figureHtml(lineChart([0, 1], [{ name: "</script><b>", y: [0, 1] }]), "fig-x");
  assert.match(html, /<div id="fig-x" class="backprop-figure"/);
  assert.ok(!html.includes("</script><b>"));
  assert.equal(html.match(/<\/script>/g)?.length, 1);
});

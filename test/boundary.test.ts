import { test } from "node:test";
import assert from "node:assert/strict";
import { boundaryGrid, decisionBoundary, decisionBoundaries, BoundaryData, GridPredict } from "../lib/plot/index";

// Four points, two classes, split by the line x₁ = 0.
const data: BoundaryData = { x: [-1, -1, -1, 1, 1, -1, 1, 1], labels: [0, 0, 1, 1], numClasses: 2 };
/** P(class 1) = 1 right of x₁ = 0, as two columns of probabilities. */
const byX1: GridPredict = (pts, n) => {
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) out[2 * i + (pts[2 * i] > 0 ? 1 : 0)] = 1;
  return out;
};

test("boundaryGrid covers the points plus the margin, row by row (x₁ runs fastest)", () => {
  const g = boundaryGrid(data.x, { resolution: 5, margin: 0.5 });
  assert.deepEqual(g.xs, [-2, -1, 0, 1, 2]);
  assert.deepEqual(g.ys, [-2, -1, 0, 1, 2]);
  assert.equal(g.points.length, 2 * 25);
  assert.deepEqual(Array.from(g.points.subarray(0, 4)), [-2, -2, -1, -2]); // (xs[0], ys[0]), (xs[1], ys[0])
  assert.deepEqual(Array.from(g.points.subarray(2 * 5, 2 * 5 + 2)), [-2, -1]); // row 1 starts at ys[1]
  const fixed = boundaryGrid(data.x, { resolution: 3, xRange: [0, 1], yRange: [5, 6] });
  assert.deepEqual([fixed.xs, fixed.ys], [[0, 0.5, 1], [5, 5.5, 6]]);
});

test("two classes: the background is P(class 1) with the 0.5 contour, and the points keep their classes", () => {
  const fig = decisionBoundary(byX1, data, { resolution: 5, margin: 0.5, title: "t", classNames: ["a", "b"] });
  const [heat, contour, p0, p1] = fig.data;
  assert.equal(heat.type, "heatmap");
  assert.deepEqual((heat.z as number[][])[0], [0, 0, 0, 1, 1]);
  assert.equal(contour.type, "contour");
  assert.deepEqual(contour.contours, { start: 0.5, end: 0.5, size: 1, coloring: "none" });
  assert.deepEqual([p0.name, p0.x, p0.y], ["a", [-1, -1], [-1, 1]]);
  assert.deepEqual([p1.name, p1.x, p1.y], ["b", [1, 1], [-1, 1]]);
  // one output per point (a sigmoid unit) gives the same picture
  const single = decisionBoundary((pts, n) => Float32Array.from({ length: n }, (_, i) => (pts[2 * i] > 0 ? 1 : 0)), data, { resolution: 5, margin: 0.5 });
  assert.deepEqual(single.data[0].z, heat.z);
  assert.equal((fig.layout.xaxis as { title: { text: string } }).title.text, "x₁");
});

test("more classes: the background is the argmax class; panels get their own axes and one legend entry per class", () => {
  const three: BoundaryData = { x: [0, 0, 1, 0, 2, 0], labels: [0, 1, 2], numClasses: 3 };
  // class = nearest of x₁ = 0, 1, 2
  const nearest: GridPredict = (pts, n) => {
    const out = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) out[3 * i + Math.max(0, Math.min(2, Math.round(pts[2 * i])))] = 1;
    return out;
  };
  const fig = decisionBoundaries([{ title: "A", predict: byX1, data }, { title: "B", predict: nearest, data: three }], { resolution: 3, xRange: [0, 2], yRange: [0, 1] });
  const heat2 = fig.data.find((t) => t.type === "heatmap" && t.xaxis === "x2")!;
  assert.deepEqual((heat2.z as number[][])[0], [0, 1, 2]);
  assert.equal(heat2.zmin, -0.5);
  assert.ok(fig.layout.xaxis2 && fig.layout.yaxis2, "second panel has its own axes");
  assert.deepEqual((fig.layout.grid as { columns: number }).columns, 2);
  const legend = fig.data.filter((t) => t.type === "scatter" && t.showlegend).map((t) => t.name);
  assert.deepEqual(legend, ["clase 0", "clase 1", "clase 2"]);
  assert.deepEqual((fig.layout.annotations as { text: string }[]).map((a) => a.text), ["A", "B"]);
});

test("wrong inputs say what was expected", () => {
  assert.throws(() => decisionBoundary(byX1, { x: [0, 0, 1], labels: [0, 1], numClasses: 2 }), /2 labels need 4 coordinates/);
  assert.throws(() => decisionBoundary(byX1, { ...data, labels: [0, 0, 1, 2] }), /label 2 of point 3 is not a class in \[0, 2\)/);
  assert.throws(() => decisionBoundary(() => [1, 2, 3], data, { resolution: 4 }), /predict returned 3 values for 16 grid points; expected 16 × 2/);
  assert.throws(() => decisionBoundaries([]), /at least one panel/);
});

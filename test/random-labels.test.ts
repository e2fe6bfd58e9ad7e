// Prince Fig. 20.2 (random labels on MNIST-1D): the data, the training run, and the recorded results lecture 09 reads.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import * as bp from "../lib/index";

test("random labels: seeded, uniform over the 10 classes, one-hot consistent", async () => {
  await bp.setup(1, { quiet: true });
  const a = bp.diagnostics.randomLabelData(1), b = bp.diagnostics.randomLabelData(1), c = bp.diagnostics.randomLabelData(2);
  try {
    assert.equal(a.n, 4000);
    assert.deepEqual(a.x.shape, [4000, 40]);
    assert.deepEqual(Array.from(a.labels), Array.from(b.labels));
    assert.notDeepEqual(Array.from(a.labels), Array.from(c.labels));
    const counts = new Array(10).fill(0);
    a.labels.forEach((l) => counts[l]++);
    counts.forEach((k, cls) => assert.ok(Math.abs(k - 400) < 80, `class ${cls}: ${k} of 4000`));
    const oneHot = a.t.arraySync();
    a.labels.forEach((l, i) => assert.equal(oneHot[i].indexOf(1), l));
    // The labels are not MNIST-1D's: about one in ten agrees.
    const { train } = bp.makeMnist1d();
    const same = a.labels.filter((l, i) => l === train.labels[i]).length / a.n;
    assert.ok(same > 0.07 && same < 0.13, `agreement with the true labels ${same}`);
  } finally {
    bp.tf.dispose([a.x, a.t, b.x, b.t, c.x, c.t]);
  }
});

test("fitRandomLabels memorizes a small random-label set, deterministically, and records its curves", async () => {
  await bp.setup(1, { quiet: true });
  const data = bp.diagnostics.randomLabelData(3, 100);
  try {
    const opts = { depth: 2, width: 32, epochs: 3000, learningRate: 0.1, every: 50, seed: 4 };
    const run = bp.diagnostics.fitRandomLabels(data, opts);
    assert.ok(run.epochsToFit !== null, `not fitted in ${opts.epochs} epochs (error ${run.error[run.error.length - 1]})`);
    assert.equal(run.epochsRun, run.epochsToFit);
    assert.equal(run.epochs[run.epochs.length - 1], run.epochsToFit);
    assert.equal(run.error[run.error.length - 1], 0);
    assert.ok(run.error[0] > 0.6, `the initial net already fits ${1 - run.error[0]} of random labels`);
    assert.ok(run.loss[run.loss.length - 1] < run.loss[0] / 2);
    assert.equal(run.params, bp.diagnostics.mlpParamCount([40, 32, 32, 10]));
    assert.equal(run.epochs[0], 0);
    assert.ok(run.epochs.slice(1, -1).every((e) => e % 50 === 0));
    const again = bp.diagnostics.fitRandomLabels(data, { ...opts, epochs: 100 });
    assert.deepEqual(again.loss, run.loss.slice(0, again.loss.length));
    assert.throws(() => bp.diagnostics.fitRandomLabels(data, { ...opts, epochs: 0 }), /epochs must be a positive integer/);
  } finally {
    bp.tf.dispose([data.x, data.t]);
  }
});

test("loadResult names the command that writes a missing result", () => {
  assert.throws(() => bp.diagnostics.loadResult("no-such-experiment"), /npm run reproduce -- no-such-experiment/);
});

test("the recorded Fig. 20.2 results are complete and consistent (test/reproduce.test.ts reruns their start)", async () => {
  const names = ["fig20-2-rho0.1", "fig20-2-rho0.0025"];
  for (const name of names) assert.ok(fs.existsSync(path.join(bp.diagnostics.resultsDir(), `${name}.json`)), `${name}.json is missing (npm run reproduce -- ${name})`);
  for (const r of names.map((n) => bp.diagnostics.loadResult<bp.diagnostics.Fig20_2Result>(n))) {
    assert.equal(r.partial, false, `${r.provenance.command}: partial results`);
    const runs = bp.diagnostics.unitResults(r);
    assert.deepEqual(runs.map((run) => run.depth).sort(), [1, 2, 3, 4]);
    for (const run of runs) {
      assert.equal(run.params, bp.diagnostics.mlpParamCount(bp.diagnostics.randomLabelSizes(run.depth, run.width)));
      assert.equal(run.epochs.length, run.loss.length);
      assert.equal(run.epochs.length, run.error.length);
      if (run.epochsToFit !== null) assert.equal(run.error[run.error.length - 1], 0);
      else assert.equal(run.epochsRun, r.options.epochs);
    }
  }
});

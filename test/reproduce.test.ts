// The reproduction runner (tools/reproduce): resume, --jobs, atomic results, clear errors (on a fake experiment
// in a temporary folder); and the recorded data/results files: each matches the sources that would produce it
// (source hash) and a short rerun of one unit of each registered experiment finds the recorded numbers.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as bp from "../lib/index";
import { ResultsFile, differences, sourceHash, unitSeed } from "../tools/reproduce/experiment";
import { ROOT, loadRegistry, reproduce, selectExperiments } from "../tools/reproduce/runner";
import { parseArgv } from "../tools/reproduce";
import { UsageError } from "../tools/cli";

const FAKE = path.join(__dirname, "fixtures", "reproduce", "registry.ts");
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "reproduce-"));
const read = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, "fake.json"), "utf8")) as ResultsFile<{ seed: number }, { draws: number[]; pid: number }>;
const quiet = { registry: FAKE, live: false, log: () => undefined };

test("the runner resumes an interrupted run: finished units are kept, only the rest run", async () => {
  const dir = tmp();
  process.env.FAKE_FAIL = "seed=13";
  try {
    await assert.rejects(reproduce({ ...quiet, outDir: dir, overrides: { ms: "50" } }), /seed=13 failed[\s\S]*failing on purpose[\s\S]*kept in/);
  } finally {
    delete process.env.FAKE_FAIL;
  }
  const partial = read(dir);
  assert.equal(partial.partial, true);
  assert.deepEqual(partial.units.map((u) => u.key), ["seed=10", "seed=11", "seed=12"]);
  assert.deepEqual(fs.readdirSync(dir), ["fake.json"], "a temporary file was left behind");
  const lines: string[] = [];
  await reproduce({ ...quiet, outDir: dir, overrides: { ms: "50" }, log: (l) => lines.push(l) });
  const full = read(dir);
  assert.equal(full.partial, false);
  assert.deepEqual(full.units.map((u) => u.key), ["seed=10", "seed=11", "seed=12", "seed=13", "seed=14", "seed=15"]);
  assert.deepEqual(full.units.slice(0, 3), partial.units, "the finished units were rerun");
  assert.ok(lines.some((l) => /3 of 6 units to run \(3 kept/.test(l)), lines.join("\n"));
  assert.equal(full.provenance.sessions.length, 2);
  assert.equal(full.provenance.wallSeconds, full.provenance.sessions[0].wallSeconds + full.provenance.sessions[1].wallSeconds);
  assert.deepEqual(full.summary, { units: 6, mean: full.units.flatMap((u) => u.result.draws).reduce((a, b) => a + b, 0) / 6 });
  // Complete: nothing runs; --fresh runs all again, with the same numbers (each unit is seeded by the runner).
  await reproduce({ ...quiet, outDir: dir, overrides: { ms: "50" } });
  assert.deepEqual(read(dir), full);
  await reproduce({ ...quiet, outDir: dir, overrides: { ms: "50" }, fresh: true });
  const again = read(dir);
  assert.equal(again.provenance.sessions.length, 1);
  assert.deepEqual(again.units.map((u) => u.result.draws), full.units.map((u) => u.result.draws));
});

test("--jobs 2 spreads the units over two worker processes and gives the numbers of --jobs 1", async () => {
  const one = tmp(), two = tmp();
  await reproduce({ ...quiet, outDir: one, jobs: 1 });
  await reproduce({ ...quiet, outDir: two, jobs: 2 });
  const a = read(one), b = read(two);
  assert.equal(new Set(a.units.map((u) => u.result.pid)).size, 1);
  assert.equal(new Set(b.units.map((u) => u.result.pid)).size, 2);
  assert.ok(!b.units.some((u) => u.result.pid === process.pid), "units ran in the test's own process");
  assert.deepEqual(b.units.map((u) => u.key), a.units.map((u) => u.key));
  assert.deepEqual(b.units.map((u) => u.result.draws), a.units.map((u) => u.result.draws));
  assert.notDeepEqual(a.units[0].result.draws, a.units[1].result.draws);
  const p = b.provenance;
  assert.equal(p.sourceHash, sourceHash(["test/fixtures/reproduce/registry.ts"], ROOT));
  assert.deepEqual(p.seeds, [10, 11, 12, 13, 14, 15]);
  assert.match(p.backend, /\w+: /);
  assert.match(p.commit, /^[0-9a-f]{40}|unknown/);
  assert.equal(p.data, "3 uniform draws per unit");
  assert.equal(p.sessions[0].jobs, 2);
  for (const k of ["node", "tfjs", "machine", "started"] as const) assert.ok(p[k], `provenance.${k} is empty`);
});

test("the runner refuses to resume with other options or other sources, and names the fix", async () => {
  const dir = tmp();
  await reproduce({ ...quiet, outDir: dir, overrides: { ms: "0", units: "2" } });
  await assert.rejects(reproduce({ ...quiet, outDir: dir, overrides: { ms: "0", units: "3" } }), /other options|with the options[\s\S]*--fresh/);
  const file = read(dir);
  file.provenance.sourceHash = "0".repeat(64);
  fs.writeFileSync(path.join(dir, "fake.json"), JSON.stringify(file));
  await assert.rejects(reproduce({ ...quiet, outDir: dir, overrides: { ms: "0", units: "2" } }), /other sources[\s\S]*--fresh/);
});

test("unknown experiments, lectures and options are clear errors", async () => {
  await assert.rejects(reproduce({ ...quiet, select: ["nope"] }), (e: Error) => e instanceof UsageError && /unknown experiment or lecture "nope"[\s\S]*fake/.test(e.message));
  await assert.rejects(reproduce({ ...quiet, select: ["42"] }), /unknown experiment or lecture "42"/);
  await assert.rejects(reproduce({ ...quiet, overrides: { epochz: "3" } }), /unknown option --epochz[\s\S]*--units \(6\)/);
  await assert.rejects(reproduce({ ...quiet, overrides: { units: "many" } }), /--units needs a number/);
  await assert.rejects(reproduce({ ...quiet, jobs: 0 }), /--jobs needs a positive integer/);
  assert.deepEqual(parseArgv(["05", "--jobs", "2", "--fresh", "--epochs=3", "--out-dir", "x"]), { select: ["05"], overrides: { epochs: "3" }, jobs: 2, fresh: true, list: false, outDir: "x" });
  assert.throws(() => parseArgv(["--jobs"]), /--jobs needs a value/);
  assert.throws(() => parseArgv(["--jobs", "two"]), /--jobs needs a positive integer/);
  assert.throws(() => parseArgv(["--epochs", "--fresh"]), /--epochs needs a value/);
  const all = await loadRegistry();
  assert.deepEqual(selectExperiments(all, ["9"]).map((e) => e.lecture), selectExperiments(all, ["09"]).map(() => "09"));
});

test("differences compares JSON to float tolerance and says where it differs", () => {
  assert.deepEqual(differences({ a: [1, 2.00001], b: "x" }, { a: [1, 2], b: "x" }), []);
  assert.deepEqual(differences({ a: [1, 2.1] }, { a: [1, 2] }), ["result.a[1]: 2.1 vs recorded 2"]);
  assert.deepEqual(differences([1], [1, 2]), ["result: length 1 vs recorded 2"]);
  assert.deepEqual(differences({ a: 1 }, { b: 1 }), ["result: keys a vs recorded b"]);
});

// ---- the recorded results ----

const resultFiles = () => fs.readdirSync(bp.diagnostics.resultsDir()).filter((f) => f.endsWith(".json")).sort();

test("every results file comes from a registered experiment, is complete, and matches its current sources", async () => {
  const all = await loadRegistry();
  const files = resultFiles();
  assert.ok(files.length > 0, "data/results is empty");
  for (const f of files) {
    const r = JSON.parse(fs.readFileSync(path.join(bp.diagnostics.resultsDir(), f), "utf8")) as ResultsFile;
    const e = all.find((x) => x.id === r.experiment);
    assert.ok(e, `${f}: experiment "${r.experiment}" is not in tools/reproduce/index.ts`);
    assert.equal(f, `${e.id}.json`);
    assert.equal(r.partial, false, `${f} is partial: finish it with ${r.provenance.command}`);
    assert.deepEqual(r.provenance.sources, e.sources, `${f}: recorded with other sources; rerun: npm run reproduce -- ${e.id} --fresh`);
    assert.equal(r.provenance.sourceHash, sourceHash(e.sources, ROOT), `${f} no longer matches the code that would produce it (its sources changed): rerun npm run reproduce -- ${e.id} --fresh`);
    assert.deepEqual(r.units.map((u) => u.key), e.units(r.options).map((u) => e.key(u)), `${f}: units differ from the experiment's`);
    assert.ok(!/(^|\s)\//.test(r.provenance.command), `${f}: absolute path in the provenance: ${r.provenance.command}`);
  }
  for (const e of all) assert.ok(files.includes(`${e.id}.json`), `${e.id} has no results: npm run reproduce -- ${e.id} --jobs 2`);
});

test("smoke: one short unit of each registered experiment, rerun, finds the recorded numbers", async () => {
  for (const e of await loadRegistry()) {
    const r = bp.diagnostics.loadResult<ResultsFile>(e.id);
    const recorded = r.units.map((u) => ({ ...u }));
    const unit = e.smoke?.pick ? e.smoke.pick(recorded) : [...recorded].sort((a, b) => a.seconds - b.seconds)[0].unit;
    const options = { ...r.options, ...e.smoke?.options };
    const want = recorded.find((u) => u.key === e.key(unit));
    assert.ok(want, `${e.id}: the smoke unit ${e.key(unit)} is not recorded`);
    await bp.setup(unitSeed(e, unit, options), { quiet: true });
    const got = JSON.parse(JSON.stringify(await e.run(unit, options)));
    const diff = e.smoke?.compare ? e.smoke.compare(got, want.result) : differences(got, want.result);
    assert.deepEqual(diff, [], `${e.id} ${want.key}: the rerun differs from the recorded result`);
  }
});

// ---- the lib code the experiments share with the lectures ----

test("MNIST-1D reference models: Greydanus's parameter counts (410, 15 210, 5 210) and a 10-way output", async () => {
  await bp.setup(1, { quiet: true });
  const counts = { logistic: 410, mlp: 15210, cnn: 5210 };
  for (const kind of bp.diagnostics.MNIST1D_MODELS) {
    const model = bp.diagnostics.mnist1dModel(kind, new bp.Rng(1));
    try {
      assert.equal(model.params.reduce((n, v) => n + v.size, 0), counts[kind], kind);
      const x = kind === "cnn" ? bp.tf.zeros([3, 1, 40, 1]) : bp.tf.zeros([3, 40]);
      const s = model.predict(x);
      assert.deepEqual(s.shape, [3, 10], kind);
      bp.tf.dispose([x, s]);
    } finally {
      model.dispose();
    }
  }
  assert.throws(() => bp.diagnostics.mnist1dModel("gru" as never, new bp.Rng(1)), /unknown model "gru"; valid: logistic, mlp, cnn/);
});

test("reproductionChart: classroom and recorded boxes per group, the paper's values as stars", () => {
  const fig = bp.plot.reproductionChart(
    [{ name: "a", classroom: [1, 2], recorded: [3], paper: 4 }, { name: "b", classroom: [5], recorded: [6, 7] }],
    { classroom: "class", recorded: "recorded", paper: "paper" }, { logY: true });
  assert.deepEqual(fig.data.map((t) => t.name), ["class", "recorded", "paper"]);
  assert.deepEqual(fig.data[0].y, [1, 2, 5]);
  assert.deepEqual(fig.data[0].x, ["a", "a", "b"]);
  assert.deepEqual(fig.data[1].y, [3, 6, 7]);
  assert.deepEqual(fig.data[2].x, ["a"]);
  assert.deepEqual(fig.data[2].y, [4]);
  assert.equal((fig.layout.yaxis as { type: string }).type, "log");
});

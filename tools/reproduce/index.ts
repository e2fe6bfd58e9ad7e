/** The registry of reproductions: one line per experiment module (see tools/reproduce/experiment.ts). */
import type { Experiment } from "./experiment";
import { experiment as glorotTable1 } from "./glorot-table1";
import { experiments as fig20_2 } from "./fig20-2";
import { experiment as mnist1dBaselines } from "./mnist1d-baselines";
import { experiment as aePca } from "./ae-pca";
import { experiment as erhan } from "./erhan";
import { experiment as lenet5Error } from "./lenet5-error";
import { experiments as transfer } from "./transfer";

/** In lecture order. The LeNet-5 transfer sweep (transfer("lenet5")) is left out: LeNet-5 trains ~15× slower than the MLP here (bench/RESULTS.md), about an hour on 2 cores. */
export const experiments: Experiment<any, any>[] = [
  glorotTable1,
  ...fig20_2,
  mnist1dBaselines,
  aePca,
  erhan,
  lenet5Error,
  transfer[0],
];

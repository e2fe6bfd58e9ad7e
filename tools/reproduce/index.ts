/** The registry of reproductions: one line per experiment module (see tools/reproduce/experiment.ts). */
import type { Experiment } from "./experiment";
import { experiments as fig20_2 } from "./fig20-2";
import { experiment as glorotTable1 } from "./glorot-table1";
import { experiment as lenet5Error } from "./lenet5-error";
import { experiment as mnist1dBaselines } from "./mnist1d-baselines";
import { experiment as aePca } from "./ae-pca";
import { experiment as erhan } from "./erhan";

export const experiments: Experiment<any, any>[] = [
  glorotTable1,
  aePca,
  ...fig20_2,
  mnist1dBaselines,
  lenet5Error,
  erhan,
];

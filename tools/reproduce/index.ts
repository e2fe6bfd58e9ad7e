/** The registry of reproductions: one line per experiment module (see tools/reproduce/experiment.ts). */
import type { Experiment } from "./experiment";
import { experiments as fig20_2 } from "./fig20-2";
import { experiment as erhan } from "./erhan";

export const experiments: Experiment<any, any>[] = [
  ...fig20_2,
  erhan,
];

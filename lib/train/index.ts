// Public API of lib/train (re-exported by lib/index.ts).
export { checkBatch, shapeText } from "./model";
export type { Model } from "./model";
export { Sgd, checkParamsAndGrads } from "./optimizer";
export type { Optimizer } from "./optimizer";
export { train, accuracy, isClassTargets, progressLine, TRAIN_MODES, ON_DIVERGE, DivergedError } from "./train";
export type { TrainMode, OnDiverge, TrainData, TrainOptions, EarlyStopping, EpochStats, History } from "./train";
export { ProgressBar, progressText } from "./progress";
export type { ProgressStats, ProgressBarOptions } from "./progress";

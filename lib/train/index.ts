// Public API of lib/train (re-exported by lib/index.ts).
export { checkBatch, shapeText } from "./model";
export type { Model } from "./model";
export { Sgd, checkParamsAndGrads } from "./optimizer";
export type { Optimizer } from "./optimizer";
export { train, accuracy, isClassTargets, progressLine, TRAIN_MODES } from "./train";
export type { TrainMode, TrainData, TrainOptions, EarlyStopping, EpochStats, History } from "./train";

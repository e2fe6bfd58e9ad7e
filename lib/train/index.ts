// Public API of lib/train: the training loop and what it needs of a model.
export { checkBatch, shapeText } from "./model";
export type { Model } from "./model";
export { train, accuracy, isClassTargets, progressLine, TRAIN_MODES, ON_DIVERGE, DivergedError } from "./train";
export type { TrainMode, OnDiverge, TrainData, TrainOptions, EarlyStopping, EpochStats, History } from "./train";
export { ProgressBar, progressText } from "./progress";
export type { ProgressStats, ProgressBarOptions } from "./progress";

// Public API of lib/nn: the one layer contract, the layers, the network and its loss heads.
export * from "./layer";
export { Dense } from "./dense";
export { Activation } from "./activation";
export type { ActivationOptions } from "./activation";
export { BatchNorm, LayerNorm } from "./normalization";
export type { BatchNormOptions, RunningVariance } from "./normalization";
export { Sequential, Residual } from "./sequential";
export type { SequentialCache } from "./sequential";
export { LossHead, heads } from "./heads";
export type { HeadPass } from "./heads";
export { Network } from "./network";
export type { Taps, NetworkOptions } from "./network";
export { MatrixMlp, mlpVariables, assignMlpWeights, weightsFromTensors } from "./mlp";
export type { LayerVariables } from "./mlp";
export { DeepMlp } from "./deep-mlp";
export type { DeepMlpSpec, DeepActivation } from "./deep-mlp";

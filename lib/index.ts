/**
 * backprop-lab: backpropagation from scratch, side by side with TensorFlow.js. One import line:
 *   import * as bp from "./lib/index";
 * The top level holds what every lecture uses; the rest is in named groups:
 *   bp.nn           the layer contract, the layers, Network and its loss heads, the MLP builders
 *   bp.activations  g and g' (sigmoid, sigmoidPrime, ...), the registry ACTIVATIONS
 *   bp.losses       the losses and their gradients, the registry LOSSES
 *   bp.init         initializers (glorotUniform, heNormal, ...), the MLP spec and weights format
 *   bp.optimizers   sgd, momentum, nesterov, adagrad, rmsprop, adam, newton, schedules, clipping
 *   bp.norm         input standardization and the batch/layer norm arithmetic (float64 and tensors)
 *   bp.surfaces     2-D test functions (quadratic, rosenbrock, ...) for the optimizers
 *   bp.conv         convolution and pooling as float64 loops (forward and backward), output sizes
 *   bp.pca          PCA in float64 (Jacobi eigenvectors), principal angles between subspaces
 *   bp.data         MNIST (embedded and full), MNIST-1D, toy sets, splits, augmentation
 *   bp.diagnostics  per-layer statistics, probes, recorders, loss landscapes, experiments
 *   bp.plot         Plotly figure builders
 *   bp.check        gradient checks and comparisons
 *   bp.twins        the TensorFlow.js twins (autodiff and tf.layers MLPs)
 *   bp.perf         engine code (fast kernels, data-parallel training)
 * (tslab loads local modules by file name only, so imports inside lib/ name files, never folders.)
 */
export * as tf from "@tensorflow/tfjs";

// The top level: set-up, randomness, figures, data, networks, training, checks.
export { setup } from "./setup";
export type { Setup } from "./setup";
export { Rng, rng } from "./random";
export { describeBackend, backendInfo } from "./backend";
export { show } from "./plot/show";
export { loadMnist, loadMnistTensors, smallMnist, datasetToTensors } from "./data/mnist";
export type { LabeledSet, TensorSet, MnistTensors } from "./data/mnist";
export { makeMnist1d } from "./data/mnist1d";
export { loadFullMnist } from "./data/mnist-full";
export { Network, Dense, Activation, BatchNorm, LayerNorm, Residual, Sequential, heads, INFERENCE, trainingContext, MatrixMlp, DeepMlp } from "./nn/index";
export type { Layer, Context } from "./nn/index";
export { Conv2D, MaxPool2D, AvgPool2D, Flatten, lenet5 } from "./nn/index";
export { Dropout } from "./nn/index";
export { ScalarMlp } from "./scratch/mlp-scalar";
export { AutodiffMlp, LayersMlp } from "./tf/index";
export { initMlp } from "./scratch/init";
export type { MlpSpec, MlpWeights } from "./scratch/init";
export { train, accuracy } from "./train/index";
export type { Model, History, TrainOptions } from "./train/index";
export { gradCheck, checkLayer, describeGradCheck, compare } from "./check/index";

// The groups.
export * as nn from "./nn/index";
export * as activations from "./scratch/activations";
export * as losses from "./scratch/losses";
export * as init from "./scratch/init";
export * as optimizers from "./scratch/optimizers";
export * as norm from "./scratch/norm";
export * as surfaces from "./scratch/surfaces";
export * as conv from "./scratch/conv";
export * as pca from "./scratch/pca";
export * as data from "./data/index";
export * as diagnostics from "./diagnostics/index";
export * as plot from "./plot/index";
export * as check from "./check/index";
export * as twins from "./tf/index";
export * as perf from "./perf/index";
export * as training from "./train/index";
export * as backend from "./backend";

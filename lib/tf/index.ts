// The TensorFlow.js twins of the scratch models (bp.twins): the same MLP by autodiff and by tf.layers.
export { AutodiffMlp } from "./mlp-autodiff";
export type { ForwardHooks } from "./mlp-autodiff";
export { LayersMlp, buildSequential } from "./mlp-layers";
export { AutodiffNetwork, layersTwin } from "./conv-twins";

// Public API of lib/check (bp.check; the most used names are also at the top level).
export { gradCheck, describeGradCheck } from "./gradcheck";
export type { GradCheckEntry, GradCheckResult, GradCheckOptions } from "./gradcheck";
export { checkLayer, layerGrads, tfLayerGrads } from "./layer-check";
export type { LayerCheckOptions, LayerCheckResult } from "./layer-check";
export { compare } from "./compare";
export type { Comparison } from "./compare";
export { leaves } from "./flatten";
export type { Leaf, Numeric } from "./flatten";
export { mlpAgreement } from "./mlp-agreement";
export type { MlpAgreement } from "./mlp-agreement";
export { eigenResiduals } from "./eigen";

// Public API of lib/check (re-exported by lib/index.ts).
export { gradCheck, describeGradCheck } from "./gradcheck";
export type { GradCheckEntry, GradCheckResult, GradCheckOptions } from "./gradcheck";
export { compare } from "./compare";
export type { Comparison } from "./compare";
export { leaves } from "./flatten";
export type { Leaf, Numeric } from "./flatten";

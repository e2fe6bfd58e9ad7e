// Public API of lib/diagnostics (re-exported by lib/index.ts): per-layer statistics of deep nets.
export * from "./stats";
export * from "./probe";
export * from "./layer-stats";
export * from "./recorder";
export * from "./experiments";
export * from "./landscape";
export * from "./twin-probe";
export * from "./regions";
export * from "./random-labels";
export * from "./results";
export * from "./lenet-run";
export * from "./mnist1d-baselines";
export * from "./adversarial";
export * from "./autoencoders";
export * from "./cd-bias";
export * from "./erhan";
export * from "./transfer";

// Public API of lib/scratch (re-exported by lib/index.ts).
export * from "./activations";
export * from "./losses";
export * from "./init";
export * from "./mlp-scalar";
export * from "./mlp-matrix";
export * from "./optimizers";
export * from "./newton";
export * from "./surfaces";
export * from "./norm";
export * from "./clip";
export * from "./residual";

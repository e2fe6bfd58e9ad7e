// Public API of lib/tf (re-exported by lib/index.ts).
export { dense } from "./dense";
export { AutodiffMlp } from "./mlp-autodiff";
export { LayersMlp, buildSequential } from "./mlp-layers";
export { installFastWasmKernels, uninstallFastWasmKernels, fastWasmKernelsInstalled } from "./fast-grads";

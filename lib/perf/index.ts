// Engine code students need not read (bp.perf): fast wasm kernels and data-parallel training.
export { installFastWasmKernels, uninstallFastWasmKernels, fastWasmKernelsInstalled } from "./fast-grads";
export { DataParallelTrainer } from "./parallel/data-parallel";
export type { DataParallelOptions, ParallelEpoch, ParallelModelKind, WorkerTime } from "./parallel/data-parallel";
export { shareOf } from "./parallel/protocol";
export { Barrier } from "./parallel/barrier";
export { installWasmConvGrads, uninstallWasmConvGrads, wasmConvGradsInstalled, nativeConvKernels, againstCpu } from "./conv-grads";
export { im2col, col2im, windowsRoute } from "./windows";
export { nativeStatus, nativeLanes, setNativeLanes } from "./native";
export { installElementwiseMemo, uninstallElementwiseMemo, clearElementwiseMemo, takeElementwiseMemoCounts } from "./elementwise-memo";

// Public API of lib/parallel (re-exported by lib/index.ts): data-parallel training over worker threads.
export { DataParallelTrainer } from "./data-parallel";
export type { DataParallelOptions, ParallelEpoch, ParallelModelKind, WorkerTime } from "./data-parallel";
export { shareOf } from "./protocol";
export { Barrier } from "./barrier";

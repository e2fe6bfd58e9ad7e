/**
 * backprop-lab: backpropagation from scratch, side by side with TensorFlow.js.
 * Everything a notebook or a student needs is re-exported here:
 *   import * as bp from "./lib/index";
 * (tslab loads local modules by file name only, so imports inside lib/ name files, never folders.)
 */
export * as tf from "@tensorflow/tfjs";
export * from "./backend";
export * from "./random";
export * from "./setup";
export * from "./scratch/index";
export * from "./tf/index";
export * from "./check/index";
export * from "./train/index";
export * from "./data/index";
export * from "./diagnostics/index";
export * from "./plot/index";
export * from "./parallel/index";

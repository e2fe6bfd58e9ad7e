// Entry file of a data-parallel worker thread. Worker threads start without the parent's TypeScript
// loader (tsx under `node --import tsx`, tslab's compiler in the notebook), so register tsx's require
// hook here and load the worker itself, which is TypeScript.
require("tsx/cjs/api").register();
require("./worker.ts");

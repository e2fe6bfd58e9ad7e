// Entry file of a data-parallel worker thread. Worker threads start without the parent's TypeScript
// loader (tsx under `node --import tsx`), so register tsx's require hook here and load the worker itself,
// which is TypeScript; in the compiled library that the notebook kernel loads (.lib-build/, see
// tools/lib-build.js) the worker is already JavaScript.
const fs = require("fs");
const path = require("path");
if (fs.existsSync(path.join(__dirname, "worker.js"))) {
  require("./worker.js");
} else {
  require("tsx/cjs/api").register();
  require("./worker.ts");
}

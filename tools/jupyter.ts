/**
 * `npm run jupyter`: opens Jupyter Notebook on the project with its tslab kernel ("TypeScript
 * (backprop-lab)"), registered inside the project, so nothing global is needed.
 * Extra arguments go to `jupyter notebook` (e.g. `npm run jupyter -- --no-browser --port 8889`).
 */
import { spawn } from "child_process";
import { ensureJupyter, runMain, ROOT } from "./jupyter-env";

runMain(async () => {
  const jenv = ensureJupyter();
  const child = spawn(jenv.python, ["-m", "notebook", "--notebook-dir", ROOT, ...process.argv.slice(2)], {
    env: jenv.env,
    stdio: "inherit",
  });
  return new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? 1)));
});

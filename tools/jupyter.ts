/**
 * `npm run jupyter`: opens Jupyter Notebook on the project with its tslab kernel ("TypeScript
 * (backprop-lab)") and the project's Jupyter configuration (tools/jupyter/), both inside the project, so
 * nothing global is needed. As root (a container, a classroom VM) it adds --allow-root, which Jupyter
 * otherwise demands. Extra arguments go to `jupyter notebook`, e.g.
 *   npm run jupyter -- --no-browser --port 8889 --NotebookApp.token=secret
 */
import { spawn } from "child_process";
import { ensureJupyter, runMain, ROOT } from "./jupyter-env";

/** The arguments for `python -m notebook`: the project folder, --allow-root as root, then the user's. */
export function notebookArgs(userArgs: string[], isRoot: boolean): string[] {
  const args = ["-m", "notebook", "--notebook-dir", ROOT];
  if (isRoot && !userArgs.includes("--allow-root")) args.push("--allow-root");
  return [...args, ...userArgs];
}

if (require.main === module) {
  runMain(async () => {
    const jenv = ensureJupyter();
    const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
    const argv = process.argv.slice(2);
    const args = argv[0] === "nbconvert" ? ["-m", "nbconvert", ...argv.slice(1)] : notebookArgs(argv, isRoot);
    const child = spawn(jenv.python, args, { env: jenv.env, stdio: "inherit" });
    // Ctrl-C reaches Jupyter itself (same process group; it asks before shutting down): wait for it.
    process.on("SIGINT", () => undefined);
    process.on("SIGTERM", () => child.kill("SIGTERM"));
    return new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? 1)));
  });
}

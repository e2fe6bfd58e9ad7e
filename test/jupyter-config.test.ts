// The project's Jupyter set-up without starting a server: `npm run jupyter`'s arguments, the environment
// that points Jupyter at the project's kernel and configuration, and the pre-save hook's normalization.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as path from "path";
import { notebookArgs } from "../tools/jupyter";
import { JUPYTER_CONFIG, ROOT } from "../tools/jupyter-env";

test("npm run jupyter adds --allow-root as root only, and passes the user's options on", () => {
  assert.deepEqual(notebookArgs(["--port", "8889"], false), ["-m", "notebook", "--notebook-dir", ROOT, "--port", "8889"]);
  assert.deepEqual(notebookArgs(["--no-browser"], true), ["-m", "notebook", "--notebook-dir", ROOT, "--allow-root", "--no-browser"]);
  assert.equal(notebookArgs(["--allow-root"], true).filter((a) => a === "--allow-root").length, 1);
  assert.equal(JUPYTER_CONFIG, path.join(ROOT, "tools", "jupyter"));
});

test("the pre-save hook gives every cell a unique id before the notebook is signed", () => {
  const script = `
import json, sys, types
ns = {"__file__": sys.argv[1], "get_config": lambda: types.SimpleNamespace(FileContentsManager=types.SimpleNamespace(), NotebookApp=types.SimpleNamespace())}
exec(open(sys.argv[1]).read(), ns)
nb = {"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [
  {"cell_type": "code", "id": "keep", "source": "", "metadata": {}, "outputs": [], "execution_count": None},
  {"cell_type": "markdown", "source": "new", "metadata": {}},
  {"cell_type": "code", "id": "keep", "source": "dup", "metadata": {}, "outputs": [], "execution_count": None}]}
logged = []
cm = types.SimpleNamespace(log=types.SimpleNamespace(info=lambda *a: logged.append(a)))
ns["pre_save_hook"](model={"type": "notebook", "content": nb}, path="x.ipynb", contents_manager=cm)
ns["pre_save_hook"](model={"type": "file", "content": "text"}, path="y.txt", contents_manager=cm)
print(json.dumps({"ids": [c.get("id") for c in nb["cells"]], "minor": nb["nbformat_minor"], "logged": len(logged)}))
`;
  const r = spawnSync("/usr/bin/python3", ["-c", script, path.join(JUPYTER_CONFIG, "jupyter_notebook_config.py")], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { ids: string[]; minor: number; logged: number };
  assert.equal(out.ids[0], "keep");
  assert.equal(new Set(out.ids).size, 3, "ids are unique");
  assert.ok(out.ids.every((id) => typeof id === "string" && id.length > 0));
  assert.equal(out.minor, 5);
  assert.equal(out.logged, 1);
});

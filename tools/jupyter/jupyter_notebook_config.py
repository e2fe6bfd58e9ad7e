"""The project's Jupyter Notebook configuration, loaded by `npm run jupyter` (JUPYTER_CONFIG_PATH points here).

- Notebooks are normalized before saving (pre-save hook): every cell gets an id. Jupyter Notebook 6.4 creates
  cells without one; nbformat then adds ids when the file is read back, the notebook no longer matches the
  signature it was saved with, and it opens "Not Trusted" with its figures blank (fixed upstream in nbclassic
  PR #275). Adding the ids before the notebook is signed makes the signature hold.
- plotly.js is served from the project's node_modules at <base_url>nbextensions/plotly.js-dist-min/plotly.min.js,
  where each figure output of bp.show() loads it from (see lib/plot/show.ts).
- The "backprop-lab/main" notebook extension (nbextensions/backprop-lab/main.js, enabled in nbconfig/) turns
  off MathJax 2's automatic line breaking, which splits the formulas in table cells.
"""
import os
import secrets

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def normalize_notebook(nb):
    """Gives every cell a unique id (nbformat 4.5) and raises nbformat_minor to 5; returns how many ids changed."""
    if nb.get("nbformat") != 4:
        return 0
    changed = 0
    if nb.get("nbformat_minor", 0) < 5:
        nb["nbformat_minor"] = 5
    seen = set()
    for cell in nb.get("cells", []):
        cid = cell.get("id")
        if not isinstance(cid, str) or not cid or cid in seen:
            cid = secrets.token_hex(4)
            while cid in seen:
                cid = secrets.token_hex(4)
            cell["id"] = cid
            changed += 1
        seen.add(cid)
    return changed


def pre_save_hook(model, path, contents_manager, **kwargs):
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    n = normalize_notebook(model["content"])
    if n:
        contents_manager.log.info("backprop-lab: gave %d cell(s) an id before saving %s", n, path)


c = get_config()  # noqa: F821 (defined by traitlets when it loads this file)
c.FileContentsManager.pre_save_hook = pre_save_hook
c.NotebookApp.extra_nbextensions_path = [os.path.join(HERE, "nbextensions"), os.path.join(ROOT, "node_modules")]

"""Exports executed notebooks to HTML with nbconvert.

Usage: python3 nbexport.py OUT_DIR NOTEBOOK.ipynb [...]; prints one JSON line per notebook.
"""
import json
import os
import sys
import time

import nbformat
from nbconvert import HTMLExporter


def main():
    out_dir, notebooks = sys.argv[1], sys.argv[2:]
    os.makedirs(out_dir, exist_ok=True)
    exporter = HTMLExporter()
    for path in notebooks:
        t0 = time.time()
        name = os.path.splitext(os.path.basename(path))[0]
        target = os.path.join(out_dir, name + ".html")
        try:
            body, _ = exporter.from_notebook_node(nbformat.read(path, as_version=4))
            with open(target + ".tmp", "w", encoding="utf-8") as f:
                f.write(body)
            os.replace(target + ".tmp", target)
            print(json.dumps({"notebook": path, "html": target, "ok": True, "ms": round((time.time() - t0) * 1000)}))
        except Exception as e:
            print(json.dumps({"notebook": path, "ok": False, "message": f"{type(e).__name__}: {e}"}))


if __name__ == "__main__":
    main()

"""Executes one notebook with the real Jupyter machinery (nbclient) and reports, as JSON on stdout,
what happened to every cell.

Why not `jupyter nbconvert --execute`: tslab reports a failing cell with an empty error (its text goes to
the cell's stderr stream), and nbconvert then shows nothing useful. Here every cell's stderr and the
kernel's own stderr are kept, so the caller can print the real message.

Usage: python3 nbrun.py JOB.json    (JOB fields: see `Job` below). Never exits with a traceback: any
failure is reported in the JSON with "ok": false.
"""
import json
import sys
import time
import traceback

try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError, CellExecutionError
except ImportError as e:  # the caller checks this first; keep the contract anyway
    print(json.dumps({"ok": False, "fatal": f"Jupyter is not installed for {sys.executable}: {e}"}))
    sys.exit(0)

# tslab cancels requests that reach it within 200 ms of a failed cell (tslab issue #19); wait past that
# before sending the next cell when errors are allowed.
TSLAB_ABORT_WINDOW_S = 0.25


def cell_text(cell, name):
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == name)


def error_text(cell):
    parts = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            parts.append(f"{o.get('ename', '')}: {o.get('evalue', '')}".strip(": "))
    return "\n".join(p for p in parts if p) or cell_text(cell, "stderr")


def tail(path, limit=4000):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()[-limit:]
    except OSError:
        return ""


def run(job):
    # Job: notebook (path), output (path or null), cwd (kernel start folder), kernel (name),
    # cell_timeout (s), startup_timeout (s), continue_on_error (bool), kernel_stderr (path),
    # cells (list of indices to run, or null for all code cells).
    nb = nbformat.read(job["notebook"], as_version=4)
    client = NotebookClient(
        nb,
        timeout=job.get("cell_timeout", 120),
        startup_timeout=job.get("startup_timeout", 60),
        kernel_name=job.get("kernel", "backprop-lab"),
        allow_errors=False,
        record_timing=True,
        resources={"metadata": {"path": job["cwd"]}},
    )
    cells, failure, count = [], None, 0
    only = set(job["cells"]) if job.get("cells") is not None else None
    stderr_path = job.get("kernel_stderr") or "/dev/null"
    started = time.time()
    with open(stderr_path, "w") as kernel_err:
        try:
            with client.setup_kernel(stderr=kernel_err):
                for index, cell in enumerate(nb.cells):
                    if cell.cell_type != "code" or (only is not None and index not in only):
                        continue
                    t0 = time.time()
                    status, message = "ok", ""
                    count += 1
                    try:
                        client.execute_cell(cell, index)
                    except CellTimeoutError:
                        status, message = "timeout", f"cell ran past {client.timeout} s"
                    except DeadKernelError:
                        status, message = "dead", "the kernel died"
                    except CellExecutionError:
                        status = "error"
                    # tslab sends no execute_input, so nbclient leaves the count empty; number cells ourselves.
                    if cell.get("execution_count") is None:
                        cell["execution_count"] = count
                    if status != "ok":
                        message = "\n".join(m for m in (message, error_text(cell)) if m)
                    record = {"index": index, "id": cell.get("id"), "status": status,
                              "ms": round((time.time() - t0) * 1000), "stderr": cell_text(cell, "stderr")[-4000:]}
                    if status != "ok":
                        record["message"] = message[-4000:]
                    cells.append(record)
                    if status != "ok" and failure is None:
                        failure = record
                    if status in ("dead", "timeout") or (status == "error" and not job.get("continue_on_error")):
                        break
                    if status == "error":
                        time.sleep(TSLAB_ABORT_WINDOW_S)
        except DeadKernelError:
            failure = failure or {"index": None, "status": "dead", "message": "the kernel died"}
        except Exception as e:  # kernel failed to start, bad notebook, ...
            failure = failure or {"index": None, "status": "fatal",
                                  "message": f"{type(e).__name__}: {e}".strip()}
    if failure is not None and failure.get("status") in ("dead", "fatal"):
        failure["kernel_stderr"] = tail(stderr_path)
    if job.get("output"):
        nbformat.write(nb, job["output"])
    return {"ok": failure is None, "cells": cells, "failure": failure,
            "wall_ms": round((time.time() - started) * 1000)}


def main():
    try:
        with open(sys.argv[1]) as f:
            job = json.load(f)
        result = run(job)
    except Exception as e:
        result = {"ok": False, "fatal": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-2000:]}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()

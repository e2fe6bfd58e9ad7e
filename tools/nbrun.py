"""Executes one notebook with the real Jupyter machinery (nbclient) and reports, as JSON on stdout,
what happened to every cell.

Why not `jupyter nbconvert --execute`: it stops at the first failing cell and says little else. Here every
cell gets a record (status, time, the error's name, message and traceback from the kernel's `error` output),
and the kernel's own stderr is kept for a kernel that dies, so the caller can print a precise report.

Usage: python3 nbrun.py JOB.json    (JOB fields: see `Job` below). Never exits with a traceback: any
failure is reported in the JSON with "ok": false.
       python3 nbrun.py -           reads the job from stdin (the grader passes the notebook inline, as
                                    `notebook_json`, so the hidden tests never touch the sandbox's disk).
"""
import json
import os
import signal
import sys
import threading
import time
import traceback

try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError, CellExecutionError
except ImportError as e:  # the caller checks this first; keep the contract anyway
    print(json.dumps({"ok": False, "fatal": f"Jupyter is not installed for {sys.executable}: {e}"}))
    sys.exit(0)

def cell_text(cell, name):
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == name)


def error_text(cell):
    """The failing cell's error, as the kernel reported it: its short traceback (whose first line is
    "ename: evalue"), or "ename: evalue" when there is none."""
    parts = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            tb = "\n".join(o.get("traceback") or [])
            parts.append(tb or f"{o.get('ename', '')}: {o.get('evalue', '')}".strip(": "))
    return "\n".join(p for p in parts if p)


def tail(path, limit=4000):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()[-limit:]
    except OSError:
        return ""


def process_tree_rss_kb(pid):
    """Resident memory (kB) of a process and all its descendants, from /proc (0 when gone)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            pass
    return total


class Limits:
    """Optional guards for untrusted notebooks (the grader): output size, kernel memory, total wall time.
    Breaking a limit kills the kernel; nbclient then reports the cell as "dead" and we say which limit."""

    def __init__(self, job):
        self.output_limit = job.get("output_limit")          # bytes of cell output, whole notebook
        self.memory_limit_kb = (job.get("memory_limit_mb") or 0) * 1024
        self.output_bytes = 0
        self.broken = None                                  # "output" | "memory" once a limit is broken
        self.peak_rss_kb = 0
        self.kernel_pid = None
        self._stop = threading.Event()

    def kill_kernel(self, why):
        if self.broken is None:
            self.broken = why
        if self.kernel_pid:
            try:
                os.kill(self.kernel_pid, signal.SIGKILL)
            except OSError:
                pass

    def watch(self, client):
        try:
            self.kernel_pid = client.km.provisioner.process.pid
        except Exception:
            self.kernel_pid = None
        if self.memory_limit_kb and self.kernel_pid:
            threading.Thread(target=self._poll, daemon=True).start()

    def _poll(self):
        while not self._stop.wait(0.1):
            rss = process_tree_rss_kb(self.kernel_pid)
            self.peak_rss_kb = max(self.peak_rss_kb, rss)
            if rss > self.memory_limit_kb:
                self.kill_kernel("memory")
                return

    def stop(self):
        self._stop.set()

    def message(self):
        if self.broken == "output":
            return f"output limit exceeded ({self.output_limit} bytes): the kernel was stopped"
        if self.broken == "memory":
            return f"memory limit exceeded ({self.memory_limit_kb // 1024} MB): the kernel was stopped"
        return ""


def make_client_class(limits):
    class LimitedClient(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):
            if limits.output_limit is not None:
                content = msg.get("content", {})
                size = len(content.get("text", "")) if "text" in content else len(json.dumps(content.get("data", content)))
                limits.output_bytes += size
                if limits.output_bytes > limits.output_limit:
                    limits.kill_kernel("output")
                    return None
            return super().output(outs, msg, display_id, cell_index)
    return LimitedClient


def run(job):
    # Job: notebook (path), output (path or null), cwd (kernel start folder), kernel (name),
    # cell_timeout (s), startup_timeout (s), continue_on_error (bool), kernel_stderr (path),
    # cells (list of indices to run, or null for all code cells).
    # Optional job fields (the grader): notebook_json (the notebook inline instead of a path),
    # output_limit (bytes), memory_limit_mb, wall_limit (s, whole notebook), first_cell_timeout (s),
    # shutdown_kernel ("graceful" | "immediate"), nondumpable, stream (print each cell's
    # record as a JSON line as soon as it finishes, so a caller that must kill us keeps what was done).
    if job.get("notebook_json") is not None:
        nb = nbformat.reads(json.dumps(job["notebook_json"]), as_version=4)
    else:
        nb = nbformat.read(job["notebook"], as_version=4)
    limits = Limits(job)
    client = make_client_class(limits)(
        nb,
        timeout=job.get("cell_timeout", 120),
        startup_timeout=job.get("startup_timeout", 60),
        kernel_name=job.get("kernel", "backprop-lab"),
        allow_errors=False,
        record_timing=True,
        resources={"metadata": {"path": job["cwd"]}},
        shutdown_kernel=job.get("shutdown_kernel", "graceful"),
    )
    cells, failure, count = [], None, 0
    only = set(job["cells"]) if job.get("cells") is not None else None
    stderr_path = job.get("kernel_stderr") or "/dev/null"
    started = time.time()
    cell_timeout = client.timeout
    wall_limit = job.get("wall_limit")
    with open(stderr_path, "w") as kernel_err:
        try:
            with client.setup_kernel(stderr=kernel_err):
                limits.watch(client)
                for index, cell in enumerate(nb.cells):
                    if cell.cell_type != "code" or (only is not None and index not in only):
                        continue
                    # The first code cell usually imports the library, which tslab type-checks in full:
                    # it may get a longer limit (first_cell_timeout) than the others.
                    this_timeout = cell_timeout
                    if count == 0 and job.get("first_cell_timeout"):
                        this_timeout = max(cell_timeout, job["first_cell_timeout"])
                    client.timeout = this_timeout
                    if wall_limit is not None:
                        left = wall_limit - (time.time() - started)
                        if left <= 0:
                            record = {"index": index, "id": cell.get("id"), "status": "timeout", "ms": 0,
                                      "stderr": "", "message": f"notebook ran past its {wall_limit} s limit",
                                      "wall_limit": True}
                            cells.append(record)
                            failure = failure or record
                            if job.get("stream"):
                                sys.stdout.write(json.dumps({"cell": record}) + "\n")
                                sys.stdout.flush()
                            break
                        client.timeout = max(1, min(this_timeout, int(left + 0.999)))
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
                    # The kernel numbers cells through execute_input; a cell that never started keeps ours.
                    if cell.get("execution_count") is None:
                        cell["execution_count"] = count
                    if limits.broken and status in ("ok", "error", "dead"):
                        # The reply can beat the kill: a broken limit fails the cell whatever it said.
                        status, message = "dead", limits.message()
                    if status != "ok":
                        message = "\n".join(m for m in (message, error_text(cell)) if m)
                    record = {"index": index, "id": cell.get("id"), "status": status,
                              "ms": round((time.time() - t0) * 1000), "stderr": cell_text(cell, "stderr")[-4000:]}
                    if status != "ok":
                        record["message"] = message[-4000:]
                    if status == "dead" and limits.broken:
                        record["limit"] = limits.broken
                    cells.append(record)
                    if job.get("stream"):
                        sys.stdout.write(json.dumps({"cell": record}) + "\n")
                        sys.stdout.flush()
                    if status != "ok" and failure is None:
                        failure = record
                    if status in ("dead", "timeout") or (status == "error" and not job.get("continue_on_error")):
                        break
        except DeadKernelError:
            failure = failure or {"index": None, "status": "dead", "message": "the kernel died"}
        except Exception as e:  # kernel failed to start, bad notebook, ...
            failure = failure or {"index": None, "status": "fatal",
                                  "message": f"{type(e).__name__}: {e}".strip()}
    limits.stop()
    if failure is not None and failure.get("status") in ("dead", "fatal"):
        failure["kernel_stderr"] = tail(stderr_path)
    if job.get("output"):
        nbformat.write(nb, job["output"])
    result = {"ok": failure is None, "cells": cells, "failure": failure,
              "wall_ms": round((time.time() - started) * 1000)}
    if limits.memory_limit_kb:
        result["peak_rss_mb"] = round(limits.peak_rss_kb / 1024)
    return result


def main():
    try:
        if sys.argv[1] == "-":
            job = json.load(sys.stdin)
        else:
            with open(sys.argv[1]) as f:
                job = json.load(f)
        if job.get("nondumpable"):
            # Keep same-user processes (the kernel running untrusted code) out of our memory, which holds
            # the whole notebook, hidden tests included: PR_SET_DUMPABLE = 4.
            import ctypes
            ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)
        result = run(job)
    except Exception as e:
        result = {"ok": False, "fatal": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-2000:]}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()

"""Executes one notebook with the real Jupyter machinery (nbclient) and reports, as JSON on stdout,
what happened to every cell.

Why not `jupyter nbconvert --execute`: it stops at the first failing cell and says little else. Here every
cell gets a record (status, time, the error's name, message and traceback from the kernel's `error` output),
and the kernel's own stderr is kept for a kernel that dies, so the caller can print a precise report.

Usage: python3 nbrun.py JOB.json    (JOB fields: see `Job` below). Never exits with a traceback: any
failure is reported in the JSON with "ok": false.
       python3 nbrun.py -           reads the job from stdin (the grader passes the notebook inline, as
                                    `notebook_json`, so the hidden tests never touch the sandbox's disk).
       python3 nbrun.py - --result-fd N
                                    writes every record (one JSON line each, carrying the job's `nonce`) to
                                    descriptor N instead of stdout. The grader passes a pipe there; the runner
                                    makes it non-inheritable at once, so the kernel (started with
                                    close_fds=False by jupyter_client) never holds it, and the runner is
                                    non-dumpable, so /proc/<runner>/fd is closed to it too. The kernel's own
                                    stdout and stderr go to pipes the runner drains and bounds: nothing the
                                    kernel writes can reach, block or forge the result channel.
"""
import json
import os
import re
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


class Drain:
    """Reads a pipe to its end in a thread, keeping only the last `keep` characters (kernel stdout/stderr).
    A kernel that writes without end, or sets its end non-blocking, cannot stall or flood the runner."""

    def __init__(self, keep=64 * 1024):
        self.keep = keep
        self.read_fd, self.write_fd = os.pipe()           # both non-inheritable; Popen dup2s the write end
        self.text = ""
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                chunk = os.read(self.read_fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            self.text = (self.text + chunk.decode("utf-8", "replace"))[-self.keep:]

    def close_writer(self):
        try:
            os.close(self.write_fd)
        except OSError:
            pass

    def finish(self, wait=2.0):
        self.close_writer()
        self.thread.join(wait)
        return self.text


def all_pids():
    try:
        return [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return []


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


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
    """Optional guards for untrusted notebooks (the grader): output size, kernel memory, total wall time,
    number of processes. Breaking a limit kills the kernel; nbclient then reports the cell as "dead" and we
    say which limit.

    With `whole_namespace` (the grader inside bubblewrap's PID namespace) memory and processes are summed
    over EVERY process in the namespace but the runner itself and bubblewrap's init: a process that leaves
    the kernel's tree (double fork, setsid) is still counted, and killed with the rest."""

    def __init__(self, job):
        self.output_limit = job.get("output_limit")          # bytes of cell output, whole notebook
        self.memory_limit_kb = (job.get("memory_limit_mb") or 0) * 1024
        self.max_processes = job.get("max_processes")
        self.whole_namespace = bool(job.get("whole_namespace"))
        self.output_bytes = 0
        self.broken = None                                  # "output" | "memory" | "processes" once broken
        self.peak_rss_kb = 0
        self.kernel_pid = None
        self._stop = threading.Event()

    def others(self):
        """Every process of the hand-in: the whole namespace but us and its init, or the kernel's tree."""
        me = os.getpid()
        return [p for p in all_pids() if p not in (me, 1)]

    def kill_kernel(self, why):
        if self.broken is None:
            self.broken = why
        victims = [self.kernel_pid] if self.kernel_pid else []
        if self.whole_namespace:
            victims += self.others()
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def watch(self, client):
        try:
            self.kernel_pid = client.km.provisioner.process.pid
        except Exception:
            self.kernel_pid = None
        if (self.memory_limit_kb or self.max_processes) and self.kernel_pid:
            threading.Thread(target=self._poll, daemon=True).start()

    def _poll(self):
        while not self._stop.wait(0.1):
            if self.whole_namespace:
                pids = self.others()
                rss = sum(rss_kb(p) for p in pids)
            else:
                pids = None
                rss = process_tree_rss_kb(self.kernel_pid)
            self.peak_rss_kb = max(self.peak_rss_kb, rss)
            if self.memory_limit_kb and rss > self.memory_limit_kb:
                self.kill_kernel("memory")
                return
            if self.max_processes and pids is not None and len(pids) > self.max_processes:
                self.kill_kernel("processes")
                return

    def stop(self):
        self._stop.set()

    def message(self):
        if self.broken == "output":
            return f"output limit exceeded ({self.output_limit} bytes): the kernel was stopped"
        if self.broken == "memory":
            return f"memory limit exceeded ({self.memory_limit_kb // 1024} MB): the kernel was stopped"
        if self.broken == "processes":
            return f"process limit exceeded ({self.max_processes} processes): every process was stopped"
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


def emit_to(stream, nonce):
    """A writer of result records: one JSON line each, with the job's nonce when it has one."""
    def emit(obj):
        if nonce is not None:
            obj = {"nonce": nonce, **obj}
        stream.write(json.dumps(obj) + "\n")
        stream.flush()
    return emit


def run(job, emit=None):
    # Job: notebook (path), output (path or null), cwd (kernel start folder), kernel (name),
    # cell_timeout (s), startup_timeout (s), continue_on_error (bool), kernel_stderr (path),
    # cells (list of indices to run, or null for all code cells).
    # Optional job fields (the grader): notebook_json (the notebook inline instead of a path),
    # output_limit (bytes), memory_limit_mb, wall_limit (s, whole notebook), first_cell_timeout (s),
    # shutdown_kernel ("graceful" | "immediate"), nondumpable, stream (print each cell's
    # record as a JSON line as soon as it finishes, so a caller that must kill us keeps what was done),
    # nonce (copied into every record), prelude (code run before the first cell, unrecorded: the grader's
    # hardening; if it fails the run is "fatal"), max_processes and whole_namespace (see Limits).
    emit = emit or emit_to(sys.stdout, job.get("nonce"))
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
    cells, failure, count, imported = [], None, 0, False
    only = set(job["cells"]) if job.get("cells") is not None else None
    stderr_path = job.get("kernel_stderr")
    started = time.time()
    cell_timeout = client.timeout
    wall_limit = job.get("wall_limit")
    # The kernel's stdout and stderr: pipes we drain (never our own stdout, never a file it could fill).
    kernel_out, kernel_err = Drain(keep=4096), Drain()
    try:
        with client.setup_kernel(stdout=kernel_out.write_fd, stderr=kernel_err.write_fd):
            kernel_out.close_writer()
            kernel_err.close_writer()
            limits.watch(client)
            if job.get("prelude"):
                pre = nbformat.v4.new_code_cell(job["prelude"])
                client.timeout = max(cell_timeout, job.get("first_cell_timeout") or 0)
                # nbclient stores the executed cell back at its index: give the prelude its own slot.
                nb.cells.append(pre)
                try:
                    client.execute_cell(pre, len(nb.cells) - 1)
                    pre_error = None
                except CellTimeoutError:
                    pre_error = f"timed out after {client.timeout} s"
                except DeadKernelError:
                    pre_error = "the kernel died"
                except CellExecutionError:
                    pre_error = error_text(pre) or "error"
                nb.cells.pop()
                if pre_error is not None or limits.broken:
                    raise RuntimeError(f"the grader's prelude failed: {pre_error or limits.message()}")
                # Self-check of the verdict path after hardening: a passing cell must pass, a failing one fail.
                for source, should_fail in (("if (1 + 1 !== 2) throw new Error('canary');", False),
                                            ("throw new Error('canary');", True)):
                    probe = nbformat.v4.new_code_cell(source)
                    nb.cells.append(probe)
                    try:
                        client.execute_cell(probe, len(nb.cells) - 1)
                        failed = False
                    except CellExecutionError:
                        failed = True
                    finally:
                        nb.cells.pop()
                    if failed != should_fail:
                        raise RuntimeError(f"the grader's self-check failed: a cell that should {'fail' if should_fail else 'pass'} did not: "
                                           f"{error_text(probe)[-500:]}")
            if job.get("stream"):
                emit({"started": True})
            # The whole-notebook limit counts the student's cells only, not kernel start and prelude.
            started = time.time()
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or (only is not None and index not in only):
                    continue
                # The first code cell usually imports the library, which tslab type-checks in full:
                # it may get a longer limit (first_cell_timeout) than the others.
                # So may the first cell that imports it, wherever it is (tslab type-checks lib/ on that import).
                this_timeout = cell_timeout
                imports_lib = not imported and re.search(r"""from\s+["']\./lib(/index)?["']""", cell.source or "")
                if (count == 0 or imports_lib) and job.get("first_cell_timeout"):
                    this_timeout = max(cell_timeout, job["first_cell_timeout"])
                imported = imported or bool(imports_lib)
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
                            emit({"cell": record})
                        break
                    client.timeout = max(1, min(this_timeout, int(left + 0.999)))
                # When the whole-notebook deadline, not the cell's own limit, cuts this cell short.
                cut_by_wall = wall_limit is not None and client.timeout < this_timeout
                t0 = time.time()
                status, message = "ok", ""
                count += 1
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError:
                    status, message = "timeout", f"cell ran past {client.timeout} s"
                    if cut_by_wall:
                        message = f"notebook ran past its {wall_limit} s limit"
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
                if status == "timeout" and cut_by_wall:
                    record["wall_limit"] = True
                cells.append(record)
                if job.get("stream"):
                    emit({"cell": record})
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
    kernel_out.finish()
    err_text = kernel_err.finish()
    if stderr_path:
        try:
            with open(stderr_path, "w") as f:
                f.write(err_text)
        except OSError:
            pass
    if failure is not None and failure.get("status") in ("dead", "fatal"):
        failure["kernel_stderr"] = err_text[-4000:]
    if job.get("output"):
        nbformat.write(nb, job["output"])
    result = {"ok": failure is None, "cells": cells, "failure": failure,
              "wall_ms": round((time.time() - started) * 1000)}
    if limits.memory_limit_kb:
        result["peak_rss_mb"] = round(limits.peak_rss_kb / 1024)
    return result


def private_result_channel(argv):
    """`--result-fd N`: the descriptor records go to, made non-inheritable before anything else runs, with
    every other inherited descriptor above 2 (the kernel is started with close_fds=False)."""
    fd = None
    if "--result-fd" in argv:
        fd = int(argv[argv.index("--result-fd") + 1])
    try:
        for name in os.listdir("/proc/self/fd"):
            n = int(name)
            if n > 2:
                try:
                    os.set_inheritable(n, False)
                except OSError:
                    pass
    except OSError:
        pass
    return os.fdopen(fd, "w", buffering=1, encoding="utf-8") if fd is not None else sys.stdout


def main():
    out = sys.stdout
    job = {}
    try:
        out = private_result_channel(sys.argv)
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
        result = run(job, emit_to(out, job.get("nonce")))
    except Exception as e:
        result = {"ok": False, "fatal": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-2000:]}
    emit_to(out, job.get("nonce") if isinstance(job, dict) else None)({"summary": result} if out is not sys.stdout else result)


if __name__ == "__main__":
    main()

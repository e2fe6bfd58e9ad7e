"""Times the first cell of a notebook (the library import) in the project's tslab kernel, and checks that
tab-completion and the doc comments of the library reach the student through the kernel.

    JUPYTER_PATH=.jupyter /usr/bin/python3 tools/bench/first_cell.py [--runs N] [--code CODE]

Prints one JSON line per run: kernel start, first cell (wall and the kernel's CPU seconds), a second small
cell, the completions offered for `bp.tra`, what inspecting `bp.train` shows (its doc comment) and the
traceback of an error thrown inside the library.
"""
import argparse
import json
import os
import time

import jupyter_client

FIRST_CELL = 'import * as bp from "./lib/index";'


def cpu_seconds(pid):
    """User + system CPU of a process and its waited-for children, from /proc (Linux)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def execute(kc, code, timeout=300):
    """The reply's content, with the cell's stdout text and error traceback added."""
    stdout, traceback = [], []

    def hook(msg):
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            stdout.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            traceback.extend(msg["content"]["traceback"])

    reply = kc.execute_interactive(code, timeout=timeout, output_hook=hook)
    return {**reply["content"], "stdout": "".join(stdout), "traceback_lines": traceback}


def one_run(kernel_name, code):
    t0 = time.perf_counter()
    km = jupyter_client.KernelManager(kernel_name=kernel_name)
    km.start_kernel(cwd=os.getcwd())
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    pid = km.provisioner.process.pid
    started = time.perf_counter()
    cpu0 = cpu_seconds(pid)
    content = execute(kc, code)
    first = time.perf_counter()
    cpu1 = cpu_seconds(pid)
    if content["status"] != "ok":
        raise SystemExit(f"first cell failed: {content.get('ename')}: {content.get('evalue')}")
    execute(kc, "const n = bp.tf.tensor1d([1, 2, 3]).sum().dataSync()[0];\nn")
    second = time.perf_counter()
    thrown = execute(kc, "new bp.Rng(NaN)")
    src = "bp.tra"
    kc.complete(src, len(src))
    completions = kc.get_shell_msg(timeout=60)["content"]
    src = "bp.train"
    kc.inspect(src, len(src))
    inspected = kc.get_shell_msg(timeout=60)["content"]
    doc = inspected.get("data", {}).get("text/plain", "")
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    return {
        "kernel_start_s": round(started - t0, 2),
        "first_cell_s": round(first - started, 2),
        "first_cell_cpu_s": round(cpu1 - cpu0, 2),
        "first_cell_stdout": content["stdout"],
        "second_cell_s": round(second - first, 2),
        "complete_bp.tra": completions.get("matches", [])[:8],
        "inspect_bp.train_has_doc": len(doc.splitlines()) > 1,
        "inspect_first_line": doc.splitlines()[0] if doc else "",
        "inspect_doc": doc,
        "lib_error_traceback": thrown["traceback_lines"],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--kernel", default="backprop-lab")
    ap.add_argument("--code", default=FIRST_CELL)
    ap.add_argument("--full", action="store_true", help="also print the doc text, the first cell's stdout and a traceback")
    a = ap.parse_args()
    for _ in range(a.runs):
        r = one_run(a.kernel, a.code)
        if not a.full:
            r = {k: v for k, v in r.items() if k not in ("inspect_doc", "lib_error_traceback", "first_cell_stdout")}
        print(json.dumps({"load": os.getloadavg()[0], **r}), flush=True)


if __name__ == "__main__":
    main()

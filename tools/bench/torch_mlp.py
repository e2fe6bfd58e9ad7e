"""PyTorch CPU anchor of the benchmark: the same MLP, data size, batch and SGD as tools/bench/child.ts.

Usage: python3 torch_mlp.py '<json>'  with keys sizes, hidden ("relu"|"sigmoid"), data (path of the raw
float32 inputs followed by int32 labels written by tools/bench.ts), n, full_n, warmup, epochs, batch, lr,
threads, seed. Prints one line "RESULT <json>" (msPerEpoch scaled to full_n, medianMs, cpuMs: CPU time of
all threads, peakRssMb, lastLoss).
"""
import json
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def main() -> None:
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(int(cfg["threads"]))
    torch.manual_seed(int(cfg["seed"]))
    n, features = int(cfg["n"]), int(cfg["sizes"][0])
    raw = np.fromfile(cfg["data"], dtype=np.uint8)
    x = torch.from_numpy(raw[: n * features * 4].view(np.float32).reshape(n, features).copy())
    y = torch.from_numpy(raw[n * features * 4 : n * features * 4 + n * 4].view(np.int32).astype(np.int64))

    act = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}[cfg["hidden"]]
    layers = []
    sizes = cfg["sizes"]
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    model = torch.nn.Sequential(*layers)  # softmax + cross-entropy: F.cross_entropy on the logits
    opt = torch.optim.SGD(model.parameters(), lr=float(cfg["lr"]))
    batch = int(cfg["batch"])
    scale = float(cfg["full_n"]) / n

    times, cpu, last = [], [], float("nan")
    for epoch in range(int(cfg["warmup"]) + int(cfg["epochs"])):
        c0 = time.process_time()
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        total = 0.0
        for s in range(0, n, batch):
            idx = perm[s : s + batch]
            xb, yb = x[idx], y[idx]
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        ms = (time.perf_counter() - t0) * 1000
        cpu_ms = (time.process_time() - c0) * 1000
        last = total / n
        if epoch >= int(cfg["warmup"]):
            times.append(ms * scale)
            cpu.append(cpu_ms * scale)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps({
        "engine": f"PyTorch {torch.__version__} CPU, {torch.get_num_threads()} threads",
        "msPerEpoch": times,
        "medianMs": statistics.median(times),
        "cpuMs": statistics.median(cpu),
        "peakRssMb": peak_mb,
        "lastLoss": last,
    }))


if __name__ == "__main__":
    main()

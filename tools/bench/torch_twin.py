"""PyTorch CPU anchor of the benchmark: the same network, data size, batch and SGD as tools/bench/child.ts.

Usage: python3 torch_twin.py '<json>' with keys model ("mlp" or "lenet5"), sizes and hidden (for the MLP:
"relu"|"sigmoid"|"tanh"), data (path of the raw float32 inputs, n × 784, followed by int32 labels, written by
tools/bench.ts), n, full_n, warmup, epochs, batch, lr, threads, seed. Prints one line "RESULT <json>"
(msPerEpoch scaled to full_n, medianMs, cpuMs: CPU time of all threads, peakRssMb, lastLoss).

LeNet-5 is the network of lib/nn/lenet.ts: 5×5 conv, 6 maps, padding 2; tanh; 2×2 average pooling; 5×5 conv,
16 maps; tanh; pooling; 400-120-84-10 with tanh. Both end in softmax + cross-entropy (F.cross_entropy on the
logits).
"""
import json
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def mlp(cfg):
    act = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}[cfg["hidden"]]
    sizes, layers = cfg["sizes"], []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    return torch.nn.Sequential(*layers), (int(sizes[0]),)


def lenet5(_cfg):
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.Tanh(), torch.nn.AvgPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.Tanh(), torch.nn.AvgPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.Tanh(), torch.nn.Linear(120, 84), torch.nn.Tanh(), torch.nn.Linear(84, 10),
    ), (1, 28, 28)


def main() -> None:
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(int(cfg["threads"]))
    torch.manual_seed(int(cfg["seed"]))
    model, sample = {"mlp": mlp, "lenet5": lenet5}[cfg.get("model", "mlp")](cfg)
    n, features = int(cfg["n"]), int(np.prod(sample))
    raw = np.fromfile(cfg["data"], dtype=np.uint8)
    x = torch.from_numpy(raw[: n * features * 4].view(np.float32).reshape(n, *sample).copy())
    y = torch.from_numpy(raw[n * features * 4 : n * features * 4 + n * 4].view(np.int32).astype(np.int64))
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
            loss = F.cross_entropy(model(x[idx]), y[idx])
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

    print("RESULT " + json.dumps({
        "engine": f"PyTorch {torch.__version__} CPU, {torch.get_num_threads()} threads",
        "msPerEpoch": times,
        "medianMs": statistics.median(times),
        "cpuMs": statistics.median(cpu),
        "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "lastLoss": last,
    }))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Peer for `nwgf bench step --scheme particle`: one step of the paper's particle flow as its
PyTorch code does it (schemes/ParticleFlow.py of
github.com/FabianAltekrueger/NeuralWassersteinGradientFlows): float64, dense (N, N, d)
difference tensor, grad = r diff / dist^(2-r) summed over j, x <- x - tau M grad.
Prints one JSON line with the median seconds per step."""
import argparse
import json
import statistics
import time

import torch


def energy_grad(p, q, r):
    mp, mq = p.shape[0], q.shape[0]
    diff = p.reshape(mp, 1, -1) - q.reshape(1, mq, -1)
    dist = torch.sqrt(torch.sum(diff * diff, dim=2)).reshape(mp, mq, 1)
    dist[dist == 0] = 1
    return torch.sum(r * diff / dist ** (2 - r), dim=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=6000)
    ap.add_argument("--d", type=int, default=2)
    ap.add_argument("--r", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    x = 0.1 * torch.randn(a.n, a.d, dtype=torch.double)
    tau = 0.05

    def step():
        nonlocal x
        m = x.shape[0]
        grad = -energy_grad(x, x, a.r) / m**2
        x = x - tau * m * grad

    step()
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"bench": "paper_particle", "n": a.n, "d": a.d, "r": a.r, "dtype": "f64",
                      "threads": a.threads, "seconds": statistics.median(times), "min": min(times),
                      "max": max(times), "repeats": a.repeats, "torch": torch.__version__}))


if __name__ == "__main__":
    main()

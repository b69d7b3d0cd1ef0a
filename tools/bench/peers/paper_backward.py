#!/usr/bin/env python3
"""Peer for `nwgf bench step --scheme backward`: one training iteration of the paper's neural
backward scheme as its PyTorch code does it (schemes/NeuralBackwardScheme.py of
github.com/FabianAltekrueger/NeuralWassersteinGradientFlows): ReLU MLP on [x, z], two batches
from randperm, dense (B, B, d) difference tensors for the interaction energy, loss
0.5 W2 + tau F, Adam. Prints one JSON line with the median seconds per iteration."""
import argparse
import json
import statistics
import time

import torch


def get_network(dim, latent_dim, width, hidden_layers, dtype):
    modules = [torch.nn.Linear(dim + latent_dim, width).to(dtype), torch.nn.ReLU()]
    for _ in range(hidden_layers - 1):
        modules += [torch.nn.Linear(width, width).to(dtype), torch.nn.ReLU()]
    modules.append(torch.nn.Linear(width, dim).to(dtype))
    return torch.nn.Sequential(*modules)


def energy(p, q, r):
    diff = p.reshape(p.shape[0], 1, -1) - q.reshape(1, q.shape[0], -1)
    dist = torch.linalg.vector_norm(diff, ord=2, dim=2)
    return 0.5 * torch.sum(dist**r) / (p.shape[0] * q.shape[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=6000)
    ap.add_argument("--d", type=int, default=2)
    ap.add_argument("--r", type=float, default=1.0)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--layers", type=int, default=3, help="hidden layers")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dtype = torch.float
    net = get_network(a.d, a.d, a.width, a.layers, dtype)
    opt = torch.optim.Adam(net.parameters(), lr=5e-4)
    particles = 0.1 * torch.randn(a.n, a.d, dtype=dtype)
    tau = 0.05

    def iteration():
        opt.zero_grad()
        perm1 = torch.randperm(a.n)[: a.batch]
        perm2 = torch.randperm(a.n)[: a.batch]
        xs1, xs2 = particles[perm1], particles[perm2]
        out1 = net(torch.cat((xs1, torch.randn(a.batch, a.d, dtype=dtype)), 1))
        out2 = net(torch.cat((xs2, torch.randn(a.batch, a.d, dtype=dtype)), 1))
        both_in, both_out = torch.cat([xs1, xs2]), torch.cat([out1, out2])
        w2 = torch.sum((both_in - both_out) ** 2) / both_in.shape[0]
        loss = 0.5 * w2 + tau * (-energy(out1, out2, a.r))
        loss.backward()
        opt.step()

    iteration()
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        iteration()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"bench": "paper_backward", "n": a.n, "batch": a.batch, "d": a.d, "r": a.r,
                      "hidden": [a.width] * a.layers, "threads": a.threads,
                      "seconds": statistics.median(times), "min": min(times), "max": max(times),
                      "repeats": a.repeats, "torch": torch.__version__}))


if __name__ == "__main__":
    main()

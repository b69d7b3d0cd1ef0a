#!/usr/bin/env python3
"""PyTorch peer of `nwgf bench mlp`: one training step (forward + backward + Adam) of the same
network (input d + latent, ReLU hidden layers, linear output d), float32, 2 threads, with the
same fixed random dL/dout. Prints one JSON line with `seconds` (median of one step)."""
import argparse
import json
import statistics
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=12000)
    ap.add_argument("--d", type=int, default=2)
    ap.add_argument("--latent", type=int, default=None)
    ap.add_argument("--hidden", default="128,128,128")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=20)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    latent = a.d if a.latent is None else a.latent
    widths = [a.d + latent] + [int(h) for h in a.hidden.split(",")] + [a.d]
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(a.batch, widths[0])
    dout = torch.randn(a.batch, a.d)

    def step():
        opt.zero_grad(set_to_none=True)
        y = net(x)
        y.backward(dout)
        opt.step()

    step()
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"bench": "mlp_torch", "torch": torch.__version__, "threads": a.threads,
                      "batch": a.batch, "d": a.d, "latent": latent, "hidden": widths[1:-1],
                      "seconds": statistics.median(times)}))


if __name__ == "__main__":
    main()

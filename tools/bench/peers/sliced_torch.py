#!/usr/bin/env python3
"""Peer for `nwgf bench sliced`: the same sliced Riesz work (r = 1) in PyTorch on the CPU.

X, Y: N standard normal points in R^d each; S unit directions drawn once before timing. One timed
call computes S_xx = sum_ij |x_i - x_j| and S_xy = sum_ij |x_i - y_j| (sliced estimates, c_d
applied) and the gradient -1/(2N^2) dS_xx/dx + 1/N^2 dS_xy/dx: projections by matmul, torch.sort
per direction, ranks by torch.searchsorted, scatter and back-projection by matmul. Prints one JSON
line with `seconds` (median).
"""
import argparse
import json
import math
import statistics
import time

import torch


def sliced_step(x, y, theta, scale_xx, scale_xy):
    n, m, s = x.shape[0], y.shape[0], theta.shape[0]
    d = x.shape[1]
    c_d = math.sqrt(math.pi) * math.exp(math.lgamma((d + 1) / 2) - math.lgamma(d / 2))
    p = theta @ x.T  # (S, N)
    q = theta @ y.T  # (S, M)
    ps, order = torch.sort(p, dim=1)
    qs, _ = torch.sort(q, dim=1)
    k = torch.arange(n, dtype=x.dtype)
    self_deriv = 2 * (2 * k - (n - 1))  # 2 (#below - #above), generic points
    below = torch.searchsorted(qs, ps)
    above = m - torch.searchsorted(qs, ps, right=True)
    cross_deriv = (below - above).to(x.dtype)  # (S, N)
    p_below = torch.searchsorted(ps, qs)
    p_above = n - torch.searchsorted(ps, qs, right=True)
    s_xx = (ps * self_deriv).sum(dtype=torch.float64)
    s_xy = (ps * cross_deriv).sum(dtype=torch.float64) + (
        qs * (p_below - p_above).to(x.dtype)).sum(dtype=torch.float64)
    g = torch.empty_like(p)
    g.scatter_(1, order, scale_xx * self_deriv + scale_xy * cross_deriv)
    grad = (c_d / s) * (g.T @ theta)  # (N, d)
    return c_d / s * s_xx.item(), c_d / s * s_xy.item(), grad


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--d", type=int, default=2)
    ap.add_argument("--directions", type=int, default=128)
    ap.add_argument("--dtype", choices=["f32", "f64"], default="f32")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dtype = torch.float32 if a.dtype == "f32" else torch.float64
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(a.n, a.d, generator=gen, dtype=dtype)
    y = torch.randn(a.n, a.d, generator=gen, dtype=dtype)
    theta = torch.randn(a.directions, a.d, generator=gen, dtype=dtype)
    theta /= theta.norm(dim=1, keepdim=True)
    nn = float(a.n) * float(a.n)
    with torch.no_grad():
        sliced_step(x, y, theta, -0.5 / nn, 1.0 / nn)  # warm-up
        times = []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            s_xx, s_xy, _ = sliced_step(x, y, theta, -0.5 / nn, 1.0 / nn)
            times.append(time.perf_counter() - t0)
    print(json.dumps({"bench": "sliced_torch", "torch": torch.__version__, "threads": a.threads,
                      "dtype": a.dtype, "n": a.n, "m": a.n, "d": a.d,
                      "directions": a.directions, "seconds": statistics.median(times),
                      "seconds_min": min(times), "seconds_max": max(times),
                      "repeats": a.repeats, "s_xx": s_xx, "s_xy": s_xy}))


if __name__ == "__main__":
    main()

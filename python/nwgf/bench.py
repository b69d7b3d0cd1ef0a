"""``python -m nwgf.bench``: nwgf.mmd2 and nwgf.riesz_gradient against the same computation in
torch (and pykeops where it is installed), and the binding's overhead over the C++ call.

One JSON object per line on stdout (as ``nwgf bench``): ``op``, ``impl``, ``n``, ``d``,
``seconds`` (the fastest of ``--repeats`` runs) or ``skipped`` with the reason. The overhead
line compares a Python call of nwgf.riesz_energy / riesz_gradient on N = 1000 float64 points with
the same C++ call timed in C++ (no Python in its loop): ``overhead_us`` = the difference of the
medians of interleaved rounds.

    python -m nwgf.bench                        # N = 1e3, 1e4, 1e5; d = 2, 784
    python -m nwgf.bench --n 1000 10000 --d 2 --max-pairs 1e8
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Callable, Optional

import numpy as np

from . import _nwgf, mmd2, riesz_energy, riesz_gradient


def best_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def overhead(repeats: int = 200, rounds: int = 15, threads: int = 0) -> list:
    """Python call vs the C++ call timed in C++, N = 1000, d = 2, float64."""
    x = np.random.default_rng(0).normal(size=(1000, 2))
    out = []
    for op, fn in (("riesz_energy", riesz_energy), ("riesz_gradient", riesz_gradient)):
        py, cpp = [], []
        for _ in range(rounds):  # interleaved, so a busy machine slows both alike
            py.append(best_seconds(lambda: fn(x, threads=threads), repeats))
            cpp.append(_nwgf._cpp_seconds(op, x, 1.0, repeats, threads))
        p, c = statistics.median(py), statistics.median(cpp)
        out.append({"op": op, "impl": "overhead", "n": 1000, "d": 2, "python_seconds": p,
                    "cpp_seconds": c, "overhead_us": (p - c) * 1e6})
    return out


def torch_impl(chunk_pairs: float = 2**24):
    """The same sums in torch, rows in chunks so the N x M distances fit in memory."""
    import torch

    def pair_sum(x, y, r):
        rows = max(1, int(chunk_pairs // len(y)))
        total = torch.zeros((), dtype=torch.float64)
        for i in range(0, len(x), rows):
            total += (torch.cdist(x[i:i + rows], y) ** r).sum(dtype=torch.float64)
        return total

    def mmd2_t(x, y, r=1.0):
        x, y = torch.as_tensor(x), torch.as_tensor(y)
        n, m = len(x), len(y)
        return float(pair_sum(x, y, r) / (n * m) - pair_sum(x, x, r) / (2 * n * n)
                     - pair_sum(y, y, r) / (2 * m * m))

    def grad_t(x, y, r=1.0):
        x, y = torch.as_tensor(x), torch.as_tensor(y)
        rows = max(1, int(chunk_pairs // len(y)))
        g = torch.empty_like(x)
        for i in range(0, len(x), rows):
            xi = x[i:i + rows].clone().requires_grad_(True)
            (torch.cdist(xi, y) ** r).sum().backward()
            g[i:i + rows] = xi.grad
        return g

    return mmd2_t, grad_t


def keops_impl():
    from pykeops.torch import LazyTensor
    import torch

    def mmd2_k(x, y, r=1.0):
        x, y = torch.as_tensor(x), torch.as_tensor(y)

        def s(a, b):
            d2 = ((LazyTensor(a[:, None, :]) - LazyTensor(b[None, :, :])) ** 2).sum(-1)
            return float((d2 ** (r / 2)).sum(1).sum())

        n, m = len(x), len(y)
        return s(x, y) / (n * m) - s(x, x) / (2 * n * n) - s(y, y) / (2 * m * m)

    return mmd2_k


def main(argv: Optional[list] = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m nwgf.bench", description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=float, nargs="+", default=[1e3, 1e4, 1e5])
    ap.add_argument("--d", type=int, nargs="+", default=[2, 784])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="nwgf threads (0: all cores)")
    ap.add_argument("--max-pairs", type=float, default=float("inf"),
                    help="skip sizes with more than this many pairs times d (a slow machine)")
    ap.add_argument("--impl", nargs="+", default=["nwgf", "torch", "pykeops"],
                    help="implementations to run (default all)")
    ap.add_argument("--peer-max-pairs", type=float, default=float("inf"),
                    help="--max-pairs for the peers (torch, pykeops) only")
    ap.add_argument("--no-overhead", action="store_true")
    a = ap.parse_args(argv)

    def emit(o):
        print(json.dumps(o), flush=True)

    if not a.no_overhead:
        for o in overhead(threads=a.threads):
            emit(o)
    impls = {}
    if "nwgf" in a.impl:
        impls["nwgf"] = (lambda x, y: mmd2(x, y, threads=a.threads),
                         lambda x, y: riesz_gradient(x, y, threads=a.threads))
    skipped = {}
    try:
        if "torch" not in a.impl:
            raise ImportError("not requested (--impl)")
        impls["torch"] = torch_impl()
        import torch
        if a.threads > 0:
            torch.set_num_threads(a.threads)
    except ImportError as e:
        skipped["torch"] = f"not installed ({e})"
    try:
        if "pykeops" not in a.impl:
            raise ImportError("not requested (--impl)")
        impls["pykeops"] = (keops_impl(), None)
    except Exception as e:  # pykeops fails to import without its compiler toolchain
        skipped["pykeops"] = f"unavailable ({type(e).__name__}: {e})"
    for impl, why in skipped.items():
        emit({"impl": impl, "skipped": why})
    rng = np.random.default_rng(1)
    for d in a.d:
        for nf in a.n:
            n = int(nf)
            x = rng.normal(size=(n, d)).astype(np.float32)
            y = rng.normal(size=(n, d)).astype(np.float32) + 0.5
            for impl, fns in impls.items():
                for op, fn in zip(("mmd2", "riesz_gradient"), fns):
                    if fn is None:
                        continue
                    line = {"op": op, "impl": impl, "n": n, "d": d, "dtype": "float32"}
                    limit = a.max_pairs if impl == "nwgf" else min(a.max_pairs, a.peer_max_pairs)
                    if 3.0 * n * n * d > limit:
                        line["skipped"] = f"over --max-pairs {limit:g}"
                    else:
                        line["seconds"] = best_seconds(lambda: fn(x, y), a.repeats)
                    emit(line)


if __name__ == "__main__":
    main()

"""The GIL is released during the sums (two threads), and torch tensors go in and come out."""
import sys
import threading
import time

import numpy as np
import pytest

import nwgf
from conftest import ref_gradient

X = np.random.default_rng(5).normal(size=(12000, 2))


def test_gil_is_released_during_a_call():
    done = threading.Event()
    span = []

    def work():
        t0 = time.perf_counter()
        value = nwgf.riesz_energy(X, threads=1)
        span.extend([t0, time.perf_counter(), value])
        done.set()

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    stamps = []
    try:
        t = threading.Thread(target=work)
        t.start()
        while not done.is_set():  # runs only while the other thread is outside the GIL
            stamps.append(time.perf_counter())
        t.join()
    finally:
        sys.setswitchinterval(old)
    t0, t1, value = span
    assert t1 - t0 > 0.004, "the call is too short to see the GIL"
    # The middle half of the call: the main thread kept running Python there.
    lo, hi = t0 + 0.25 * (t1 - t0), t1 - 0.25 * (t1 - t0)
    inside = sum(1 for s in stamps if lo < s < hi)
    assert inside > 100
    assert value == nwgf.riesz_energy(X, threads=1)


def test_two_threads_give_the_sequential_results():
    ys = [X[:1000] + k for k in range(4)]
    expected = [nwgf.mmd2(X[:1000], y, r=1.5, threads=1) for y in ys]
    got = [None] * 4

    def work(k):
        got[k] = nwgf.mmd2(X[:1000], ys[k], r=1.5, threads=1)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == expected


def test_torch_in_and_out():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    x = torch.randn(50, 3, dtype=torch.float64, requires_grad=True)
    y = torch.randn(40, 3, dtype=torch.float32)
    g = nwgf.riesz_gradient(x, y, r=1.0)
    assert isinstance(g, torch.Tensor) and g.dtype == torch.float64 and g.shape == (50, 3)
    ref = ref_gradient(x.detach().numpy(), y.numpy(), 1.0)
    np.testing.assert_allclose(g.numpy(), ref, rtol=1e-6)
    assert nwgf.mmd2(x, y) == pytest.approx(nwgf.mmd2(x.detach().numpy(), y.numpy()), rel=1e-12)
    xt = x.detach().t()  # a transposed (column-major) view
    assert nwgf.riesz_energy(xt.t()) == pytest.approx(nwgf.riesz_energy(x.detach().numpy()))

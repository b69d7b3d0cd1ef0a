"""CUDA arrays (builds with the CUDA backend and a usable GPU; skipped with the reason otherwise):
the sums run on the GPU on the array's memory and agree with the CPU path."""
import numpy as np
import pytest

import nwgf

CUDA = nwgf.devices()
pytestmark = pytest.mark.skipif(not CUDA["cuda_usable"],
                                reason=f"no usable CUDA device: {CUDA['cuda_reason']}")

X = np.random.default_rng(3).normal(size=(500, 3))
Y = np.random.default_rng(4).normal(size=(300, 3)) + 0.3


def test_cuda_arrays_match_the_cpu():
    from nwgf import _nwgf
    xd, yd = _nwgf._to_cuda(X), _nwgf._to_cuda(Y)
    assert np.array_equal(_nwgf._to_host(xd), X)
    for r in (0.5, 1.0, 1.5):
        assert nwgf.riesz_energy(xd, yd, r=r) == pytest.approx(nwgf.riesz_energy(X, Y, r=r),
                                                               rel=1e-10)
        g = nwgf.riesz_gradient(xd, yd, r=r)
        np.testing.assert_allclose(_nwgf._to_host(g), nwgf.riesz_gradient(X, Y, r=r), rtol=1e-9,
                                   atol=1e-12)
        assert nwgf.mmd2(xd, yd, r=r) == pytest.approx(nwgf.mmd2(X, Y, r=r), rel=1e-9)
    with pytest.raises(ValueError, match="y:"):
        nwgf.riesz_energy(xd, Y)
    with pytest.raises(ValueError, match="estimator:"):
        nwgf.mmd2(xd, yd, estimator="sliced")


def test_flow_on_cuda_matches_the_cpu():
    cfg = {"seed": 2, "flow": {"scheme": "particle", "tau": 0.05, "steps": 4},
           "functional": {"kind": "interaction", "r": 1.0},
           "initial": {"kind": "square", "n": 128, "d": 2, "radius": 0.01}}
    gpu = nwgf.Flow(cfg, backend="cuda").run()
    cpu = nwgf.Flow(cfg, backend="cpu").run()
    assert gpu.device == "cuda"
    np.testing.assert_allclose(gpu.samples, cpu.samples, rtol=1e-9, atol=1e-12)

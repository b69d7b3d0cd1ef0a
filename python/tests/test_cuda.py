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


def cuda_frameworks():
    """(name, to_cuda, to_numpy) for each framework here that makes CUDA arrays."""
    out = []
    try:
        import torch
        if torch.cuda.is_available():
            out.append(("torch", lambda a: torch.as_tensor(a, device="cuda"),
                        lambda t: t.cpu().numpy()))
    except ImportError:
        pass
    try:
        import cupy
        out.append(("cupy", cupy.asarray, cupy.asnumpy))
    except ImportError:
        pass
    return out


@pytest.mark.parametrize("framework", [f[0] for f in cuda_frameworks()] or
                         [pytest.param("none", marks=pytest.mark.skip(
                             reason="neither torch with CUDA nor cupy is installed"))])
def test_cuda_arrays_match_the_cpu(framework):
    _, to_cuda, to_numpy = next(f for f in cuda_frameworks() if f[0] == framework)
    xd, yd = to_cuda(X), to_cuda(Y)
    for r in (0.5, 1.0, 1.5):
        assert nwgf.riesz_energy(xd, yd, r=r) == pytest.approx(nwgf.riesz_energy(X, Y, r=r),
                                                               rel=1e-10)
        assert nwgf.riesz_energy(xd, r=r) == pytest.approx(nwgf.riesz_energy(X, r=r), rel=1e-10)
        g = nwgf.riesz_gradient(xd, yd, r=r)
        assert type(g).__module__.split(".")[0] == framework  # the input's framework, on the GPU
        np.testing.assert_allclose(to_numpy(g), nwgf.riesz_gradient(X, Y, r=r), rtol=1e-9,
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

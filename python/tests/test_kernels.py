"""riesz_energy, riesz_gradient and mmd2 against numpy references: float32/float64, C and
Fortran order, non-contiguous views, weights, N != M; the CLI's `nwgf mmd` for the same input."""
import numpy as np
import pytest

import nwgf
from conftest import ref_energy, ref_gradient, ref_mmd2, run_cli

RNG = np.random.default_rng(7)
X = RNG.normal(size=(120, 3))
Y = RNG.normal(size=(75, 3)) + 0.5
WX = RNG.uniform(0.1, 2.0, size=120)
WY = RNG.uniform(0.1, 2.0, size=75)


def layouts(a, dtype):
    """The same values as C order, Fortran order and a strided view."""
    a = a.astype(dtype)
    big = np.zeros((2 * a.shape[0], 2 * a.shape[1]), dtype)
    big[::2, ::2] = a
    return {"C": np.ascontiguousarray(a), "F": np.asfortranarray(a), "view": big[::2, ::2]}


def tol(dtype):
    return dict(rtol=2e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "view"])
@pytest.mark.parametrize("r", [0.5, 1.0, 1.5])
def test_energy_and_gradient_match_numpy(dtype, layout, r):
    x = layouts(X, dtype)[layout]
    y = layouts(Y, dtype)[layout]
    assert not x.flags.c_contiguous or layout == "C"
    xs, ys = x.astype(np.float64), y.astype(np.float64)
    e = nwgf.riesz_energy(x, y, r=r)
    assert isinstance(e, float)
    np.testing.assert_allclose(e, ref_energy(xs, ys, r), **tol(dtype))
    g = nwgf.riesz_gradient(x, y, r=r)
    assert g.dtype == dtype and g.shape == x.shape and g.flags.c_contiguous
    np.testing.assert_allclose(g, ref_gradient(xs, ys, r), **tol(dtype))
    np.testing.assert_allclose(nwgf.riesz_energy(x, r=r), ref_energy(xs, xs, r), **tol(dtype))
    np.testing.assert_allclose(nwgf.riesz_gradient(x, r=r), ref_gradient(xs, xs, r), **tol(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weights(dtype):
    x, y = X.astype(dtype), Y.astype(dtype)
    wx, wy = np.asfortranarray(WX.astype(dtype)), WY[::-1].copy()[::-1]
    e = nwgf.riesz_energy(x, y, r=1.2, weights_x=wx, weights_y=wy)
    np.testing.assert_allclose(e, ref_energy(x, y, 1.2, WX, WY), **tol(dtype))
    g = nwgf.riesz_gradient(x, y, r=1.2, weights_x=wx, weights_y=wy)
    np.testing.assert_allclose(g, ref_gradient(x, y, 1.2, WX, WY), **tol(dtype))
    # y = None: Y = X with b = a.
    e_self = nwgf.riesz_energy(x, r=0.7, weights_x=wx)
    np.testing.assert_allclose(e_self, ref_energy(x, x, 0.7, WX, WX), **tol(dtype))
    strided_w = np.repeat(WX.astype(dtype), 2)[::2]
    assert not strided_w.flags.c_contiguous
    np.testing.assert_allclose(nwgf.riesz_energy(x, y, 1.2, strided_w, wy), e, rtol=1e-6)


def test_mixed_dtypes_promote_to_float64():
    g = nwgf.riesz_gradient(X.astype(np.float32), Y, r=1.0)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, ref_gradient(X.astype(np.float32), Y, 1.0), rtol=1e-11)


def test_lists_are_arrays():
    x = [[0.0, 0.0], [3.0, 4.0]]
    assert nwgf.riesz_energy(x) == pytest.approx(10.0)
    assert nwgf.riesz_energy(x, r=1.5) == pytest.approx(2 * 5.0 ** 1.5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("r", [0.6, 1.0, 1.9])
def test_mmd2_exact(dtype, r):
    x, y = X.astype(dtype), Y.astype(dtype)
    np.testing.assert_allclose(nwgf.mmd2(x, y, r=r), ref_mmd2(X.astype(dtype), y, r), **tol(dtype))
    np.testing.assert_allclose(nwgf.mmd2(x, y, r=r, unbiased=True),
                               ref_mmd2(x, y, r, unbiased=True), **tol(dtype))
    assert nwgf.mmd2(x, x, r=r) == pytest.approx(0.0, abs=1e-5)


def test_mmd2_sliced_estimates_the_exact_value():
    exact = ref_mmd2(X, Y, 1.0)
    est = nwgf.mmd2(X, Y, estimator="sliced", directions=4096, seed=1)
    assert est == pytest.approx(exact, rel=0.05)
    # Deterministic in the seed, different across seeds.
    assert nwgf.mmd2(X, Y, estimator="sliced", directions=64, seed=3) == \
        nwgf.mmd2(X, Y, estimator="sliced", directions=64, seed=3)
    assert nwgf.mmd2(X, Y, estimator="sliced", directions=64, seed=3) != \
        nwgf.mmd2(X, Y, estimator="sliced", directions=64, seed=4)
    u = nwgf.mmd2(X, Y, estimator="sliced", directions=4096, seed=1, unbiased=True)
    assert u == pytest.approx(ref_mmd2(X, Y, 1.0, unbiased=True), rel=0.05)


def test_mmd2_equals_cli(tmp_path):
    np.save(tmp_path / "a.npy", X)
    np.save(tmp_path / "b.npy", Y)
    exact = run_cli("mmd", tmp_path / "a.npy", tmp_path / "b.npy", "--r", "1.3")
    assert nwgf.mmd2(X, Y, r=1.3) == exact["mmd2"]
    sliced = run_cli("mmd", tmp_path / "a.npy", tmp_path / "b.npy", "--sliced", 32, "--seed", 5)
    assert nwgf.mmd2(X, Y, estimator="sliced", directions=32, seed=5) == sliced["mmd2"]

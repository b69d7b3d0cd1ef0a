"""Bad arguments raise TypeError/ValueError naming the argument; nothing crashes."""
import numpy as np
import pytest

import nwgf

X = np.random.default_rng(1).normal(size=(20, 2))
Y = np.random.default_rng(2).normal(size=(30, 2))


@pytest.mark.parametrize("call, exc, name", [
    (lambda: nwgf.riesz_energy(X.astype(np.int64)), TypeError, "x:"),
    (lambda: nwgf.riesz_energy(X.astype(np.float16)), TypeError, "x:"),
    (lambda: nwgf.riesz_energy(X.astype(np.complex128)), TypeError, "x:"),
    (lambda: nwgf.riesz_energy("points"), TypeError, "x:"),
    (lambda: nwgf.riesz_energy(None), TypeError, "x:"),
    (lambda: nwgf.riesz_energy(X[:, 0]), ValueError, "x:"),
    (lambda: nwgf.riesz_energy(X[None]), ValueError, "x:"),
    (lambda: nwgf.riesz_energy(np.zeros((0, 2))), ValueError, "x:"),
    (lambda: nwgf.riesz_energy(np.zeros((3, 0))), ValueError, "x:"),
    (lambda: nwgf.riesz_energy([[1.0, 2.0], [3.0]]), ValueError, "x:"),
    (lambda: nwgf.riesz_energy(np.where(np.arange(40).reshape(20, 2) == 7, np.nan, X)),
     ValueError, "x: contains NaN"),
    (lambda: nwgf.riesz_energy(X, np.full((3, 2), np.inf)), ValueError, "y: contains NaN"),
    (lambda: nwgf.riesz_energy(X, np.zeros((3, 3))), ValueError, "y:"),
    (lambda: nwgf.riesz_energy(X, Y.astype(np.int32)), TypeError, "y:"),
    (lambda: nwgf.riesz_energy(X, r=0.0), ValueError, "r:"),
    (lambda: nwgf.riesz_energy(X, r=2.0), ValueError, "r:"),
    (lambda: nwgf.riesz_energy(X, r=float("nan")), ValueError, "r:"),
    (lambda: nwgf.riesz_energy(X, r="1"), TypeError, "r:"),
    (lambda: nwgf.riesz_energy(X, weights_x=np.ones(19)), ValueError, "weights_x:"),
    (lambda: nwgf.riesz_energy(X, weights_x=np.ones((20, 1))), ValueError, "weights_x:"),
    (lambda: nwgf.riesz_energy(X, Y, weights_y=np.ones(20)), ValueError, "weights_y:"),
    (lambda: nwgf.riesz_energy(X, weights_y=np.ones(20)), ValueError, "weights_y:"),
    (lambda: nwgf.riesz_gradient(X, Y, weights_x=np.full(20, np.nan)), ValueError, "weights_x:"),
    (lambda: nwgf.riesz_gradient(X, weights_x=np.ones(20, np.int64)), TypeError, "weights_x:"),
    (lambda: nwgf.riesz_gradient(X, threads=-1), ValueError, "threads:"),
    (lambda: nwgf.mmd2(X, None), TypeError, "y:"),
    (lambda: nwgf.mmd2(X, Y, estimator="fast"), ValueError, "estimator:"),
    (lambda: nwgf.mmd2(X, Y, estimator="sliced", r=1.5), ValueError, "r:"),
    (lambda: nwgf.mmd2(X, Y, estimator="sliced", directions=0), ValueError, "directions:"),
    (lambda: nwgf.mmd2(X, Y, estimator="sliced", directions=2.5), TypeError, "directions:"),
    (lambda: nwgf.mmd2(X, Y, seed=-1), ValueError, "seed:"),
    (lambda: nwgf.mmd2(X, Y, unbiased="yes"), TypeError, "unbiased:"),
    (lambda: nwgf.mmd2(X[:1], Y, unbiased=True), ValueError, "x:"),
    (lambda: nwgf.analytic.eta_star(0, 1.0), ValueError, "d:"),
    (lambda: nwgf.analytic.eta_star(2, 2.5), ValueError, "r:"),
    (lambda: nwgf.analytic.jko_times(2, 1.0, -0.1, 3), ValueError, "tau:"),
    (lambda: nwgf.analytic.jko_times(2, 1.0, 0.1, 0), ValueError, "steps:"),
    (lambda: nwgf.analytic.sample(2, 1.0, -1.0, 10), ValueError, "t:"),
    (lambda: nwgf.analytic.sample(2, 1.0, 1.0, 0), ValueError, "n:"),
    (lambda: nwgf.analytic.sample(2, 1.0, 1.0, 10, scheme="euler"), ValueError, "scheme:"),
    (lambda: nwgf.analytic.sample(2, 1.0, 1.0, 10, scheme="jko"), ValueError, "tau:"),
    (lambda: nwgf.analytic.sample(2, 1.0, 0.25, 10, scheme="jko", tau=0.1), ValueError, "t:"),
    (lambda: nwgf.analytic.sample(2, 1.0, 1.0, 10, seed=-3), ValueError, "seed:"),
    (lambda: nwgf.Flow(42), TypeError, "config:"),
    (lambda: nwgf.Flow("/nonexistent/run.toml"), ValueError, "config:"),
    (lambda: nwgf.Flow({"functional": {"kind": "interaction"}, "initial": {"kind": "dirac"},
                        "flow": {"tua": 0.1}}), ValueError, "tua"),
    (lambda: nwgf.Flow({"functional": {"kind": "interaction", "r": 3.0},
                        "initial": {"kind": "dirac", "d": 2}}), ValueError, "functional.r"),
    (lambda: nwgf.Flow({"functional": {"kind": "interaction"},
                        "initial": {"kind": "square", "d": 2}, "flow": {"steps": 1}},
                       backend="gpu"), ValueError, "backend"),
    (lambda: nwgf.Flow({"functional": {"kind": object()}}), TypeError, "functional.kind"),
])
def test_bad_argument_names_itself(call, exc, name):
    with pytest.raises(exc) as info:
        call()
    assert name in str(info.value)


def test_read_only_and_negative_strides_are_read():
    x = X.copy()
    x.setflags(write=False)
    assert nwgf.riesz_energy(x) == nwgf.riesz_energy(X)
    assert nwgf.riesz_energy(X[::-1]) == pytest.approx(nwgf.riesz_energy(X), rel=1e-12)

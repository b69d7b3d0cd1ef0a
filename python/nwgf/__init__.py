"""nwgf: Wasserstein gradient flows of MMD functionals with Riesz kernels (Python package).

The functions take arrays of shape (N, d) (numpy, torch, or any DLPack array on the CPU; float32
or float64; any memory order, views included) and return fresh numpy arrays, or torch tensors for
torch input. Conventions are those of the C++ library (CONTRACT.md): K(x, y) = -|x - y|^r with
0 < r < 2, MMD^2 as a V-statistic. Wrong dtypes, shapes, devices or NaN raise ValueError or
TypeError naming the argument. The sums run with the GIL released.

    >>> import numpy as np, nwgf
    >>> x = np.random.default_rng(0).normal(size=(1000, 2))
    >>> nwgf.mmd2(x, x + 1.0) > 0
    True
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _args, _nwgf, analytic
from ._flow import Flow

__all__ = ["riesz_energy", "riesz_gradient", "mmd2", "devices", "analytic", "Flow"]
__version__: str = _nwgf.__version__


def riesz_energy(x: Any, y: Any = None, r: float = 1.0, weights_x: Any = None,
                 weights_y: Any = None, *, threads: int = 0) -> float:
    """The Riesz pair sum S(X, Y) = sum_ij a_i b_j |x_i - y_j|^r (the C++ ``riesz_energy``).

    x: (N, d); y: (M, d), or None for Y = X (then b = a). weights_x (N,) and weights_y (M,):
    the weights a and b (None: all 1). The interaction energy of the empirical measure is
    E_K = -S(X, X) / (2 N^2). Accumulated in double. threads: 0 = NWGF_THREADS, else all cores.
    """
    return _nwgf.riesz_energy(_args.array(x, "x"), _args.optional_array(y, "y"),
                              _args.real(r, "r"), _args.optional_array(weights_x, "weights_x"),
                              _args.optional_array(weights_y, "weights_y"),
                              _args.threads(threads))


def riesz_gradient(x: Any, y: Any = None, r: float = 1.0, weights_x: Any = None,
                   weights_y: Any = None, *, threads: int = 0) -> Any:
    """dS(X, Y)/dx_i = a_i sum_j b_j r |x_i - y_j|^(r-2) (x_i - y_j), shape (N, d).

    Y is held fixed (y = None: Y = X, so the result is half the derivative of S(X, X) in X);
    coincident pairs contribute 0. The dtype is float64 when x or y is float64, else float32.
    """
    out = _nwgf.riesz_gradient(_args.array(x, "x"), _args.optional_array(y, "y"),
                               _args.real(r, "r"), _args.optional_array(weights_x, "weights_x"),
                               _args.optional_array(weights_y, "weights_y"),
                               _args.threads(threads))
    return out if type(x) is np.ndarray else _args.like(out, x)


def mmd2(x: Any, y: Any, r: float = 1.0, estimator: str = "exact", directions: int = 256,
         unbiased: bool = False, seed: int = 0, *, threads: int = 0) -> float:
    """MMD^2 of the Riesz kernel between the point sets x (N, d) and y (M, d).

    D^2 = mean_ij |x_i - y_j|^r - 1/2 mean_ii' |x_i - x_i'|^r - 1/2 mean_jj' |y_j - y_j'|^r
    (V-statistic, as ``nwgf mmd``); unbiased=True: the self terms over distinct pairs
    (U-statistic, N, M >= 2). estimator="sliced": the sliced estimate with ``directions`` random
    directions from ``seed`` (r = 1 only; the same number as ``nwgf mmd --sliced P --seed S``).
    """
    s = _args.integer(seed, "seed")
    if not 0 <= s < 2**63:
        raise ValueError(f"seed: must be in [0, 2^63), got {s}")
    return _nwgf.mmd2(_args.array(x, "x"), _args.array(y, "y"), _args.real(r, "r"),
                      _args.string(estimator, "estimator"),
                      _args.integer(directions, "directions"),
                      _args.boolean(unbiased, "unbiased"), s, _args.threads(threads))


def devices() -> dict:
    """The backends of this build, as ``nwgf devices --json``: CPU threads and SIMD target,
    whether CUDA is built and usable (else the driver's reason), and the CUDA devices."""
    return _nwgf.devices()

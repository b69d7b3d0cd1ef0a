"""The closed-form flow of the Riesz interaction energy from delta_0 (paper Thm 5.1, 5.2,
Remark 5.3), as ``nwgf analytic`` and ``nwgf sample-analytic``."""
from __future__ import annotations

from typing import Optional

import numpy as np

from . import _args, _nwgf

__all__ = ["eta_star", "jko_times", "sample"]


def eta_star(d: int, r: float) -> dict:
    """eta* of Thm 5.1: ``case`` ("ball" when d + r < 4, else "sphere"), ``radius``, ``s`` and
    ``A_s`` (ball) or ``c`` (sphere), ``second_moment`` (E|X|^2), ``d``, ``r``."""
    return _nwgf.eta_star(_args.integer(d, "d"), _args.real(r, "r"))


def jko_times(d: int, r: float, tau: float, steps: int) -> np.ndarray:
    """The JKO times t_{tau,1..steps} of Thm 5.2 (``t_tau`` of ``nwgf analytic``), shape
    (steps,); the iterate is t_{tau,n}^{1/(2-r)} eta*."""
    return _nwgf.jko_times(_args.integer(d, "d"), _args.real(r, "r"), _args.real(tau, "tau"),
                           _args.integer(steps, "steps"))


def sample(d: int, r: float, t: float, n: int, seed: int = 0, scheme: str = "limit",
           tau: Optional[float] = None, *, threads: int = 0) -> np.ndarray:
    """n exact samples (float64, shape (n, d)) of the limit curve gamma(t) (scheme="limit") or of
    the JKO iterate mu_tau^k at t = k tau (scheme="jko", tau given): the same numbers as
    ``nwgf sample-analytic`` with the same seed."""
    s = _args.integer(seed, "seed")
    if not 0 <= s < 2**63:
        raise ValueError(f"seed: must be in [0, 2^63), got {s}")
    return _nwgf.sample(_args.integer(d, "d"), _args.real(r, "r"), _args.real(t, "t"),
                        _args.integer(n, "n"), s, _args.string(scheme, "scheme"),
                        None if tau is None else _args.real(tau, "tau"), _args.threads(threads))

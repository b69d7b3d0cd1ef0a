"""nwgf.analytic against `nwgf analytic` / `nwgf sample-analytic` (bit-identical samples for the
same seed) and against the closed form's moments."""
import numpy as np
import pytest

import nwgf
from conftest import run_cli


@pytest.mark.parametrize("d, r", [(2, 1.0), (3, 0.5), (5, 1.5), (1, 1.2)])
def test_eta_star_and_jko_times_equal_cli(d, r):
    cli = run_cli("analytic", "--d", d, "--r", r, "--tau", 0.1, "--steps", 5)
    e = nwgf.analytic.eta_star(d, r)
    for key in ("case", "radius", "second_moment", "s", "A_s", "c"):
        if key in cli:
            assert e[key] == cli[key], key
    assert ("s" in e) == (cli["case"] == "ball")
    t = nwgf.analytic.jko_times(d, r, 0.1, 5)
    assert t.dtype == np.float64 and t.shape == (5,)
    assert t.tolist() == cli["t_tau"]
    assert np.all(np.diff(t) > 0)


@pytest.mark.parametrize("scheme, tau", [("limit", None), ("jko", 0.1)])
@pytest.mark.parametrize("d, r", [(2, 1.0), (3, 1.5), (4, 0.8)])
def test_samples_are_bit_identical_to_cli(tmp_path, scheme, tau, d, r):
    out = tmp_path / "s.npy"
    args = ["sample-analytic", "--d", d, "--r", r, "--t", 0.3, "--n", 500, "--seed", 11,
            "--scheme", scheme, "--out", out]
    if tau is not None:
        args += ["--tau", tau]
    run_cli(*args)
    x = nwgf.analytic.sample(d, r, 0.3, 500, seed=11, scheme=scheme, tau=tau)
    ref = np.load(out)
    assert x.dtype == ref.dtype == np.float64 and x.shape == (500, d)
    assert np.array_equal(x, ref)
    assert not np.array_equal(x, nwgf.analytic.sample(d, r, 0.3, 500, seed=12, scheme=scheme,
                                                      tau=tau))


def test_sample_second_moment():
    d, r, t = 3, 1.0, 0.7
    e = nwgf.analytic.eta_star(d, r)
    x = nwgf.analytic.sample(d, r, t, 20000, seed=2)
    scale = ((2 - r) * t) ** (1 / (2 - r))
    m2 = np.mean((x ** 2).sum(1))
    assert m2 == pytest.approx(scale ** 2 * e["second_moment"], rel=0.03)
    assert np.max(np.linalg.norm(x, axis=1)) <= scale * e["radius"] * (1 + 1e-12)

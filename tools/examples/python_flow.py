#!/usr/bin/env python3
"""Runs the particle flow of the Riesz interaction energy (r = 1, d = 2) from a small square
around the origin with the Python package, compares it with the exact curve gamma(t) of
nwgf.analytic (MMD^2 to exact samples and the support radius after every step) and, where
matplotlib is installed, plots the particles and the radius over time.

    python3 tools/examples/python_flow.py [--out flow.png] [--steps 40]

Needs the package: `pip install .` at the repository root, or PYTHONPATH=build/python after
tools/setup.sh.
"""
import argparse

import numpy as np

import nwgf


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="python_flow.png")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--n", type=int, default=400)
    a = ap.parse_args()

    config = {
        "seed": 1,
        "flow": {"scheme": "particle", "tau": 0.025, "steps": a.steps},
        "functional": {"kind": "interaction", "r": 1.0},
        "initial": {"kind": "square", "n": a.n, "d": 2, "radius": 1e-3},
        "output": {"plots": False},
    }
    times, mmds, radii = [], [], []

    def on_step(info, x):
        exact = nwgf.analytic.sample(2, 1.0, info["time"], a.n, seed=info["step"])
        times.append(info["time"])
        mmds.append(nwgf.mmd2(x, exact))
        radii.append(np.linalg.norm(x, axis=1).max())
        return True

    flow = nwgf.Flow(config, backend="auto").run(on_step=on_step)
    x = flow.samples
    radius = nwgf.analytic.eta_star(2, 1.0)["radius"]  # gamma(t) = t eta* for r = 1
    print(f"{flow.steps} steps on {flow.device}, t = {flow.time:g}; "
          f"MMD^2 to exact samples of gamma(t) at the end: {mmds[-1]:.3g}; support radius "
          f"{radii[-1]:.4f} (exact {radius * flow.time:.4f})")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot")
        return
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9, 4))
    ax0.scatter(x[:, 0], x[:, 1], s=3)
    phi = np.linspace(0, 2 * np.pi, 200)
    ax0.plot(radius * flow.time * np.cos(phi), radius * flow.time * np.sin(phi), "k--", lw=1)
    ax0.set_aspect("equal")
    ax0.set_title(f"particles at t = {flow.time:g} (dashed: supp $\\gamma(t)$)")
    ax1.plot(times, radii, label="particles")
    ax1.plot(times, radius * np.asarray(times), "k--", label="exact")
    ax1.set_xlabel("t")
    ax1.set_title("support radius")
    ax1.legend()
    fig.tight_layout()
    fig.savefig(a.out, dpi=100)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()

"""Shared helpers of the Python tests: numpy references and the built CLI (NWGF_CLI, set by the
ctest registration; tests that compare with it are skipped without it)."""
from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest


def ref_energy(x, y, r, a=None, b=None):
    """sum_ij a_i b_j |x_i - y_j|^r in float64."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    dist = np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1))
    k = dist ** r
    a = np.ones(len(x)) if a is None else np.asarray(a, np.float64)
    b = np.ones(len(y)) if b is None else np.asarray(b, np.float64)
    return float(a @ k @ b)


def ref_gradient(x, y, r, a=None, b=None):
    """a_i sum_j b_j r |x_i - y_j|^(r-2) (x_i - y_j), 0 for coincident pairs."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    z = x[:, None, :] - y[None, :, :]
    dist = np.sqrt((z ** 2).sum(-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(dist > 0, r * dist ** (r - 2), 0.0)
    a = np.ones(len(x)) if a is None else np.asarray(a, np.float64)
    b = np.ones(len(y)) if b is None else np.asarray(b, np.float64)
    return a[:, None] * np.einsum("ij,j,ijk->ik", w, b, z)


def ref_mmd2(x, y, r, unbiased=False):
    n, m = len(x), len(y)
    nx, my = (n - 1, m - 1) if unbiased else (n, m)
    return (ref_energy(x, y, r) / (n * m) - ref_energy(x, x, r) / (2 * n * nx)
            - ref_energy(y, y, r) / (2 * m * my))


def cli_path():
    path = os.environ.get("NWGF_CLI")
    if not path or not os.path.exists(path):
        pytest.skip("NWGF_CLI (the built nwgf binary) not set: run through ctest")
    return path


def run_cli(*args):
    """Runs the CLI; returns its stdout parsed as JSON when it is JSON, else the text."""
    p = subprocess.run([cli_path(), *map(str, args)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    out = p.stdout.strip()
    return json.loads(out) if out.startswith("{") else out

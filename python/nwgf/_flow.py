"""nwgf.Flow: a flow run from Python (``nwgf run`` as a class)."""
from __future__ import annotations

import math
import os
from typing import Any, Callable, Iterable, Mapping, Optional, Union

import numpy as np

from . import _args, _nwgf, _toml

StepCallback = Callable[[dict, np.ndarray], Optional[bool]]


class Flow:
    """A flow of the config (a dict with the TOML file's tables, or the path of a TOML file).

    ``backend``: "auto" | "cpu" | "cuda"; ``threads``: CPU threads (0: NWGF_THREADS, else all
    cores); ``out``: the run directory (manifest.json, metrics.csv, snapshots/, checkpoint; None:
    nothing written); ``resume``: continue from the checkpoint in ``out``; ``overrides``:
    "key=value" strings as ``nwgf run --set``; ``plots``: the PNGs of ``nwgf run`` in out/plots.
    A bad key or value raises ValueError naming it. Relative paths in a dict config are relative
    to the working directory, in a file to the file's directory.

        flow = nwgf.Flow({"flow": {"scheme": "particle", "tau": 0.05, "steps": 20},
                          "functional": {"kind": "interaction", "r": 1.0},
                          "initial": {"kind": "square", "n": 200, "radius": 1e-3}})
        flow.run(on_step=lambda info, x: info["step"] < 10)
        flow.samples, flow.metrics
    """

    def __init__(self, config: Union[Mapping, str, os.PathLike], backend: str = "auto",
                 threads: int = 0, *, out: Optional[Union[str, os.PathLike]] = None,
                 resume: bool = False, overrides: Iterable[str] = (), plots: bool = True,
                 progress: bool = False) -> None:
        sets = list(overrides)
        for s in sets:
            _args.string(s, "overrides")
        backend = _args.string(backend, "backend")
        n = _args.threads(threads)
        if isinstance(config, Mapping):
            self._core = _nwgf._Flow.from_toml(_toml.dumps(config), "config", sets, backend, n)
        elif isinstance(config, (str, os.PathLike)):
            path = os.fspath(config)
            if not os.path.isfile(path):
                raise ValueError(f"config: no such file: {path}")
            self._core = _nwgf._Flow.from_file(path, sets, backend, n)
        else:
            raise TypeError(f"config: expected a dict or a path, got {type(config).__name__}")
        self.out: Optional[str] = None if out is None else os.fspath(out)
        self.resume = _args.boolean(resume, "resume")
        self.plots = _args.boolean(plots, "plots")
        self.progress = _args.boolean(progress, "progress")
        self.stopped = False

    def run(self, on_step: Optional[StepCallback] = None) -> "Flow":
        """Runs the flow. ``on_step(info, samples)`` is called after every step with the step's
        metrics (a dict: step, time, tau, functional, mmd2_analytic, ...) and the samples (a
        numpy array (N, d), float64); returning False stops the run after that step (a clean
        stop, as RunOptions::on_step). The GIL is released while a step runs; Ctrl-C raises
        KeyboardInterrupt between steps. A NaN/Inf raises FloatingPointError (the last good
        checkpoint stays in ``out``). Returns self."""
        if on_step is not None and not callable(on_step):
            raise TypeError(f"on_step: expected a callable, got {type(on_step).__name__}")
        self.stopped = self._core.run(on_step, self.out or "", self.resume, self.progress,
                                      self.plots)
        return self

    @property
    def samples(self) -> Optional[np.ndarray]:
        """The samples after the run, (N, d) float64 (None before run)."""
        return self._core.samples

    @property
    def metrics(self) -> list:
        """One dict per step (metrics.csv's rows; resumed runs from step 0), without the columns
        that have no value in any step."""
        rows = self._core.metrics
        keep = [k for k in (rows[0] if rows else {})
                if k in ("step", "time", "tau") or any(not _nan(r[k]) for r in rows)]
        return [{k: r[k] for k in keep} for r in rows]

    def metrics_array(self) -> np.ndarray:
        """The metrics as a numpy structured array (step: int64, other columns float64)."""
        rows = self.metrics
        if not rows:
            return np.zeros(0, dtype=[("step", np.int64)])
        dtype = [(k, np.int64 if k == "step" else np.float64) for k in rows[0]]
        return np.array([tuple(r[k] for k in rows[0]) for r in rows], dtype=dtype)

    @property
    def steps(self) -> int:
        """The last step done."""
        return self._core.steps

    @property
    def time(self) -> float:
        return self._core.time

    @property
    def device(self) -> str:
        """Where the run ran ("cpu" or "cuda"; "" before run)."""
        return self._core.device

    @property
    def config_toml(self) -> str:
        """The resolved configuration as TOML text (as the run directory's config.toml)."""
        return self._core.config_toml


def _nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)

"""nwgf.Flow: a dict config, on_step stopping, metrics, the CLI's samples bit for bit, resume,
Ctrl-C between steps."""
import _thread
import threading
import time

import numpy as np
import pytest

import nwgf
from conftest import run_cli


def config(steps=6, n=64):
    return {
        "seed": 3,
        "flow": {"scheme": "particle", "tau": 0.05, "steps": steps},
        "functional": {"kind": "mmd", "r": 1.0},
        "initial": {"kind": "square", "n": n, "d": 2, "points": [[-1.0, 1.0]], "radius": 0.01},
        "target": {"kind": "diracs", "d": 2, "points": [[-1.0, -1.0], [1.0, 1.0]], "n": n},
        "output": {"every": 0, "plots": False},
    }


def test_run_from_dict_with_callback():
    seen = []

    def on_step(info, x):
        seen.append((info["step"], x.copy()))
        assert x.shape == (64, 2) and x.dtype == np.float64
        return info["step"] < 3

    flow = nwgf.Flow(config(), backend="cpu", threads=2).run(on_step=on_step)
    assert flow.stopped and flow.steps == 3 and [s for s, _ in seen] == [1, 2, 3]
    assert flow.time == pytest.approx(0.15)
    assert np.array_equal(flow.samples, seen[-1][1])
    m = flow.metrics
    assert [row["step"] for row in m] == [0, 1, 2, 3]
    assert m[3]["functional"] < m[0]["functional"]  # the MMD to the target falls
    a = flow.metrics_array()
    assert a["step"].tolist() == [0, 1, 2, 3] and a["functional"][3] == m[3]["functional"]
    assert flow.device == "cpu"
    assert "particle" in flow.config_toml


def test_callback_exception_propagates():
    def boom(info, x):
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        nwgf.Flow(config(), threads=2).run(on_step=boom)
    with pytest.raises(TypeError, match="on_step"):
        nwgf.Flow(config(), threads=2).run(on_step=3)


def test_samples_equal_cli(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text(nwgf._toml.dumps(config()))
    run_cli("--threads", 2, "run", cfg, "--out", tmp_path / "cli", "--backend", "cpu")
    cli = np.load(tmp_path / "cli" / "snapshots" / "step_000006.npy")
    flow = nwgf.Flow(cfg, backend="cpu", threads=2, out=tmp_path / "py").run()
    assert np.array_equal(flow.samples, cli)
    assert np.array_equal(np.load(tmp_path / "py" / "snapshots" / "step_000006.npy"), cli)
    assert (tmp_path / "py" / "metrics.csv").read_text().splitlines()[0].startswith("step,time,tau")


def test_resume_continues_the_run(tmp_path):
    full = nwgf.Flow(config(), threads=2).run().samples
    part = nwgf.Flow(config(), threads=2, out=tmp_path)
    part.run(on_step=lambda info, x: info["step"] < 3)
    assert part.steps == 3
    rest = nwgf.Flow(config(), threads=2, out=tmp_path, resume=True).run()
    assert rest.steps == 6
    assert np.array_equal(rest.samples, full)
    assert [row["step"] for row in rest.metrics] == list(range(7))


def test_ctrl_c_between_steps_raises_keyboard_interrupt():
    flow = nwgf.Flow(config(steps=100000, n=32), threads=1)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        flow.run()
    timer.cancel()
    assert time.monotonic() - t0 < 60

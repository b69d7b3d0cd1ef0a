"""Argument checks shared by the package's functions (errors name the argument)."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np


def array(x: Any, name: str) -> Any:
    """An array the compiled module reads through DLPack or the buffer protocol.

    numpy arrays, torch tensors (detached), and anything with ``__dlpack__`` pass as they are;
    lists and tuples become numpy arrays (float64 for Python numbers, as ``numpy.asarray``).
    """
    if type(x) is np.ndarray or isinstance(x, np.ndarray):
        return x
    if is_torch(x):
        if x.is_cuda:  # the sums run on nwgf's own stream: finish the producer's work first
            import torch
            torch.cuda.current_stream(x.device).synchronize()
        return x.detach() if x.requires_grad else x
    if hasattr(x, "__dlpack__"):
        if type(x).__module__.split(".")[0] == "cupy":
            import cupy
            cupy.cuda.get_current_stream().synchronize()
        return x
    if isinstance(x, (list, tuple)):
        try:
            return np.asarray(x)
        except ValueError as e:
            raise ValueError(f"{name}: not a rectangular array ({e})") from None
    raise TypeError(f"{name}: expected an array (numpy, torch, cupy, jax, ...), got "
                    f"{type(x).__name__}")


def optional_array(x: Any, name: str) -> Any:
    return x if x is None or type(x) is np.ndarray else array(x, name)


def is_torch(x: Any) -> bool:
    return type(x).__module__.split(".")[0] == "torch" and hasattr(x, "requires_grad")


def like(out: Any, x: Any) -> Any:
    """``out`` (a numpy array, or a DLPack array on the GPU for GPU input) as the framework of
    the input ``x``, sharing memory: a torch tensor for torch, a cupy or jax array for those."""
    framework = type(x).__module__.split(".")[0]
    if is_torch(x):
        import torch
        return torch.from_numpy(out) if isinstance(out, np.ndarray) else torch.from_dlpack(out)
    if isinstance(out, np.ndarray):
        return out
    if framework == "cupy":
        import cupy
        return cupy.from_dlpack(out)
    if framework in ("jax", "jaxlib"):
        import jax.dlpack
        return jax.dlpack.from_dlpack(out)
    return out


def real(v: Any, name: str) -> float:
    if type(v) is float:  # the common case, first (the binding's per-call cost)
        return v
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {type(v).__name__}")
    return float(v)


def integer(v: Any, name: str) -> int:
    if type(v) is int:
        return v
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {type(v).__name__}")
    return int(v)


def boolean(v: Any, name: str) -> bool:
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {type(v).__name__}")
    return bool(v)


def string(v: Any, name: str) -> str:
    if not isinstance(v, str):
        raise TypeError(f"{name}: expected a string, got {type(v).__name__}")
    return v


def threads(v: Any) -> int:
    if type(v) is int and v >= 0:
        return v
    n = integer(v, "threads")
    if n < 0:
        raise ValueError(f"threads: must be >= 0 (0: NWGF_THREADS, else all cores), got {n}")
    return n

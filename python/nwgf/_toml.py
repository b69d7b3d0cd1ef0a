"""A dict as TOML text, for :class:`nwgf.Flow` configs given as dicts.

Only what the config uses: tables (dicts), arrays of tables (lists of dicts), and values that are
bool, int, float, str or (nested) lists of them. The text goes through the CLI's config loader,
which checks every key and value.
"""
from __future__ import annotations

import math
from typing import Any, Mapping


def _key(k: Any) -> str:
    if not isinstance(k, str):
        raise TypeError(f"config: keys must be strings, got {k!r}")
    if k and all(c.isalnum() or c in "_-" for c in k):
        return k
    return _string(k)


def _string(s: str) -> str:
    out = ['"']
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _value(v: Any, where: str) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if hasattr(v, "tolist") and not isinstance(v, Mapping):  # numpy scalars and arrays
        return _value(v.tolist(), where)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(e, where) for e in v) + "]"
    raise TypeError(f"config: {where}: a value of type {type(v).__name__} has no TOML form")


def _is_table_array(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and len(v) > 0 and all(isinstance(e, Mapping) for e in v)


def _table(d: Mapping, prefix: str, lines: list[str]) -> None:
    subtables = []
    for k, v in d.items():
        name = prefix + _key(k)
        if isinstance(v, Mapping) or _is_table_array(v):
            subtables.append((name, v))
        else:
            lines.append(f"{_key(k)} = {_value(v, name)}")
    for name, v in subtables:
        if isinstance(v, Mapping):
            lines.append(f"\n[{name}]")
            _table(v, name + ".", lines)
        else:
            for e in v:
                lines.append(f"\n[[{name}]]")
                _table(e, name + ".", lines)


def dumps(config: Mapping) -> str:
    """The TOML text of a config dict."""
    if not isinstance(config, Mapping):
        raise TypeError(f"config: expected a dict, got {type(config).__name__}")
    lines: list[str] = []
    _table(config, "", lines)
    return "\n".join(lines) + "\n"

#!/usr/bin/env python3
"""Checks that every __global__ kernel defined in the library's .cu files (under each DIR and its
subfolders) was launched by some test of the emulation build (each test process lists its
launches in LOG_DIR/<pid>.txt).

usage: kernel_coverage.py LOG_DIR SOURCE_ROOT DIR...
"""
import pathlib
import re
import sys

KERNEL = re.compile(r"__global__\s+void\s+(?:__launch_bounds__\s*\((?:[^()]|\([^()]*\))*\)\s*)?(\w+)\s*\(")


def main():
    if len(sys.argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    log_dir, root, dirs = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3:]
    defined = {}
    for d in dirs:
        for cu in sorted((root / d).rglob("*.cu")):
            text = re.sub(r"//[^\n]*", "", cu.read_text(encoding="utf-8"))
            for m in KERNEL.finditer(text):
                defined.setdefault(m.group(1), str(cu.relative_to(root)))
    launched = set()
    for log in log_dir.glob("*.txt") if log_dir.is_dir() else []:
        launched.update(line.strip() for line in log.read_text().splitlines() if line.strip())
    missing = sorted(k for k in defined if k not in launched)
    print(f"{len(defined)} kernels defined, {len(defined) - len(missing)} launched by the tests")
    for k in missing:
        print(f"NOT LAUNCHED: {k} ({defined[k]})")
    return 1 if missing or not defined else 0


if __name__ == "__main__":
    sys.exit(main())

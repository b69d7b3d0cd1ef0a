#!/usr/bin/env bash
# Installs what nwgf needs from Debian's packages (idempotent; `apt-get update` only when a
# package is missing), then configures and builds Release into build/.
# The Python package (python/, cmake/NwgfPython.cmake) needs nanobind, scikit-build-core, numpy
# and pytest: installed with pip into the python3 on PATH, or, where that pip refuses (PEP 668:
# Debian's own python3), into a virtual environment in BUILD_DIR/python-venv, which CMake is then
# pointed at (Python_EXECUTABLE).
# Environment: NWGF_CUDA (AUTO|ON|OFF, default AUTO), NWGF_PYTHON (AUTO|ON|OFF, default AUTO:
# the Python steps are skipped with a message when they fail), BUILD_DIR (default build), JOBS.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(cmake g++ make pkg-config libopenblas-dev libopenblas-openmp-dev libboost-math-dev
          doctest-dev libcli11-dev libtomlplusplus-dev zlib1g-dev libstb-dev libgif-dev libhwy-dev
          libcairo2-dev fonts-dejavu-core openmpi-bin libopenmpi-dev libsimgrid-dev
          dataset-fashion-mnist python3 python3-dev python3-venv)
# qemu-user: tests/cli/test_isa_emulated.cpp runs the binary on emulated older x86-64 CPUs.
if [ "$(uname -m)" = x86_64 ]; then PACKAGES+=(qemu-user); fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ -z "${CUDACXX:-}" ] && ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}

NWGF_PYTHON=${NWGF_PYTHON:-AUTO}
PY_ARGS=()
if [ "$NWGF_PYTHON" != OFF ] && command -v python3 >/dev/null; then
  py_packages=(nanobind scikit-build-core numpy pytest)
  py_check="import nanobind, scikit_build_core, numpy, pytest"
  venv="$BUILD_DIR/python-venv"
  export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
  python=$(command -v python3)
  if [ -x "$venv/bin/python" ]; then
    python="$venv/bin/python"
  fi
  if ! "$python" -c "$py_check" 2>/dev/null; then
    echo "setup: installing ${py_packages[*]} with pip ($python)"
    if ! "$python" -m pip install -q "${py_packages[@]}"; then
      echo "setup: pip refused; installing into the virtual environment $venv"
      mkdir -p "$BUILD_DIR"
      if python3 -m venv "$venv" && "$venv/bin/python" -m pip install -q "${py_packages[@]}"; then
        python="$venv/bin/python"
      elif [ "$NWGF_PYTHON" = ON ]; then
        echo "setup: could not install the Python packages" >&2
        exit 1
      else
        echo "setup: could not install the Python packages; the Python package is skipped"
      fi
    fi
  fi
  PY_ARGS=(-DPython_EXECUTABLE="$python")
fi

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DNWGF_CUDA="${NWGF_CUDA:-AUTO}" \
      -DNWGF_PYTHON="$NWGF_PYTHON" "${PY_ARGS[@]}" ${CMAKE_ARGS:-}
cmake --build "$BUILD_DIR" -j "$JOBS"

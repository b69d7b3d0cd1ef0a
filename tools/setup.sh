#!/usr/bin/env bash
# Installs what nwgf needs from Debian's packages (idempotent; `apt-get update` only when a
# package is missing), then configures and builds Release into build/.
# Environment: NWGF_CUDA (AUTO|ON|OFF, default AUTO), BUILD_DIR (default build), JOBS.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(cmake g++ make pkg-config libopenblas-dev libopenblas-openmp-dev libboost-math-dev
          doctest-dev libcli11-dev libtomlplusplus-dev zlib1g-dev libstb-dev libgif-dev libhwy-dev
          dataset-fashion-mnist)
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
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DNWGF_CUDA="${NWGF_CUDA:-AUTO}" ${CMAKE_ARGS:-}
cmake --build "$BUILD_DIR" -j "$JOBS"

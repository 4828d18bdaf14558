#!/usr/bin/env bash
# Developer build: compiles the extension in ./build and drops it into python/gfo_native, so that
# `PYTHONPATH=python pytest` runs against the working tree without installing anything.
set -euo pipefail
cd "$(dirname "$0")/.."
pybind11_dir=$(python -c "import pybind11; print(pybind11.get_cmake_dir())")
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -Dpybind11_DIR="$pybind11_dir" "$@" >/dev/null
cmake --build build

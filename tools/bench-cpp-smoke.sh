#!/usr/bin/env bash
# Smoke test of the C++ microbenchmarks: configure ./build-bench with GFO_BENCH=ON, build gfo_bench only
# (the extension module is left alone), and run every benchmark briefly. Needs google-benchmark
# (Debian/Ubuntu: apt-get install libbenchmark-dev). Extra arguments go to gfo_bench, e.g.
#   tools/bench-cpp-smoke.sh --benchmark_filter=rng
set -euo pipefail
cd "$(dirname "$0")/.."
pybind11_dir=$(python -c "import pybind11; print(pybind11.get_cmake_dir())")
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B build-bench "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DGFO_BENCH=ON \
  -Dpybind11_DIR="$pybind11_dir" >/dev/null
cmake --build build-bench --target gfo_bench
# A plain number of seconds: google-benchmark 1.7 takes no unit suffix, 1.8+ still accepts it.
./build-bench/gfo_bench --benchmark_min_time=0.01 "$@"

#!/usr/bin/env bash
# Compile-only check of the GFO_CUDA=ON build (nothing runs, no GPU needed): configures and builds the
# extension with the CUDA kernels in a separate build directory, so the default ./build is untouched and
# the produced module is NOT dropped into python/gfo_native.
#   tools/cuda-compile-check.sh [extra cmake args]   (default architectures: 80;90; build dir: build-cuda)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvcc >/dev/null 2>&1; then
  echo "cuda-compile-check: nvcc not on PATH; skipped" >&2
  exit 0
fi
build_dir=${GFO_CUDA_BUILD_DIR:-build-cuda}
pybind11_dir=$(python -c "import pybind11; print(pybind11.get_cmake_dir())")
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -Dpybind11_DIR="$pybind11_dir" \
  -DGFO_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="80;90" -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" \
  -DGFO_LIBRARY_OUTPUT_DIR="$PWD/$build_dir/module" "$@" >/dev/null
cmake --build "$build_dir"
# The module must load (no unresolved symbols: the CUDA runtime is linked statically) and carry the CUDA
# entry points. Loading needs no GPU: cudart only looks for the driver at the first CUDA call.
so=$(ls "$build_dir"/module/_core*.so)
(cd "$build_dir/module" && python -c "
import _core
assert _core.build_info()['cuda'] is True, 'build_info()[\"cuda\"] is not True'
missing = [n for n in ('cuda_device_count', 'cuda_rng_uniform', 'cuda_evaluate_objective', 'cuda_sampling_uniform_box',
                       'cuda_optim_adam', 'cuda_optim_sgd', 'cuda_pso_update', 'cuda_de_trials', 'cuda_ga_offspring',
                       'cuda_zo_apply')
           if not hasattr(_core, n)]
assert not missing, f'missing entry points: {missing}'
")
echo "cuda-compile-check: OK ($so)"

// Batched benchmark objectives (gfo/functions.hpp): 1000 rows x 100 columns per call.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "gfo/functions.hpp"
#include "gfo/rng.hpp"

namespace {

constexpr std::int64_t kRows = 1000, kDim = 100;

template <class T>
void BM_objective(benchmark::State& state, gfo::Objective f) {
  std::vector<T> X(kRows * kDim), out(kRows);
  gfo::fill_uniform<T>(7, 0, 0, kRows * kDim, X.data());
  for (T& v : X) v = static_cast<T>(10.24) * v - static_cast<T>(5.12);  // the Rastrigin domain
  for (auto _ : state) {
    gfo::evaluate_objective<T>(f, X.data(), kRows, kDim, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kRows * kDim);  // coordinates per second
}

// BENCHMARK_CAPTURE pastes the function name into an identifier: it takes no template arguments.
void BM_objective_f64(benchmark::State& state, gfo::Objective f) { BM_objective<double>(state, f); }
void BM_objective_f32(benchmark::State& state, gfo::Objective f) { BM_objective<float>(state, f); }

BENCHMARK_CAPTURE(BM_objective_f64, rastrigin_1000x100, gfo::Objective::rastrigin)->UseRealTime();
BENCHMARK_CAPTURE(BM_objective_f32, rastrigin_1000x100, gfo::Objective::rastrigin)->UseRealTime();
BENCHMARK_CAPTURE(BM_objective_f64, rosenbrock_1000x100, gfo::Objective::rosenbrock)->UseRealTime();
BENCHMARK_CAPTURE(BM_objective_f64, sphere_1000x100, gfo::Objective::sphere)->UseRealTime();

}  // namespace

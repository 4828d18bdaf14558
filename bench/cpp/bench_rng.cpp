// Philox4x32-10 bulk fills (gfo/rng.hpp) over 1M elements, with the machine's default thread count.
// The binary gfo_bench links benchmark_main: this file only registers benchmarks.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "gfo/rng.hpp"

namespace {

constexpr std::int64_t kN = 1 << 20;

template <class T, void (*Fill)(std::uint64_t, std::uint64_t, std::uint64_t, std::int64_t, T*)>
void BM_fill(benchmark::State& state) {
  std::vector<T> out(kN);
  std::uint64_t stream = 0;
  for (auto _ : state) {
    Fill(42, stream++, 0, kN, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kN);
  state.SetBytesProcessed(state.iterations() * kN * static_cast<std::int64_t>(sizeof(T)));
}

BENCHMARK(BM_fill<std::uint32_t, gfo::fill_bits>)->Name("rng/fill_bits/1M")->UseRealTime();
BENCHMARK(BM_fill<float, gfo::fill_uniform<float>>)->Name("rng/fill_uniform<float>/1M")->UseRealTime();
BENCHMARK(BM_fill<double, gfo::fill_uniform<double>>)->Name("rng/fill_uniform<double>/1M")->UseRealTime();
BENCHMARK(BM_fill<float, gfo::fill_normal<float>>)->Name("rng/fill_normal<float>/1M")->UseRealTime();
BENCHMARK(BM_fill<double, gfo::fill_normal<double>>)->Name("rng/fill_normal<double>/1M")->UseRealTime();

}  // namespace

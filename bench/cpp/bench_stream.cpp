// The memory roofline (gfo/stream.hpp) in the same binary as the kernels it bounds: bytes processed = read +
// write, so google-benchmark's bytes/s for optim/adam<float> and these two compare directly.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "gfo/stream.hpp"

namespace {

void BM_stream_copy(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  std::vector<float> a(static_cast<std::size_t>(n), 1.0f), b(static_cast<std::size_t>(n), 0.0f);
  for (auto _ : state) {
    gfo::stream_copy<float>(a.data(), b.data(), n);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n * 8);
}

void BM_stream_scale(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  std::vector<float> a(static_cast<std::size_t>(n), 1.0f);
  for (auto _ : state) {
    gfo::stream_scale<float>(a.data(), 1.0f, n);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n * 8);
}

BENCHMARK(BM_stream_copy)->Name("stream/copy<float>")->Arg(1 << 26)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_stream_scale)->Name("stream/scale<float>")->Arg(1 << 26)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

// The fused Adam kernel (gfo/optim.hpp) alone: float32, one tensor of 16M elements and 2,000 tensors of 1,000,
// with the machine's default thread count. Bytes processed = 28 per element (read p, g, m, v; write p, m, v),
// so google-benchmark's bytes/s is directly comparable with the roofline of bench_stream.cpp.
// The binary gfo_bench links benchmark_main: this file only registers benchmarks.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "gfo/optim.hpp"

namespace {

struct AdamTensors {
  std::vector<float> p, g, m, v;
  std::vector<std::uint64_t> rows;
  float step = 0.0f;

  AdamTensors(std::int64_t ntensors, std::int64_t numel) {
    const std::size_t total = static_cast<std::size_t>(ntensors * numel);
    p.assign(total, 0.5f);
    g.assign(total, 1e-3f);
    m.assign(total, 0.0f);
    v.assign(total, 0.0f);
    using gfo::optim::Column;
    rows.assign(static_cast<std::size_t>(ntensors * gfo::optim::kColumns), 0);
    auto addr = [](const float* x) { return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(x)); };
    for (std::int64_t i = 0; i < ntensors; ++i) {
      std::uint64_t* r = rows.data() + i * gfo::optim::kColumns;
      const std::int64_t off = i * numel;
      r[gfo::optim::kParam] = addr(p.data() + off);
      r[gfo::optim::kGrad] = addr(g.data() + off);
      r[gfo::optim::kState0] = addr(m.data() + off);
      r[gfo::optim::kState1] = addr(v.data() + off);
      r[gfo::optim::kStep] = addr(&step);  // shared counter: the bias corrections are computed once per step
      r[gfo::optim::kNumel] = static_cast<std::uint64_t>(numel);
    }
  }
};

void BM_adam(benchmark::State& state) {
  const std::int64_t ntensors = state.range(0), numel = state.range(1);
  AdamTensors t(ntensors, numel);
  const gfo::optim::Table table{t.rows.data(), ntensors};
  const gfo::optim::AdamOptions opt{1e-3, 0.9, 0.999, 1e-8, 0.0, false, false, false};
  for (auto _ : state) {
    gfo::optim::adam_step<float>(table, opt);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * ntensors * numel);
  state.SetBytesProcessed(state.iterations() * ntensors * numel * 28);
}

BENCHMARK(BM_adam)->Name("optim/adam<float>")->Args({1, 1 << 24})->Args({256, 1 << 16})->Args({2000, 1000})
    ->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

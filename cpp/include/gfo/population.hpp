// Pieces shared by the population kernels (PSO, GA, DE, SA): cursors that read a Philox stream in
// element order without materialising random matrices, and the row chunking of the parallel loops.
#pragma once
#include <algorithm>
#include <cstdint>

#include "gfo/rng.hpp"

namespace gfo {

// Float64 uniform i of a stream (same number as uniform<double>(seed, stream, i)). Uniforms 2b and
// 2b+1 come from Philox block b, so walking a row computes each block once instead of twice.
class UniformCursor {
 public:
  UniformCursor(std::uint64_t seed, std::uint64_t stream) : seed_(seed), stream_(stream) {}
  double operator()(std::uint64_t i) {
    const std::uint64_t b = i >> 1;
    if (b != block_) {
      w_ = philox_block(seed_, stream_, b);
      block_ = b;
    }
    const int o = static_cast<int>(i & 1) * 2;
    return bits_to_uniform64(w_.w[o], w_.w[o + 1]);
  }

 private:
  std::uint64_t seed_, stream_, block_ = ~std::uint64_t(0);
  Words4 w_{};
};

// Float64 normal i of a stream (same number as normal<double>(seed, stream, i)): normals 2k and 2k+1
// share one Box-Muller transform of block k, computed once.
class NormalCursor {
 public:
  NormalCursor(std::uint64_t seed, std::uint64_t stream) : seed_(seed), stream_(stream) {}
  double operator()(std::uint64_t i) {
    const std::uint64_t k = i >> 1;
    if (k != pair_) {
      const Words4 w = philox_block(seed_, stream_, k);
      box_muller(bits_to_uniform64(w.w[0], w.w[1]), bits_to_uniform64(w.w[2], w.w[3]), z_[0], z_[1]);
      pair_ = k;
    }
    return z_[i & 1];
  }

 private:
  std::uint64_t seed_, stream_, pair_ = ~std::uint64_t(0);
  double z_[2] = {0.0, 0.0};
};

// Uniform segments: out[t] = uniform<double>(seed, stream, first + t) for t < n, n <= kSegment.
// The Philox rounds run over lanes of consecutive blocks (structure of arrays), which the compiler
// vectorises (32x32->64-bit multiplies in SIMD registers): several times the scalar rate. Kernels
// draw a row's numbers segment by segment into a small stack buffer: no random matrix is materialised.
constexpr std::int64_t kSegment = 256;
void uniform_segment(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, std::int64_t n, double* out);

// Float32 uniforms (one 32-bit word each, four per Philox block: half the work of float64 ones) widened
// exactly to double: out[t] = uniform<float>(seed, stream, first + t), n <= 2 * kSegment. For random
// decisions and coefficients where 24 bits of resolution are plenty.
void uniform32_segment(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, std::int64_t n, double* out);

// The NumPy twins write np.minimum(np.maximum(v, lo), hi): same comparison order here.
inline double clip(double v, double lo, double hi) { return std::min(std::max(v, lo), hi); }

// Rows per parallel chunk: about 1024 elements of work, whole rows.
inline std::int64_t population_chunk(std::int64_t d) { return d >= 1024 ? 1 : 1024 / d; }

}  // namespace gfo

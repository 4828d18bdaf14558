#include "gfo/sampling.hpp"

#include <algorithm>

#include "gfo/parallel.hpp"
#include "gfo/rng.hpp"
#include "gfo/simd.hpp"

namespace gfo {
namespace {

GFO_SIMD_CLONES void uniform_rows(std::uint64_t seed, std::uint64_t stream, const double* lo, const double* hi,
                                  std::int64_t b, std::int64_t e, std::int64_t d, double* out) {
  for (std::int64_t i = b; i < e; ++i)
    for (std::int64_t j = 0; j < d; ++j)
      out[i * d + j] = lo[j] + (hi[j] - lo[j]) * uniform<double>(seed, stream, std::uint64_t(i * d + j));
}

GFO_SIMD_CLONES void gaussian_rows(std::uint64_t seed, std::uint64_t stream, const double* center,
                                   const double* scale, const double* lo, const double* hi, std::int64_t b,
                                   std::int64_t e, std::int64_t d, double* out) {
  for (std::int64_t i = b; i < e; ++i)
    for (std::int64_t j = 0; j < d; ++j) {
      const double v = center[j] + scale[j] * normal<double>(seed, stream, std::uint64_t(i * d + j));
      out[i * d + j] = std::min(std::max(v, lo[j]), hi[j]);
    }
}

std::int64_t rows_per_chunk(std::int64_t d) { return d >= 1024 ? 1 : 1024 / d; }

}  // namespace

void sample_uniform_box(std::uint64_t seed, std::uint64_t stream, const double* lo, const double* hi,
                        std::int64_t n, std::int64_t d, double* out) {
  parallel_chunks(n, rows_per_chunk(d), d * 8,
                  [&](std::int64_t b, std::int64_t e) { uniform_rows(seed, stream, lo, hi, b, e, d, out); });
}

void sample_gaussian_box(std::uint64_t seed, std::uint64_t stream, const double* center, const double* scale,
                         const double* lo, const double* hi, std::int64_t n, std::int64_t d, double* out) {
  parallel_chunks(n, rows_per_chunk(d), d * 32, [&](std::int64_t b, std::int64_t e) {
    gaussian_rows(seed, stream, center, scale, lo, hi, b, e, d, out);
  });
}

}  // namespace gfo

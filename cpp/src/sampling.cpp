#include "gfo/sampling.hpp"

#include <algorithm>

#include "gfo/parallel.hpp"
#include "gfo/population.hpp"
#include "gfo/rng.hpp"
#include "gfo/simd.hpp"

namespace gfo {
namespace {

// Rows b..e are the flat run of element indices [b d, e d): their uniforms are drawn kSegment at a time by the
// vectorised Philox lanes (the same numbers as uniform<double> at each index, which computes a block per element)
// and scaled row piece by row piece.
GFO_SIMD_CLONES void uniform_rows(std::uint64_t seed, std::uint64_t stream, const double* lo, const double* hi,
                                  std::int64_t b, std::int64_t e, std::int64_t d, double* out) {
  alignas(64) double u[kSegment];
  const std::int64_t last = e * d;
  for (std::int64_t t0 = b * d; t0 < last; t0 += kSegment) {
    const std::int64_t m = std::min(kSegment, last - t0);
    uniform_segment(seed, stream, static_cast<std::uint64_t>(t0), m, u);
    for (std::int64_t q = t0; q < t0 + m;) {
      const std::int64_t j0 = q % d, len = std::min(d - j0, t0 + m - q);
      for (std::int64_t j = 0; j < len; ++j) out[q + j] = lo[j0 + j] + (hi[j0 + j] - lo[j0 + j]) * u[q - t0 + j];
      q += len;
    }
  }
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

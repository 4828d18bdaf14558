#include "gfo/sa.hpp"

#include "gfo/parallel.hpp"
#include "gfo/population.hpp"
#include "gfo/simd.hpp"

namespace gfo {
namespace {

GFO_SIMD_CLONES void propose_rows(std::uint64_t seed, std::uint64_t stream, double step, std::int64_t b, std::int64_t e,
                  std::int64_t d, const double* X, const double* span, const double* lo, const double* hi,
                  double* Y) {
  NormalCursor z(seed, stream);
  for (std::int64_t i = b; i < e; ++i)
    for (std::int64_t j = 0; j < d; ++j)
      Y[i * d + j] = clip(X[i * d + j] + step * span[j] * z(static_cast<std::uint64_t>(i * d + j)), lo[j], hi[j]);
}

}  // namespace

void sa_propose(std::uint64_t seed, std::uint64_t stream, double step, std::int64_t n, std::int64_t d,
                const double* X, const double* span, const double* lo, const double* hi, double* Y) {
  parallel_chunks(n, population_chunk(d), d * 32, [&](std::int64_t b, std::int64_t e) {
    propose_rows(seed, stream, step, b, e, d, X, span, lo, hi, Y);
  });
}

}  // namespace gfo

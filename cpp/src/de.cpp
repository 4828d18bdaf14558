#include "gfo/de.hpp"

#include <algorithm>

#include "gfo/parallel.hpp"
#include "gfo/population.hpp"
#include "gfo/simd.hpp"

namespace gfo {
namespace {

GFO_SIMD_CLONES void de_rows(std::uint64_t seed, std::uint64_t stream_cr, DeStrategy strategy, double CR, std::int64_t b,
             std::int64_t e, std::int64_t d, const double* X, std::int64_t best, const std::int64_t* R,
             const double* F, const std::int64_t* jrand, const double* lo, const double* hi, double* U) {
  double ucr[kSegment];
  const double* xb = X + best * d;
  for (std::int64_t i = b; i < e; ++i) {
    const double* x = X + i * d;
    const double* x0 = X + R[3 * i] * d;
    const double* x1 = X + R[3 * i + 1] * d;
    const double* x2 = X + R[3 * i + 2] * d;
    const double f = F[i];
    double* u = U + i * d;
    for (std::int64_t j0 = 0; j0 < d; j0 += kSegment) {
      const std::int64_t m = std::min(kSegment, d - j0);
      uniform32_segment(seed, stream_cr, static_cast<std::uint64_t>(i * d + j0), m, ucr);
      for (std::int64_t t = 0, j = j0; t < m; ++t, ++j) {
        if (!(ucr[t] < CR || j == jrand[i])) {
          u[j] = x[j];
          continue;
        }
        double v;
        switch (strategy) {
          case DeStrategy::rand1: v = x0[j] + f * (x1[j] - x2[j]); break;
          case DeStrategy::best1: v = xb[j] + f * (x0[j] - x1[j]); break;
          default: v = x[j] + f * (xb[j] - x[j]) + f * (x0[j] - x1[j]); break;
        }
        // F (x_b - x) and F (x_r0 - x_r1) may overflow to opposite infinities (F near 2 in a box ~1e308 wide):
        // inf - inf has no side to bounce back from, so the coordinate stays the parent's (tested inside the lower
        // bound's test, which NaN fails, so the common path compares no more than before)
        if (!(v >= lo[j])) v = v != v ? x[j] : 0.5 * (lo[j] + x[j]);
        if (v > hi[j]) v = 0.5 * (hi[j] + x[j]);
        u[j] = v;
      }
    }
  }
}

}  // namespace

void de_trials(std::uint64_t seed, std::uint64_t stream_cr, DeStrategy strategy, double CR, std::int64_t n,
               std::int64_t d, const double* X, std::int64_t best, const std::int64_t* R, const double* F,
               const std::int64_t* jrand, const double* lo, const double* hi, double* U) {
  parallel_chunks(n, population_chunk(d), d * 8, [&](std::int64_t b, std::int64_t e) {
    de_rows(seed, stream_cr, strategy, CR, b, e, d, X, best, R, F, jrand, lo, hi, U);
  });
}

}  // namespace gfo

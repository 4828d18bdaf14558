#include "gfo/pso.hpp"

#include <algorithm>
#include <cstring>

#include "gfo/parallel.hpp"
#include "gfo/population.hpp"
#include "gfo/simd.hpp"

namespace gfo {
namespace {

// One segment of a row: m elements, bounds strategy fixed at compile time so the loop has no control
// flow and vectorises (restrict: the rows are distinct arrays; g may equal p or x, which is allowed because
// none of the three is written here).
template <PsoBounds kBounds>
inline void pso_segment(std::int64_t m, PsoCoefficients c, const double* __restrict r1, const double* __restrict r2,
                        const double* __restrict x, double* __restrict v, const double* __restrict p,
                        const double* __restrict g,
                        const double* __restrict vmax, const double* __restrict lo, const double* __restrict hi,
                        double* __restrict xn) {
  for (std::int64_t j = 0; j < m; ++j) {
    double vj = c.w * v[j] + c.c1 * r1[j] * (p[j] - x[j]) + c.c2 * r2[j] * (g[j] - x[j]);  // Eq. (1) of Shi & Eberhart
    vj = clip(vj, -vmax[j], vmax[j]);
    double xj = x[j] + vj;
    if (kBounds == PsoBounds::clip) {
      // absorbing wall: the particle stops at the face it hit
      const bool below = xj < lo[j];
      xj = below ? lo[j] : xj;
      vj = below ? 0.0 : vj;
      const bool above = xj > hi[j];
      xj = above ? hi[j] : xj;
      vj = above ? 0.0 : vj;
    } else {
      // mirror at the face and reverse the velocity component; a second clip catches overshoot past the far face.
      // Branch-free, so that the loop vectorises: the mirror image lo + (lo - x) exceeds x exactly when x < lo
      // (and hi - (x - hi) falls below x exactly when x > hi), so max/min pick the same value the comparison
      // would, and the velocity's sign flip is a multiplication by -1 or 1 (exact).
      const double flip_lo = xj < lo[j] ? -1.0 : 1.0;
      xj = std::max(xj, lo[j] + (lo[j] - xj));
      vj = vj * flip_lo;
      const double flip_hi = xj > hi[j] ? -1.0 : 1.0;
      xj = std::min(xj, hi[j] - (xj - hi[j]));
      vj = vj * flip_hi;
      xj = clip(xj, lo[j], hi[j]);
    }
    v[j] = vj;
    xn[j] = xj;
  }
}

template <PsoBounds kBounds>
inline void pso_rows_t(std::uint64_t seed, std::uint64_t s1, std::uint64_t s2, PsoCoefficients c, std::int64_t b,
                       std::int64_t e, std::int64_t d, const double* X, double* V, double* P,
                       const std::uint8_t* improved, const std::int64_t* nbest, const double* vmax, const double* lo,
                       const double* hi, double* Xnew) {
  alignas(64) double r1[kSegment], r2[kSegment];
  for (std::int64_t i = b; i < e; ++i) {
    const double* x = X + i * d;
    double* p = P + i * d;
    if (improved[i]) std::memcpy(p, x, sizeof(double) * static_cast<std::size_t>(d));
    const std::int64_t k = nbest[i];
    const double* g = improved[k] ? X + k * d : P + k * d;
    for (std::int64_t j0 = 0; j0 < d; j0 += kSegment) {
      const std::int64_t m = std::min(kSegment, d - j0);
      uniform32_segment(seed, s1, static_cast<std::uint64_t>(i * d + j0), m, r1);
      uniform32_segment(seed, s2, static_cast<std::uint64_t>(i * d + j0), m, r2);
      pso_segment<kBounds>(m, c, r1, r2, x + j0, V + i * d + j0, p + j0, g + j0, vmax + j0, lo + j0, hi + j0,
                           Xnew + i * d + j0);
    }
  }
}

GFO_SIMD_CLONES void pso_rows(std::uint64_t seed, std::uint64_t s1, std::uint64_t s2, PsoCoefficients c, std::int64_t b,
                              std::int64_t e, std::int64_t d, const double* X, double* V, double* P,
                              const std::uint8_t* improved, const std::int64_t* nbest, const double* vmax,
                              const double* lo, const double* hi, PsoBounds bounds, double* Xnew) {
  if (bounds == PsoBounds::clip)
    pso_rows_t<PsoBounds::clip>(seed, s1, s2, c, b, e, d, X, V, P, improved, nbest, vmax, lo, hi, Xnew);
  else
    pso_rows_t<PsoBounds::reflect>(seed, s1, s2, c, b, e, d, X, V, P, improved, nbest, vmax, lo, hi, Xnew);
}

}  // namespace

void pso_update(std::uint64_t seed, std::uint64_t stream_r1, std::uint64_t stream_r2, PsoCoefficients c,
                std::int64_t n, std::int64_t d, const double* X, double* V, double* P, const std::uint8_t* improved,
                const std::int64_t* nbest, const double* vmax, const double* lo, const double* hi, PsoBounds bounds,
                double* Xnew) {
  parallel_chunks(n, population_chunk(d), d * 16, [&](std::int64_t b, std::int64_t e) {
    pso_rows(seed, stream_r1, stream_r2, c, b, e, d, X, V, P, improved, nbest, vmax, lo, hi, bounds, Xnew);
  });
}

}  // namespace gfo

#include "gfo/pso.hpp"

#include <algorithm>
#include <cstring>

#include "gfo/parallel.hpp"
#include "gfo/population.hpp"
#include "gfo/simd.hpp"

namespace gfo {
namespace {

GFO_SIMD_CLONES void pso_rows(std::uint64_t seed, std::uint64_t s1, std::uint64_t s2, PsoCoefficients c, std::int64_t b,
              std::int64_t e, std::int64_t d, const double* X, double* V, double* P, const std::uint8_t* improved,
              const std::int64_t* nbest, const double* vmax, const double* lo, const double* hi, PsoBounds bounds,
              double* Xnew) {
  double r1[kSegment], r2[kSegment];
  for (std::int64_t i = b; i < e; ++i) {
    const double* x = X + i * d;
    double* p = P + i * d;
    if (improved[i]) std::memcpy(p, x, sizeof(double) * static_cast<std::size_t>(d));
    const std::int64_t k = nbest[i];
    const double* g = improved[k] ? X + k * d : P + k * d;
    double* v = V + i * d;
    double* xn = Xnew + i * d;
    for (std::int64_t j0 = 0; j0 < d; j0 += kSegment) {
      const std::int64_t m = std::min(kSegment, d - j0);
      uniform32_segment(seed, s1, static_cast<std::uint64_t>(i * d + j0), m, r1);
      uniform32_segment(seed, s2, static_cast<std::uint64_t>(i * d + j0), m, r2);
      for (std::int64_t t = 0; t < m; ++t) {
        const std::int64_t j = j0 + t;
        const double u1 = r1[t], u2 = r2[t];
        double vj = c.w * v[j] + c.c1 * u1 * (p[j] - x[j]) + c.c2 * u2 * (g[j] - x[j]);  // Eq. (1) of Shi & Eberhart
        vj = clip(vj, -vmax[j], vmax[j]);
        double xj = x[j] + vj;
        // (selects rather than branches, so the loop vectorises)
        if (bounds == PsoBounds::clip) {
          // absorbing wall: the particle stops at the face it hit
          const bool below = xj < lo[j];
          xj = below ? lo[j] : xj;
          vj = below ? 0.0 : vj;
          const bool above = xj > hi[j];
          xj = above ? hi[j] : xj;
          vj = above ? 0.0 : vj;
        } else {
          // mirror at the face and reverse the velocity component; a second clip catches overshoot past the far face
          const bool below = xj < lo[j];
          xj = below ? lo[j] + (lo[j] - xj) : xj;
          vj = below ? -vj : vj;
          const bool above = xj > hi[j];
          xj = above ? hi[j] - (xj - hi[j]) : xj;
          vj = above ? -vj : vj;
          xj = clip(xj, lo[j], hi[j]);
        }
        v[j] = vj;
        xn[j] = xj;
      }
    }
  }
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

#include "gfo/pso.hpp"

#include <cstring>

#include "gfo/parallel.hpp"
#include "gfo/population.hpp"

namespace gfo {
namespace {

void pso_rows(std::uint64_t seed, std::uint64_t s1, std::uint64_t s2, PsoCoefficients c, std::int64_t b,
              std::int64_t e, std::int64_t d, const double* X, double* V, double* P, const std::uint8_t* improved,
              const std::int64_t* nbest, const double* vmax, const double* lo, const double* hi, PsoBounds bounds,
              double* Xnew) {
  UniformCursor r1(seed, s1), r2(seed, s2);
  for (std::int64_t i = b; i < e; ++i) {
    const double* x = X + i * d;
    double* p = P + i * d;
    if (improved[i]) std::memcpy(p, x, sizeof(double) * static_cast<std::size_t>(d));
    const std::int64_t k = nbest[i];
    const double* g = improved[k] ? X + k * d : P + k * d;
    double* v = V + i * d;
    double* xn = Xnew + i * d;
    for (std::int64_t j = 0; j < d; ++j) {
      const std::uint64_t idx = static_cast<std::uint64_t>(i * d + j);
      const double u1 = r1(idx), u2 = r2(idx);
      double vj = c.w * v[j] + c.c1 * u1 * (p[j] - x[j]) + c.c2 * u2 * (g[j] - x[j]);  // Eq. (1) of Shi & Eberhart
      vj = clip(vj, -vmax[j], vmax[j]);
      double xj = x[j] + vj;
      if (bounds == PsoBounds::clip) {
        // absorbing wall: the particle stops at the face it hit
        if (xj < lo[j]) { xj = lo[j]; vj = 0.0; }
        if (xj > hi[j]) { xj = hi[j]; vj = 0.0; }
      } else {
        // mirror at the face and reverse the velocity component; a second clip catches overshoot past the far face
        if (xj < lo[j]) { xj = lo[j] + (lo[j] - xj); vj = -vj; }
        if (xj > hi[j]) { xj = hi[j] - (xj - hi[j]); vj = -vj; }
        xj = clip(xj, lo[j], hi[j]);
      }
      v[j] = vj;
      xn[j] = xj;
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

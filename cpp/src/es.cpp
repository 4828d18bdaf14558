#include "gfo/es.hpp"

#include <algorithm>
#include <vector>

#include "gfo/parallel.hpp"
#include "gfo/rng.hpp"
#include "gfo/simd.hpp"

namespace gfo {
namespace {

using i64 = std::int64_t;
constexpr i64 kChunk = 4096;  // coordinates per task: the noise of one chunk stays in L1

GFO_SIMD_CLONES void perturb_chunk(const double* mean, const double* sigma, const double* lo, const double* hi,
                                   const double* eps, double sign, i64 j0, i64 j1, double* x) {
  for (i64 j = j0; j < j1; ++j) x[j] = mean[j] + sigma[j] * (sign * eps[j - j0]);
  if (lo)
    for (i64 j = j0; j < j1; ++j) x[j] = std::min(std::max(x[j], lo[j]), hi[j]);
}

GFO_SIMD_CLONES void accumulate_chunk(const double* eps, double a, double b, i64 n, double* g1, double* g2) {
  if (a != 0.0)
    for (i64 j = 0; j < n; ++j) g1[j] += a * eps[j];
  if (g2 && b != 0.0)
    for (i64 j = 0; j < n; ++j) g2[j] += b * (eps[j] * eps[j] - 1.0);
}

}  // namespace

void es_perturb(std::uint64_t seed, std::uint64_t stream, const double* mean, const double* sigma, const double* lo,
                const double* hi, std::int64_t first, std::int64_t m, std::int64_t d, bool antithetic, double* out) {
  const i64 per = (d + kChunk - 1) / kChunk;
  parallel_chunks(m * per, 1, std::min(d, kChunk) * 16, [&](i64 b, i64 e) {
    double eps[kChunk];
    for (i64 c = b; c < e; ++c) {
      const i64 r = c / per, j0 = (c % per) * kChunk, j1 = std::min(d, j0 + kChunk);
      const i64 i = first + r;
      const i64 p = antithetic ? i / 2 : i;
      const double sign = antithetic && (i & 1) ? -1.0 : 1.0;
      fill_normal<double>(seed, stream, std::uint64_t(p * d + j0), j1 - j0, eps);
      perturb_chunk(mean, sigma, lo, hi, eps, sign, j0, j1, out + r * d);
    }
  });
}

void es_noise_dot(std::uint64_t seed, std::uint64_t stream, const double* a, const double* b, std::int64_t rows,
                  std::int64_t d, double* g1, double* g2) {
  if (!b) g2 = nullptr;
  parallel_chunks(d, kChunk, rows * 16, [&](i64 j0, i64 j1) {
    double eps[kChunk];
    const i64 n = j1 - j0;
    for (i64 j = j0; j < j1; ++j) {
      g1[j] = 0.0;
      if (g2) g2[j] = 0.0;
    }
    for (i64 p = 0; p < rows; ++p) {
      const double bp = g2 ? b[p] : 0.0;
      if (a[p] == 0.0 && bp == 0.0) continue;  // zero coefficients add exactly nothing: skip the draw
      fill_normal<double>(seed, stream, std::uint64_t(p * d + j0), n, eps);
      accumulate_chunk(eps, a[p], bp, n, g1 + j0, g2 ? g2 + j0 : nullptr);
    }
  });
}

}  // namespace gfo

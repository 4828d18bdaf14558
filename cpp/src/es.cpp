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

// Coordinates j0 .. j0 + n - 1 of noise row p (see EsNoise).
void draw(const EsNoise& src, i64 p, i64 d, i64 j0, i64 n, double* eps) {
  if (src.table) {
    const float* t = src.table + src.offsets[p] + j0;
    for (i64 j = 0; j < n; ++j) eps[j] = static_cast<double>(t[j]);
  } else {
    fill_normal<double>(src.seed, src.stream, std::uint64_t(p * d + j0), n, eps);
  }
}

GFO_SIMD_CLONES void perturb_chunk(const double* mean, const double* sigma, const double* lo, const double* hi,
                                   const double* eps, double sign, i64 j0, i64 j1, double* x) {
  for (i64 j = j0; j < j1; ++j) x[j] = mean[j] + sigma[j] * (sign * eps[j - j0]);
  if (lo)
    for (i64 j = j0; j < j1; ++j) x[j] = std::min(std::max(x[j], lo[j]), hi[j]);
}

// Both members of an antithetic pair from one noise chunk: the same values as two perturb_chunk calls.
GFO_SIMD_CLONES void perturb_pair_chunk(const double* mean, const double* sigma, const double* lo, const double* hi,
                                        const double* eps, i64 j0, i64 j1, double* xp, double* xm) {
  for (i64 j = j0; j < j1; ++j) {
    const double e = eps[j - j0];
    xp[j] = mean[j] + sigma[j] * e;
    xm[j] = mean[j] + sigma[j] * (-e);
  }
  if (lo)
    for (i64 j = j0; j < j1; ++j) {
      xp[j] = std::min(std::max(xp[j], lo[j]), hi[j]);
      xm[j] = std::min(std::max(xm[j], lo[j]), hi[j]);
    }
}

// The member of sign + of a noise chunk, as es_perturb writes it: x = mean + sigma * eps.
GFO_SIMD_CLONES void member_from_noise(const double* eps, const double* mean, const double* sigma, i64 n, double* x) {
  for (i64 j = 0; j < n; ++j) x[j] = mean[j] + sigma[j] * eps[j];
}

// acc1[j] += a (x[j] - mean[j]); acc2 (if not null) += b (s^2 - 1) with s = (x[j] - mean[j]) / sigma[j].
GFO_SIMD_CLONES void accumulate_steps(const double* x, const double* mean, const double* sigma, double a, double b,
                                      i64 n, double* acc1, double* acc2) {
  if (a != 0.0)
    for (i64 j = 0; j < n; ++j) acc1[j] += a * (x[j] - mean[j]);
  if (acc2 && b != 0.0)
    for (i64 j = 0; j < n; ++j) {
      const double z = (x[j] - mean[j]) / sigma[j];
      acc2[j] += b * (z * z - 1.0);
    }
}

GFO_SIMD_CLONES void scale_steps(const double* acc, const double* sigma, double scale, bool divide, i64 n, double* g) {
  if (divide)
    for (i64 j = 0; j < n; ++j) g[j] = (acc[j] * scale) / (sigma[j] * sigma[j]);
  else
    for (i64 j = 0; j < n; ++j) g[j] = acc[j] * scale;
}

}  // namespace

void es_perturb(const EsNoise& src, const double* mean, const double* sigma, const double* lo, const double* hi,
                std::int64_t first, std::int64_t m, std::int64_t d, bool antithetic, double* out) {
  // Work items are (noise row, coordinate chunk): an antithetic pair inside [first, first + m) draws its row once.
  const i64 last = first + m;
  const i64 p0 = antithetic ? first / 2 : first, p1 = antithetic ? (last + 1) / 2 : last;
  const i64 per = (d + kChunk - 1) / kChunk;
  parallel_chunks((p1 - p0) * per, 1, std::min(d, kChunk) * 16, [&](i64 b, i64 e) {
    double eps[kChunk];
    for (i64 c = b; c < e; ++c) {
      const i64 p = p0 + c / per, j0 = (c % per) * kChunk, j1 = std::min(d, j0 + kChunk);
      draw(src, p, d, j0, j1 - j0, eps);
      if (!antithetic) {
        perturb_chunk(mean, sigma, lo, hi, eps, 1.0, j0, j1, out + (p - first) * d);
      } else if (2 * p >= first && 2 * p + 1 < last) {
        perturb_pair_chunk(mean, sigma, lo, hi, eps, j0, j1, out + (2 * p - first) * d, out + (2 * p + 1 - first) * d);
      } else {
        const i64 i = 2 * p >= first ? 2 * p : 2 * p + 1;  // the one member of the pair in range
        perturb_chunk(mean, sigma, lo, hi, eps, (i & 1) ? -1.0 : 1.0, j0, j1, out + (i - first) * d);
      }
    }
  });
}

void es_grad(const EsNoise& src, const double* a, const double* b, std::int64_t rows, const double* mean, const double* sigma, const double* X, std::int64_t x_stride, double scale, bool divide,
             std::int64_t d, double* g1, double* g2) {
  if (!b) g2 = nullptr;
  parallel_chunks(d, kChunk, rows * 4, [&](i64 j0, i64 j1) {
    double buf[kChunk], acc1[kChunk], acc2[kChunk];
    const i64 n = j1 - j0;
    for (i64 j = 0; j < n; ++j) acc1[j] = acc2[j] = 0.0;
    for (i64 p = 0; p < rows; ++p) {
      const double bp = g2 ? b[p] : 0.0;
      if (a[p] == 0.0 && bp == 0.0) continue;  // adds exactly nothing (in both modes): skip the draw or the read
      const double* x = X ? X + p * x_stride + j0 : buf;
      if (!X) {
        draw(src, p, d, j0, n, buf);
        member_from_noise(buf, mean + j0, sigma + j0, n, buf);
      }
      accumulate_steps(x, mean + j0, sigma + j0, a[p], bp, n, acc1, g2 ? acc2 : nullptr);
    }
    scale_steps(acc1, sigma + j0, scale, divide, n, g1 + j0);
    if (g2)
      for (i64 j = 0; j < n; ++j) g2[j0 + j] = acc2[j];
  });
}

}  // namespace gfo

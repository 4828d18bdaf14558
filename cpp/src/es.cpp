#include "gfo/es.hpp"

#include <algorithm>
#include <cstring>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "gfo/parallel.hpp"
#include "gfo/rng.hpp"
#include "gfo/simd.hpp"

namespace gfo {
namespace {

using i64 = std::int64_t;
constexpr i64 kChunk = 4096;  // coordinates per task: the noise of one chunk stays in L1

// A batch this large (bytes) is written with non-temporal stores: it cannot stay in cache anyway, and
// streaming skips reading every destination line before overwriting it (a third of the traffic of ask).
constexpr i64 kStreamBytes = i64(16) << 20;

// dst[j] = src[j], j < n, by non-temporal stores (16-byte aligned part; the caller fences).
inline void stream_row(double* dst, const double* src, i64 n) {
#if defined(__SSE2__)
  i64 j = 0;
  if (n > 0 && (reinterpret_cast<std::uintptr_t>(dst) & 15)) {
    dst[0] = src[0];
    j = 1;
  }
  for (; j + 2 <= n; j += 2) _mm_stream_pd(dst + j, _mm_loadu_pd(src + j));
  for (; j < n; ++j) dst[j] = src[j];
#else
  std::memcpy(dst, src, std::size_t(n) * sizeof(double));
#endif
}

inline void stream_fence() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

// Coordinates j0 .. j0 + n - 1 of noise row p (see EsNoise), float32: a pointer into the table, or the
// Philox normals drawn into buf.
const float* draw(const EsNoise& src, i64 p, i64 d, i64 j0, i64 n, float* buf) {
  if (src.table) return src.table + src.offsets[p] + j0;
  fill_normal<float>(src.seed, src.stream, std::uint64_t(p * d + j0), n, buf);
  return buf;
}

GFO_SIMD_CLONES void perturb_chunk(const double* mean, const double* sigma, const double* lo, const double* hi,
                                   const float* eps, double sign, i64 j0, i64 j1, double* x) {
  for (i64 j = j0; j < j1; ++j) x[j] = mean[j] + sigma[j] * (sign * static_cast<double>(eps[j - j0]));
  if (lo)
    for (i64 j = j0; j < j1; ++j) x[j] = std::min(std::max(x[j], lo[j]), hi[j]);
}

// Both members of an antithetic pair from one noise chunk: the same values as two perturb_chunk calls.
GFO_SIMD_CLONES void perturb_pair_chunk(const double* mean, const double* sigma, const double* lo, const double* hi,
                                        const float* eps, i64 j0, i64 j1, double* xp, double* xm) {
  for (i64 j = j0; j < j1; ++j) {
    const double e = static_cast<double>(eps[j - j0]);
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
GFO_SIMD_CLONES void member_from_noise(const float* eps, const double* mean, const double* sigma, i64 n, double* x) {
  for (i64 j = 0; j < n; ++j) x[j] = mean[j] + sigma[j] * static_cast<double>(eps[j]);
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
  // Work items are (coordinate chunk, noise row), the rows of a chunk next to each other so that its mean and
  // sigma stay in L1; an antithetic pair inside [first, first + m) draws its row once.
  const i64 last = first + m;
  const i64 p0 = antithetic ? first / 2 : first, p1 = antithetic ? (last + 1) / 2 : last;
  const i64 rows = p1 - p0, per = (d + kChunk - 1) / kChunk;
  const bool stream = m * d * i64(sizeof(double)) >= kStreamBytes;
  parallel_chunks(rows * per, 1, std::min(d, kChunk) * 16, [&](i64 b, i64 e) {
    float buf[kChunk];
    double tp[kChunk], tm[kChunk];
    for (i64 c = b; c < e; ++c) {
      const i64 p = p0 + c % rows, j0 = (c / rows) * kChunk, n = std::min(d, j0 + kChunk) - j0;
      const float* eps = draw(src, p, d, j0, n, buf);
      // the members of noise row p in range (sign + then -), computed on the chunk's coordinates
      const i64 i0 = antithetic ? 2 * p : p, i1 = antithetic ? 2 * p + 1 : p;
      const bool has0 = i0 >= first, has1 = antithetic && i1 < last;
      const double *mj = mean + j0, *sj = sigma + j0, *lj = lo ? lo + j0 : nullptr, *hj = hi ? hi + j0 : nullptr;
      double* x0 = has0 ? (stream ? tp : out + (i0 - first) * d + j0) : nullptr;
      double* x1 = has1 ? (stream ? tm : out + (i1 - first) * d + j0) : nullptr;
      if (x0 && x1)
        perturb_pair_chunk(mj, sj, lj, hj, eps, 0, n, x0, x1);
      else if (x0)
        perturb_chunk(mj, sj, lj, hj, eps, 1.0, 0, n, x0);
      else
        perturb_chunk(mj, sj, lj, hj, eps, -1.0, 0, n, x1);
      if (stream) {
        if (x0) stream_row(out + (i0 - first) * d + j0, tp, n);
        if (x1) stream_row(out + (i1 - first) * d + j0, tm, n);
      }
    }
    if (stream) stream_fence();
  });
}

void es_grad(const EsNoise& src, const double* a, const double* b, std::int64_t rows, const double* mean, const double* sigma, const double* X, std::int64_t x_stride, double scale, bool divide,
             std::int64_t d, double* g1, double* g2) {
  if (!b) g2 = nullptr;
  parallel_chunks(d, kChunk, rows * 4, [&](i64 j0, i64 j1) {
    float nbuf[kChunk];
    double buf[kChunk], acc1[kChunk], acc2[kChunk];
    const i64 n = j1 - j0;
    for (i64 j = 0; j < n; ++j) acc1[j] = acc2[j] = 0.0;
    for (i64 p = 0; p < rows; ++p) {
      const double bp = g2 ? b[p] : 0.0;
      if (a[p] == 0.0 && bp == 0.0) continue;  // adds exactly nothing (in both modes): skip the draw or the read
      const double* x = X ? X + p * x_stride + j0 : buf;
      if (!X) {
        member_from_noise(draw(src, p, d, j0, n, nbuf), mean + j0, sigma + j0, n, buf);
      }
      accumulate_steps(x, mean + j0, sigma + j0, a[p], bp, n, acc1, g2 ? acc2 : nullptr);
    }
    scale_steps(acc1, sigma + j0, scale, divide, n, g1 + j0);
    if (g2)
      for (i64 j = 0; j < n; ++j) g2[j0 + j] = acc2[j];
  });
}

}  // namespace gfo

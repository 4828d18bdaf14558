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
constexpr int kTileBlocks = 32;  // Philox blocks drawn at once (see philox_normal_tiles)
constexpr i64 kTile = 4 * kTileBlocks;
constexpr i64 kDrawBuf = kChunk + 2 * kTile;  // floats of a chunk's noise buffer: whole tiles from a block's start

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

#if GFO_PHILOX_AVX2
// x[j] = mean[j] + sigma[j] * (sign * eps[j]), j < n, streamed to memory (non-temporal stores on the 32-byte
// aligned part; the caller fences): the same operations, so the same bits, as perturb_chunk without a box,
// computed and stored in one pass instead of through a buffer.
__attribute__((target("avx2"))) void stream_member_avx2(const double* mean, const double* sigma, const float* eps,
                                                        double sign, i64 n, double* x) {
  i64 j = 0;
  for (; j < n && (reinterpret_cast<std::uintptr_t>(x + j) & 31); ++j)
    x[j] = mean[j] + sigma[j] * (sign * static_cast<double>(eps[j]));
  const __m256d sg = _mm256_set1_pd(sign);
  for (; j + 4 <= n; j += 4) {
    const __m256d e = _mm256_mul_pd(sg, _mm256_cvtps_pd(_mm_loadu_ps(eps + j)));
    _mm256_stream_pd(x + j, _mm256_add_pd(_mm256_loadu_pd(mean + j), _mm256_mul_pd(_mm256_loadu_pd(sigma + j), e)));
  }
  for (; j < n; ++j) x[j] = mean[j] + sigma[j] * (sign * static_cast<double>(eps[j]));
}

// Both members of an antithetic pair, streamed: xp = mean + sigma * e and xm = mean - sigma * e, the same bits as
// stream_member_avx2 with signs + and - (sigma * (-e) = -(sigma * e) and m + (-y) = m - y exactly) for one load
// of mean, sigma and e. xp and xm have the same alignment modulo 32 bytes.
__attribute__((target("avx2"))) void stream_pair_avx2(const double* mean, const double* sigma, const float* eps, i64 n,
                                                      double* xp, double* xm) {
  i64 j = 0;
  for (; j < n && (reinterpret_cast<std::uintptr_t>(xp + j) & 31); ++j) {
    const double y = sigma[j] * static_cast<double>(eps[j]);
    xp[j] = mean[j] + y;
    xm[j] = mean[j] - y;
  }
  for (; j + 4 <= n; j += 4) {
    const __m256d m = _mm256_loadu_pd(mean + j);
    const __m256d y = _mm256_mul_pd(_mm256_loadu_pd(sigma + j), _mm256_cvtps_pd(_mm_loadu_ps(eps + j)));
    _mm256_stream_pd(xp + j, _mm256_add_pd(m, y));
    _mm256_stream_pd(xm + j, _mm256_sub_pd(m, y));
  }
  for (; j < n; ++j) {
    const double y = sigma[j] * static_cast<double>(eps[j]);
    xp[j] = mean[j] + y;
    xm[j] = mean[j] - y;
  }
}

// The members of one noise row on n coordinates streamed to memory as their noise becomes available: x[0] (sign +)
// and x[1] (sign -), either null. upto(avail) streams each row's coordinates from done[r] to the last 32-byte
// boundary below avail (to n once avail reaches n), so that every row is written by aligned non-temporal stores
// except at its two ends.
struct StreamRows {
  const double *mean, *sigma;
  const float* eps;
  i64 n;
  double* x[2];
  i64 done[2] = {0, 0};

  // Coordinates below `avail` that end on a 32-byte boundary of row r (all of them at the row's end).
  i64 end_of(int r, i64 avail) const {
    if (avail >= n) return n;
    if (avail <= 0) return 0;
    return avail - static_cast<i64>((reinterpret_cast<std::uintptr_t>(x[r] + avail) & 31) / sizeof(double));
  }

  __attribute__((target("avx2"))) void upto(i64 avail) {
    const i64 e0 = x[0] ? end_of(0, avail) : 0, e1 = x[1] ? end_of(1, avail) : 0;
    const bool alike = x[0] && x[1] &&
                       ((reinterpret_cast<std::uintptr_t>(x[0]) ^ reinterpret_cast<std::uintptr_t>(x[1])) & 31) == 0;
    if (alike) {  // rows aligned alike (so always done to the same coordinate): one pass for both
      if (e0 > done[0]) stream_pair_avx2(mean + done[0], sigma + done[0], eps + done[0], e0 - done[0], x[0] + done[0],
                                         x[1] + done[0]);
    } else {
      for (int r = 0; r < 2; ++r)
        if (x[r] && (r ? e1 : e0) > done[r])
          stream_member_avx2(mean + done[r], sigma + done[r], eps + done[r], r ? -1.0 : 1.0, (r ? e1 : e0) - done[r],
                             x[r] + done[r]);
    }
    done[0] = std::max(done[0], e0);
    done[1] = std::max(done[1], e1);
  }
};

// The float32 normals of whole Philox blocks from stream position index - index % 4 on, drawn into buf kTileBlocks
// blocks at a time by box_muller_lanes on philox_lanes, as fill_normal<float> computes them (the same bits), until
// position index + n - 1 is drawn (buf holds index % 4 + n rounded up to a whole tile: at most kDrawBuf floats for
// n <= kChunk). between(k) runs after the Philox rounds of the tile at buf + k and before its Box-Muller. Serial:
// es_perturb and es_grad call it from their own parallel tasks, where fill_normal's parallel region cost about a
// microsecond per chunk. Tiles of 32 blocks measured best for streaming (ask at 10^6 dimensions, one thread, with
// both the earlier and the intrinsics Box-Muller): 8 or 16 leave Philox too few independent vectors, 64 put twice
// the stores in each burst; for drawing alone 32 and 64 are alike.
template <class Between>
__attribute__((always_inline)) inline void philox_normal_tiles(std::uint64_t seed, std::uint64_t stream,
                                                               std::uint64_t index, i64 n, float* buf, Between&& between) {
  alignas(32) std::uint32_t c[4][kTileBlocks] = {};  // lanes past a short last tile: drawn from zeros, never used
  const i64 total = static_cast<i64>(index % 4) + n;
  const std::uint64_t b0 = index / 4;
  for (i64 k = 0; k < total; k += kTile) {
    const i64 nb = std::min<i64>(kTileBlocks, (total - k + 3) / 4);
    philox_lanes(seed, stream, b0 + static_cast<std::uint64_t>(k / 4), nb, c[0], c[1], c[2], c[3]);
    between(k);
    normal32::box_muller_lanes<kTileBlocks>(c[0], c[1], c[2], c[3], buf + k);
  }
}

// The normals at stream positions index .. index + n - 1 (n <= kChunk): a pointer into buf (kDrawBuf floats).
__attribute__((target("avx2"), flatten)) const float* draw_philox_avx2(std::uint64_t seed, std::uint64_t stream,
                                                                       std::uint64_t index, i64 n, float* buf) {
  philox_normal_tiles(seed, stream, index, n, buf, [](i64) {});
  return buf + index % 4;
}

// Noise row p's members on coordinates j0 .. j0 + n - 1 (xp: sign +, xm: sign -, either null) drawn from Philox and
// streamed to memory tile by tile. Drawing is arithmetic and streaming is stores: drawing a whole chunk and then
// storing it leaves memory idle in the first phase and the arithmetic units in the second. Here the stores of the
// tiles drawn so far (2 x 4 kTileBlocks doubles, about the core's store queue) sit between the Philox rounds and
// the Box-Muller of the next tile, and drain to memory while those compute (the Philox rounds use registers
// only). `index` = p * d + j0, the stream position of coordinate j0.
__attribute__((target("avx2"), flatten)) void stream_philox_rows_avx2(std::uint64_t seed, std::uint64_t stream,
                                                                      std::uint64_t index, i64 n, const double* mean,
                                                                      const double* sigma, double* xp, double* xm) {
  alignas(32) float buf[kDrawBuf];
  const i64 skip = static_cast<i64>(index % 4);
  StreamRows members{mean, sigma, buf + skip, n, {xp, xm}};
  philox_normal_tiles(seed, stream, index, n, buf, [&](i64 k) { members.upto(k - skip); });
  members.upto(n);
}

const bool kHaveAvx2 = __builtin_cpu_supports("avx2");
#else
constexpr bool kHaveAvx2 = false;
#endif

// Coordinates j0 .. j0 + n - 1 of noise row p (see EsNoise), float32: a pointer into the table, or the
// Philox normals drawn into buf (kDrawBuf floats).
const float* draw(const EsNoise& src, i64 p, i64 d, i64 j0, i64 n, float* buf) {
  if (src.table) return src.table + src.offsets[p] + j0;
#if GFO_PHILOX_AVX2
  if (kHaveAvx2) return draw_philox_avx2(src.seed, src.stream, std::uint64_t(p * d + j0), n, buf);
#endif
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

// Rows of es_grad's sums: a member read back from the batch, or regenerated from its float32 noise exactly as
// es_perturb computes it (x = mean + sigma * eps, sign +), so both give the same bits.
struct BatchRow {
  const double* x;
  double operator()(i64 j, double, double) const { return x[j]; }
};
struct NoiseRow {
  const float* e;
  double operator()(i64 j, double m, double sg) const { return m + sg * static_cast<double>(e[j]); }
};

// The term of row x at coordinate j: c (x - m), or c (s^2 - 1) with s = (x - m) * (1 / sg) (kSquares; inv =
// 1 / sg, one division per coordinate instead of one per row and coordinate).
template <bool kSquares>
inline double term(double c, double x, double m, double inv) {
  if (kSquares) {
    const double z = (x - m) * inv;
    return c * (z * z - 1.0);
  }
  return c * (x - m);
}

// acc[j] += the terms of k rows, added one row at a time in order (the same bits whatever the grouping);
// four rows per pass, so that the accumulator is loaded and stored once per four rows.
template <bool kSquares, class Row>
inline void sum_terms(const Row* r, const double* c, int k, const double* mean, const double* sigma,
                      const double* inv, i64 n, double* acc) {
  int i = 0;
  for (; i + 4 <= k; i += 4) {
    const Row r0 = r[i], r1 = r[i + 1], r2 = r[i + 2], r3 = r[i + 3];
    const double c0 = c[i], c1 = c[i + 1], c2 = c[i + 2], c3 = c[i + 3];
#pragma GCC ivdep  // acc never aliases the rows, mean, sigma or inv
    for (i64 j = 0; j < n; ++j) {
      const double m = mean[j], sg = sigma[j], iv = kSquares ? inv[j] : 0.0;
      double s = acc[j];
      s += term<kSquares>(c0, r0(j, m, sg), m, iv);
      s += term<kSquares>(c1, r1(j, m, sg), m, iv);
      s += term<kSquares>(c2, r2(j, m, sg), m, iv);
      s += term<kSquares>(c3, r3(j, m, sg), m, iv);
      acc[j] = s;
    }
  }
  for (; i < k; ++i) {
    const Row r0 = r[i];
    const double c0 = c[i];
    for (i64 j = 0; j < n; ++j) acc[j] += term<kSquares>(c0, r0(j, mean[j], sigma[j]), mean[j], kSquares ? inv[j] : 0.0);
  }
}

// Both sums of SNES over the same k rows in one pass (coefficients a, b): the same bits as sum_terms for each.
template <class Row>
inline void sum_both(const Row* r, const double* a, const double* b, int k, const double* mean, const double* sigma,
                     const double* inv, i64 n, double* acc1, double* acc2) {
  int i = 0;
  for (; i + 4 <= k; i += 4) {
    const Row r0 = r[i], r1 = r[i + 1], r2 = r[i + 2], r3 = r[i + 3];
    const double a0 = a[i], a1 = a[i + 1], a2 = a[i + 2], a3 = a[i + 3];
    const double b0 = b[i], b1 = b[i + 1], b2 = b[i + 2], b3 = b[i + 3];
    // the accumulators never alias the rows, mean, sigma or inv (too many pointers for GCC's runtime checks)
#pragma GCC ivdep
    for (i64 j = 0; j < n; ++j) {
      const double m = mean[j], sg = sigma[j], iv = inv[j];
      const double x0 = r0(j, m, sg), x1 = r1(j, m, sg), x2 = r2(j, m, sg), x3 = r3(j, m, sg);
      double s = acc1[j], t = acc2[j];
      s += term<false>(a0, x0, m, iv);
      s += term<false>(a1, x1, m, iv);
      s += term<false>(a2, x2, m, iv);
      s += term<false>(a3, x3, m, iv);
      t += term<true>(b0, x0, m, iv);
      t += term<true>(b1, x1, m, iv);
      t += term<true>(b2, x2, m, iv);
      t += term<true>(b3, x3, m, iv);
      acc1[j] = s;
      acc2[j] = t;
    }
  }
  sum_terms<false>(r + i, a + i, k - i, mean, sigma, nullptr, n, acc1);
  sum_terms<true>(r + i, b + i, k - i, mean, sigma, inv, n, acc2);
}

GFO_SIMD_CLONES void sum_both_batch(const BatchRow* r, const double* a, const double* b, int k, const double* mean,
                                    const double* sigma, const double* inv, i64 n, double* acc1, double* acc2) {
  sum_both(r, a, b, k, mean, sigma, inv, n, acc1, acc2);
}

GFO_SIMD_CLONES void sum_both_noise(const NoiseRow* r, const double* a, const double* b, int k, const double* mean,
                                    const double* sigma, const double* inv, i64 n, double* acc1, double* acc2) {
  sum_both(r, a, b, k, mean, sigma, inv, n, acc1, acc2);
}

// inv null: the sums of c (x - m); else the sums of c (s^2 - 1).
template <class Row>
inline void sum_rows(const Row* r, const double* c, int k, const double* mean, const double* sigma, const double* inv,
                     i64 n, double* acc) {
  if (inv)
    sum_terms<true>(r, c, k, mean, sigma, inv, n, acc);
  else
    sum_terms<false>(r, c, k, mean, sigma, inv, n, acc);
}

GFO_SIMD_CLONES void sum_batch_rows(const BatchRow* r, const double* c, int k, const double* mean, const double* sigma,
                                    const double* inv, i64 n, double* acc) {
  sum_rows(r, c, k, mean, sigma, inv, n, acc);
}

GFO_SIMD_CLONES void sum_noise_rows(const NoiseRow* r, const double* c, int k, const double* mean, const double* sigma,
                                    const double* inv, i64 n, double* acc) {
  sum_rows(r, c, k, mean, sigma, inv, n, acc);
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
  const bool fused = stream && !lo && kHaveAvx2;  // compute and stream in one pass
  parallel_chunks(rows * per, 1, std::min(d, kChunk) * 16, [&](i64 b, i64 e) {
    alignas(32) float buf[kDrawBuf];
    double tp[kChunk], tm[kChunk];
    for (i64 c = b; c < e; ++c) {
      const i64 p = p0 + c % rows, j0 = (c / rows) * kChunk, n = std::min(d, j0 + kChunk) - j0;
      // the members of noise row p in range (sign + then -), computed on the chunk's coordinates
      const i64 i0 = antithetic ? 2 * p : p, i1 = antithetic ? 2 * p + 1 : p;
      const bool has0 = i0 >= first, has1 = antithetic && i1 < last;
#if GFO_PHILOX_AVX2
      if (fused) {
        double* xp = has0 ? out + (i0 - first) * d + j0 : nullptr;
        double* xm = has1 ? out + (i1 - first) * d + j0 : nullptr;
        if (src.table) {
          StreamRows members{mean + j0, sigma + j0, src.table + src.offsets[p] + j0, n, {xp, xm}};
          members.upto(n);
        } else {
          stream_philox_rows_avx2(src.seed, src.stream, std::uint64_t(p * d + j0), n, mean + j0, sigma + j0, xp, xm);
        }
        continue;
      }
#endif
      const float* eps = draw(src, p, d, j0, n, buf);
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
  // Rows with a zero coefficient add exactly nothing to that sum (in both modes): skipped; a row with both
  // coefficients zero is neither drawn nor read.
  std::vector<i64> live;
  for (i64 p = 0; p < rows; ++p)
    if (a[p] != 0.0 || (g2 && b[p] != 0.0)) live.push_back(p);
  const i64 nlive = static_cast<i64>(live.size());
  parallel_chunks(d, kChunk, rows * 4, [&](i64 j0, i64 j1) {
    constexpr int kGroup = 4;  // rows drawn (or read) per step
    alignas(32) float nbuf[kGroup][kDrawBuf];
    double acc1[kChunk], acc2[kChunk], inv[kChunk];
    const i64 n = j1 - j0;
    const double *mj = mean + j0, *sj = sigma + j0;
    for (i64 j = 0; j < n; ++j) acc1[j] = acc2[j] = 0.0;
    if (g2)
      for (i64 j = 0; j < n; ++j) inv[j] = 1.0 / sj[j];
    for (i64 g = 0; g < nlive; g += kGroup) {
      const int k = static_cast<int>(std::min<i64>(kGroup, nlive - g));
      BatchRow xr1[kGroup], xr2[kGroup];
      NoiseRow nr1[kGroup], nr2[kGroup];
      double c1[kGroup], c2[kGroup];
      int k1 = 0, k2 = 0;
      for (int r = 0; r < k; ++r) {
        const i64 p = live[g + r];
        const BatchRow xr{X ? X + p * x_stride + j0 : nullptr};
        const NoiseRow er{X ? nullptr : draw(src, p, d, j0, n, nbuf[r])};
        if (a[p] != 0.0) xr1[k1] = xr, nr1[k1] = er, c1[k1++] = a[p];
        if (g2 && b[p] != 0.0) xr2[k2] = xr, nr2[k2] = er, c2[k2++] = b[p];
      }
      if (k2 == k && k1 == k) {  // every row of the group in both sums (SNES): one pass
        if (X)
          sum_both_batch(xr1, c1, c2, k, mj, sj, inv, n, acc1, acc2);
        else
          sum_both_noise(nr1, c1, c2, k, mj, sj, inv, n, acc1, acc2);
      } else if (X) {
        sum_batch_rows(xr1, c1, k1, mj, sj, nullptr, n, acc1);
        if (k2) sum_batch_rows(xr2, c2, k2, mj, sj, inv, n, acc2);
      } else {
        sum_noise_rows(nr1, c1, k1, mj, sj, nullptr, n, acc1);
        if (k2) sum_noise_rows(nr2, c2, k2, mj, sj, inv, n, acc2);
      }
    }
    scale_steps(acc1, sj, scale, divide, n, g1 + j0);
    if (g2)
      for (i64 j = 0; j < n; ++j) g2[j0 + j] = acc2[j];
  });
}

}  // namespace gfo

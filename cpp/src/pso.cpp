#include "gfo/pso.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "gfo/lanes.hpp"
#include "gfo/parallel.hpp"
#include "gfo/population.hpp"
#include "gfo/simd.hpp"

namespace gfo {
namespace {

// bits_to_uniform32 of rng.hpp is (2 (w >> 9) + 1) 2^-24 = ((w >> 8) | 1) 2^-24; the integer below 2^24 converts
// exactly through the signed 32-bit conversion that SIMD units have. The 2^-24 is left to the caller, which folds
// it into the coefficient (see kScale).
inline double uniform32_numerator(std::uint32_t w) {
  return static_cast<double>(static_cast<std::int32_t>((w >> 8) | 1u));
}
constexpr double kScale = 5.9604644775390625e-08;  // 2^-24

// One segment of a row: m elements, bounds strategy fixed at compile time so the loop has no control
// flow and vectorises (restrict: the rows are distinct arrays; g may equal p or x, which is allowed because
// none of the three is written here).
template <PsoBounds kBounds, bool kFolded>
inline void pso_segment(std::int64_t m, PsoCoefficients c, const std::uint32_t* __restrict w1,
                        const std::uint32_t* __restrict w2,
                        const double* __restrict x, double* __restrict v, const double* __restrict p,
                        const double* __restrict g,
                        const double* __restrict vmax, const double* __restrict lo, const double* __restrict hi,
                        double* __restrict xn) {
  for (std::int64_t j = 0; j < m; ++j) {
    // c1 r1 = c1 (k 2^-24) = (c1 2^-24) k: the same real number rounded once, when c1 2^-24 is exact (kFolded:
    // c holds c1 2^-24 and c2 2^-24), which saves a multiplication per random number
    const double k1 = uniform32_numerator(w1[j]), k2 = uniform32_numerator(w2[j]);
    const double c1r1 = kFolded ? c.c1 * k1 : c.c1 * (k1 * kScale), c2r2 = kFolded ? c.c2 * k2 : c.c2 * (k2 * kScale);
    double vj = c.w * v[j] + c1r1 * (p[j] - x[j]) + c2r2 * (g[j] - x[j]);  // Eq. (1) of Shi & Eberhart
    // in a box ~1e308 wide the pulls can overflow to opposite infinities: inf - inf has no direction, so that
    // component is 0 (a select: the loop still vectorises)
    vj = vj == vj ? vj : 0.0;
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

// Elements per random tile. The chunk's rows are one flat run of element indices i * d + j, so the Philox words
// of r1 and r2 are drawn for kTile consecutive elements at once, across row boundaries (long SIMD runs of whole
// blocks, words already in element order) instead of row by row (d = 100 leaves a ragged 25 blocks per row), and
// turned into uniforms inside the update loop (no buffer of doubles written and read back). Long tiles, and a
// chunk of short rows is one tile, so no row is cut at a tile edge: measured on one core at 1,000 x 100, 512-element
// tiles took 340 us per generation, 4096-element ones 265 us (the Philox rate alone barely depends on the length).
constexpr std::int64_t kTile = 4096;

template <PsoBounds kBounds>
inline void pso_rows_t(std::uint64_t seed, std::uint64_t s1, std::uint64_t s2, PsoCoefficients c, std::int64_t b,
                       std::int64_t e, std::int64_t d, const double* X, double* V, double* P,
                       const std::uint8_t* improved, const std::int64_t* nbest, const double* vmax, const double* lo,
                       const double* hi, double* Xnew) {
  // c1 2^-24 and c2 2^-24 are exact unless they fall below the normal range (c below ~1e-300)
  const PsoCoefficients folded{c.w, c.c1 * kScale, c.c2 * kScale};
  const bool fold = folded.c1 / kScale == c.c1 && folded.c2 / kScale == c.c2;
  alignas(64) std::uint32_t w1[kTile + 8], w2[kTile + 8];  // + a block on either side for unaligned tile ends
  const std::int64_t last = e * d;
  for (std::int64_t t0 = b * d; t0 < last; t0 += kTile) {
    const std::int64_t m = std::min(kTile, last - t0);
    const std::int64_t blk0 = t0 >> 2, nblk = ((t0 + m + 3) >> 2) - blk0, off = t0 & 3;
    philox_words(seed, s1, static_cast<std::uint64_t>(blk0), nblk, w1);
    philox_words(seed, s2, static_cast<std::uint64_t>(blk0), nblk, w2);
    // the pieces of rows inside [t0, t0 + m)
    for (std::int64_t q = t0; q < t0 + m;) {
      const std::int64_t i = q / d, j0 = q - i * d, len = std::min(d - j0, t0 + m - q);
      const double* x = X + q;
      // an improved particle's personal best is its position: read x for p (the same values) and store the copy
      const double* p = improved[i] ? x : P + q;
      if (improved[i]) std::memcpy(P + q, x, sizeof(double) * static_cast<std::size_t>(len));
      const std::int64_t k = nbest[i];
      const double* g = (improved[k] ? X + k * d : P + k * d) + j0;
      const std::uint32_t *u1 = w1 + off + (q - t0), *u2 = w2 + off + (q - t0);
      if (fold)
        pso_segment<kBounds, true>(len, folded, u1, u2, x, V + q, p, g, vmax + j0, lo + j0, hi + j0, Xnew + q);
      else
        pso_segment<kBounds, false>(len, c, u1, u2, x, V + q, p, g, vmax + j0, lo + j0, hi + j0, Xnew + q);
      q += len;
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
  // chunks of whole rows, one tile each where rows are short (the chunking does not change any result)
  parallel_chunks(n, std::max<std::int64_t>(1, kTile / d), d * 16, [&](std::int64_t b, std::int64_t e) {
    pso_rows(seed, stream_r1, stream_r2, c, b, e, d, X, V, P, improved, nbest, vmax, lo, hi, bounds, Xnew);
  });
}

void pso_spread(std::int64_t n, std::int64_t d, const double* X, double* S) {
  std::vector<double> centre(static_cast<std::size_t>(d));
  double* __restrict c = centre.data();
  // the centroid, in blocks of columns: each column is summed over the rows in order (the row loop inside a block
  // vectorizes across columns), whoever runs the block
  constexpr std::int64_t kColumns = 512;
  parallel_chunks(d, kColumns, n, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t j = b; j < e; ++j) c[j] = X[j];
    for (std::int64_t i = 1; i < n; ++i) {
      const double* __restrict x = X + i * d;
      for (std::int64_t j = b; j < e; ++j) c[j] += x[j];
    }
    for (std::int64_t j = b; j < e; ++j) c[j] /= static_cast<double>(n);
  });
  // each row's squared distance to it, in the fixed lane order of gfo/lanes.hpp
  parallel_chunks(n, std::max<std::int64_t>(1, kTile / d), d, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      const double* __restrict x = X + i * d;
      Lanes s(0.0);
      s.add(d, [&](std::int64_t j) {
        const double t = x[j] - c[j];
        return t * t;
      });
      S[i] = s.sum();
    }
  });
}

}  // namespace gfo

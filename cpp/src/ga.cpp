#include "gfo/ga.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "gfo/parallel.hpp"
#include "gfo/population.hpp"
#include "gfo/simd.hpp"

namespace gfo {
namespace {

// Bound-aware SBX (Deb & Agrawal 1995, in the bounded form of Deb's NSGA-II code): the spread factor's
// density is truncated at the bound `dist` away from the nearer parent, so children never need clipping
// far from the box and genes near a bound are not piled onto it:
//   alpha = 2 - (1 + 2 dist / dy)^-(eta+1),  beta_q = (u alpha)^(1/(eta+1)) if u alpha <= 1
//                                                    else (1 / (2 - u alpha))^(1/(eta+1))
// (sbx_segment below; twin: reference/ga.py _sbx_bounded).

// Bound-aware polynomial mutation (Deb & Goyal 1996; Deb & Deb 2014): the perturbation's density is
// truncated at the bounds. With an infinite bound the truncation term is 0 (the unbounded operator in
// units of span). Twin: reference/ga.py _polynomial_bounded.
inline double poly_gene(double x, double u, const EtaPower& e, double lo, double hi, double span) {
  const double r_lo = std::max(1.0 - (x - lo) / span, 0.0), r_hi = std::max(1.0 - (hi - x) / span, 0.0);
  const double delta = u < 0.5 ? e.root(2.0 * u + (1.0 - 2.0 * u) * e.raise(r_lo)) - 1.0
                               : 1.0 - e.root(2.0 * (1.0 - u) + 2.0 * (u - 0.5) * e.raise(r_hi));
  return clip(x + delta * span, lo, hi);
}

// x[i]^k and x[i]^(1/k) over arrays: EtaPower's operation sequence as passes over contiguous memory, which
// the compiler vectorises (sqrt included, -fno-math-errno), bit-identical to the scalar EtaPower.
inline void raise_all(const EtaPower& e, std::int64_t n, double* __restrict x, double* __restrict r) {
  if (!e.whole) {
    for (std::int64_t i = 0; i < n; ++i) x[i] = std::pow(x[i], e.k);
    return;
  }
  bool any = false;
  for (int q = e.whole; q; q >>= 1) {
    if (q & 1) {
      if (any) {
        for (std::int64_t i = 0; i < n; ++i) r[i] = r[i] * x[i];
      } else {
        for (std::int64_t i = 0; i < n; ++i) r[i] = x[i];
      }
      any = true;
    }
    if (q >> 1)
      for (std::int64_t i = 0; i < n; ++i) x[i] = x[i] * x[i];
  }
  for (std::int64_t i = 0; i < n; ++i) x[i] = r[i];
}

inline void root_all(const EtaPower& e, std::int64_t n, double* __restrict y) {
  if (e.sqrts < 0) {
    for (std::int64_t i = 0; i < n; ++i) y[i] = std::pow(y[i], 1.0 / e.k);
    return;
  }
  for (int q = 0; q < e.sqrts; ++q)
    for (std::int64_t i = 0; i < n; ++i) y[i] = std::sqrt(y[i]);
}

// Bound-aware SBX over one segment of m genes (pointers offset to the segment), the arithmetic above:
// the recombined genes (w < 1/2, parents more than 1e-14 apart) are gathered first, so the arithmetic runs as
// branch-free vectorised passes over the gathered half only; children swap sides where w < 1/4.
inline void sbx_segment(std::int64_t m, const EtaPower& e, const double* u, const double* w, const double* a,
                        const double* b, const double* lo, const double* hi, double* c0, double* c1) {
  alignas(64) double y1[kSegment], y2[kSegment], uu[kSegment], xl[kSegment], xh[kSegment], tmp[kSegment];
  std::int32_t idx[kSegment];
  std::int64_t n = 0;
  for (std::int64_t t = 0; t < m; ++t) {
    c0[t] = a[t];
    if (c1) c1[t] = b[t];
    idx[n] = static_cast<std::int32_t>(t);
    n += (w[t] < 0.5 && std::max(a[t], b[t]) - std::min(a[t], b[t]) > 1e-14) ? 1 : 0;
  }
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t t = idx[i];
    y1[i] = std::min(a[t], b[t]);
    y2[i] = std::max(a[t], b[t]);
    uu[i] = u[t];
    xl[i] = y1[i] - lo[t];  // distances to the bounds
    xh[i] = hi[t] - y2[i];
  }
  for (std::int64_t i = 0; i < n; ++i) {
    const double r = 2.0 / (y2[i] - y1[i]);  // one division for both sides (divisions and roots are the cost)
    xl[i] = 1.0 + xl[i] * r;
    xh[i] = 1.0 + xh[i] * r;
  }
  raise_all(e, n, xl, tmp);
  raise_all(e, n, xh, tmp);
  for (std::int64_t i = 0; i < n; ++i) {
    const double al = 2.0 - 1.0 / xl[i], ah = 2.0 - 1.0 / xh[i];
    const double ual = uu[i] * al, uah = uu[i] * ah;  // u <= 1/alpha tested as u alpha <= 1
    xl[i] = ual <= 1.0 ? ual : 1.0 / (2.0 - ual);
    xh[i] = uah <= 1.0 ? uah : 1.0 / (2.0 - uah);
  }
  root_all(e, n, xl);
  root_all(e, n, xh);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t t = idx[i];
    const double dy = y2[i] - y1[i];
    const double c_lo = clip(0.5 * ((y1[i] + y2[i]) - xl[i] * dy), lo[t], hi[t]);
    const double c_hi = clip(0.5 * ((y1[i] + y2[i]) + xh[i] * dy), lo[t], hi[t]);
    const bool swap = w[t] < 0.25;
    c0[t] = swap ? c_hi : c_lo;
    if (c1) c1[t] = swap ? c_lo : c_hi;
  }
}

void crossover(std::uint64_t seed, const GaStreams& s, const GaParams& p, std::int64_t k, std::int64_t L,
               const double* a, const double* b, const double* lo, const double* hi, double* c0, double* c1) {
  UniformCursor up(seed, s.pair);
  const std::uint64_t pk = 3 * static_cast<std::uint64_t>(k);
  const std::uint64_t g0 = static_cast<std::uint64_t>(2 * k * L), g1 = g0 + static_cast<std::uint64_t>(L);
  const auto bytes = sizeof(double) * static_cast<std::size_t>(L);
  if (!(up(pk) < p.crossover_prob)) {
    std::memcpy(c0, a, bytes);
    if (c1) std::memcpy(c1, b, bytes);
    return;
  }
  if (p.crossover == GaCrossover::one_point || p.crossover == GaCrossover::two_point) {
    // cut points in [1, L-1]: the segment [first, last) comes from the other parent
    std::int64_t first = L, last = L;
    if (L > 1) {
      const auto c = static_cast<std::int64_t>(std::floor(up(pk + 1) * static_cast<double>(L - 1))) + 1;
      if (p.crossover == GaCrossover::one_point) {
        first = c;
      } else {
        const auto c2 = static_cast<std::int64_t>(std::floor(up(pk + 2) * static_cast<double>(L - 1))) + 1;
        first = c < c2 ? c : c2;
        last = c < c2 ? c2 : c;
      }
    }
    for (std::int64_t j = 0; j < L; ++j) {
      const bool swap = j >= first && j < last;
      c0[j] = swap ? b[j] : a[j];
      if (c1) c1[j] = swap ? a[j] : b[j];
    }
    return;
  }
  if (p.crossover == GaCrossover::arithmetic) {
    // a convex combination, but rounded: two genes on a face give one an ulp past it about one time in ten
    const double lam = up(pk + 1);
    for (std::int64_t j = 0; j < L; ++j) {
      c0[j] = clip(lam * a[j] + (1.0 - lam) * b[j], lo[j], hi[j]);
      if (c1) c1[j] = clip((1.0 - lam) * a[j] + lam * b[j], lo[j], hi[j]);
    }
    return;
  }
  // per-gene operators: the gene stream's numbers drawn a segment at a time
  double u0[kSegment], u1[kSegment], which[kSegment];
  const double widen = 1.0 + 2.0 * p.alpha;
  const EtaPower eta_c(p.eta_c);
  for (std::int64_t j0 = 0; j0 < L; j0 += kSegment) {
    const std::int64_t m = std::min(kSegment, L - j0);
    if (p.crossover != GaCrossover::uniform) uniform_segment(seed, s.gene, g0 + static_cast<std::uint64_t>(j0), m, u0);
    switch (p.crossover) {
      case GaCrossover::uniform:
        uniform32_segment(seed, s.gene, g0 + static_cast<std::uint64_t>(j0), m, u0);  // decisions: 24 bits do
        for (std::int64_t t = 0, j = j0; t < m; ++t, ++j) {
          const bool swap = u0[t] < 0.5;
          c0[j] = swap ? b[j] : a[j];
          if (c1) c1[j] = swap ? a[j] : b[j];
        }
        break;
      case GaCrossover::blx:
        if (c1) uniform_segment(seed, s.gene, g1 + static_cast<std::uint64_t>(j0), m, u1);
        for (std::int64_t t = 0, j = j0; t < m; ++t, ++j) {
          const double mn = std::min(a[j], b[j]);
          const double I = std::max(a[j], b[j]) - mn;
          c0[j] = clip(blx_gene(mn, I, u0[t], p.alpha, widen), lo[j], hi[j]);
          if (c1) c1[j] = clip(blx_gene(mn, I, u1[t], p.alpha, widen), lo[j], hi[j]);
        }
        break;
      default:  // sbx: a gene is recombined with probability 1/2 (w < 1/2), the children swap sides when w < 1/4
        uniform_segment(seed, s.gene, g1 + static_cast<std::uint64_t>(j0), m, which);
        sbx_segment(m, eta_c, u0, which, a + j0, b + j0, lo + j0, hi + j0, c0 + j0, c1 ? c1 + j0 : nullptr);
        break;
    }
  }
}

void mutate(std::uint64_t seed, const GaStreams& s, const GaParams& p, std::int64_t m, std::int64_t L,
            const double* lo, const double* hi, const double* span, double* c) {
  UniformCursor uv(seed, s.mutation);
  NormalCursor zv(seed, s.mutation);
  const std::uint64_t base = static_cast<std::uint64_t>(m * L);
  double hit[kSegment];
  const EtaPower eta_m(p.eta_m);
  for (std::int64_t j0 = 0; j0 < L; j0 += kSegment) {
    const std::int64_t len = std::min(kSegment, L - j0);
    uniform32_segment(seed, s.mutate, base + static_cast<std::uint64_t>(j0), len, hit);
    for (std::int64_t t = 0; t < len; ++t) {
      if (!(hit[t] < p.mutation_prob)) continue;
      const std::int64_t j = j0 + t;
      switch (p.mutation) {
        case GaMutation::gaussian:
          c[j] = clip(c[j] + p.sigma * span[j] * zv(base + j), lo[j], hi[j]);
          break;
        case GaMutation::polynomial:
          c[j] = poly_gene(c[j], uv(base + j), eta_m, lo[j], hi[j], span[j]);
          break;
        case GaMutation::bitflip:
          c[j] = 1.0 - c[j];
          break;
        case GaMutation::none:
          break;
      }
    }
  }
}

GFO_SIMD_CLONES void pairs(std::uint64_t seed, const GaStreams& s, const GaParams& p, std::int64_t b, std::int64_t e, std::int64_t n,
           std::int64_t L, const double* G, const std::int64_t* parents, const double* lo, const double* hi,
           const double* span, double* C) {
  for (std::int64_t k = b; k < e; ++k) {
    double* c0 = C + 2 * k * L;
    double* c1 = 2 * k + 1 < n ? c0 + L : nullptr;
    crossover(seed, s, p, k, L, G + parents[2 * k] * L, G + parents[2 * k + 1] * L, lo, hi, c0, c1);
    if (p.mutation == GaMutation::none) continue;
    mutate(seed, s, p, 2 * k, L, lo, hi, span, c0);
    if (c1) mutate(seed, s, p, 2 * k + 1, L, lo, hi, span, c1);
  }
}

}  // namespace

void ga_offspring(std::uint64_t seed, GaStreams s, const GaParams& p, std::int64_t n, std::int64_t L,
                  const double* G, const std::int64_t* parents, const double* lo, const double* hi,
                  const double* span, double* C) {
  const std::int64_t npairs = (n + 1) / 2;
  const std::int64_t chunk = L >= 512 ? 1 : 512 / L;
  parallel_chunks(npairs, chunk, 2 * L * 8, [&](std::int64_t b, std::int64_t e) {
    pairs(seed, s, p, b, e, n, L, G, parents, lo, hi, span, C);
  });
}

}  // namespace gfo

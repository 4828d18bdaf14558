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
// far from the box and genes near a bound are not piled onto it. Twin: reference/ga.py _sbx_bounded.
inline double sbx_beta_q(double u, double dist, double dy, double eta) {
  const double alpha = 2.0 - std::pow(1.0 + 2.0 * dist / dy, -(eta + 1.0));
  const double ua = u * alpha, inv = 1.0 / (eta + 1.0);
  return u <= 1.0 / alpha ? std::pow(ua, inv) : std::pow(1.0 / (2.0 - ua), inv);
}

// Bound-aware polynomial mutation (Deb & Goyal 1996; Deb & Deb 2014): the perturbation's density is
// truncated at the bounds. With an infinite bound the truncation term is 0 (the unbounded operator in
// units of span). Twin: reference/ga.py _polynomial_bounded.
inline double poly_gene(double x, double u, double eta, double lo, double hi, double span) {
  const double inv = 1.0 / (eta + 1.0);
  const double r_lo = std::max(1.0 - (x - lo) / span, 0.0), r_hi = std::max(1.0 - (hi - x) / span, 0.0);
  const double delta = u < 0.5 ? std::pow(2.0 * u + (1.0 - 2.0 * u) * std::pow(r_lo, eta + 1.0), inv) - 1.0
                               : 1.0 - std::pow(2.0 * (1.0 - u) + 2.0 * (u - 0.5) * std::pow(r_hi, eta + 1.0), inv);
  return clip(x + delta * span, lo, hi);
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
    const double lam = up(pk + 1);
    for (std::int64_t j = 0; j < L; ++j) {
      c0[j] = lam * a[j] + (1.0 - lam) * b[j];
      if (c1) c1[j] = (1.0 - lam) * a[j] + lam * b[j];
    }
    return;
  }
  // per-gene operators: the gene stream's numbers drawn a segment at a time
  double u0[kSegment], u1[kSegment], which[kSegment];
  const double widen = 1.0 + 2.0 * p.alpha;
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
          c0[j] = clip((mn - p.alpha * I) + u0[t] * (widen * I), lo[j], hi[j]);
          if (c1) c1[j] = clip((mn - p.alpha * I) + u1[t] * (widen * I), lo[j], hi[j]);
        }
        break;
      default:  // sbx: a gene is recombined with probability 1/2 (w < 1/2), the children swap sides when w < 1/4
        uniform_segment(seed, s.gene, g1 + static_cast<std::uint64_t>(j0), m, which);
        for (std::int64_t t = 0, j = j0; t < m; ++t, ++j) {
          const double y1 = std::min(a[j], b[j]), y2 = std::max(a[j], b[j]);
          if (!(which[t] < 0.5 && y2 - y1 > 1e-14)) {  // (a branch: the pow calls are the cost, skip them)
            c0[j] = a[j];
            if (c1) c1[j] = b[j];
            continue;
          }
          const double dy = y2 - y1;
          const double c_lo = clip(0.5 * ((y1 + y2) - sbx_beta_q(u0[t], y1 - lo[j], dy, p.eta_c) * dy), lo[j], hi[j]);
          const double c_hi = clip(0.5 * ((y1 + y2) + sbx_beta_q(u0[t], hi[j] - y2, dy, p.eta_c) * dy), lo[j], hi[j]);
          const bool swap = which[t] < 0.25;
          c0[j] = swap ? c_hi : c_lo;
          if (c1) c1[j] = swap ? c_lo : c_hi;
        }
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
          c[j] = poly_gene(c[j], uv(base + j), p.eta_m, lo[j], hi[j], span[j]);
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

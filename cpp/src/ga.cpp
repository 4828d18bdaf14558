#include "gfo/ga.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "gfo/parallel.hpp"
#include "gfo/population.hpp"
#include "gfo/simd.hpp"

namespace gfo {
namespace {

// Deb & Agrawal (1995): the spread factor of simulated binary crossover for uniform u.
inline double sbx_beta(double u, double inv_eta1) {
  return u <= 0.5 ? std::pow(2.0 * u, inv_eta1) : std::pow(1.0 / (2.0 * (1.0 - u)), inv_eta1);
}

// Deb & Goyal (1996): the polynomial mutation's perturbation (in units of the span) for uniform u.
inline double poly_delta(double u, double inv_eta1) {
  return u < 0.5 ? std::pow(2.0 * u, inv_eta1) - 1.0 : 1.0 - std::pow(2.0 * (1.0 - u), inv_eta1);
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
  const double widen = 1.0 + 2.0 * p.alpha, inv = 1.0 / (p.eta_c + 1.0);
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
      default:  // sbx; each gene recombined with probability 1/2, as in Deb's implementation (NSGA-II)
        uniform_segment(seed, s.gene, g1 + static_cast<std::uint64_t>(j0), m, which);
        for (std::int64_t t = 0, j = j0; t < m; ++t, ++j) {
          const double beta = sbx_beta(u0[t], inv);
          const bool mix = which[t] < 0.5;
          c0[j] = mix ? clip(0.5 * ((1.0 + beta) * a[j] + (1.0 - beta) * b[j]), lo[j], hi[j]) : a[j];
          if (c1) c1[j] = mix ? clip(0.5 * ((1.0 - beta) * a[j] + (1.0 + beta) * b[j]), lo[j], hi[j]) : b[j];
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
  const double inv = 1.0 / (p.eta_m + 1.0);
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
          c[j] = clip(c[j] + poly_delta(uv(base + j), inv) * span[j], lo[j], hi[j]);
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

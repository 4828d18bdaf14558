// Population updates on the GPU, one thread per (member, coordinate): PSO velocity/position, DE trial
// vectors and GA offspring, element for element the arithmetic of cpp/src/{pso,de,ga}.cpp (same expression
// order, no FMA, the same Philox numbers at the same indices), so results are bit-identical to the CPU
// except where CUDA's pow/log/sin/cos round differently (SBX, polynomial and Gaussian mutation: a few ulp).
#include "common.cuh"
#include "gfo/ga.hpp"
#include "gfo/rng.hpp"

namespace gfo::cuda {
namespace {

template <class Body>
__device__ __forceinline__ void for_elements(std::int64_t total, Body body) {
  for (std::int64_t e = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; e < total;
       e += std::int64_t(gridDim.x) * blockDim.x)
    body(e);
}

__global__ void pso_kernel(std::uint64_t seed, std::uint64_t s1, std::uint64_t s2, double w, double c1, double c2,
                           std::int64_t n, std::int64_t d, const double* X, double* V, double* P,
                           const std::uint8_t* improved, const std::int64_t* nbest, const double* vmax,
                           const double* lo, const double* hi, int reflect, double* Xnew) {
  for_elements(n * d, [&](std::int64_t e) {
    const std::int64_t i = e / d, j = e % d;
    const double x = X[e];
    // Personal best refreshed in place; the neighbour's best is read from X where it was refreshed in this
    // same launch, so no thread reads a P entry another thread writes.
    const double p = improved[i] ? x : P[e];
    if (improved[i]) P[e] = x;
    const std::int64_t k = nbest[i];
    const double g = improved[k] ? X[k * d + j] : P[k * d + j];
    // float32 coefficients widened to double, as pso.cpp draws them
    const double u1 = double(uniform<float>(seed, s1, std::uint64_t(e)));
    const double u2 = double(uniform<float>(seed, s2, std::uint64_t(e)));
    double vj = w * V[e] + c1 * u1 * (p - x) + c2 * u2 * (g - x);  // Eq. (1) of Shi & Eberhart (1998)
    vj = vj == vj ? vj : 0.0;  // pulls overflowing to opposite infinities (a box ~1e308 wide): as pso.cpp
    vj = clip(vj, -vmax[j], vmax[j]);
    double xj = x + vj;
    if (!reflect) {
      if (xj < lo[j]) { xj = lo[j]; vj = 0.0; }
      if (xj > hi[j]) { xj = hi[j]; vj = 0.0; }
    } else {
      if (xj < lo[j]) { xj = lo[j] + (lo[j] - xj); vj = -vj; }
      if (xj > hi[j]) { xj = hi[j] - (xj - hi[j]); vj = -vj; }
      xj = clip(xj, lo[j], hi[j]);
    }
    V[e] = vj;
    Xnew[e] = xj;
  });
}

__global__ void de_kernel(std::uint64_t seed, std::uint64_t scr, int strategy, double CR, std::int64_t n,
                          std::int64_t d, const double* X, std::int64_t best, const std::int64_t* R, const double* F,
                          const std::int64_t* jrand, const double* lo, const double* hi, double* U) {
  for_elements(n * d, [&](std::int64_t e) {
    const std::int64_t i = e / d, j = e % d;
    const double x = X[e];
    const bool take = double(uniform<float>(seed, scr, std::uint64_t(e))) < CR || j == jrand[i];
    if (!take) {
      U[e] = x;
      return;
    }
    const double x0 = X[R[3 * i] * d + j], x1 = X[R[3 * i + 1] * d + j], xb = X[best * d + j];
    const double f = F[i];
    double v;
    switch (strategy) {  // Storn & Price (1997)
      case 0: v = x0 + f * (x1 - X[R[3 * i + 2] * d + j]); break;
      case 1: v = xb + f * (x0 - x1); break;
      default: v = x + f * (xb - x) + f * (x0 - x1); break;
    }
    if (!(v >= lo[j])) v = v != v ? x : 0.5 * (lo[j] + x);  // bounce-back (JADE); NaN (inf - inf): the parent's
    if (v > hi[j]) v = 0.5 * (hi[j] + x);
    U[e] = v;
  });
}


// Bound-aware SBX spread (Deb & Agrawal 1995) and polynomial mutation (Deb & Goyal 1996; Deb & Deb 2014),
// the formulas of ga.cpp's sbx_beta_q and poly_gene (EtaPower: the same operation sequence).
__device__ __forceinline__ double sbx_beta_q(double u, double dist, double dy, const EtaPower& e) {
  const double alpha = 2.0 - 1.0 / e.raise(1.0 + dist * (2.0 / dy));
  const double ua = u * alpha;
  return e.root(ua <= 1.0 ? ua : 1.0 / (2.0 - ua));
}
__device__ __forceinline__ double poly_gene(double x, double u, const EtaPower& e, double lo, double hi, double span) {
  const double d_lo = 1.0 - (x - lo) / span, d_hi = 1.0 - (hi - x) / span;
  const double r_lo = d_lo < 0.0 ? 0.0 : d_lo, r_hi = d_hi < 0.0 ? 0.0 : d_hi;  // std::max(d, 0.0)
  const double delta = u < 0.5 ? e.root(2.0 * u + (1.0 - 2.0 * u) * e.raise(r_lo)) - 1.0
                               : 1.0 - e.root(2.0 * (1.0 - u) + 2.0 * (u - 0.5) * e.raise(r_hi));
  return clip(x + delta * span, lo, hi);
}

__device__ double mutate(std::uint64_t seed, const GaStreams& s, const GaParams& p, std::uint64_t idx, double c,
                         double lo, double hi, double span) {
  if (!(double(uniform<float>(seed, s.mutate, idx)) < p.mutation_prob)) return c;  // float32 decision, as ga.cpp
  switch (p.mutation) {
    case GaMutation::gaussian: return clip(c + p.sigma * span * normal<double>(seed, s.mutation, idx), lo, hi);
    case GaMutation::polynomial:
      return poly_gene(c, uniform<double>(seed, s.mutation, idx), EtaPower(p.eta_m), lo, hi, span);
    case GaMutation::bitflip: return 1.0 - c;
    default: return c;
  }
}

// Thread (k, j): gene j of both children of pair k.
__global__ void ga_kernel(std::uint64_t seed, GaStreams s, GaParams p, std::int64_t n, std::int64_t L,
                          const double* G, const std::int64_t* parents, const double* lo, const double* hi,
                          const double* span, double* C) {
  const std::int64_t npairs = (n + 1) / 2;
  for_elements(npairs * L, [&](std::int64_t e) {
    const std::int64_t k = e / L, j = e % L;
    const bool two = 2 * k + 1 < n;
    const double a = G[parents[2 * k] * L + j], b = G[parents[2 * k + 1] * L + j];
    const std::uint64_t pk = 3 * std::uint64_t(k), g0 = std::uint64_t(2 * k * L), g1 = g0 + std::uint64_t(L);
    double c0 = a, c1 = b;
    if (uniform<double>(seed, s.pair, pk) < p.crossover_prob) {
      switch (p.crossover) {
        case GaCrossover::uniform: {
          const bool swap = double(uniform<float>(seed, s.gene, g0 + j)) < 0.5;
          c0 = swap ? b : a;
          c1 = swap ? a : b;
          break;
        }
        case GaCrossover::one_point:
        case GaCrossover::two_point: {
          std::int64_t first = L, last = L;
          if (L > 1) {
            const auto c = std::int64_t(floor(uniform<double>(seed, s.pair, pk + 1) * double(L - 1))) + 1;
            if (p.crossover == GaCrossover::one_point) {
              first = c;
            } else {
              const auto c2 = std::int64_t(floor(uniform<double>(seed, s.pair, pk + 2) * double(L - 1))) + 1;
              first = c < c2 ? c : c2;
              last = c < c2 ? c2 : c;
            }
          }
          const bool swap = j >= first && j < last;
          c0 = swap ? b : a;
          c1 = swap ? a : b;
          break;
        }
        case GaCrossover::blx: {
          const double widen = 1.0 + 2.0 * p.alpha;
          const double mn = b < a ? b : a;  // std::min(a, b) and std::max(a, b), signed zeros included
          const double I = (a < b ? b : a) - mn;
          c0 = clip(blx_gene(mn, I, uniform<double>(seed, s.gene, g0 + j), p.alpha, widen), lo[j], hi[j]);
          c1 = clip(blx_gene(mn, I, uniform<double>(seed, s.gene, g1 + j), p.alpha, widen), lo[j], hi[j]);
          break;
        }
        case GaCrossover::arithmetic: {
          const double lam = uniform<double>(seed, s.pair, pk + 1);
          c0 = clip(lam * a + (1.0 - lam) * b, lo[j], hi[j]);  // rounding can step an ulp past a face (ga.cpp)
          c1 = clip((1.0 - lam) * a + lam * b, lo[j], hi[j]);
          break;
        }
        case GaCrossover::sbx: {
          // recombined when w < 1/2 and the parents differ; the children swap sides when w < 1/4 (as ga.cpp)
          const double w = uniform<double>(seed, s.gene, g1 + j);
          const double y1 = b < a ? b : a, y2 = a < b ? b : a;  // std::min / std::max
          if (w < 0.5 && y2 - y1 > 1e-14) {
            const double u = uniform<double>(seed, s.gene, g0 + j), dy = y2 - y1;
            const EtaPower e(p.eta_c);
            const double c_lo = clip(0.5 * ((y1 + y2) - sbx_beta_q(u, y1 - lo[j], dy, e) * dy), lo[j], hi[j]);
            const double c_hi = clip(0.5 * ((y1 + y2) + sbx_beta_q(u, hi[j] - y2, dy, e) * dy), lo[j], hi[j]);
            c0 = w < 0.25 ? c_hi : c_lo;
            c1 = w < 0.25 ? c_lo : c_hi;
          }
          break;
        }
      }
    }
    if (p.mutation != GaMutation::none) {
      c0 = mutate(seed, s, p, g0 + j, c0, lo[j], hi[j], span[j]);
      if (two) c1 = mutate(seed, s, p, g1 + j, c1, lo[j], hi[j], span[j]);
    }
    C[2 * k * L + j] = c0;
    if (two) C[(2 * k + 1) * L + j] = c1;
  });
}

}  // namespace

void pso_update(std::uint64_t seed, std::uint64_t stream_r1, std::uint64_t stream_r2, double w, double c1, double c2,
                std::int64_t n, std::int64_t d, const double* X, double* V, double* P, const std::uint8_t* improved,
                const std::int64_t* nbest, const double* vmax, const double* lo, const double* hi, int bounds,
                double* Xnew, Stream s) {
  if (n <= 0 || d <= 0) return;
  pso_kernel<<<grid_for(n * d), kThreads, 0, as_stream(s)>>>(seed, stream_r1, stream_r2, w, c1, c2, n, d, X, V, P,
                                                              improved, nbest, vmax, lo, hi, bounds, Xnew);
  check_launch("pso_update");
}

void de_trials(std::uint64_t seed, std::uint64_t stream_cr, int strategy, double CR, std::int64_t n, std::int64_t d,
               const double* X, std::int64_t best, const std::int64_t* R, const double* F, const std::int64_t* jrand,
               const double* lo, const double* hi, double* U, Stream s) {
  if (n <= 0 || d <= 0) return;
  de_kernel<<<grid_for(n * d), kThreads, 0, as_stream(s)>>>(seed, stream_cr, strategy, CR, n, d, X, best, R, F, jrand,
                                                             lo, hi, U);
  check_launch("de_trials");
}

void ga_offspring(std::uint64_t seed, GaStreams streams, const GaParams& p, std::int64_t n, std::int64_t L,
                  const double* G, const std::int64_t* parents, const double* lo, const double* hi, const double* span,
                  double* C, Stream s) {
  if (n <= 0 || L <= 0) return;
  ga_kernel<<<grid_for((n + 1) / 2 * L), kThreads, 0, as_stream(s)>>>(seed, streams, p, n, L, G, parents, lo, hi, span,
                                                                      C);
  check_launch("ga_offspring");
}

}  // namespace gfo::cuda

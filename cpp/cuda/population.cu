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
    if (v < lo[j]) v = 0.5 * (lo[j] + x);  // bounce-back (JADE)
    if (v > hi[j]) v = 0.5 * (hi[j] + x);
    U[e] = v;
  });
}


// Deb & Agrawal (1995) SBX spread factor and Deb & Goyal (1996) polynomial mutation step, as ga.cpp.
__device__ __forceinline__ double sbx_beta(double u, double inv) {
  return u <= 0.5 ? pow(2.0 * u, inv) : pow(1.0 / (2.0 * (1.0 - u)), inv);
}
__device__ __forceinline__ double poly_delta(double u, double inv) {
  return u < 0.5 ? pow(2.0 * u, inv) - 1.0 : 1.0 - pow(2.0 * (1.0 - u), inv);
}

__device__ double mutate(std::uint64_t seed, const GaStreams& s, const GaParams& p, std::uint64_t idx, double c,
                         double lo, double hi, double span) {
  if (!(double(uniform<float>(seed, s.mutate, idx)) < p.mutation_prob)) return c;  // float32 decision, as ga.cpp
  switch (p.mutation) {
    case GaMutation::gaussian: return clip(c + p.sigma * span * normal<double>(seed, s.mutation, idx), lo, hi);
    case GaMutation::polynomial:
      return clip(c + poly_delta(uniform<double>(seed, s.mutation, idx), 1.0 / (p.eta_m + 1.0)) * span, lo, hi);
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
          c0 = clip((mn - p.alpha * I) + uniform<double>(seed, s.gene, g0 + j) * (widen * I), lo[j], hi[j]);
          c1 = clip((mn - p.alpha * I) + uniform<double>(seed, s.gene, g1 + j) * (widen * I), lo[j], hi[j]);
          break;
        }
        case GaCrossover::arithmetic: {
          const double lam = uniform<double>(seed, s.pair, pk + 1);
          c0 = lam * a + (1.0 - lam) * b;
          c1 = (1.0 - lam) * a + lam * b;
          break;
        }
        case GaCrossover::sbx: {
          const double beta = sbx_beta(uniform<double>(seed, s.gene, g0 + j), 1.0 / (p.eta_c + 1.0));
          // each gene recombined with probability 1/2, decided at the second child's index (as ga.cpp)
          if (uniform<double>(seed, s.gene, g1 + j) < 0.5) {
            c0 = clip(0.5 * ((1.0 + beta) * a + (1.0 - beta) * b), lo[j], hi[j]);
            c1 = clip(0.5 * ((1.0 - beta) * a + (1.0 + beta) * b), lo[j], hi[j]);
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

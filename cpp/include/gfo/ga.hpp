// Genetic algorithm offspring: crossover of selected parent pairs and mutation, fused in one pass over
// child pairs. Selection (an O(n) index computation) happens before, in Python shared by both impls.
#pragma once
#include <cmath>
#include <cstdint>

#include "gfo/hd.hpp"

namespace gfo {

enum class GaCrossover : int { uniform = 0, one_point = 1, two_point = 2, blx = 3, arithmetic = 4, sbx = 5 };
enum class GaMutation : int { none = 0, gaussian = 1, polynomial = 2, bitflip = 3 };

// BLX-alpha: uniform in [min - alpha I, max + alpha I], widen = 1 + 2 alpha. In a box ~1e308 wide both ends can
// overflow (-inf + inf = NaN): then the same point from the other grouping, min + I (u widen - alpha), which
// overflows to one infinity at most (clipped to the box by the caller). Twin: reference/ga.py.
GFO_HD double blx_gene(double mn, double I, double u, double alpha, double widen) {
  const double c = (mn - alpha * I) + u * (widen * I);
  return c == c ? c : mn + I * (u * widen - alpha);
}

struct GaParams {
  GaCrossover crossover;
  double crossover_prob;  // probability that a pair is recombined at all
  double alpha;           // BLX-alpha
  double eta_c;           // SBX distribution index
  GaMutation mutation;
  double mutation_prob;   // per gene
  double sigma;           // Gaussian mutation, fraction of span
  double eta_m;           // polynomial mutation distribution index
};

// Streams of one generation (purposes are documented in python/gfo_native/optimizers/ga.py).
struct GaStreams {
  std::uint64_t pair;       // per pair k: index 3k (crossover or copy), 3k+1, 3k+2 (cut points / lambda)
  std::uint64_t gene;       // per child m, gene j: index m * L + j (uniform swap: float32; BLX, SBX: float64;
                            // SBX draws its recombine-this-gene decision at the second child's index)
  std::uint64_t mutate;     // per child m, gene j: index m * L + j (mutate this gene? float32)
  std::uint64_t mutation;   // per child m, gene j: index m * L + j (the mutation's value)
};

// Powers x^k and roots y^(1/k) with k = eta + 1 of SBX and polynomial mutation. The distribution indices are
// usually small integers (SBX's default 15: k = 16 = 2^4), where repeated squaring and repeated square roots
// (correctly rounded everywhere) replace pow at a fraction of its cost; the NumPy twin (reference/ga.py
// _EtaPower) runs the same operation sequence, so the paths agree bit for bit. Other k use pow.
struct EtaPower {
  double k;    // eta + 1
  int whole;   // k if it is an integer in [1, 64], else 0
  int sqrts;   // m if k = 2^m with m <= 6, else -1
  GFO_HD explicit EtaPower(double eta) : k(eta + 1.0), whole(0), sqrts(-1) {
    if (k >= 1.0 && k <= 64.0 && k == static_cast<double>(static_cast<int>(k))) {
      whole = static_cast<int>(k);
      for (int m = 0; m <= 6; ++m)
        if (whole == (1 << m)) sqrts = m;
    }
  }
  GFO_HD double raise(double x) const {  // x^k, squaring from the lowest bit up
    if (!whole) return pow(x, k);
    double r = 1.0, b = x;
    bool any = false;
    for (int e = whole; e; e >>= 1) {
      if (e & 1) r = any ? r * b : b, any = true;
      if (e >> 1) b = b * b;
    }
    return r;
  }
  GFO_HD double root(double y) const {  // y^(1/k)
    if (sqrts < 0) return pow(y, 1.0 / k);
    for (int m = 0; m < sqrts; ++m) y = sqrt(y);
    return y;
  }
};

// Children 2k and 2k+1 (when < n) of parents G[parents[2k]] and G[parents[2k+1]], written into C (n, L).
// lo, hi, span (length L) keep real genes in the box (ignored for bit-flip genomes).
void ga_offspring(std::uint64_t seed, GaStreams s, const GaParams& p, std::int64_t n, std::int64_t L,
                  const double* G, const std::int64_t* parents, const double* lo, const double* hi,
                  const double* span, double* C);

}  // namespace gfo

// Genetic algorithm offspring: crossover of selected parent pairs and mutation, fused in one pass over
// child pairs. Selection (an O(n) index computation) happens before, in Python shared by both impls.
#pragma once
#include <cstdint>

namespace gfo {

enum class GaCrossover : int { uniform = 0, one_point = 1, two_point = 2, blx = 3, arithmetic = 4, sbx = 5 };
enum class GaMutation : int { none = 0, gaussian = 1, polynomial = 2, bitflip = 3 };

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

// Children 2k and 2k+1 (when < n) of parents G[parents[2k]] and G[parents[2k+1]], written into C (n, L).
// lo, hi, span (length L) keep real genes in the box (ignored for bit-flip genomes).
void ga_offspring(std::uint64_t seed, GaStreams s, const GaParams& p, std::int64_t n, std::int64_t L,
                  const double* G, const std::int64_t* parents, const double* lo, const double* hi,
                  const double* span, double* C);

}  // namespace gfo

// Particle swarm: one fused pass per generation (personal-best refresh, velocity, clamp, position, box).
#pragma once
#include <cstdint>

namespace gfo {

enum class PsoBounds : int { clip = 0, reflect = 1 };

struct PsoCoefficients {
  double w;   // inertia weight of this generation
  double c1;  // cognitive coefficient
  double c2;  // social coefficient
};

// For every particle i (rows of the (n, d) matrices):
//   if improved[i]: P[i] = X[i]                                  (personal best)
//   G = improved[k] ? X[k] : P[k] with k = nbest[i]              (neighbourhood best, already refreshed)
//   V[i] = clip(w V[i] + c1 r1 (P[i] - X[i]) + c2 r2 (G - X[i]), -vmax, vmax)
//   Xnew[i] = X[i] + V[i], then kept in [lo, hi] by `bounds`
// r1, r2: float32 uniforms (widened to double) of streams stream_r1 / stream_r2 at index i * d + j.
// X is read-only and Xnew is separate, so rows read across particles never race with writes.
void pso_update(std::uint64_t seed, std::uint64_t stream_r1, std::uint64_t stream_r2, PsoCoefficients c,
                std::int64_t n, std::int64_t d, const double* X, double* V, double* P, const std::uint8_t* improved,
                const std::int64_t* nbest, const double* vmax, const double* lo, const double* hi, PsoBounds bounds,
                double* Xnew);

// The swarm's spread for the evolutionary state estimation of adaptive PSO (Zhan, Zhang, Li & Chung 2009):
//   S[i] = sum_j (X[i][j] - c[j])^2 with the centroid c[j] = (sum_i X[i][j]) / n,
// c summed over the rows in order and S in the fixed lane order of gfo/lanes.hpp, so that the result does not depend
// on the thread count or ISA and a NumPy twin can match it bit for bit. The mean squared distance of particle i to
// the others is
// (n S[i] + sum_k S[k]) / (n - 1), an increasing affine map of S[i]: O(n d) instead of the O(n^2 d) of all pairs.
void pso_spread(std::int64_t n, std::int64_t d, const double* X, double* S);

}  // namespace gfo

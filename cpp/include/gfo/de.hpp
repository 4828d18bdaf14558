// Differential evolution trial vectors: mutation, binomial crossover and bound repair fused per row.
#pragma once
#include <cstdint>

namespace gfo {

enum class DeStrategy : int { rand1 = 0, best1 = 1, current_to_best1 = 2 };

// Storn & Price (1997), Eq. (2)-(4), for member i with distinct partners r = R[i, 0..2] != i:
//   rand/1:            v = x[r0] + F_i (x[r1] - x[r2])
//   best/1:            v = x[best] + F_i (x[r0] - x[r1])
//   current-to-best/1: v = x[i] + F_i (x[best] - x[i]) + F_i (x[r0] - x[r1])
//   u_j = v_j if (float32 uniform(stream_cr, i * d + j) < CR or j == jrand[i]) else x[i, j]
// A coordinate of u outside [lo, hi] is set to the midpoint of the violated bound and x[i, j]
// (bounce-back, as in JADE), which keeps the trial in the box without piling points on its faces.
void de_trials(std::uint64_t seed, std::uint64_t stream_cr, DeStrategy strategy, double CR, std::int64_t n,
               std::int64_t d, const double* X, std::int64_t best, const std::int64_t* R, const double* F,
               const std::int64_t* jrand, const double* lo, const double* hi, double* U);

}  // namespace gfo

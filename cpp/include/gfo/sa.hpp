// Simulated annealing proposals for a batch of independent chains.
#pragma once
#include <cstdint>

namespace gfo {

// Y[i, j] = clip(X[i, j] + step * span[j] * z(i * d + j), lo[j], hi[j]), z the float64 normals of `stream`.
void sa_propose(std::uint64_t seed, std::uint64_t stream, double step, std::int64_t n, std::int64_t d,
                const double* X, const double* span, const double* lo, const double* hi, double* Y);

}  // namespace gfo

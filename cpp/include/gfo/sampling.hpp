// Sampling inside a box: the initial populations and random-search proposals of every optimizer.
#pragma once
#include <cstdint>

namespace gfo {

// out[i, j] = lo[j] + (hi[j] - lo[j]) * u(i * d + j), u the float64 uniform of (seed, stream).
void sample_uniform_box(std::uint64_t seed, std::uint64_t stream, const double* lo, const double* hi,
                        std::int64_t n, std::int64_t d, double* out);

// out[i, j] = clip(center[j] + scale[j] * z(i * d + j), lo[j], hi[j]), z the float64 normal of (seed, stream).
void sample_gaussian_box(std::uint64_t seed, std::uint64_t stream, const double* center, const double* scale,
                         const double* lo, const double* hi, std::int64_t n, std::int64_t d, double* out);

}  // namespace gfo

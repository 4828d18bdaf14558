// Evolution-strategy noise kernels (OpenAI-ES, Salimans et al. 2017; SNES, Schaul et al. 2011): the
// perturbations are regenerated from Philox, never stored. Noise row p of a generation is
// eps[p, j] = normal(seed, stream, p * d + j); with antithetic sampling member i uses row i / 2 with sign
// + for even i and - for odd i, otherwise member i uses row i with sign +.
#pragma once
#include <cstdint>

namespace gfo {

// out[r] = clip(mean + sigma * (s_i * eps[p_i]), lo, hi) for members i = first .. first + m - 1 (rows r = i - first).
// lo/hi may be null (no box).
void es_perturb(std::uint64_t seed, std::uint64_t stream, const double* mean, const double* sigma, const double* lo,
                const double* hi, std::int64_t first, std::int64_t m, std::int64_t d, bool antithetic, double* out);

// g1[j] = sum_p a[p] eps[p, j] and, when b and g2 are not null, g2[j] = sum_p b[p] (eps[p, j]^2 - 1), over
// noise rows p = 0 .. rows - 1, summed in increasing p (so the result does not depend on the thread count).
void es_noise_dot(std::uint64_t seed, std::uint64_t stream, const double* a, const double* b, std::int64_t rows,
                  std::int64_t d, double* g1, double* g2);

}  // namespace gfo

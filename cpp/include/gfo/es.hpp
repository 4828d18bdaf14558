// Evolution-strategy noise kernels (OpenAI-ES, Salimans et al. 2017; SNES, Schaul et al. 2011): the
// perturbations are regenerated from Philox, never stored. Noise row p of a generation is
// eps[p, j] = double(normal<float>(seed, stream, p * d + j)): float32 normals (as in the noise table of
// Salimans et al.) widened exactly to float64; with antithetic sampling member i uses row i / 2 with sign
// + for even i and - for odd i, otherwise member i uses row i with sign +.
#pragma once
#include <cstdint>

namespace gfo {

// The noise of a generation. table null: eps[p, j] = normal<float>(seed, stream, p * d + j) (Philox, regenerated).
// Otherwise the shared noise table of Salimans et al. (2017): eps[p, j] = table[offsets[p] + j], float32
// normals drawn once, row p starting at its own random offset (offsets[p] + d <= the table's length).
struct EsNoise {
  std::uint64_t seed, stream;
  const float* table;
  const std::int64_t* offsets;
};

// out[r] = clip(mean + sigma * (s_i * eps[p_i]), lo, hi) for members i = first .. first + m - 1 (rows r = i - first).
// lo/hi may be null (no box).
void es_perturb(const EsNoise& src, const double* mean, const double* sigma, const double* lo, const double* hi,
                std::int64_t first, std::int64_t m, std::int64_t d, bool antithetic, double* out);

// Search-gradient sums over the members x_p = mean + sigma * eps_p (sign +) of noise rows p < rows, in
// increasing p (rows whose coefficients are all zero skipped), so the result does not depend on the thread count:
//   g1[j] = scale * sum_p a[p] (x_p[j] - mean[j])            (divided by sigma[j]^2 when `divide`: OpenAI-ES)
//   g2[j] = sum_p b[p] (s_p[j]^2 - 1),  s_p = (x_p - mean) * (1 / sigma)   (when b and g2 are not null: SNES)
// X null: x_p is regenerated from the noise exactly as es_perturb computes it; otherwise row p is read at
// X + p * x_stride (the unclipped batch: x_stride = 2 d for antithetic pairs, d otherwise). Both give the
// same bits for the same x_p.
void es_grad(const EsNoise& src, const double* a, const double* b, std::int64_t rows, const double* mean, const double* sigma, const double* X, std::int64_t x_stride, double scale, bool divide,
             std::int64_t d, double* g1, double* g2);

}  // namespace gfo

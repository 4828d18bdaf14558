// CMA-ES kernels (Hansen, "The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772): sampling and the
// per-generation update of mean, evolution paths and covariance. The eigendecomposition of C stays in
// Python (LAPACK dsyevd, shared by the native and the reference implementation).
//
// Layout: matrices are row-major; B holds the eigenvectors of C in its columns (C = B diag(D^2) B^T).
// Every output element is computed by one thread in a fixed order, so results do not depend on the
// thread count.
#pragma once
#include <cstdint>

namespace gfo {

// Constants of one CMA-ES update (Table 1 of the tutorial; c1/cmu already scaled for the separable variant).
struct CmaParams {
  double c_sigma, d_sigma, c_c, c1, cmu, c_m, mueff, chi_n;
  std::int64_t mu;          // number of positive weights
  std::int64_t generation;  // g, for the h_sigma correction 1 - (1 - c_sigma)^(2 (g + 1))
};

struct CmaStep {
  double sigma;  // sigma after the cumulative step-size adaptation (before clamping, which Python does)
  double h_sigma;
  double ps_norm;
};

// X[k] = mean + sigma * B (D * z_k), z_k[j] = normal(seed, stream, k * n + j). work: lam * n scratch.
void cma_sample(std::uint64_t seed, std::uint64_t stream, const double* mean, double sigma, const double* B,
                const double* D, std::int64_t lam, std::int64_t n, double* X, double* work);

// One generation of the full-covariance update on the batch X (lam, n) with fitness f (finite or +inf).
// weights: lam recombination weights, the first `mu` positive, the rest negative (active CMA).
// Updates mean, p_sigma, p_c and C in place. work: at least (2 * lam + 3) * n doubles.
CmaStep cma_tell(const double* X, const double* f, std::int64_t lam, std::int64_t n, const double* weights,
                 const CmaParams& p, double* mean, double sigma, double* C, const double* B, const double* D,
                 double* p_sigma, double* p_c, double* work, std::int64_t* order);

// Separable CMA-ES (Ros & Hansen 2008): C = diag(D^2).
// X[k] = mean + sigma * D * z_k, z_k as in cma_sample.
void sep_sample(std::uint64_t seed, std::uint64_t stream, const double* mean, double sigma, const double* D,
                std::int64_t lam, std::int64_t n, double* X);

// Separable update: only the first mu weights are used (positive recombination). Updates mean, p_sigma,
// p_c, the diagonal c of C and D = sqrt(c) in place. work: 2 * n doubles.
CmaStep sep_tell(const double* X, const double* f, std::int64_t lam, std::int64_t n, const double* weights,
                 const CmaParams& p, double* mean, double sigma, double* c, double* D, double* p_sigma,
                 double* p_c, double* work, std::int64_t* order);

}  // namespace gfo

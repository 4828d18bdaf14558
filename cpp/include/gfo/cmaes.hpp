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

// What the stop criteria need of a full-covariance generation, gathered by the update at no extra pass.
struct CmaStats {
  double f_min, f_median, f_max;  // f of ranks 0, lam / 2 and lam - 1
  double pc_absmax;                // max |p_c| after the update
  double cdiag_min, cdiag_max;     // extremes of the diagonal of the updated C
  double mean_absmax;              // max |mean| after the update
};

// X[k] = mean + sigma * B (D * z_k), z_k[j] = normal(seed, stream, k * n + j), Z[k] = z_k.
// work: lam * n scratch.
void cma_sample(std::uint64_t seed, std::uint64_t stream, const double* mean, double sigma, const double* B,
                const double* D, std::int64_t lam, std::int64_t n, double* X, double* Z, double* work);

// One generation of the full-covariance update on the batch X (lam, n) sampled by cma_sample with the same
// B and D, its normals Z and fitness f (finite or +inf). Since y_k = (x_k - m) / sigma = B D z_k,
// C^{-1/2} y_k = B z_k: the evolution path and the active weights use Z instead of solving with B and D.
// weights: lam recombination weights, the first `mu` positive, the rest negative (active CMA).
// Updates mean, p_sigma, p_c and C in place. work: at least (lam + 3) * n doubles.
CmaStep cma_tell(const double* X, const double* Z, const double* f, std::int64_t lam, std::int64_t n,
                 const double* weights, const CmaParams& p, double* mean, double sigma, double* C, const double* B,
                 const double* D, double* p_sigma, double* p_c, double* work, std::int64_t* order, CmaStats* stats);

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

// Gaussian-process kernels of Bayesian optimization: Matérn-5/2 kernel matrices with ARD length scales,
// their gradient in the log length scales, and the posterior / acquisition over many candidates.
//
// Every sum runs in one fixed order (documented per function) so that results are bit-identical for any
// thread count and to the NumPy twin (python/gfo_native/reference/gp.py), which follows the same order.
// The Matérn-5/2 kernel (Rasmussen & Williams 2006, Eq. 4.17), with t_j = (x_j - y_j) / l_j:
//   r2 = sum_j t_j^2 (j ascending),  r = sqrt(r2),
//   k(x, y) = s2 * ((1 + sqrt5 r + 5/3 r2) * exp(-sqrt5 r)).
#pragma once
#include <cstdint>

namespace gfo {

// out[a * n2 + b] = k(X1[a], X2[b]); inv_ls = 1 / length scales (d,).
void gp_matern52(const double* X1, std::int64_t n1, const double* X2, std::int64_t n2, std::int64_t d,
                 const double* inv_ls, double s2, double* out);

// Gradient of the log marginal likelihood's data term in log l_j (Rasmussen & Williams Eq. 5.9) without the
// factor 1/2: sum_{a,b} W[a,b] dk(X[a], X[b])/dlog l_j with W = alpha alpha^T - Kinv, where only the strict
// lower triangle of Kinv (n, n) is read. dk/dlog l_j = 5/3 s2 (1 + sqrt5 r) exp(-sqrt5 r) t_j^2, so
//   out[j] = 2 * sum_a ( sum_{c > a} w_ac * t_acj^2 ),
//   w_ac = (alpha[a] * alpha[c] - Kinv[c, a]) * (5/3 * s2 * ((1 + sqrt5 r) * exp(-sqrt5 r))),
// inner sums over c ascending starting from 0, outer sum over a ascending starting from 0.
void gp_matern52_grad_log_ls(const double* X, std::int64_t n, std::int64_t d, const double* inv_ls, double s2,
                             const double* alpha, const double* Kinv, double* out);

// A fitted GP in the unit cube: training inputs X (n, d), L the lower Cholesky factor (n, n, row-major)
// of K + noise I, alpha = (K + noise I)^-1 (y - mean).
struct GpModel {
  const double* X;
  std::int64_t n;
  std::int64_t d;
  const double* inv_ls;
  double s2;
  double mean;
  const double* L;
  const double* alpha;
};

// Posterior at candidate c with k_i = k(X[i], c):
//   mu = mean + sum_i k_i alpha_i (i ascending, from 0),
//   v = L^-1 k by forward substitution, v_i = (k_i - sum_{j<i} L[i,j] v_j) / L[i,i] (j ascending, from k_i),
//   var = max(s2 - sum_i v_i^2, var_floor) (i ascending, from 0).
constexpr double kGpVarFloor = 1e-12;

void gp_posterior(const GpModel& gp, const double* Xc, std::int64_t m, double* mu, double* var);

// Acquisitions for minimization, larger is better; z = (best - mu - xi) / sigma.
//   log_ei: log(sigma) + log h(z), h(z) = phi(z) + z Phi(z), evaluated stably for very negative z
//           (Ament et al., "Unexpected improvements to expected improvement", NeurIPS 2023, Eq. 9);
//   ei:     sigma h(z) (underflows to 0 far from the incumbent; kept for tests);
//   ucb:    -(mu - kappa sigma) (lower confidence bound of a minimization; Srinivas et al. 2010);
//   log_pi: log Phi(z) (probability of improvement, Kushner 1964, through its logarithm).
enum class Acquisition : int { log_ei = 0, ei = 1, ucb = 2, log_pi = 3 };

// param = xi for ei / log_ei / log_pi, kappa for ucb.
void gp_acquisition(const GpModel& gp, const double* Xc, std::int64_t m, Acquisition kind, double best,
                    double param, double* out);

// Scalar helpers shared with the tests' twins: log h(z) and log Phi(z).
double gp_log_h(double z);
double gp_log_ndtr(double z);

}  // namespace gfo

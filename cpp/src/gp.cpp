#include "gfo/gp.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gfo/parallel.hpp"
#include "gfo/simd.hpp"

namespace gfo {
namespace {

// Literals equal to Python's math.sqrt(5.0), 5.0 / 3.0, ... so the NumPy twin rounds alike.
constexpr double kSqrt5 = 2.23606797749979;
constexpr double kFiveThirds = 5.0 / 3.0;
constexpr double kInvSqrt2 = 0.7071067811865476;  // sqrt(1/2)
constexpr double kInvSqrt2Pi = 0.3989422804014327;
constexpr double kSqrtPi = 1.7724538509055159;
constexpr double kLogSqrt2Pi = 0.9189385332046727;     // log(2 pi) / 2
constexpr double kLogSqrtHalfPi = 0.22579135264472744;  // log(pi / 2) / 2
constexpr double kLn2 = 0.6931471805599453;
// Candidates per block of the posterior: independent substitution chains that vectorize across candidates.
constexpr std::int64_t kBlock = 16;

inline double sq_dist(const double* x, const double* y, const double* inv_ls, std::int64_t d) {
  double r2 = 0.0;
  for (std::int64_t j = 0; j < d; ++j) {
    const double t = (x[j] - y[j]) * inv_ls[j];
    r2 += t * t;
  }
  return r2;
}

inline double matern_of_r2(double r2, double s2) {
  const double s5r = kSqrt5 * std::sqrt(r2);
  return s2 * ((1.0 + s5r + kFiveThirds * r2) * std::exp(-s5r));
}

GFO_SIMD_CLONES void matern_rows(const double* X1, std::int64_t b, std::int64_t e, const double* X2, std::int64_t n2,
                                 std::int64_t d, const double* inv_ls, double s2, double* out) {
  for (std::int64_t a = b; a < e; ++a)
    for (std::int64_t c = 0; c < n2; ++c) out[a * n2 + c] = matern_of_r2(sq_dist(X1 + a * d, X2 + c * d, inv_ls, d), s2);
}

GFO_SIMD_CLONES void grad_rows(const double* X, std::int64_t n, std::int64_t d, const double* inv_ls, double s2,
                               const double* alpha, const double* Kinv, std::int64_t b, std::int64_t e,
                               double* partial, double* t2) {
  for (std::int64_t a = b; a < e; ++a) {
    double* p = partial + a * d;
    for (std::int64_t j = 0; j < d; ++j) p[j] = 0.0;
    const double* xa = X + a * d;
    for (std::int64_t c = a + 1; c < n; ++c) {
      const double* xc = X + c * d;
      double r2 = 0.0;
      for (std::int64_t j = 0; j < d; ++j) {
        const double t = (xa[j] - xc[j]) * inv_ls[j];
        t2[j] = t * t;
        r2 += t2[j];
      }
      const double s5r = kSqrt5 * std::sqrt(r2);
      const double w = (alpha[a] * alpha[c] - Kinv[c * n + a]) * (kFiveThirds * s2 * ((1.0 + s5r) * std::exp(-s5r)));
      for (std::int64_t j = 0; j < d; ++j) p[j] += w * t2[j];
    }
  }
}

// Posterior of candidates [m0, m0 + B), B <= kBlock; kv is n * kBlock scratch.
GFO_SIMD_CLONES void posterior_block(const GpModel& gp, const double* Xc, std::int64_t m0, std::int64_t B, double* kv,
                                     double* mu, double* var) {
  const std::int64_t n = gp.n, d = gp.d;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t c = 0; c < kBlock; ++c)  // a short last block computes zeros in its unused lanes
      kv[i * kBlock + c] = c < B ? matern_of_r2(sq_dist(gp.X + i * d, Xc + (m0 + c) * d, gp.inv_ls, d), gp.s2) : 0.0;
  double acc[kBlock];
  for (std::int64_t c = 0; c < kBlock; ++c) acc[c] = 0.0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t c = 0; c < B; ++c) acc[c] += kv[i * kBlock + c] * gp.alpha[i];
  for (std::int64_t c = 0; c < B; ++c) mu[c] = gp.mean + acc[c];
  // Forward substitution L v = k, in place over kv; one chain per candidate.
  for (std::int64_t i = 0; i < n; ++i) {
    const double* Li = gp.L + i * n;
    double s[kBlock];
    for (std::int64_t c = 0; c < kBlock; ++c) s[c] = kv[i * kBlock + c];
    for (std::int64_t j = 0; j < i; ++j) {
      const double l = Li[j];
      const double* vj = kv + j * kBlock;
      for (std::int64_t c = 0; c < kBlock; ++c) s[c] -= l * vj[c];
    }
    for (std::int64_t c = 0; c < kBlock; ++c) kv[i * kBlock + c] = s[c] / Li[i];
  }
  for (std::int64_t c = 0; c < kBlock; ++c) acc[c] = 0.0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t c = 0; c < B; ++c) acc[c] += kv[i * kBlock + c] * kv[i * kBlock + c];
  for (std::int64_t c = 0; c < B; ++c) var[c] = std::max(gp.s2 - acc[c], kGpVarFloor);
}

// Scaled complementary error function erfcx(x) = exp(x^2) erfc(x) for x >= 0.
double erfcx_nonneg(double x) {
  if (x < 25.0) return std::exp(x * x) * std::erfc(x);
  // Asymptotic series (Abramowitz & Stegun 7.1.23); at x >= 25 eight terms reach double precision.
  const double q = 1.0 / (2.0 * x * x);
  double term = 1.0, sum = 1.0;
  for (int k = 1; k <= 8; ++k) {
    term = term * (-(2.0 * k - 1.0) * q);
    sum += term;
  }
  return sum / (x * kSqrtPi);
}

double log1mexp(double x) {  // log(1 - exp(x)) for x < 0 (Maechler 2012)
  return x > -kLn2 ? std::log(-std::expm1(x)) : std::log1p(-std::exp(x));
}

double acquisition_value(Acquisition kind, double mu, double var, double best, double param) {
  const double sigma = std::sqrt(var);
  if (kind == Acquisition::ucb) return -(mu - param * sigma);
  const double z = (best - mu - param) / sigma;
  switch (kind) {
    case Acquisition::log_ei:
      return gp_log_h(z) + std::log(sigma);
    case Acquisition::ei:
      return sigma * (kInvSqrt2Pi * std::exp(-0.5 * z * z) + z * (0.5 * std::erfc(-z * kInvSqrt2)));
    default:
      return gp_log_ndtr(z);
  }
}

GFO_SIMD_CLONES void acquisition_chunk(const GpModel& gp, const double* Xc, std::int64_t b, std::int64_t e,
                                       Acquisition kind, double best, double param, double* mu_out,
                                       double* var_out, double* out) {
  std::vector<double> kv(static_cast<std::size_t>(gp.n * kBlock));
  double mu[kBlock], var[kBlock];
  for (std::int64_t m0 = b; m0 < e; m0 += kBlock) {
    const std::int64_t B = std::min(kBlock, e - m0);
    posterior_block(gp, Xc, m0, B, kv.data(), mu, var);
    for (std::int64_t c = 0; c < B; ++c) {
      if (out) out[m0 + c] = acquisition_value(kind, mu[c], var[c], best, param);
      if (mu_out) mu_out[m0 + c] = mu[c];
      if (var_out) var_out[m0 + c] = var[c];
    }
  }
}

// Candidates per parallel chunk: a multiple of kBlock, so blocks never straddle chunks.
constexpr std::int64_t kCandChunk = 4 * kBlock;
// Work units (of parallel_chunks' grain) per kernel evaluation: a thread team is woken only for some
// 65k kernel evaluations or more (~1 ms); BO's small matrices stay serial, where a fork/join would cost
// more than the loop (and far more on a loaded machine).
constexpr double kGrainPerKernel = 0.25;
inline std::int64_t work(double kernels) { return static_cast<std::int64_t>(kernels * kGrainPerKernel) + 1; }

}  // namespace

double gp_log_h(double z) {
  if (z > -1.0) {
    const double phi = kInvSqrt2Pi * std::exp(-0.5 * z * z);
    return std::log(phi + z * (0.5 * std::erfc(-z * kInvSqrt2)));
  }
  const double az = -z;
  if (az < 1e3) return -0.5 * z * z - kLogSqrt2Pi + log1mexp(std::log(erfcx_nonneg(az * kInvSqrt2) * az) + kLogSqrtHalfPi);
  // h(z) = phi(z) / z^2 (1 - 3 / z^2 + O(z^-4)) for z -> -inf.
  return -0.5 * z * z - kLogSqrt2Pi - 2.0 * std::log(az) + std::log1p(-3.0 / (z * z));
}

double gp_log_ndtr(double z) {
  if (z >= 0.0) return std::log1p(-0.5 * std::erfc(z * kInvSqrt2));
  if (z > -1.0) return std::log(0.5 * std::erfc(-z * kInvSqrt2));
  return std::log(0.5 * erfcx_nonneg(-z * kInvSqrt2)) - 0.5 * z * z;
}

void gp_matern52(const double* X1, std::int64_t n1, const double* X2, std::int64_t n2, std::int64_t d,
                 const double* inv_ls, double s2, double* out) {
  const std::int64_t rows = std::max<std::int64_t>(1, 4096 / std::max<std::int64_t>(1, n2 * d));
  parallel_chunks(n1, rows, work(double(n2)),
                  [&](std::int64_t b, std::int64_t e) { matern_rows(X1, b, e, X2, n2, d, inv_ls, s2, out); });
}

void gp_matern52_grad_log_ls(const double* X, std::int64_t n, std::int64_t d, const double* inv_ls, double s2,
                             const double* alpha, const double* Kinv, double* out) {
  std::vector<double> partial(static_cast<std::size_t>(n * d));
  const std::int64_t rows = std::max<std::int64_t>(1, 4096 / std::max<std::int64_t>(1, n * d));
  parallel_chunks(n, rows, work(0.5 * double(n)), [&](std::int64_t b, std::int64_t e) {
    std::vector<double> t2(static_cast<std::size_t>(d));
    grad_rows(X, n, d, inv_ls, s2, alpha, Kinv, b, e, partial.data(), t2.data());
  });
  for (std::int64_t j = 0; j < d; ++j) out[j] = 0.0;
  for (std::int64_t a = 0; a < n; ++a)
    for (std::int64_t j = 0; j < d; ++j) out[j] += partial[a * d + j];
  for (std::int64_t j = 0; j < d; ++j) out[j] = 2.0 * out[j];
}

void gp_posterior(const GpModel& gp, const double* Xc, std::int64_t m, double* mu, double* var) {
  // per candidate: n kernels and n^2/2 multiply-adds of the substitution (~ n/16 kernels' time)
  parallel_chunks(m, kCandChunk, work(double(gp.n) * (1.0 + double(gp.n) / 16.0)), [&](std::int64_t b, std::int64_t e) {
    acquisition_chunk(gp, Xc, b, e, Acquisition::ucb, 0.0, 0.0, mu, var, nullptr);
  });
}

void gp_acquisition(const GpModel& gp, const double* Xc, std::int64_t m, Acquisition kind, double best,
                    double param, double* out) {
  parallel_chunks(m, kCandChunk, work(double(gp.n) * (1.0 + double(gp.n) / 16.0)), [&](std::int64_t b, std::int64_t e) {
    acquisition_chunk(gp, Xc, b, e, kind, best, param, nullptr, nullptr, out);
  });
}

}  // namespace gfo

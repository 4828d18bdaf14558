#include "gfo/functions.hpp"

#include <cmath>
#include <vector>

#include "gfo/parallel.hpp"
#include "gfo/rng.hpp"
#include "gfo/simd.hpp"

namespace gfo {
namespace {

constexpr double kPi = 3.141592653589793;
constexpr double kE = 2.718281828459045;

template <class T>
inline double row_value(Objective f, const T* x, std::int64_t d, const double* coef) {
  double s = 0.0;
  switch (f) {
    case Objective::sphere:
      for (std::int64_t j = 0; j < d; ++j) s += double(x[j]) * double(x[j]);
      return s;
    case Objective::ellipsoid:  // coef[j] = 10^(6 j / (d - 1))
      for (std::int64_t j = 0; j < d; ++j) s += coef[j] * (double(x[j]) * double(x[j]));
      return s;
    case Objective::rastrigin:
      for (std::int64_t j = 0; j < d; ++j) {
        const double v = x[j];
        s += v * v - 10.0 * std::cos(kTwoPi * v);
      }
      return 10.0 * double(d) + s;
    case Objective::rosenbrock:
      for (std::int64_t j = 0; j + 1 < d; ++j) {
        const double a = x[j], b = x[j + 1];
        const double t = b - a * a, u = 1.0 - a;
        s += 100.0 * (t * t) + u * u;
      }
      return s;
    case Objective::ackley: {
      double c = 0.0;
      for (std::int64_t j = 0; j < d; ++j) {
        const double v = x[j];
        s += v * v;
        c += std::cos(kTwoPi * v);
      }
      return -20.0 * std::exp(-0.2 * std::sqrt(s / double(d))) - std::exp(c / double(d)) + 20.0 + kE;
    }
    case Objective::griewank: {  // coef[j] = 1 / sqrt(j + 1)
      double p = 1.0;
      for (std::int64_t j = 0; j < d; ++j) {
        const double v = x[j];
        s += v * v;
        p *= std::cos(v * coef[j]);
      }
      return 1.0 + s / 4000.0 - p;
    }
    case Objective::schwefel:
      for (std::int64_t j = 0; j < d; ++j) {
        const double v = x[j];
        s += v * std::sin(std::sqrt(std::fabs(v)));
      }
      return 418.9828872724338 * double(d) - s;
    case Objective::levy: {
      const double w0 = 1.0 + (double(x[0]) - 1.0) / 4.0;
      const double wd = 1.0 + (double(x[d - 1]) - 1.0) / 4.0;
      const double a = std::sin(kPi * w0), c = std::sin(kTwoPi * wd);
      for (std::int64_t j = 0; j + 1 < d; ++j) {
        const double w = 1.0 + (double(x[j]) - 1.0) / 4.0;
        const double b = std::sin(kPi * w + 1.0);
        s += (w - 1.0) * (w - 1.0) * (1.0 + 10.0 * (b * b));
      }
      return a * a + s + (wd - 1.0) * (wd - 1.0) * (1.0 + c * c);
    }
    case Objective::styblinski_tang:
      for (std::int64_t j = 0; j < d; ++j) {
        const double v = x[j], v2 = v * v;
        s += v2 * v2 - 16.0 * v2 + 5.0 * v;
      }
      return 0.5 * s;
  }
  return s;
}

GFO_SIMD_CLONES void rows_serial(Objective f, const double* X, std::int64_t b, std::int64_t e, std::int64_t d,
                                 const double* coef, double* out) {
  for (std::int64_t i = b; i < e; ++i) out[i] = row_value(f, X + i * d, d, coef);
}

GFO_SIMD_CLONES void rows_serial(Objective f, const float* X, std::int64_t b, std::int64_t e, std::int64_t d,
                                 const double* coef, float* out) {
  for (std::int64_t i = b; i < e; ++i) out[i] = static_cast<float>(row_value(f, X + i * d, d, coef));
}

}  // namespace

template <class T>
void evaluate_objective(Objective f, const T* X, std::int64_t n, std::int64_t d, T* out) {
  if (d <= 0) return;
  std::vector<double> coef(static_cast<std::size_t>(d));
  for (std::int64_t j = 0; j < d; ++j) {
    coef[j] = f == Objective::ellipsoid ? (d > 1 ? std::pow(10.0, 6.0 * double(j) / double(d - 1)) : 1.0)
                                        : 1.0 / std::sqrt(double(j + 1));
  }
  const std::int64_t rows_per_chunk = d >= 4096 ? 1 : 4096 / d;
  parallel_chunks(n, rows_per_chunk, d * 4, [&](std::int64_t b, std::int64_t e) { rows_serial(f, X, b, e, d, coef.data(), out); });
}

template void evaluate_objective<float>(Objective, const float*, std::int64_t, std::int64_t, float*);
template void evaluate_objective<double>(Objective, const double*, std::int64_t, std::int64_t, double*);

}  // namespace gfo

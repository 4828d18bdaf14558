#include "gfo/functions.hpp"

#include <cmath>
#include <vector>

#include "gfo/lanes.hpp"
#include "gfo/parallel.hpp"
#include "gfo/rng.hpp"
#include "gfo/simd.hpp"
#include "gfo/vecmath.hpp"

namespace gfo {
namespace {

constexpr double kPi = 3.141592653589793;
constexpr double kE = 2.718281828459045;

// Rows are cut into tiles of kTile elements (a multiple of the Lanes of gfo/lanes.hpp, whose fixed-order sums keep
// every ISA clone and thread count on the same bits) so the transcendental terms of a tile can go through one
// vectorized pass.
constexpr int kLanes = Lanes::kCount;
constexpr std::int64_t kTile = 256;

template <class T>
inline double at(const T* x, std::int64_t j) {
  return static_cast<double>(x[j]);
}

// Visit a row of m elements tile by tile: tile(first, count) with count <= kTile.
template <class Tile>
inline void for_tiles(std::int64_t m, Tile tile) {
  for (std::int64_t j = 0; j < m; j += kTile) tile(j, m - j < kTile ? m - j : kTile);
}

template <class T>
double sphere_row(const T* x, std::int64_t d) {
  Lanes s(0.0);
  s.add(d, [&](std::int64_t j) { return at(x, j) * at(x, j); });
  return s.sum();
}

template <class T>
double ellipsoid_row(const T* x, std::int64_t d, const double* coef) {  // coef[j] = 10^(6 j / (d - 1))
  Lanes s(0.0);
  s.add(d, [&](std::int64_t j) { return coef[j] * (at(x, j) * at(x, j)); });
  return s.sum();
}

template <class T>
double rosenbrock_row(const T* x, std::int64_t d) {
  Lanes s(0.0);
  s.add(d - 1, [&](std::int64_t j) {
    const double a = at(x, j), b = at(x, j + 1);
    const double t = b - a * a, u = 1.0 - a;
    return 100.0 * (t * t) + u * u;
  });
  return s.sum();
}

template <class T>
double styblinski_tang_row(const T* x, std::int64_t d) {
  Lanes s(0.0);
  s.add(d, [&](std::int64_t j) {
    const double v = at(x, j), v2 = v * v;
    return v2 * v2 - 16.0 * v2 + 5.0 * v;
  });
  return 0.5 * s.sum();
}

template <class T>
double rastrigin_row(const T* x, std::int64_t d) {
  Lanes s(0.0);
  double a[kTile], c[kTile];
  for_tiles(d, [&](std::int64_t j0, std::int64_t m) {
    const T* xt = x + j0;
    for (std::int64_t k = 0; k < m; ++k) a[k] = kTwoPi * at(xt, k);
    vecmath::cos_n(a, c, m);
    s.add(m, [&](std::int64_t k) {
      const double v = at(xt, k);
      return v * v - 10.0 * c[k];
    });
  });
  return 10.0 * double(d) + s.sum();
}

template <class T>
double ackley_row(const T* x, std::int64_t d) {
  Lanes s(0.0), cs(0.0);
  double a[kTile], c[kTile];
  for_tiles(d, [&](std::int64_t j0, std::int64_t m) {
    const T* xt = x + j0;
    for (std::int64_t k = 0; k < m; ++k) a[k] = kTwoPi * at(xt, k);
    vecmath::cos_n(a, c, m);
    s.add(m, [&](std::int64_t k) { return at(xt, k) * at(xt, k); });
    cs.add(m, [&](std::int64_t k) { return c[k]; });
  });
  return -20.0 * std::exp(-0.2 * std::sqrt(s.sum() / double(d))) - std::exp(cs.sum() / double(d)) + 20.0 + kE;
}

template <class T>
double griewank_row(const T* x, std::int64_t d, const double* coef) {  // coef[j] = 1 / sqrt(j + 1)
  Lanes s(0.0), p(1.0);
  double a[kTile], c[kTile];
  for_tiles(d, [&](std::int64_t j0, std::int64_t m) {
    const T* xt = x + j0;
    for (std::int64_t k = 0; k < m; ++k) a[k] = at(xt, k) * coef[j0 + k];
    vecmath::cos_n(a, c, m);
    s.add(m, [&](std::int64_t k) { return at(xt, k) * at(xt, k); });
    p.mul(m, [&](std::int64_t k) { return c[k]; });
  });
  return 1.0 + s.sum() / 4000.0 - p.product();
}

template <class T>
double schwefel_row(const T* x, std::int64_t d) {
  Lanes s(0.0);
  double a[kTile], sn[kTile];
  for_tiles(d, [&](std::int64_t j0, std::int64_t m) {
    const T* xt = x + j0;
    for (std::int64_t k = 0; k < m; ++k) a[k] = std::sqrt(std::fabs(at(xt, k)));
    vecmath::sin_n(a, sn, m);
    s.add(m, [&](std::int64_t k) { return at(xt, k) * sn[k]; });
  });
  return 418.9828872724338 * double(d) - s.sum();
}

template <class T>
double levy_row(const T* x, std::int64_t d) {
  const auto w_of = [](double v) { return 1.0 + (v - 1.0) / 4.0; };
  const double w0 = w_of(at(x, 0)), wd = w_of(at(x, d - 1));
  const double a0 = std::sin(kPi * w0), cd = std::sin(kTwoPi * wd);
  Lanes s(0.0);
  double a[kTile], sn[kTile];
  for_tiles(d - 1, [&](std::int64_t j0, std::int64_t m) {
    const T* xt = x + j0;
    for (std::int64_t k = 0; k < m; ++k) a[k] = kPi * w_of(at(xt, k)) + 1.0;
    vecmath::sin_n(a, sn, m);
    s.add(m, [&](std::int64_t k) {
      const double w = w_of(at(xt, k));
      return (w - 1.0) * (w - 1.0) * (1.0 + 10.0 * (sn[k] * sn[k]));
    });
  });
  return a0 * a0 + s.sum() + (wd - 1.0) * (wd - 1.0) * (1.0 + cd * cd);
}

// One switch per chunk of rows, then a tight loop over them (each case is inlined into every clone).
template <class T, class Row>
inline void rows(const T* X, std::int64_t b, std::int64_t e, std::int64_t d, T* out, Row row) {
  for (std::int64_t i = b; i < e; ++i) out[i] = static_cast<T>(row(X + i * d));
}

template <class T>
inline void rows_of(Objective f, const T* X, std::int64_t b, std::int64_t e, std::int64_t d, const double* coef,
                    T* out) {
  switch (f) {
    case Objective::sphere: return rows(X, b, e, d, out, [&](const T* x) { return sphere_row(x, d); });
    case Objective::ellipsoid: return rows(X, b, e, d, out, [&](const T* x) { return ellipsoid_row(x, d, coef); });
    case Objective::rastrigin: return rows(X, b, e, d, out, [&](const T* x) { return rastrigin_row(x, d); });
    case Objective::rosenbrock: return rows(X, b, e, d, out, [&](const T* x) { return rosenbrock_row(x, d); });
    case Objective::ackley: return rows(X, b, e, d, out, [&](const T* x) { return ackley_row(x, d); });
    case Objective::griewank: return rows(X, b, e, d, out, [&](const T* x) { return griewank_row(x, d, coef); });
    case Objective::schwefel: return rows(X, b, e, d, out, [&](const T* x) { return schwefel_row(x, d); });
    case Objective::levy: return rows(X, b, e, d, out, [&](const T* x) { return levy_row(x, d); });
    case Objective::styblinski_tang:
      return rows(X, b, e, d, out, [&](const T* x) { return styblinski_tang_row(x, d); });
  }
}

GFO_SIMD_CLONES void rows_serial(Objective f, const double* X, std::int64_t b, std::int64_t e, std::int64_t d,
                                 const double* coef, double* out) {
  rows_of(f, X, b, e, d, coef, out);
}

GFO_SIMD_CLONES void rows_serial(Objective f, const float* X, std::int64_t b, std::int64_t e, std::int64_t d,
                                 const double* coef, float* out) {
  rows_of(f, X, b, e, d, coef, out);
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

// sin and cos written so that GCC vectorizes the loops calling them (libm's are opaque scalar calls).
//
// Method (Cody & Waite argument reduction, fdlibm kernels): a = n pi/2 + r with |r| <~ pi/4, where
// pi/2 is split into pio2_1 (31 bits) + pio2_2 (32 bits) + pio2_2t so that n*pio2_1 and n*pio2_2
// are exact for |n| < 2^21; then sin r and cos r by the minimax polynomials of fdlibm's
// __kernel_sin / __kernel_cos (Sun Microsystems, 1993), both below 1 ulp on [-pi/4, pi/4], and the
// quadrant n mod 4 picks one of them and its sign by bit operations (no branches, no integer
// compares, so even the SSE2 baseline vectorizes). Only +, -, * and exact bit operations are used:
// with -ffp-contract=off every ISA clone gives the same bits. |a| > kTrigMax, inf and NaN go to libm.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace gfo {
namespace vecmath {

constexpr double kTrigMax = 1.0e6;  // |n| <= 2^20 here, so the reduction products stay exact

inline std::uint64_t bits_of(double x) {
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

inline double from_bits(std::uint64_t u) {
  double x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// sin(r) and cos(r) for |r| <= pi/4 (fdlibm k_sin.c, k_cos.c with a zero tail).
inline double sin_poly(double r) {
  const double z = r * r, v = z * r;
  const double p = 8.33333333332248946124e-03 +
                   z * (-1.98412698298579493134e-04 +
                        z * (2.75573137070700676789e-06 + z * (-2.50507602534068634195e-08 + z * 1.58969099521155010221e-10)));
  return r + v * (-1.66666666666666324348e-01 + z * p);
}

inline double cos_poly(double r) {
  const double z = r * r, w2 = z * z;
  const double p = z * (4.16666666666666019037e-02 + z * (-1.38888888888741095749e-03 + z * 2.48015872894767294178e-05)) +
                   w2 * w2 * (-2.75573143513906633035e-07 + z * (2.08757232129817482790e-09 + z * -1.13596475577881948265e-11));
  const double hz = 0.5 * z, w = 1.0 - hz;
  return w + (((1.0 - w) - hz) + z * p);  // 1 - z/2 carried with its rounding error
}

// sin(a + shift * pi/2) for |a| <= kTrigMax: shift 0 gives sin, 1 gives cos.
inline double sin_shifted(double a, std::uint64_t shift) {
  constexpr double kRound = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer in the low bits
  const double t = a * 6.36619772367581382433e-01 + kRound;
  const double n = t - kRound;
  const double r = ((a - n * 1.57079632673412561417e+00) - n * 6.07710050630396597660e-11) - n * 2.02226624879595063154e-21;
  const std::uint64_t q = bits_of(t) + shift;            // low two bits: quadrant n + shift mod 4
  const std::uint64_t use_cos = 0 - (q & 1);              // all ones in odd quadrants
  const std::uint64_t v = (bits_of(cos_poly(r)) & use_cos) | (bits_of(sin_poly(r)) & ~use_cos);
  return from_bits(v ^ ((q & 2) << 62));                 // quadrants 2, 3: negate
}

inline bool trig_fast_ok(double a) { return std::fabs(a) <= kTrigMax; }  // false for inf and NaN

// out[k] = sin(a[k]) (shift 0) or cos(a[k]) (shift 1), k < m: a vectorized pass, then libm for the rare
// arguments outside the reduction's range.
inline void sin_shifted_n(const double* a, double* out, std::int64_t m, std::uint64_t shift) {
  std::uint64_t outside = 0;
  for (std::int64_t k = 0; k < m; ++k) {
    out[k] = sin_shifted(a[k], shift);
    outside |= static_cast<std::uint64_t>(!trig_fast_ok(a[k]));
  }
  if (outside) {
    for (std::int64_t k = 0; k < m; ++k)
      if (!trig_fast_ok(a[k])) out[k] = shift ? std::cos(a[k]) : std::sin(a[k]);
  }
}

inline void sin_n(const double* a, double* out, std::int64_t m) { sin_shifted_n(a, out, m, 0); }
inline void cos_n(const double* a, double* out, std::int64_t m) { sin_shifted_n(a, out, m, 1); }

}  // namespace vecmath
}  // namespace gfo

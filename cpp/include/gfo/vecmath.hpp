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

#include "gfo/bits.hpp"
#include "gfo/hd.hpp"

namespace gfo {
namespace vecmath {

constexpr double kTrigMax = 1.0e6;  // |n| <= 2^20 here, so the reduction products stay exact

// sin(r) and cos(r) for |r| <= pi/4 (fdlibm k_sin.c, k_cos.c with a zero tail).
GFO_HD double sin_poly(double r) {
  const double z = r * r, v = z * r;
  const double p = 8.33333333332248946124e-03 +
                   z * (-1.98412698298579493134e-04 +
                        z * (2.75573137070700676789e-06 + z * (-2.50507602534068634195e-08 + z * 1.58969099521155010221e-10)));
  return r + v * (-1.66666666666666324348e-01 + z * p);
}

GFO_HD double cos_poly(double r) {
  const double z = r * r, w2 = z * z;
  const double p = z * (4.16666666666666019037e-02 + z * (-1.38888888888741095749e-03 + z * 2.48015872894767294178e-05)) +
                   w2 * w2 * (-2.75573143513906633035e-07 + z * (2.08757232129817482790e-09 + z * -1.13596475577881948265e-11));
  const double hz = 0.5 * z, w = 1.0 - hz;
  return w + (((1.0 - w) - hz) + z * p);  // 1 - z/2 carried with its rounding error
}

// sin(a + shift * pi/2) for |a| <= kTrigMax: shift 0 gives sin, 1 gives cos.
GFO_HD double sin_shifted(double a, std::uint64_t shift) {
  constexpr double kRound = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer in the low bits
  const double t = a * 6.36619772367581382433e-01 + kRound;
  const double n = t - kRound;
  const double r = ((a - n * 1.57079632673412561417e+00) - n * 6.07710050630396597660e-11) - n * 2.02226624879595063154e-21;
  const std::uint64_t q = bits_of(t) + shift;            // low two bits: quadrant n + shift mod 4
  const std::uint64_t use_cos = 0 - (q & 1);              // all ones in odd quadrants
  const std::uint64_t v = (bits_of(cos_poly(r)) & use_cos) | (bits_of(sin_poly(r)) & ~use_cos);
  return from_bits(v ^ ((q & 2) << 62));                 // quadrants 2, 3: negate
}

GFO_HD bool trig_fast_ok(double a) { return std::fabs(a) <= kTrigMax; }  // false for inf and NaN

// sin a and cos a together, for |a| <= kTrigMax (one reduction, both polynomials).
GFO_HD void sincos(double a, double& s, double& c) {
  constexpr double kRound = 6755399441055744.0;
  const double t = a * 6.36619772367581382433e-01 + kRound;
  const double n = t - kRound;
  const double r = ((a - n * 1.57079632673412561417e+00) - n * 6.07710050630396597660e-11) - n * 2.02226624879595063154e-21;
  const std::uint64_t q = bits_of(t), odd = 0 - (q & 1);
  const std::uint64_t ps = bits_of(sin_poly(r)), pc = bits_of(cos_poly(r));
  s = from_bits(((pc & odd) | (ps & ~odd)) ^ ((q & 2) << 62));              // sin: quadrants 2, 3 negative
  c = from_bits(((ps & odd) | (pc & ~odd)) ^ (((q + 1) & 2) << 62));        // cos: quadrants 1, 2 negative
}

// Natural log of a positive, normal, finite x (fdlibm e_log.c: x = 2^k m, m in [sqrt(2)/2, sqrt(2)),
// log(1 + f) = 2 atanh(f / (2 + f)) by a minimax polynomial in s = f / (2 + f); below 1 ulp). Zero,
// subnormals, negatives, inf and NaN are not handled: callers pass uniforms in (0, 1).
GFO_HD double log_positive(double x) {
  // Move the exponent so that mantissas above sqrt(2) count to the next power of two.
  std::uint64_t u = bits_of(x) + (static_cast<std::uint64_t>(0x3ff00000 - 0x3fe6a09e) << 32);
  // k as a double without an int64 -> double conversion (not vectorizable before AVX-512):
  const double k = from_bits((static_cast<std::uint64_t>(0x433) << 52) | (u >> 52)) - 0x1p52 - 1023.0;
  u = (u & 0x000fffffffffffffull) + (static_cast<std::uint64_t>(0x3fe6a09e) << 32);
  const double f = from_bits(u) - 1.0;
  const double hfsq = 0.5 * f * f, s = f / (2.0 + f), z = s * s, w = z * z;
  const double t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
  const double t2 = z * (6.666666666666735130e-01 +
                         w * (2.857142874366239149e-01 + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
  const double R = t2 + t1;
  return k * 6.93147180369123816490e-01 - ((hfsq - (s * (hfsq + R) + k * 1.90821492927058770002e-10)) - f);
}

// Box-Muller (as gfo::box_muller in rng.hpp) with the log, sin and cos above: the bulk normal fills of the
// CPU (cpp/src/rng.cpp) and of CUDA (cpp/cuda/rng.cu) both use it, so they give the same bits.
GFO_HD void box_muller(double u1, double u2, double& z0, double& z1) {
  const double r = std::sqrt(-2.0 * log_positive(u1));
  double s, c;
  sincos(6.283185307179586 * u2, s, c);
  z0 = r * c;
  z1 = r * s;
}

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

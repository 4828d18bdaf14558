// Float32 Box-Muller on a pair of Philox words: the contract for float32 normals (gfo/rng.hpp).
//
// The uniforms are u = N 2^-24 with N = 2 (w >> 9) + 1 odd, so both halves need no general-purpose libm:
//   log u1: u1 = 2^k m with m in [sqrt(2)/2, sqrt(2)) read from the bits, f = m - 1 exact (Sterbenz),
//           log(1 + f) = f + f^2 Q(f) with Q of degree 8 (weighted least-squares fit to the relative
//           error, coefficients rounded to float32 one at a time), plus k ln 2 split into an exact part.
//   2 pi u2: quadrant q = round(4 u2) is integer work on N2, leaving t = u2 - q/4 = j 2^-24 exactly
//           (|j| < 2^21, no Cody-Waite reduction); sin(2 pi t) = t S(t^2) (degree 7) and
//           cos(2 pi t) = 1 + t^2 C(t^2) (degree 8), fitted like Q on t in [-1/8, 1/8]; q mod 4 swaps
//           and negates them by bit selects.
// Measured over all 2^23 values of each uniform against float64: log u1 within 0.91 float32 ulp,
// r = sqrt(-2 log u1) within 1.02 ulp, sin and cos within 1.6 ulp, so z within about 3 ulps.
//
// Only +, -, *, sqrt (IEEE, correctly rounded), exact int32 <-> float conversions and bit operations, in a
// fixed order and without branches: with -ffp-contract=off (C++, every ISA clone) and --fmad=false (CUDA)
// every platform gives the same bits, and so does the NumPy twin (gfo_native/reference/rng.py), and GCC
// vectorizes loops over it (8 lanes with AVX2).
#pragma once
#include <cmath>
#include <cstdint>

#include "gfo/bits.hpp"
#include "gfo/hd.hpp"

namespace gfo {
namespace normal32 {

// The numerator N of the float32 uniform of a word (odd, below 2^24), as a signed int so conversions vectorize.
GFO_HD std::int32_t uniform_numerator(std::uint32_t w) { return static_cast<std::int32_t>(((w >> 9) << 1) | 1u); }

// log u for u = N 2^-24, N odd in [1, 2^24) (any positive normal float32 works; callers pass uniforms).
GFO_HD float log_uniform(float u) {
  // Shift the exponent so that mantissas at or above sqrt(2) (0x3f3504f3) count to the next power of two.
  const std::uint32_t b = bits_of(u) + (0x3f800000u - 0x3f3504f3u);
  const float k = static_cast<float>(static_cast<std::int32_t>(b >> 23) - 127);
  const float f = from_bits((b & 0x007fffffu) + 0x3f3504f3u) - 1.0f;
  // Q(f) = -1/2 + f R(f), R of degree 7 by Estrin's scheme: short dependency chains keep more vectors in flight.
  const float f2 = f * f, f4 = f2 * f2;
  const float R = ((0x1.555564p-2f + -0x1.00023cp-2f * f) + f2 * (0x1.99986p-3f + -0x1.54679p-3f * f)) +
                  f4 * ((0x1.236438p-3f + -0x1.0e6826p-3f * f) + f2 * (0x1.025beap-3f + -0x1.2d3636p-4f * f));
  const float p = f + f2 * (-0.5f + f * R);
  // ln 2 = kLn2Hi + kLn2Lo, kLn2Hi with 16 significant bits, so k kLn2Hi is exact for |k| < 2^8.
  return k * 0x1.62e4p-1f + (k * 0x1.7f7d1cp-20f + p);
}

// sin and cos of 2 pi N 2^-24 for N in [0, 2^24].
GFO_HD void sincos_turn(std::int32_t n, float& s, float& c) {
  const std::int32_t q = (n + (1 << 21)) >> 22;                  // round(4 u): the quadrant, 0..4
  const float t = static_cast<float>(n - (q << 22)) * 0x1p-24f;  // u - q/4 in [-1/8, 1/8], exact
  const float z = t * t, z2 = z * z;
  const float sp = t * (0x1.921fb6p+2f + z * ((-0x1.4abbecp+5f + z * 0x1.466b22p+6f) + z2 * -0x1.2f5a1ep+6f));
  const float cp = 1.0f + z * ((-0x1.3bd3ccp+4f + z * 0x1.03c1b8p+6f) + z2 * (-0x1.55b7cep+6f + z * 0x1.d684a8p+5f));
  const std::uint32_t qu = static_cast<std::uint32_t>(q);
  const std::uint32_t odd = 0u - (qu & 1u);  // all ones in odd quadrants: sin and cos swap
  const std::uint32_t bs = bits_of(sp), bc = bits_of(cp);
  s = from_bits(((bc & odd) | (bs & ~odd)) ^ ((qu & 2u) << 30));         // sin < 0 in quadrants 2, 3
  c = from_bits(((bs & odd) | (bc & ~odd)) ^ (((qu + 1u) & 2u) << 30));  // cos < 0 in quadrants 1, 2
}

// The normal pair of the word pair (w1, w2): z0 = r cos(2 pi u2), z1 = r sin(2 pi u2), r = sqrt(-2 log u1).
GFO_HD void box_muller(std::uint32_t w1, std::uint32_t w2, float& z0, float& z1) {
  const float u1 = static_cast<float>(uniform_numerator(w1)) * 0x1p-24f;
  const float r = std::sqrt(-2.0f * log_uniform(u1));
  float s, c;
  sincos_turn(uniform_numerator(w2), s, c);
  z0 = r * c;
  z1 = r * s;
}

// The 4 kBlocks normals of kBlocks consecutive Philox blocks given lane by lane (word j of block l in cj[l],
// as gfo::philox_lanes makes them), in stream order: out[4 l + 2 h + i] is z_i of the pair of words
// (2 h, 2 h + 1) of block l. Computing the pairs lane by lane and interleaving afterwards keeps the
// Box-Muller loop on contiguous vectors. Host only (the bulk CPU paths: fill_normal<float>, the zo kernels).
template <int kBlocks>
inline void box_muller_lanes(const std::uint32_t* __restrict c0, const std::uint32_t* __restrict c1,
                             const std::uint32_t* __restrict c2, const std::uint32_t* __restrict c3,
                             float* __restrict out) {
  float z0[kBlocks], z1[kBlocks], z2[kBlocks], z3[kBlocks];
  for (int l = 0; l < kBlocks; ++l) {
    box_muller(c0[l], c1[l], z0[l], z1[l]);
    box_muller(c2[l], c3[l], z2[l], z3[l]);
  }
  for (int l = 0; l < kBlocks; ++l) {
    out[4 * l] = z0[l];
    out[4 * l + 1] = z1[l];
    out[4 * l + 2] = z2[l];
    out[4 * l + 3] = z3[l];
  }
}

}  // namespace normal32
}  // namespace gfo

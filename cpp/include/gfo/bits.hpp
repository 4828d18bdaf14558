// The bits of a float or double and back, in host and CUDA code alike (the branch-free math of
// gfo/vecmath.hpp and gfo/normal32.hpp works on exponent and mantissa fields directly).
#pragma once
#include <cstdint>
#include <cstring>

#include "gfo/hd.hpp"

namespace gfo {

GFO_HD std::uint32_t bits_of(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}

GFO_HD float from_bits(std::uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
#endif
}

GFO_HD std::uint64_t bits_of(double x) {
#if defined(__CUDA_ARCH__)
  return static_cast<std::uint64_t>(__double_as_longlong(x));
#else
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}

GFO_HD double from_bits(std::uint64_t u) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(static_cast<long long>(u));
#else
  double x;
  std::memcpy(&x, &u, sizeof x);
  return x;
#endif
}

// float32 -> bfloat16 bits, rounded to nearest (ties to even); every NaN becomes the one quiet NaN 0x7FC0
// (torch's). Integer operations only, so the CPU and CUDA kernels agree.
GFO_HD std::uint16_t float_to_bf16(float x) {
  const std::uint32_t b = bits_of(x);
  const bool nan = (b & 0x7FFFFFFFu) > 0x7F800000u;
  return static_cast<std::uint16_t>(nan ? 0x7FC0u : (b + 0x7FFFu + ((b >> 16) & 1u)) >> 16);
}

GFO_HD float bf16_to_float(std::uint16_t h) { return from_bits(static_cast<std::uint32_t>(h) << 16); }

// Round a float32 to the nearest bfloat16, returned as a float32 holding that value.
GFO_HD float round_bf16(float x) { return bf16_to_float(float_to_bf16(x)); }

// All-ones when c holds, else zero: selects by masks, which compilers vectorize where a ?: over values computed
// with float operations (that may trap) stays a branch.
GFO_HD std::uint32_t mask_if(bool c) { return 0u - static_cast<std::uint32_t>(c); }
GFO_HD std::uint32_t bit_select(std::uint32_t mask, std::uint32_t a, std::uint32_t b) {
  return (a & mask) | (b & ~mask);
}

// IEEE binary16 -> float32 (exact): subnormals as m 2^-24, an exact float product.
GFO_HD float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
  const std::uint32_t sub = bits_of(static_cast<float>(static_cast<std::int32_t>(m)) * 0x1p-24f);
  const std::uint32_t normal = ((e + 112u) << 23) | (m << 13), special = 0x7F800000u | (m << 13);
  return from_bits(sign | bit_select(mask_if(e == 0), sub, bit_select(mask_if(e == 31), special, normal)));
}

// float32 -> binary16 bits, rounded to nearest (ties to even), overflow to infinity, every NaN to the quiet NaN
// 0x7E00 with its sign (torch's scalar conversion). Without branches, so loops over it vectorize:
//   normal results: rebias the exponent (127 - 15) and round the 13 dropped mantissa bits by integer addition
//     (a carry into the exponent is the correct result);
//   below 2^-14: |x| + 0.5 has a float32 ulp of 2^-24, the binary16 subnormal step, so the float addition itself
//     rounds |x| to a whole number of steps, read from the mantissa (1024 steps is 2^-14, the smallest normal);
//   |x| >= 65520 (the midpoint above the largest finite value 65504, which ties to even upwards): infinity.
GFO_HD std::uint16_t float_to_half(float x) {
  const std::uint32_t b = bits_of(x);
  const std::uint32_t sign = (b >> 16) & 0x8000u, a = b & 0x7FFFFFFFu;
  const std::uint32_t sub = bits_of(from_bits(a) + 0.5f) - 0x3F000000u;
  const std::uint32_t normal = (a - 0x38000000u + 0xFFFu + ((a >> 13) & 1u)) >> 13;
  const std::uint32_t finite = bit_select(mask_if(a < 0x38800000u), sub, normal);
  const std::uint32_t big = bit_select(mask_if(a >= 0x477FF000u), 0x7C00u, finite);
  const std::uint32_t h = bit_select(mask_if(a > 0x7F800000u), 0x7E00u, big);
  return static_cast<std::uint16_t>(sign | h);
}

// Storage tags of the reduced-precision float types (memory holds their uint16 bits).
struct Bfloat16 {};
struct Float16 {};

}  // namespace gfo

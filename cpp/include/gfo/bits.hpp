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

// Round a float32 to the nearest bfloat16 (ties to even), returned as a float32 holding that value; every
// NaN becomes the one quiet NaN 0x7FC00000. Integer operations only, so the CPU and CUDA kernels agree.
GFO_HD float round_bf16(float x) {
  const std::uint32_t b = bits_of(x);
  const bool nan = (b & 0x7FFFFFFFu) > 0x7F800000u;
  const std::uint32_t r = (b + 0x7FFFu + ((b >> 16) & 1u)) & 0xFFFF0000u;
  return from_bits(nan ? 0x7FC00000u : r);
}

}  // namespace gfo

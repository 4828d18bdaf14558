#include "gfo/population.hpp"

#include <cstring>

#include "gfo/simd.hpp"

namespace gfo {
namespace {

// bits_to_uniform64 without an integer-to-double conversion (none in AVX2 for 64-bit lanes):
// with x < 2^52, the double with exponent 0 and mantissa x is 1 + x 2^-52 exactly, minus 1 is x 2^-52
// (Sterbenz), plus 2^-53 is (2x + 1) 2^-53, representable, hence exact: the same bits as rng.hpp.
inline double to_uniform(std::uint32_t lo, std::uint32_t hi) {
  const std::uint64_t x = ((static_cast<std::uint64_t>(hi) << 32) | lo) >> 12;
  const std::uint64_t bits = 0x3FF0000000000000ull | x;
  double one_plus;
  std::memcpy(&one_plus, &bits, sizeof one_plus);
  return (one_plus - 1.0) + 1.1102230246251565e-16;
}

// bits_to_uniform32 widened to double, via a signed conversion (2x + 1 < 2^24: exact either way), which
// SIMD units have for 32-bit lanes.
inline double to_uniform32(std::uint32_t w) {
  return static_cast<double>(static_cast<std::int32_t>(2u * (w >> 9) + 1u)) * 5.9604644775390625e-08;
}

}  // namespace

GFO_SIMD_CLONES void uniform_segment(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, std::int64_t n,
                                     double* out) {
  if (n <= 0) return;
  constexpr std::int64_t kBlocks = kSegment / 2 + 1;
  std::uint32_t c0[kBlocks], c1[kBlocks], c2[kBlocks], c3[kBlocks];
  const std::uint64_t b0 = first >> 1;
  philox_lanes(seed, stream, b0, static_cast<std::int64_t>(((first + static_cast<std::uint64_t>(n) - 1) >> 1) - b0 + 1),
               c0, c1, c2, c3);
  std::int64_t t = 0, l = 0;
  if (first & 1) out[t++] = to_uniform(c2[l], c3[l]), ++l;
  for (; t + 1 < n; t += 2, ++l) {
    out[t] = to_uniform(c0[l], c1[l]);
    out[t + 1] = to_uniform(c2[l], c3[l]);
  }
  if (t < n) out[t] = to_uniform(c0[l], c1[l]);
}

GFO_SIMD_CLONES void uniform32_segment(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, std::int64_t n,
                                       double* out) {
  if (n <= 0) return;
  constexpr std::int64_t kBlocks = 2 * kSegment / 4 + 2;
  std::uint32_t c0[kBlocks], c1[kBlocks], c2[kBlocks], c3[kBlocks];
  const std::uint64_t b0 = first >> 2;
  philox_lanes(seed, stream, b0, static_cast<std::int64_t>(((first + static_cast<std::uint64_t>(n) - 1) >> 2) - b0 + 1),
               c0, c1, c2, c3);
  // ragged head up to a block boundary, then whole blocks (a straight copy the compiler vectorises), then the tail
  std::int64_t t = 0;
  const int head = static_cast<int>(first & 3);
  if (head) {
    const std::uint32_t w[4] = {c0[0], c1[0], c2[0], c3[0]};
    for (int k = head; k < 4 && t < n; ++k) out[t++] = to_uniform32(w[k]);
  }
  std::int64_t l = head ? 1 : 0;
  for (; t + 4 <= n; t += 4, ++l) {
    out[t] = to_uniform32(c0[l]);
    out[t + 1] = to_uniform32(c1[l]);
    out[t + 2] = to_uniform32(c2[l]);
    out[t + 3] = to_uniform32(c3[l]);
  }
  if (t < n) {
    const std::uint32_t w[4] = {c0[l], c1[l], c2[l], c3[l]};
    for (int k = 0; t < n; ++k) out[t++] = to_uniform32(w[k]);
  }
}

}  // namespace gfo

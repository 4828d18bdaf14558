// Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy as 1, 2, 3", SC'11).
//
// The one random-number contract of gfo_native (DESIGN.md): every number is a pure function of
// (seed, stream, index). Key = the 64-bit seed (k0 = low word, k1 = high word); counter =
// (block low, block high, stream low, stream high). Block b yields four 32-bit words, word j of a
// stream is word j % 4 of block j / 4.
//
// Bits to floats (exact, in the open interval (0, 1), identical in C++, CUDA and NumPy):
//   float32 uniform i: x = word[i] >> 9 (23 bits),                       u = (2x + 1) * 2^-24
//   float64 uniform i: x = (word[2i+1] << 32 | word[2i]) >> 12 (52 bits), u = (2x + 1) * 2^-53
// Normals by Box-Muller on consecutive uniform pairs (u1, u2) = (u[2k], u[2k+1]):
//   r = sqrt(-2 log u1);  z[2k] = r cos(2 pi u2);  z[2k+1] = r sin(2 pi u2)
// float64 normals: the float64 uniforms, computed in float64 (libm in normal<double>, the vectorizable
// polynomials of gfo/vecmath.hpp in fill_normal<double>).
// float32 normals: the float32 uniforms, computed in float32 by the fixed polynomials of gfo/normal32.hpp
// (+, -, *, sqrt and bit operations only): the same bits in normal<float>, fill_normal<float>, the zo
// kernels, CUDA and NumPy, within about 3 float32 ulps of the exact value.
#pragma once
#include <climits>
#include <cmath>
#include <cstdint>

#include "gfo/hd.hpp"
#include "gfo/normal32.hpp"

// Hand-vectorized Philox lanes for x86-64 with GCC or Clang (runtime-checked, see philox_lanes);
// CUDA translation units and other compilers/architectures use the portable loop.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__CUDACC__)
#define GFO_PHILOX_AVX2 1
#include <immintrin.h>
#else
#define GFO_PHILOX_AVX2 0
#endif

namespace gfo {

struct Words4 {
  std::uint32_t w[4];
};

constexpr std::uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr std::uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr std::uint32_t kPhiloxW0 = 0x9E3779B9u;  // golden ratio
constexpr std::uint32_t kPhiloxW1 = 0xBB67AE85u;  // sqrt(3) - 1

// The raw block function on (counter, key): checked against the Random123 known-answer vectors.
GFO_HD Words4 philox4x32_10(Words4 ctr, std::uint32_t k0, std::uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(kPhiloxM0) * ctr.w[0];
    const std::uint64_t p1 = static_cast<std::uint64_t>(kPhiloxM1) * ctr.w[2];
    const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    const std::uint32_t hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    ctr = Words4{{hi1 ^ ctr.w[1] ^ k0, lo1, hi0 ^ ctr.w[3] ^ k1, lo0}};
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  return ctr;
}

GFO_HD Words4 philox_block(std::uint64_t seed, std::uint64_t stream, std::uint64_t block) {
  return philox4x32_10(Words4{{static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32),
                               static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32)}},
                       static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
}

// Blocks b0 .. b0 + nb - 1 of a stream computed lane by lane (structure of arrays), so that the rounds
// vectorize: output word j of block b0 + l lands in cj[l]. Same bits as philox_block. This portable loop
// is the whole generator on non-x86 CPUs and the tail (< 8 blocks) of the AVX2 path below.
inline void philox_lanes_portable(std::uint64_t seed, std::uint64_t stream, std::uint64_t b0, std::int64_t nb,
                                  std::uint32_t* __restrict c0, std::uint32_t* __restrict c1,
                                  std::uint32_t* __restrict c2, std::uint32_t* __restrict c3) {
  for (std::int64_t l = 0; l < nb; ++l) {
    const std::uint64_t b = b0 + static_cast<std::uint64_t>(l);
    c0[l] = static_cast<std::uint32_t>(b);
    c1[l] = static_cast<std::uint32_t>(b >> 32);
    c2[l] = static_cast<std::uint32_t>(stream);
    c3[l] = static_cast<std::uint32_t>(stream >> 32);
  }
  std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    for (std::int64_t l = 0; l < nb; ++l) {
      const std::uint64_t p0 = static_cast<std::uint64_t>(kPhiloxM0) * c0[l];
      const std::uint64_t p1 = static_cast<std::uint64_t>(kPhiloxM1) * c2[l];
      const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1[l] ^ k0;
      const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3[l] ^ k1;
      c1[l] = static_cast<std::uint32_t>(p1);
      c3[l] = static_cast<std::uint32_t>(p0);
      c0[l] = n0;
      c2[l] = n2;
    }
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
}

inline void philox_words_portable(std::uint64_t seed, std::uint64_t stream, std::uint64_t b0, std::int64_t nb,
                                  std::uint32_t* __restrict w) {
  constexpr std::int64_t kLanes = 32;
  std::uint32_t c[4][kLanes];
  for (std::int64_t l0 = 0; l0 < nb; l0 += kLanes) {
    const std::int64_t m = nb - l0 < kLanes ? nb - l0 : kLanes;
    philox_lanes_portable(seed, stream, b0 + static_cast<std::uint64_t>(l0), m, c[0], c[1], c[2], c[3]);
    for (std::int64_t l = 0; l < m; ++l)
      for (int j = 0; j < 4; ++j) w[4 * (l0 + l) + j] = c[j][l];
  }
}

#if GFO_PHILOX_AVX2
// One Philox round on kVec vectors of 8 blocks (word j of the blocks in xj[v]): _mm256_mul_epu32 forms the
// four 64-bit products of the even lanes, a second one those of the odd lanes (shifted down), and blends
// regroup the high and low words.
template <int kVec>
__attribute__((target("avx2"), always_inline)) inline void philox_avx2_round(const std::uint32_t (&key)[2], __m256i m0, __m256i m1,
                                                                           __m256i (&x0)[kVec], __m256i (&x1)[kVec],
                                                                           __m256i (&x2)[kVec], __m256i (&x3)[kVec]) {
  const __m256i k0 = _mm256_set1_epi32(static_cast<int>(key[0]));
  const __m256i k1 = _mm256_set1_epi32(static_cast<int>(key[1]));
#pragma GCC unroll 4
  for (int v = 0; v < kVec; ++v) {
    const __m256i p0e = _mm256_mul_epu32(x0[v], m0), p0o = _mm256_mul_epu32(_mm256_srli_epi64(x0[v], 32), m0);
    const __m256i p1e = _mm256_mul_epu32(x2[v], m1), p1o = _mm256_mul_epu32(_mm256_srli_epi64(x2[v], 32), m1);
    const __m256i hi0 = _mm256_blend_epi32(_mm256_srli_epi64(p0e, 32), p0o, 0xAA);
    const __m256i hi1 = _mm256_blend_epi32(_mm256_srli_epi64(p1e, 32), p1o, 0xAA);
    const __m256i lo0 = _mm256_blend_epi32(p0e, _mm256_slli_epi64(p0o, 32), 0xAA);
    const __m256i lo1 = _mm256_blend_epi32(p1e, _mm256_slli_epi64(p1o, 32), 0xAA);
    x0[v] = _mm256_xor_si256(_mm256_xor_si256(hi1, x1[v]), k0);
    x2[v] = _mm256_xor_si256(_mm256_xor_si256(hi0, x3[v]), k1);
    x1[v] = lo1;
    x3[v] = lo0;
  }
}

// The same rounds with AVX2 integer instructions, 8 blocks per vector, word j of the 8 blocks in one
// vector. Compilers do not vectorize the portable loop well (a 32x32->64 product per lane becomes a
// generic 64-bit multiply), hence philox_avx2_round. kVec vectors are
// in flight at once so the multiplies' latency is hidden without spilling registers. Blocks
// [b0 + l, b0 + l + 8 kVec) for l = start, start + 8 kVec, ... while they fit; returns where it stopped.
// Compiled for AVX2 only (target attribute) and called after a CPU check: the wheel runs on any x86-64.
template <int kVec, bool kCompact = false>
__attribute__((target("avx2"))) inline std::int64_t philox_avx2_run(std::uint64_t seed, std::uint64_t stream,
                                                                    std::uint64_t b0, std::int64_t start, std::int64_t nb,
                                                                    std::uint32_t* __restrict c0, std::uint32_t* __restrict c1,
                                                                    std::uint32_t* __restrict c2, std::uint32_t* __restrict c3) {
  std::uint32_t key[10][2];
  key[0][0] = static_cast<std::uint32_t>(seed);
  key[0][1] = static_cast<std::uint32_t>(seed >> 32);
  for (int r = 1; r < 10; ++r) {
    key[r][0] = key[r - 1][0] + kPhiloxW0;
    key[r][1] = key[r - 1][1] + kPhiloxW1;
  }
  const __m256i m0 = _mm256_set1_epi64x(kPhiloxM0), m1 = _mm256_set1_epi64x(kPhiloxM1);
  const __m256i s0 = _mm256_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(stream)));
  const __m256i s1 = _mm256_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(stream >> 32)));
  const __m256i iota = _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0);
  const __m256i sign = _mm256_set1_epi32(INT32_MIN);
  std::int64_t l = start;
  for (; l + 8 * kVec <= nb; l += 8 * kVec) {
    __m256i x0[kVec], x1[kVec], x2[kVec], x3[kVec];
    for (int v = 0; v < kVec; ++v) {
      const std::uint64_t first = b0 + static_cast<std::uint64_t>(l + 8 * v);
      const std::uint32_t first_lo = static_cast<std::uint32_t>(first);
      const __m256i lo = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(first_lo)), iota);
      // counter high word: +1 in the lanes whose low word wrapped (lo < first_lo, compared unsigned)
      const __m256i wrapped = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(first_lo ^ 0x80000000u)),
                                                 _mm256_xor_si256(lo, sign));
      x0[v] = lo;
      x1[v] = _mm256_sub_epi32(_mm256_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(first >> 32))), wrapped);
      x2[v] = s0;
      x3[v] = s1;
    }
    // Fully unrolled by default; kCompact keeps a loop of two rounds, a fifth of the code, for callers whose
    // loop also runs other large code (the float32 normals): together the unrolled versions no longer fit
    // the decoded-instruction cache and both run slower.
    if constexpr (kCompact) {
#pragma GCC unroll 2
      for (int r = 0; r < 10; ++r) philox_avx2_round<kVec>(key[r], m0, m1, x0, x1, x2, x3);
    } else {
#pragma GCC unroll 10
      for (int r = 0; r < 10; ++r) philox_avx2_round<kVec>(key[r], m0, m1, x0, x1, x2, x3);
    }
    for (int v = 0; v < kVec; ++v) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(c0 + l + 8 * v), x0[v]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(c1 + l + 8 * v), x1[v]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(c2 + l + 8 * v), x2[v]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(c3 + l + 8 * v), x3[v]);
    }
  }
  return l;
}

__attribute__((target("avx2"))) inline void philox_lanes_avx2(std::uint64_t seed, std::uint64_t stream,
                                                              std::uint64_t b0, std::int64_t nb,
                                                              std::uint32_t* __restrict c0, std::uint32_t* __restrict c1,
                                                              std::uint32_t* __restrict c2, std::uint32_t* __restrict c3) {
  std::int64_t l = philox_avx2_run<4>(seed, stream, b0, 0, nb, c0, c1, c2, c3);
  l = philox_avx2_run<1>(seed, stream, b0, l, nb, c0, c1, c2, c3);
  if (l < nb) philox_lanes_portable(seed, stream, b0 + static_cast<std::uint64_t>(l), nb - l, c0 + l, c1 + l, c2 + l, c3 + l);
}

// Words in stream order (w[4 l + j] = word j of block b0 + l), by lanes of 64 blocks and a 4 x 8 transpose
// per 8 blocks (32-bit then 64-bit unpacks give blocks 0 | 4, 1 | 5, 2 | 6, 3 | 7 per 128-bit half).
__attribute__((target("avx2"))) inline void philox_words_avx2(std::uint64_t seed, std::uint64_t stream, std::uint64_t b0,
                                                              std::int64_t nb, std::uint32_t* __restrict w) {
  constexpr std::int64_t kLanes = 64;
  alignas(32) std::uint32_t c[4][kLanes];
  for (std::int64_t l0 = 0; l0 < nb; l0 += kLanes) {
    const std::int64_t m = nb - l0 < kLanes ? nb - l0 : kLanes;
    philox_lanes_avx2(seed, stream, b0 + static_cast<std::uint64_t>(l0), m, c[0], c[1], c[2], c[3]);
    std::int64_t l = 0;
    for (; l + 8 <= m; l += 8) {
      const __m256i a0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(c[0] + l));
      const __m256i a1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(c[1] + l));
      const __m256i a2 = _mm256_load_si256(reinterpret_cast<const __m256i*>(c[2] + l));
      const __m256i a3 = _mm256_load_si256(reinterpret_cast<const __m256i*>(c[3] + l));
      const __m256i t01l = _mm256_unpacklo_epi32(a0, a1), t01h = _mm256_unpackhi_epi32(a0, a1);
      const __m256i t23l = _mm256_unpacklo_epi32(a2, a3), t23h = _mm256_unpackhi_epi32(a2, a3);
      const __m256i q04 = _mm256_unpacklo_epi64(t01l, t23l), q15 = _mm256_unpackhi_epi64(t01l, t23l);
      const __m256i q26 = _mm256_unpacklo_epi64(t01h, t23h), q37 = _mm256_unpackhi_epi64(t01h, t23h);
      __m256i* out = reinterpret_cast<__m256i*>(w + 4 * (l0 + l));
      _mm256_storeu_si256(out + 0, _mm256_permute2x128_si256(q04, q15, 0x20));
      _mm256_storeu_si256(out + 1, _mm256_permute2x128_si256(q26, q37, 0x20));
      _mm256_storeu_si256(out + 2, _mm256_permute2x128_si256(q04, q15, 0x31));
      _mm256_storeu_si256(out + 3, _mm256_permute2x128_si256(q26, q37, 0x31));
    }
    for (std::int64_t k = 4 * l; k < 4 * m; ++k) w[4 * l0 + k] = c[k & 3][k >> 2];
  }
}


// 4 nb float32 normals of blocks [b0, b0 + nb) of a stream, in stream order (out[4 l + j] is normal 4 (b0 + l)
// + j, the contract of normal<float>): Philox lanes of 64 blocks then normal32::box_muller_lanes, in one
// AVX2 function (see philox_avx2_run's kCompact). A ragged last tile goes through a buffer.
__attribute__((target("avx2"))) inline void philox_normals32_avx2(std::uint64_t seed, std::uint64_t stream,
                                                                  std::uint64_t b0, std::int64_t nb, float* __restrict out) {
  constexpr std::int64_t kLanes = 64;
  alignas(32) std::uint32_t c[4][kLanes];
  alignas(32) float z[4 * kLanes];
  for (std::int64_t l0 = 0; l0 < nb; l0 += kLanes) {
    const std::int64_t m = nb - l0 < kLanes ? nb - l0 : kLanes;
    const std::uint64_t first = b0 + static_cast<std::uint64_t>(l0);
    std::int64_t l = philox_avx2_run<4, true>(seed, stream, first, 0, m, c[0], c[1], c[2], c[3]);
    l = philox_avx2_run<1, true>(seed, stream, first, l, m, c[0], c[1], c[2], c[3]);
    if (l < m) philox_lanes_portable(seed, stream, first + static_cast<std::uint64_t>(l), m - l, c[0] + l, c[1] + l, c[2] + l, c[3] + l);
    for (std::int64_t k = m; k < kLanes; ++k) c[0][k] = c[1][k] = c[2][k] = c[3][k] = 0;  // unused lanes, defined
    if (m == kLanes) {
      normal32::avx2::box_muller_lanes<normal32::avx2::kBoxMullerGroups>(c[0], c[1], c[2], c[3], static_cast<int>(kLanes), out + 4 * l0);
    } else {
      normal32::avx2::box_muller_lanes<normal32::avx2::kBoxMullerGroups>(c[0], c[1], c[2], c[3], static_cast<int>(kLanes), z);  // lanes >= m unused
      for (std::int64_t k = 0; k < 4 * m; ++k) out[4 * l0 + k] = z[k];
    }
  }
}
#endif

inline void philox_normals32(std::uint64_t seed, std::uint64_t stream, std::uint64_t b0, std::int64_t nb,
                             float* __restrict out) {
#if GFO_PHILOX_AVX2
  if (__builtin_cpu_supports("avx2")) {
    philox_normals32_avx2(seed, stream, b0, nb, out);
    return;
  }
#endif
  constexpr std::int64_t kLanes = 64;
  std::uint32_t c[4][kLanes];
  float z[4 * kLanes];
  for (std::int64_t l0 = 0; l0 < nb; l0 += kLanes) {
    const std::int64_t m = nb - l0 < kLanes ? nb - l0 : kLanes;
    philox_lanes_portable(seed, stream, b0 + static_cast<std::uint64_t>(l0), m, c[0], c[1], c[2], c[3]);
    for (std::int64_t l = m; l < kLanes; ++l) c[0][l] = c[1][l] = c[2][l] = c[3][l] = 0;  // unused lanes, defined
    normal32::box_muller_lanes_portable<kLanes>(c[0], c[1], c[2], c[3], z);
    for (std::int64_t k = 0; k < 4 * m; ++k) out[4 * l0 + k] = z[k];
  }
}

// The structure-of-arrays generator every bulk kernel uses (fill_*, zo, population): the AVX2 path
// where the CPU has it, else the portable loop. The bits are the same on every path.
inline void philox_lanes(std::uint64_t seed, std::uint64_t stream, std::uint64_t b0, std::int64_t nb,
                         std::uint32_t* __restrict c0, std::uint32_t* __restrict c1, std::uint32_t* __restrict c2,
                         std::uint32_t* __restrict c3) {
#if GFO_PHILOX_AVX2
  if (nb >= 8 && __builtin_cpu_supports("avx2")) {
    philox_lanes_avx2(seed, stream, b0, nb, c0, c1, c2, c3);
    return;
  }
#endif
  philox_lanes_portable(seed, stream, b0, nb, c0, c1, c2, c3);
}

// Words 4 b0 .. 4 (b0 + nb) - 1 of a stream in order (w[4 l + j] = word j of block b0 + l): the raw bits
// fill and the float32 uniforms and normals, which use consecutive words.
inline void philox_words(std::uint64_t seed, std::uint64_t stream, std::uint64_t b0, std::int64_t nb,
                         std::uint32_t* __restrict w) {
#if GFO_PHILOX_AVX2
  if (nb >= 8 && __builtin_cpu_supports("avx2")) {
    philox_words_avx2(seed, stream, b0, nb, w);
    return;
  }
#endif
  philox_words_portable(seed, stream, b0, nb, w);
}

// Stream ids derived from (generation, purpose): optimizers never share a stream between two uses.
GFO_HD std::uint64_t stream_id(std::uint64_t generation, std::uint32_t purpose) {
  return (generation << 8) | (purpose & 0xFFu);
}

GFO_HD float bits_to_uniform32(std::uint32_t w) {
  return static_cast<float>(2u * (w >> 9) + 1u) * 5.9604644775390625e-08f;  // 2^-24
}

GFO_HD double bits_to_uniform64(std::uint32_t lo, std::uint32_t hi) {
  const std::uint64_t x = ((static_cast<std::uint64_t>(hi) << 32) | lo) >> 12;
  return static_cast<double>(2u * x + 1u) * 1.1102230246251565e-16;  // 2^-53
}

constexpr double kTwoPi = 6.283185307179586;

GFO_HD void box_muller(double u1, double u2, double& z0, double& z1) {
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double a = kTwoPi * u2;
  z0 = r * std::cos(a);
  z1 = r * std::sin(a);
}

// Element-wise access, for kernels that draw one number per (member, coordinate).
GFO_HD std::uint32_t random_bits(std::uint64_t seed, std::uint64_t stream, std::uint64_t i) {
  return philox_block(seed, stream, i >> 2).w[i & 3];
}

template <class T>
GFO_HD T uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t i);

template <>
GFO_HD float uniform<float>(std::uint64_t seed, std::uint64_t stream, std::uint64_t i) {
  return bits_to_uniform32(random_bits(seed, stream, i));
}

template <>
GFO_HD double uniform<double>(std::uint64_t seed, std::uint64_t stream, std::uint64_t i) {
  const Words4 b = philox_block(seed, stream, i >> 1);
  const int o = static_cast<int>(i & 1) * 2;
  return bits_to_uniform64(b.w[o], b.w[o + 1]);
}

// Normal pair k (elements 2k and 2k+1) of a stream.
template <class T>
GFO_HD void normal_pair(std::uint64_t seed, std::uint64_t stream, std::uint64_t k, T& z0, T& z1);

template <>
GFO_HD void normal_pair<double>(std::uint64_t seed, std::uint64_t stream, std::uint64_t k, double& z0, double& z1) {
  box_muller(uniform<double>(seed, stream, 2 * k), uniform<double>(seed, stream, 2 * k + 1), z0, z1);
}

template <>
GFO_HD void normal_pair<float>(std::uint64_t seed, std::uint64_t stream, std::uint64_t k, float& z0, float& z1) {
  const Words4 b = philox_block(seed, stream, k >> 1);  // words 2k, 2k + 1: half of block k / 2
  const int o = static_cast<int>(k & 1) * 2;
  normal32::box_muller(b.w[o], b.w[o + 1], z0, z1);
}

template <class T>
GFO_HD T normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t i) {
  T z0, z1;
  normal_pair<T>(seed, stream, i >> 1, z0, z1);
  return (i & 1) ? z1 : z0;
}

// Bulk fills of elements [offset, offset + n) of a stream; OpenMP-parallel, thread-count invariant.
// fill_bits, fill_uniform and fill_normal<float> equal random_bits / uniform<T> / normal<float> bit for bit.
// fill_normal<double> computes Box-Muller with the vectorized log/sin/cos of gfo/vecmath.hpp (each within an
// ulp of libm's), so it agrees with normal<double>() to float64 rounding, not always bit for bit; it is
// itself offset/chunk/thread invariant.
void fill_bits(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, std::int64_t n, std::uint32_t* out);
template <class T>
void fill_uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, std::int64_t n, T* out);
template <class T>
void fill_normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, std::int64_t n, T* out);

}  // namespace gfo

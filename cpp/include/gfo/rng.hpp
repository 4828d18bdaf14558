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
// Normals by Box-Muller on consecutive uniform pairs (u1, u2) = (u[2k], u[2k+1]), in float64:
//   r = sqrt(-2 log u1);  z[2k] = r cos(2 pi u2);  z[2k+1] = r sin(2 pi u2)
// float32 normals use the float32 uniforms, compute in float64 and round once to float32.
#pragma once
#include <cmath>
#include <cstdint>

#include "gfo/hd.hpp"

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
// vectorize: output word j of block b0 + l lands in cj[l]. Same bits as philox_block.
inline void philox_lanes(std::uint64_t seed, std::uint64_t stream, std::uint64_t b0, std::int64_t nb,
                         std::uint32_t* __restrict c0, std::uint32_t* __restrict c1, std::uint32_t* __restrict c2,
                         std::uint32_t* __restrict c3) {
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
GFO_HD void normal_pair(std::uint64_t seed, std::uint64_t stream, std::uint64_t k, T& z0, T& z1) {
  double a, b;
  box_muller(static_cast<double>(uniform<T>(seed, stream, 2 * k)),
             static_cast<double>(uniform<T>(seed, stream, 2 * k + 1)), a, b);
  z0 = static_cast<T>(a);
  z1 = static_cast<T>(b);
}

template <class T>
GFO_HD T normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t i) {
  T z0, z1;
  normal_pair<T>(seed, stream, i >> 1, z0, z1);
  return (i & 1) ? z1 : z0;
}

// Bulk fills of elements [offset, offset + n) of a stream; OpenMP-parallel, thread-count invariant.
// fill_bits and fill_uniform equal random_bits / uniform<T> bit for bit. fill_normal computes Box-Muller
// with the vectorized log/sin/cos of gfo/vecmath.hpp (each within an ulp of libm's), so it agrees with
// normal<T>() to float64 rounding, not always bit for bit; it is itself offset/chunk/thread invariant.
void fill_bits(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, std::int64_t n, std::uint32_t* out);
template <class T>
void fill_uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, std::int64_t n, T* out);
template <class T>
void fill_normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, std::int64_t n, T* out);

}  // namespace gfo

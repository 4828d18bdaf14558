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

// The hand-vectorized bulk loop (box_muller_lanes) for x86-64 with GCC or Clang, runtime-checked; CUDA
// translation units and other compilers/architectures use the portable loop.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__CUDACC__)
#define GFO_NORMAL32_AVX2 1
#include <immintrin.h>
#else
#define GFO_NORMAL32_AVX2 0
#endif

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
// Box-Muller loop on contiguous vectors. The portable loop; box_muller_lanes below picks the AVX2 one.
template <int kBlocks>
inline void box_muller_lanes_portable(const std::uint32_t* __restrict c0, const std::uint32_t* __restrict c1,
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

#if GFO_NORMAL32_AVX2
// The same normals with AVX2 intrinsics, 8 blocks (16 pairs, 32 normals) per step. Every rounding of
// box_muller is kept; only steps that are exact in every case are rewritten (tests compare the two over
// all 2^23 uniforms of each half):
//   - the numerator (w >> 9) << 1 | 1 is (w >> 8) | 1;
//   - u = N 2^-24 is never formed: the bits of N as a float minus 24 in the exponent are those of u (N >= 1),
//     and that integer subtraction folds into log_uniform's own bit offsets (k by an arithmetic shift);
//   - -2 log u is computed directly: every constant of the log is scaled by -2 (scaling by a power of two
//     commutes with rounding, and nothing comes near underflow), with f + f for the 2 f term;
//   - t = j 2^-24 likewise by an exponent subtraction (j is odd, never 0), j from the quadrant by a mask;
//   - the quadrant's swap by blendv on bit 0 of q moved to the sign bit, the signs by shifts of q.
// Two pairs per block are two independent chains; the log of one and the sincos of the other interleave.
namespace avx2 {
constexpr int kBoxMullerGroups = 2;  // 1: 0.73 ns per normal, 2: 0.65, 4: 0.64 but spills (slower inside callers)
#define GFO_AVX2_INLINE __attribute__((target("avx2"), always_inline)) inline

GFO_AVX2_INLINE __m256 ps(float x) { return _mm256_set1_ps(x); }
GFO_AVX2_INLINE __m256i epi(std::uint32_t x) { return _mm256_set1_epi32(static_cast<int>(x)); }

// sqrt(-2 log u) of the uniforms of words w, N vectors of 8 lanes side by side (each step for all N
// before the next: independent chains interleaved in program order, which the out-of-order window of
// one long chain per vector does not achieve on its own).
#define GFO_EACH for (int v = 0; v < N; ++v)
template <int N>
GFO_AVX2_INLINE void radius(const __m256i* w, __m256* out) {
  __m256i b[N];
  __m256 k[N], f[N], f2[N], f4[N], ra[N], rb[N], rc[N], rd[N], p[N];
  // bits(u) + (0x3f800000 - 0x3f3504f3) - 127 << 23, with bits(u) = bits(float(N)) - 24 << 23
  GFO_EACH b[v] = _mm256_add_epi32(_mm256_castps_si256(_mm256_cvtepi32_ps(_mm256_or_si256(_mm256_srli_epi32(w[v], 8), epi(1u)))),
                                   epi(0x3f800000u - 0x3f3504f3u - (151u << 23)));
  GFO_EACH f[v] = _mm256_sub_ps(
      _mm256_castsi256_ps(_mm256_add_epi32(_mm256_and_si256(b[v], epi(0x007fffffu)), epi(0x3f3504f3u))), ps(1.0f));
  GFO_EACH k[v] = _mm256_cvtepi32_ps(_mm256_srai_epi32(b[v], 23));
  GFO_EACH f2[v] = _mm256_mul_ps(f[v], f[v]);
  // -2 R(f), R of log_uniform
  GFO_EACH ra[v] = _mm256_add_ps(ps(-2 * 0x1.555564p-2f), _mm256_mul_ps(ps(-2 * -0x1.00023cp-2f), f[v]));
  GFO_EACH rb[v] = _mm256_add_ps(ps(-2 * 0x1.99986p-3f), _mm256_mul_ps(ps(-2 * -0x1.54679p-3f), f[v]));
  GFO_EACH rc[v] = _mm256_add_ps(ps(-2 * 0x1.236438p-3f), _mm256_mul_ps(ps(-2 * -0x1.0e6826p-3f), f[v]));
  GFO_EACH rd[v] = _mm256_add_ps(ps(-2 * 0x1.025beap-3f), _mm256_mul_ps(ps(-2 * -0x1.2d3636p-4f), f[v]));
  GFO_EACH f4[v] = _mm256_mul_ps(f2[v], f2[v]);
  GFO_EACH ra[v] = _mm256_add_ps(ra[v], _mm256_mul_ps(f2[v], rb[v]));
  GFO_EACH rc[v] = _mm256_add_ps(rc[v], _mm256_mul_ps(f2[v], rd[v]));
  GFO_EACH ra[v] = _mm256_add_ps(ra[v], _mm256_mul_ps(f4[v], rc[v]));
  // -2 p = f2 (1 + f (-2 R)) - (f + f)
  GFO_EACH p[v] = _mm256_sub_ps(_mm256_mul_ps(f2[v], _mm256_add_ps(ps(1.0f), _mm256_mul_ps(f[v], ra[v]))), _mm256_add_ps(f[v], f[v]));
  GFO_EACH out[v] = _mm256_sqrt_ps(_mm256_add_ps(_mm256_mul_ps(k[v], ps(-2 * 0x1.62e4p-1f)),
                                                 _mm256_add_ps(_mm256_mul_ps(k[v], ps(-2 * 0x1.7f7d1cp-20f)), p[v])));
}

// sin and cos of 2 pi u for the uniforms of words w (N vectors of 8 lanes), as sincos_turn.
template <int N>
GFO_AVX2_INLINE void sincos(const __m256i* w, __m256* s, __m256* c) {
  __m256i m[N], q[N];
  __m256 t[N], z[N], z2[N], sp[N], cp[N];
  GFO_EACH m[v] = _mm256_add_epi32(_mm256_or_si256(_mm256_srli_epi32(w[v], 8), epi(1u)), epi(1u << 21));
  GFO_EACH q[v] = _mm256_srai_epi32(m[v], 22);
  GFO_EACH t[v] = _mm256_castsi256_ps(_mm256_sub_epi32(
      _mm256_castps_si256(_mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_and_si256(m[v], epi((1u << 22) - 1)), epi(1u << 21)))),
      epi(24u << 23)));
  GFO_EACH z[v] = _mm256_mul_ps(t[v], t[v]);
  GFO_EACH z2[v] = _mm256_mul_ps(z[v], z[v]);
  GFO_EACH sp[v] = _mm256_add_ps(ps(-0x1.4abbecp+5f), _mm256_mul_ps(z[v], ps(0x1.466b22p+6f)));
  GFO_EACH cp[v] = _mm256_add_ps(ps(-0x1.3bd3ccp+4f), _mm256_mul_ps(z[v], ps(0x1.03c1b8p+6f)));
  GFO_EACH sp[v] = _mm256_add_ps(sp[v], _mm256_mul_ps(z2[v], ps(-0x1.2f5a1ep+6f)));
  GFO_EACH cp[v] = _mm256_add_ps(cp[v], _mm256_mul_ps(z2[v], _mm256_add_ps(ps(-0x1.55b7cep+6f), _mm256_mul_ps(z[v], ps(0x1.d684a8p+5f)))));
  GFO_EACH sp[v] = _mm256_mul_ps(t[v], _mm256_add_ps(ps(0x1.921fb6p+2f), _mm256_mul_ps(z[v], sp[v])));
  GFO_EACH cp[v] = _mm256_add_ps(ps(1.0f), _mm256_mul_ps(z[v], cp[v]));
  GFO_EACH {
    const __m256i q31 = _mm256_slli_epi32(q[v], 31), q30 = _mm256_slli_epi32(q[v], 30);  // bit 0, bit 1 of q on top
    const __m256 swap = _mm256_castsi256_ps(q31);
    s[v] = _mm256_xor_ps(_mm256_blendv_ps(sp[v], cp[v], swap), _mm256_castsi256_ps(_mm256_and_si256(q30, epi(0x80000000u))));
    c[v] = _mm256_xor_ps(_mm256_blendv_ps(cp[v], sp[v], swap),
                         _mm256_castsi256_ps(_mm256_and_si256(_mm256_xor_si256(q30, q31), epi(0x80000000u))));
  }
}
#undef GFO_EACH

// z0 .. z3 of 8 blocks (lane l: the normals 4 l .. 4 l + 3) stored in stream order: a 4 x 8 transpose,
// blocks 0 | 4, 1 | 5, 2 | 6, 3 | 7 per 128-bit half, then the halves regrouped.
GFO_AVX2_INLINE void store_interleaved(__m256 z0, __m256 z1, __m256 z2, __m256 z3, float* o) {
  const __m256 t01l = _mm256_unpacklo_ps(z0, z1), t01h = _mm256_unpackhi_ps(z0, z1);
  const __m256 t23l = _mm256_unpacklo_ps(z2, z3), t23h = _mm256_unpackhi_ps(z2, z3);
  const __m256 q04 = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(t01l), _mm256_castps_pd(t23l)));
  const __m256 q15 = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(t01l), _mm256_castps_pd(t23l)));
  const __m256 q26 = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(t01h), _mm256_castps_pd(t23h)));
  const __m256 q37 = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(t01h), _mm256_castps_pd(t23h)));
  _mm256_storeu_ps(o, _mm256_permute2f128_ps(q04, q15, 0x20));
  _mm256_storeu_ps(o + 8, _mm256_permute2f128_ps(q26, q37, 0x20));
  _mm256_storeu_ps(o + 16, _mm256_permute2f128_ps(q04, q15, 0x31));
  _mm256_storeu_ps(o + 24, _mm256_permute2f128_ps(q26, q37, 0x31));
}

// Blocks [0, nb) (nb a multiple of 8 kG) of the lane arrays to normals in stream order, kG groups of 8
// blocks per step (2 kG chains of each kind side by side; kBoxMullerGroups measured best). The chains are
// long (about 60 cycles from word to radius) and GCC does not schedule before register allocation on x86 by
// default: with it, pressure-aware, this loop ran about 11% faster (0.65 -> 0.58 ns per normal, one core).
// It changes the order of independent instructions only, never a value; the Philox rounds ran slower with
// it, so only here.
template <int kG>
__attribute__((target("avx2"), optimize("schedule-insns", "sched-pressure"))) inline void box_muller_lanes(
    const std::uint32_t* __restrict c0, const std::uint32_t* __restrict c1, const std::uint32_t* __restrict c2,
    const std::uint32_t* __restrict c3, int nb, float* __restrict out) {
  for (int l = 0; l < nb; l += 8 * kG) {
    __m256i w[2 * kG];
    __m256 r[2 * kG], s[2 * kG], c[2 * kG];
    for (int g = 0; g < kG; ++g) {
      w[2 * g] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c0 + l + 8 * g));
      w[2 * g + 1] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c2 + l + 8 * g));
    }
    radius<2 * kG>(w, r);
    for (int g = 0; g < kG; ++g) {
      w[2 * g] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c1 + l + 8 * g));
      w[2 * g + 1] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c3 + l + 8 * g));
    }
    sincos<2 * kG>(w, s, c);
    for (int g = 0; g < kG; ++g)
      store_interleaved(_mm256_mul_ps(r[2 * g], c[2 * g]), _mm256_mul_ps(r[2 * g], s[2 * g]),
                        _mm256_mul_ps(r[2 * g + 1], c[2 * g + 1]), _mm256_mul_ps(r[2 * g + 1], s[2 * g + 1]),
                        out + 4 * (l + 8 * g));
  }
}
#undef GFO_AVX2_INLINE
}  // namespace avx2
#endif

// The bulk float32 normals of kBlocks blocks given lane by lane (see box_muller_lanes_portable): the AVX2
// loop where the CPU has it, else the portable one; the bits are the same. Host only (the bulk CPU paths:
// fill_normal<float>, the zo kernels).
template <int kBlocks>
inline void box_muller_lanes(const std::uint32_t* __restrict c0, const std::uint32_t* __restrict c1,
                             const std::uint32_t* __restrict c2, const std::uint32_t* __restrict c3,
                             float* __restrict out) {
#if GFO_NORMAL32_AVX2
  if constexpr (kBlocks % (8 * avx2::kBoxMullerGroups) == 0) {
    if (__builtin_cpu_supports("avx2")) {
      avx2::box_muller_lanes<avx2::kBoxMullerGroups>(c0, c1, c2, c3, kBlocks, out);
      return;
    }
  }
#endif
  box_muller_lanes_portable<kBlocks>(c0, c1, c2, c3, out);
}

}  // namespace normal32
}  // namespace gfo

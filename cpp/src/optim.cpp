// Fused optimizer steps. Each optimizer has one serial span function per dtype (SIMD-cloned, the hot loop)
// and one driver that prepares the per-step scalars and runs a single parallel region over all tensors.
// Operation order mirrors torch/optim/{sgd,adagrad,rmsprop,adam}.py (_single_tensor_*): e.g. exp_avg uses
// lerp (m + w (g - m)) rather than b1 m + (1 - b1) g, and the denominators divide by sqrt(bias_correction2)
// before adding eps, so results agree with torch to float rounding.
// bf16/fp16 storage: each value is loaded to float32, the float32 math runs, and each stored value is rounded once
// (to nearest even), as in the CUDA kernels (cuda/optim.cu), so both give the same bits. The bulk of a bf16/fp16 span
// runs on SIMD lanes (see "lanes" below), the remainder through the scalar conversions of gfo/bits.hpp: the
// same operations, so a value's bits do not depend on where a span starts (thread count).
#include "gfo/optim.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "gfo/bits.hpp"
#include "gfo/simd.hpp"
#include "gfo/tensor_list.hpp"

// float16 spans through F16C where the CPU has it (runtime-checked), see "float16" below.
#if defined(__x86_64__) && defined(__GNUC__)
#define GFO_OPTIM_F16C 1
#include <immintrin.h>
#else
#define GFO_OPTIM_F16C 0
#endif

// The 8-float vectors of "lanes" below never cross a call that is not inlined: GCC's note that passing them
// changes the ABI without AVX does not apply.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace gfo::optim {
namespace {

template <class T>
inline T* at(const std::uint64_t* row, int col) {
  return reinterpret_cast<T*>(static_cast<std::uintptr_t>(row[col]));
}

inline const std::uint64_t* row_of(const Table& t, std::int64_t i) { return t.rows + i * kColumns; }

// What memory holds (E) and what the arithmetic runs in (T) for a storage type S; ld/st convert between them.
template <class S>
struct Storage {
  using E = S;
  using T = S;
  static T ld(E x) { return x; }
  static E st(T x) { return x; }
};
template <>
struct Storage<Bfloat16> {
  using E = std::uint16_t;
  using T = float;
  static T ld(E x) { return bf16_to_float(x); }
  static E st(T x) { return float_to_bf16(x); }
};
template <>
struct Storage<Float16> {
  using E = std::uint16_t;
  using T = float;
  static T ld(E x) { return half_to_float(x); }
  static E st(T x) { return float_to_half(x); }
};
template <class S> using Elem = typename Storage<S>::E;
template <class S> using Math = typename Storage<S>::T;

// A row's step counter after this step (float or double, like torch's state["step"]), not yet stored: the
// counters are committed after the element work, for the rows that were updated (commit_steps).
inline double next_step(const std::uint64_t* row) {
  if (row[kStep] == 0) return 1.0;
  if (row[kFlags] & kStepIsDouble) return *at<double>(row, kStep) + 1.0;
  return static_cast<double>(*at<float>(row, kStep) + 1.0f);
}

inline void commit_steps(const Table& t, std::int64_t rows) {
  for (std::int64_t i = 0; i < rows; ++i) {
    const std::uint64_t* row = row_of(t, i);
    if (row[kStep] == 0) continue;
    if (row[kFlags] & kStepIsDouble) *at<double>(row, kStep) += 1.0;
    else *at<float>(row, kStep) += 1.0f;
  }
}

inline std::vector<std::int64_t> offsets(const Table& t) {
  return concat_offsets(t.n, [&](std::int64_t i) { return static_cast<std::int64_t>(row_of(t, i)[kNumel]); });
}

// Compile-time switches from runtime flags, so each combination gets its own branch-free vector loop.
template <class F>
inline void with_bool(bool b, F&& f) {
  if (b) f(std::true_type{});
  else f(std::false_type{});
}

// torch's lerp picks its formula by the weight: start + w (end - start) for |w| < 0.5, else
// end - (end - start)(1 - w); both are kept so the rounding matches.
template <bool kSmall, class T, class W>
inline T lerp(T start, T end, W w, W one_minus_w) {
  return kSmall ? start + w * (end - start) : end - (end - start) * one_minus_w;
}

// torch.maximum: NaN in either operand propagates.
template <class T>
inline T nan_max(T a, T b) {
  return ((a > b) | (a != a)) ? a : b;  // bitwise | keeps the loop branch-free (vectorizable)
}

// The gradient as a step sees it: negated when maximizing (sign -1), plus L2 weight decay (not AdamW's); the
// twin of cuda/optim.cu's grad_of.
template <bool kL2, class T, class C>
inline T direction(T g, T x, const C& c) {
  const T d = g * c.sign;
  return kL2 ? d + c.wd * x : d;
}

// ---------------------------------------------------------------- lanes
// The float32 conversions of bf16/fp16 cost more instructions than a step's arithmetic, so a span's bulk runs on
// 8-float vectors (GCC/Clang vector extensions; each SIMD clone compiles them for its instruction set) with
// conversions written for whole vectors, loading and storing each array once:
//   bf16: 16 values are 8 uint32 words; the low halves (w << 16) and the high halves (w & 0xFFFF0000) are two
//     float32 vectors, exact, and the rounded results go back into the same halves (one shift, one blend), so no
//     lane is ever reordered;
//   fp16 (F16C CPUs only, see "float16" below): vcvtph2ps / vcvtps2ph.
// The math is each optimizer's *_math function, the one its scalar loop runs, on vectors instead of scalars.
// A Lanes type holds one array's block: load, part(k) (its k-th float32 vector), put(k, v), store.
// f(std::integral_constant<int, k>) for k = 0 .. K-1, unrolled at compile time.
template <class F, int... k>
inline void each_index(F&& f, std::integer_sequence<int, k...>) {
  (f(std::integral_constant<int, k>{}), ...);
}
template <int K, class F>
inline void each(F&& f) {
  each_index(f, std::make_integer_sequence<int, K>{});
}

inline float vsqrt(float x) { return std::sqrt(x); }
inline double vsqrt(double x) { return std::sqrt(x); }

#if defined(__GNUC__)
#define GFO_OPTIM_LANES 1
using f32x8 = float __attribute__((vector_size(32)));
using u32x8 = std::uint32_t __attribute__((vector_size(32)));

inline f32x8 vsqrt(f32x8 x) {
  for (int k = 0; k < 8; ++k) x[k] = std::sqrt(x[k]);  // vsqrtps: correctly rounded, as std::sqrt
  return x;
}

// float32 -> bf16 as float_to_bf16 rounds, left in the high half of each word: round to nearest even by integer
// addition, every NaN the quiet NaN 0x7FC0.
inline u32x8 bf16_round_high(f32x8 v) {
  const u32x8 b = reinterpret_cast<u32x8&>(v);
  const u32x8 r = b + 0x7FFFu + ((b >> 16) & 1u);
  return (v != v) ? u32x8{} + 0x7FC00000u : r;
}

struct Bf16Lanes {
  static constexpr int kWidth = 16, kParts = 2;
  u32x8 w, out[2];
  void load(const std::uint16_t* s) { std::memcpy(&w, s, sizeof w); }
  f32x8 part(int k) const {
    const u32x8 b = k == 0 ? w << 16 : w & 0xFFFF0000u;
    return reinterpret_cast<const f32x8&>(b);
  }
  void put(int k, f32x8 v) { out[k] = bf16_round_high(v); }
  void store(std::uint16_t* d) const {
    const u32x8 lo = out[0] >> 16;
#if defined(__clang__) || __GNUC__ >= 12
    // the even 16-bit words from lo, the odd ones from out[1]: one vpblendw
    using u16x16 = std::uint16_t __attribute__((vector_size(32)));
    const u16x16 r = __builtin_shufflevector(reinterpret_cast<const u16x16&>(lo), reinterpret_cast<const u16x16&>(out[1]),
                                             0, 17, 2, 19, 4, 21, 6, 23, 8, 25, 10, 27, 12, 29, 14, 31);
#else
    const u32x8 r = (out[1] & 0xFFFF0000u) | lo;
#endif
    std::memcpy(d, &r, sizeof r);
  }
};

// A multiplier known to be 1 is left out of the vector bulk: the sign (maximize off), SGD's 1 - dampening
// (dampening 0, the default), Adam's decay factor (no decoupled decay). x * 1 is x, bit for bit (a signaling NaN
// would stay unquieted, and every NaN is stored as the one quiet NaN anyway). The coefficients C with such
// members replaced by One:
struct One {};
inline f32x8 operator*(f32x8 x, One) { return x; }
inline f32x8 operator*(One, f32x8 x) { return x; }
template <class C>
struct UnitSign : C {  // every optimizer
  One sign;
};
template <class C>
struct UnitSignDecay : C {  // Adam
  One sign, decay;
};
template <class C>
struct UnitSignDampening : C {  // SGD
  One sign, one_minus_dampening;
};

template <class C, class = void>
struct HasDecay : std::false_type {};
template <class C>
struct HasDecay<C, std::void_t<decltype(C::decay)>> : std::true_type {};
template <class C, class = void>
struct HasDampening : std::false_type {};
template <class C>
struct HasDampening<C, std::void_t<decltype(C::one_minus_dampening)>> : std::true_type {};

// f(coefficients), with the multipliers that equal 1 as One (the usual settings; the others run as they are).
template <class C, class F>
inline std::int64_t with_units(const C& c, F&& f) {
  if constexpr (HasDecay<C>::value) {
    if (c.sign == 1 && c.decay == 1) return f(UnitSignDecay<C>{c, {}, {}});
  }
  if constexpr (HasDampening<C>::value) {
    if (c.sign == 1 && c.one_minus_dampening == 1) return f(UnitSignDampening<C>{c, {}, {}});
  }
  if (c.sign == 1) return f(UnitSign<C>{c, {}});
  return f(c);
}

// The bulk of a span: blocks of Lanes::kWidth values of the K arrays h (bit k of kLoads: read array k, of kStores:
// write it), math(v) updating the K float32 vectors in place; returns where the scalar remainder starts. The main
// loop takes 64 bytes of each array per round (fewer loop instructions) and reads 2 KiB ahead (prefetch), which
// keeps more of the memory traffic in flight while a round computes.
template <class Lanes, unsigned kLoads, unsigned kStores, int K, class Math>
inline void lanes_block(std::uint16_t* const (&h)[K], std::int64_t i, Math& math) {
  Lanes blk[K];
  each<K>([&](auto k) {
    if constexpr ((kLoads >> k & 1u) != 0) blk[k].load(h[k] + i);
  });
  for (int part = 0; part < Lanes::kParts; ++part) {
    f32x8 v[K] = {};
    each<K>([&](auto k) {
      if constexpr ((kLoads >> k & 1u) != 0) v[k] = blk[k].part(part);
    });
    math(v);
    each<K>([&](auto k) {
      if constexpr ((kStores >> k & 1u) != 0) blk[k].put(part, v[k]);
    });
  }
  each<K>([&](auto k) {
    if constexpr ((kStores >> k & 1u) != 0) blk[k].store(h[k] + i);
  });
}

template <class Lanes, unsigned kLoads, unsigned kStores, int K, class Math>
inline std::int64_t lanes_loop(std::uint16_t* const (&h)[K], std::int64_t n, Math&& math) {
  constexpr std::int64_t kRound = 32, kAhead = 1024;  // elements: 64 bytes, 2 KiB
  static_assert(kRound % Lanes::kWidth == 0, "a round is whole blocks");
  std::int64_t i = 0;
  for (; i + kRound <= n; i += kRound) {
    each<K>([&](auto k) {
      if constexpr (((kLoads | kStores) >> k & 1u) != 0) __builtin_prefetch(h[k] + i + kAhead);
    });
    each<kRound / Lanes::kWidth>(
        [&](auto b) { lanes_block<Lanes, kLoads, kStores>(h, i + b * Lanes::kWidth, math); });
  }
  for (; i + Lanes::kWidth <= n; i += Lanes::kWidth) lanes_block<Lanes, kLoads, kStores>(h, i, math);
  return i;
}
#else
#define GFO_OPTIM_LANES 0
#endif

// Which lanes a storage type's bulk runs on (void: none, the scalar loop does all).
template <class S>
struct DefaultLanes {
  using type = void;
};
#if GFO_OPTIM_LANES
template <>
struct DefaultLanes<Bfloat16> {
  using type = Bf16Lanes;
};
#endif

constexpr unsigned bits(bool b0, bool b1 = false, bool b2 = false, bool b3 = false, bool b4 = false) {
  return unsigned(b0) | unsigned(b1) << 1 | unsigned(b2) << 2 | unsigned(b3) << 3 | unsigned(b4) << 4;
}

// The vector bulk of a span: math(v, c) on the float32 vectors v of the arrays ptrs (in that order; bits k of
// kLoads / kStores: array k is read / written, a gradient is only read), c the coefficients after with_units.
// Returns where the scalar remainder starts: 0 where there are no lanes.
template <class Lanes, unsigned kLoads, unsigned kStores, class C, class Math, class... P>
inline std::int64_t bulk(std::int64_t n, const C& coefs, Math&& math, P*... ptrs) {
#if GFO_OPTIM_LANES
  if constexpr (!std::is_void_v<Lanes>) {
    std::uint16_t* const h[sizeof...(P)] = {const_cast<std::uint16_t*>(ptrs)...};
    return with_units(coefs, [&](const auto c) {  // a copy: the stores cannot change it, so it stays in registers
      return lanes_loop<Lanes, kLoads, kStores>(h, n, [&](f32x8(&v)[sizeof...(P)]) { math(v, c); });
    });
  }
#endif
  static_cast<void>(n), static_cast<void>(coefs), static_cast<void>(math), (static_cast<void>(ptrs), ...);
  return 0;
}

// ---------------------------------------------------------------- SGD
// The step's scalars (in the math type T), apart from the arrays: the vector bulk of a bf16/fp16 span reuses
// them as they are (float32).
template <class T>
struct SGDCoefs {
  T sign, wd, momentum, one_minus_dampening, neg_lr;
  bool use_momentum, init, nesterov, l2;
};

template <class S>
struct SGDSpan {
  Elem<S>* p; const Elem<S>* g; Elem<S>* buf; std::int64_t n;
  SGDCoefs<Math<S>> c;
};

// One element (or one vector of elements): x the parameter, g the gradient, buf the momentum buffer (read unless
// kInit, written when kMomentum), p the new parameter.
template <bool kMomentum, bool kInit, bool kNesterov, bool kL2, class T, class C>
inline void sgd_math(T x, T g, T& buf, T& p, const C& c) {
  T d = direction<kL2>(g, x, c);
  if (kMomentum) {
    const T b = kInit ? d : buf * c.momentum + c.one_minus_dampening * d;
    buf = b;
    d = kNesterov ? d + c.momentum * b : b;
  }
  p = x + c.neg_lr * d;
}

template <class S, class Lanes, bool kMomentum, bool kInit, bool kNesterov, bool kL2>
inline void sgd_loop(const SGDSpan<S>& a) {
  using St = Storage<S>;
  using T = Math<S>;
  Elem<S>* __restrict p = a.p;
  const Elem<S>* __restrict g = a.g;
  Elem<S>* __restrict buf = a.buf;
  std::int64_t i = bulk<Lanes, bits(true, true, kMomentum && !kInit), bits(true, false, kMomentum)>(
      a.n, a.c, [](auto& v, const auto& c) { sgd_math<kMomentum, kInit, kNesterov, kL2>(v[0], v[1], v[2], v[0], c); },
      p, g, buf);
  for (; i < a.n; ++i) {
    T b = kMomentum && !kInit ? St::ld(buf[i]) : T(0), y;
    sgd_math<kMomentum, kInit, kNesterov, kL2>(St::ld(p[i]), St::ld(g[i]), b, y, a.c);
    if (kMomentum) buf[i] = St::st(b);
    p[i] = St::st(y);
  }
}

template <class S, class Lanes = typename DefaultLanes<S>::type>
inline void sgd_dispatch(const SGDSpan<S>& a) {
  with_bool(a.c.use_momentum, [&](auto M) {
    with_bool(a.c.init, [&](auto I) {
      with_bool(a.c.nesterov, [&](auto N) {
        with_bool(a.c.l2, [&](auto L) {
          sgd_loop<S, Lanes, decltype(M)::value, decltype(I)::value, decltype(N)::value, decltype(L)::value>(a);
        });
      });
    });
  });
}

// ---------------------------------------------------------------- Adagrad
template <class T>
struct AdagradCoefs {
  T sign, wd, eps, neg_clr;
  bool l2;
};

template <class S>
struct AdagradSpan {
  Elem<S>* p; const Elem<S>* g; Elem<S>* sum; std::int64_t n;
  AdagradCoefs<Math<S>> c;
};

// sum: read and written; p: the new parameter.
template <bool kL2, class T, class C>
inline void adagrad_math(T x, T g, T& sum, T& p, const C& c) {
  const T d = direction<kL2>(g, x, c);
  const T s = sum + d * d;  // addcmul_(grad, grad, value=1)
  sum = s;
  const T std_ = vsqrt(s) + c.eps;
  p = x + (c.neg_clr * d) / std_;
}

template <class S, class Lanes, bool kL2>
inline void adagrad_loop(const AdagradSpan<S>& a) {
  using St = Storage<S>;
  using T = Math<S>;
  Elem<S>* __restrict p = a.p;
  const Elem<S>* __restrict g = a.g;
  Elem<S>* __restrict sum = a.sum;
  std::int64_t i = bulk<Lanes, bits(true, true, true), bits(true, false, true)>(
      a.n, a.c, [](auto& v, const auto& c) { adagrad_math<kL2>(v[0], v[1], v[2], v[0], c); }, p, g, sum);
  for (; i < a.n; ++i) {
    T s = St::ld(sum[i]), y;
    adagrad_math<kL2>(St::ld(p[i]), St::ld(g[i]), s, y, a.c);
    sum[i] = St::st(s);
    p[i] = St::st(y);
  }
}

template <class S, class Lanes = typename DefaultLanes<S>::type>
inline void adagrad_dispatch(const AdagradSpan<S>& a) {
  with_bool(a.c.l2, [&](auto L) { adagrad_loop<S, Lanes, decltype(L)::value>(a); });
}

// ---------------------------------------------------------------- RMSprop
template <class T>
struct RMSpropCoefs {
  T sign, wd, alpha, one_minus_alpha, lerp_one_minus_w, eps, momentum, neg_lr;
  bool l2, centered, use_momentum, small_lerp;
};

template <class S>
struct RMSpropSpan {
  Elem<S>* p; const Elem<S>* g; Elem<S>* sq; Elem<S>* gavg; Elem<S>* buf; std::int64_t n;
  RMSpropCoefs<Math<S>> c;
};

// sq read and written; gavg (kCentered) and buf (kMomentum) likewise; p the new parameter.
template <bool kL2, bool kCentered, bool kMomentum, bool kSmallLerp, class T, class C>
inline void rmsprop_math(T x, T g, T& sq, T& gavg, T& buf, T& p, const C& c) {
  const T d = direction<kL2>(g, x, c);
  const T s = sq * c.alpha + (c.one_minus_alpha * d) * d;
  sq = s;
  T avg;
  if (kCentered) {
    const T ga = lerp<kSmallLerp>(gavg, d, c.one_minus_alpha, c.lerp_one_minus_w);
    gavg = ga;
    avg = vsqrt(s + (-ga) * ga);
  } else {
    avg = vsqrt(s);
  }
  avg = avg + c.eps;
  if (kMomentum) {
    const T b = buf * c.momentum + d / avg;
    buf = b;
    p = x + c.neg_lr * b;
  } else {
    p = x + (c.neg_lr * d) / avg;
  }
}

template <class S, class Lanes, bool kL2, bool kCentered, bool kMomentum, bool kSmallLerp>
inline void rmsprop_loop(const RMSpropSpan<S>& a) {
  using St = Storage<S>;
  using T = Math<S>;
  Elem<S>* __restrict p = a.p;
  const Elem<S>* __restrict g = a.g;
  Elem<S>* __restrict sq = a.sq;
  Elem<S>* __restrict gavg = a.gavg;
  Elem<S>* __restrict buf = a.buf;
  constexpr unsigned kUsed = bits(true, true, true, kCentered, kMomentum);
  std::int64_t i = bulk<Lanes, kUsed, kUsed & ~2u>(
      a.n, a.c,
      [](auto& v, const auto& c) {
        rmsprop_math<kL2, kCentered, kMomentum, kSmallLerp>(v[0], v[1], v[2], v[3], v[4], v[0], c);
      },
      p, g, sq, gavg, buf);
  for (; i < a.n; ++i) {
    T s = St::ld(sq[i]), ga = kCentered ? St::ld(gavg[i]) : T(0), b = kMomentum ? St::ld(buf[i]) : T(0), y;
    rmsprop_math<kL2, kCentered, kMomentum, kSmallLerp>(St::ld(p[i]), St::ld(g[i]), s, ga, b, y, a.c);
    sq[i] = St::st(s);
    if (kCentered) gavg[i] = St::st(ga);
    if (kMomentum) buf[i] = St::st(b);
    p[i] = St::st(y);
  }
}

template <class S, class Lanes = typename DefaultLanes<S>::type>
inline void rmsprop_dispatch(const RMSpropSpan<S>& a) {
  with_bool(a.c.l2, [&](auto L) {
    with_bool(a.c.centered, [&](auto C) {
      with_bool(a.c.use_momentum, [&](auto M) {
        with_bool(a.c.small_lerp, [&](auto Sm) {
          rmsprop_loop<S, Lanes, decltype(L)::value, decltype(C)::value, decltype(M)::value, decltype(Sm)::value>(a);
        });
      });
    });
  });
}

// ---------------------------------------------------------------- Adam / AdamW
template <class T>
struct AdamCoefs {
  T sign, wd, decay, w1, one_minus_w1, beta2, one_minus_beta2, eps;
  T neg_step_size, bc2_sqrt;  // per tensor (they depend on its step)
  bool l2, amsgrad, small_lerp;
};

template <class S>
struct AdamSpan {
  Elem<S>* p; const Elem<S>* g; Elem<S>* m; Elem<S>* v; Elem<S>* vmax; std::int64_t n;
  AdamCoefs<Math<S>> c;
};

// m, v read and written; vmax likewise (kAmsgrad); p the new parameter.
template <bool kL2, bool kAmsgrad, bool kSmallLerp, class T, class C>
inline void adam_math(T x0, T g, T& m, T& v, T& vmax, T& p, const C& c) {
  const T d = direction<kL2>(g, x0, c);
  const T x = x0 * c.decay;  // AdamW's decoupled decay; decay == 1 (exact) otherwise
  const T mi = lerp<kSmallLerp>(m, d, c.w1, c.one_minus_w1);
  m = mi;
  T vi = v * c.beta2 + (c.one_minus_beta2 * d) * d;
  v = vi;
  if (kAmsgrad) {
    vi = nan_max(vmax, vi);
    vmax = vi;
  }
  const T denom = vsqrt(vi) / c.bc2_sqrt + c.eps;
  p = x + (c.neg_step_size * mi) / denom;
}

template <class S, class Lanes, bool kL2, bool kAmsgrad, bool kSmallLerp>
inline void adam_loop(const AdamSpan<S>& a) {
  using St = Storage<S>;
  using T = Math<S>;
  Elem<S>* __restrict p = a.p;
  const Elem<S>* __restrict g = a.g;
  Elem<S>* __restrict m = a.m;
  Elem<S>* __restrict v = a.v;
  Elem<S>* __restrict vmax = a.vmax;
  constexpr unsigned kUsed = bits(true, true, true, true, kAmsgrad);
  std::int64_t i = bulk<Lanes, kUsed, kUsed & ~2u>(
      a.n, a.c,
      [](auto& w, const auto& c) { adam_math<kL2, kAmsgrad, kSmallLerp>(w[0], w[1], w[2], w[3], w[4], w[0], c); },
      p, g, m, v, vmax);
  for (; i < a.n; ++i) {
    T mi = St::ld(m[i]), vi = St::ld(v[i]), vm = kAmsgrad ? St::ld(vmax[i]) : T(0), y;
    adam_math<kL2, kAmsgrad, kSmallLerp>(St::ld(p[i]), St::ld(g[i]), mi, vi, vm, y, a.c);
    m[i] = St::st(mi);
    v[i] = St::st(vi);
    if (kAmsgrad) vmax[i] = St::st(vm);
    p[i] = St::st(y);
  }
}

template <class S, class Lanes = typename DefaultLanes<S>::type>
inline void adam_dispatch(const AdamSpan<S>& a) {
  with_bool(a.c.l2, [&](auto L) {
    with_bool(a.c.amsgrad, [&](auto A) {
      with_bool(a.c.small_lerp, [&](auto Sm) {
        adam_loop<S, Lanes, decltype(L)::value, decltype(A)::value, decltype(Sm)::value>(a);
      });
    });
  });
}

// The SIMD-cloned entry points, one per optimizer and storage type.
#define GFO_OPTIM_SPANS(S)                                                  \
  GFO_SIMD_CLONES void sgd_span(const SGDSpan<S>& a) { sgd_dispatch(a); }  \
  GFO_SIMD_CLONES void adagrad_span(const AdagradSpan<S>& a) { adagrad_dispatch(a); } \
  GFO_SIMD_CLONES void rmsprop_span(const RMSpropSpan<S>& a) { rmsprop_dispatch(a); } \
  GFO_SIMD_CLONES void adam_span(const AdamSpan<S>& a) { adam_dispatch(a); }
GFO_OPTIM_SPANS(float)
GFO_OPTIM_SPANS(double)
GFO_OPTIM_SPANS(Bfloat16)
#undef GFO_OPTIM_SPANS

// ---------------------------------------------------------------- float16
// The portable half <-> float conversions (gfo/bits.hpp) cost more than a step's arithmetic: Adam on float16
// took 4.5x the time of float32 on one core. Where the CPU converts in hardware (F16C: vcvtph2ps, vcvtps2ph
// rounding to nearest even) a float16 span's bulk runs on F16cLanes instead, in a function compiled for AVX2 and
// F16C and taken only where the CPU has both (runtime-checked). The values are the portable loop's (the same
// float32 operations, each stored value rounded once to nearest even); a NaN is stored as float_to_half stores
// it, the quiet NaN 0x7E00 with its sign (vcvtps2ph would keep part of its payload).
GFO_SIMD_CLONES void sgd_span_portable(const SGDSpan<Float16>& a) { sgd_dispatch(a); }
GFO_SIMD_CLONES void adagrad_span_portable(const AdagradSpan<Float16>& a) { adagrad_dispatch(a); }
GFO_SIMD_CLONES void rmsprop_span_portable(const RMSpropSpan<Float16>& a) { rmsprop_dispatch(a); }
GFO_SIMD_CLONES void adam_span_portable(const AdamSpan<Float16>& a) { adam_dispatch(a); }

#if GFO_OPTIM_F16C
#define GFO_F16C_TARGET __attribute__((target("avx2,f16c")))

struct F16cLanes {
  static constexpr int kWidth = 8, kParts = 1;
  f32x8 f;
  GFO_F16C_TARGET void load(const std::uint16_t* s) {
    f = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s)));
  }
  f32x8 part(int) const { return f; }
  void put(int, f32x8 v) { f = v; }
  GFO_F16C_TARGET void store(std::uint16_t* d) const {
    const __m128i r = _mm256_cvtps_ph(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    // A NaN comes out as sign | 0x7E00 | payload (quiet bit set), above every other value of its sign: read as
    // signed 16-bit integers, positive NaNs are the values above 0x7E00 (the signed minimum with 0x7E00 leaves
    // everything else as it is); read as unsigned, negative NaNs are those above 0xFE00 (likewise).
    const __m128i pos = _mm_min_epi16(r, _mm_set1_epi16(0x7E00));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d), _mm_min_epu16(pos, _mm_set1_epi16(static_cast<short>(0xFE00))));
  }
};

#define GFO_F16C_SPANS                                                                                        \
  GFO_F16C_TARGET __attribute__((flatten)) void sgd_span_f16c(const SGDSpan<Float16>& a) {                    \
    sgd_dispatch<Float16, F16cLanes>(a);                                                                      \
  }                                                                                                           \
  GFO_F16C_TARGET __attribute__((flatten)) void adagrad_span_f16c(const AdagradSpan<Float16>& a) {            \
    adagrad_dispatch<Float16, F16cLanes>(a);                                                                  \
  }                                                                                                           \
  GFO_F16C_TARGET __attribute__((flatten)) void rmsprop_span_f16c(const RMSpropSpan<Float16>& a) {            \
    rmsprop_dispatch<Float16, F16cLanes>(a);                                                                  \
  }                                                                                                           \
  GFO_F16C_TARGET __attribute__((flatten)) void adam_span_f16c(const AdamSpan<Float16>& a) {                  \
    adam_dispatch<Float16, F16cLanes>(a);                                                                     \
  }
GFO_F16C_SPANS
#undef GFO_F16C_SPANS

// GFO_NO_F16C=1 in the environment takes the portable loop anyway (tests compare the two paths).
inline bool has_f16c() {
  static const bool yes =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c") && std::getenv("GFO_NO_F16C") == nullptr;
  return yes;
}

void sgd_span(const SGDSpan<Float16>& a) { has_f16c() ? sgd_span_f16c(a) : sgd_span_portable(a); }
void adagrad_span(const AdagradSpan<Float16>& a) { has_f16c() ? adagrad_span_f16c(a) : adagrad_span_portable(a); }
void rmsprop_span(const RMSpropSpan<Float16>& a) { has_f16c() ? rmsprop_span_f16c(a) : rmsprop_span_portable(a); }
void adam_span(const AdamSpan<Float16>& a) { has_f16c() ? adam_span_f16c(a) : adam_span_portable(a); }
#else
void sgd_span(const SGDSpan<Float16>& a) { sgd_span_portable(a); }
void adagrad_span(const AdagradSpan<Float16>& a) { adagrad_span_portable(a); }
void rmsprop_span(const RMSpropSpan<Float16>& a) { rmsprop_span_portable(a); }
void adam_span(const AdamSpan<Float16>& a) { adam_span_portable(a); }
#endif

// ---------------------------------------------------------------- clipping
// Eight independent accumulators in a fixed pattern: vectorizable without reassociation, and the same
// rounding on every ISA clone.
template <class S>
inline double sum_squares_loop(const Elem<S>* x, std::int64_t n) {
  auto sq = [&](std::int64_t i) { const double v = Storage<S>::ld(x[i]); return v * v; };
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += sq(i + j);
  for (int j = 0; i < n; ++i, ++j) acc[j] += sq(i);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

template <class S>
inline void scale_loop(Elem<S>* x, std::int64_t n, Math<S> c) {
  for (std::int64_t i = 0; i < n; ++i) x[i] = Storage<S>::st(Storage<S>::ld(x[i]) * c);
}
template <class S>
inline void clamp_loop(Elem<S>* x, std::int64_t n, Math<S> lo, Math<S> hi) {
  // torch.clamp: NaN stays NaN.
  for (std::int64_t i = 0; i < n; ++i) {
    const Math<S> v = Storage<S>::ld(x[i]);
    x[i] = Storage<S>::st(v < lo ? lo : (v > hi ? hi : v));
  }
}
#define GFO_CLIP_SPANS(S)                                                                                         \
  GFO_SIMD_CLONES double sum_squares(S, const Elem<S>* x, std::int64_t n) { return sum_squares_loop<S>(x, n); } \
  GFO_SIMD_CLONES void scale_span(S, Elem<S>* x, std::int64_t n, Math<S> c) { scale_loop<S>(x, n, c); }         \
  GFO_SIMD_CLONES void clamp_span(S, Elem<S>* x, std::int64_t n, Math<S> lo, Math<S> hi) {                        \
    clamp_loop<S>(x, n, lo, hi);                                                                                  \
  }
GFO_CLIP_SPANS(float)
GFO_CLIP_SPANS(double)
GFO_CLIP_SPANS(Bfloat16)
GFO_CLIP_SPANS(Float16)
#undef GFO_CLIP_SPANS

constexpr std::int64_t kNormBlock = 1 << 15;

}  // namespace

template <class S>
std::int64_t sgd_step(const Table& t, const SGDOptions& o, RowGate* gate) {
  using T = Math<S>;
  using E = Elem<S>;
  const auto start = offsets(t);
  const bool use_momentum = o.momentum != 0.0;
  return run_concat(start, gate, [&](std::int64_t i, std::int64_t b, std::int64_t e) {
    const std::uint64_t* row = row_of(t, i);
    SGDSpan<S> a{at<E>(row, kParam) + b, at<E>(row, kGrad) + b, use_momentum ? at<E>(row, kState0) + b : nullptr,
                 e - b, T(o.maximize ? -1 : 1), T(o.weight_decay), T(o.momentum), T(1.0 - o.dampening), T(-o.lr),
                 use_momentum, (row[kFlags] & kInitBuffer) != 0, o.nesterov, o.weight_decay != 0.0};
    sgd_span(a);
  });
}

template <class S>
std::int64_t adagrad_step(const Table& t, const AdagradOptions& o, RowGate* gate) {
  using T = Math<S>;
  using E = Elem<S>;
  std::vector<T> neg_clr(static_cast<std::size_t>(t.n));
  for (std::int64_t i = 0; i < t.n; ++i) {
    const double step = next_step(row_of(t, i));
    neg_clr[i] = T(-(o.lr / (1.0 + (step - 1.0) * o.lr_decay)));
  }
  const auto start = offsets(t);
  const std::int64_t rows = run_concat(start, gate, [&](std::int64_t i, std::int64_t b, std::int64_t e) {
    const std::uint64_t* row = row_of(t, i);
    AdagradSpan<S> a{at<E>(row, kParam) + b, at<E>(row, kGrad) + b, at<E>(row, kState0) + b, e - b,
                     T(o.maximize ? -1 : 1), T(o.weight_decay), T(o.eps), neg_clr[i], o.weight_decay != 0.0};
    adagrad_span(a);
  });
  commit_steps(t, rows);
  return rows;
}

template <class S>
std::int64_t rmsprop_step(const Table& t, const RMSpropOptions& o, RowGate* gate) {
  using T = Math<S>;
  using E = Elem<S>;
  const auto start = offsets(t);
  const T w = T(1.0 - o.alpha);
  const bool use_momentum = o.momentum > 0.0;
  const std::int64_t rows = run_concat(start, gate, [&](std::int64_t i, std::int64_t b, std::int64_t e) {
    const std::uint64_t* row = row_of(t, i);
    RMSpropSpan<S> a{at<E>(row, kParam) + b, at<E>(row, kGrad) + b, at<E>(row, kState0) + b,
                     o.centered ? at<E>(row, kState1) + b : nullptr, use_momentum ? at<E>(row, kState2) + b : nullptr,
                     e - b, T(o.maximize ? -1 : 1), T(o.weight_decay), T(o.alpha), w, T(T(1) - w), T(o.eps),
                     T(o.momentum), T(-o.lr), o.weight_decay != 0.0, o.centered, use_momentum, std::fabs(double(w)) < 0.5};
    rmsprop_span(a);
  });
  commit_steps(t, rows);  // kept for state_dict parity only
  return rows;
}

template <class S>
std::int64_t adam_step(const Table& t, const AdamOptions& o, RowGate* gate) {
  using T = Math<S>;
  using E = Elem<S>;
  // Bias corrections per tensor, from each tensor's own step (tensors skipped on some steps lag behind).
  std::vector<T> neg_step_size(static_cast<std::size_t>(t.n)), bc2_sqrt(static_cast<std::size_t>(t.n));
  double last_step = -1.0;
  T last_a = T(0), last_b = T(0);
  for (std::int64_t i = 0; i < t.n; ++i) {
    const double step = next_step(row_of(t, i));
    if (step != last_step) {
      const double bc1 = 1.0 - std::pow(o.beta1, step);
      const double bc2 = 1.0 - std::pow(o.beta2, step);
      last_a = T(-(o.lr / bc1));
      last_b = T(std::pow(bc2, 0.5));  // Python's bias_correction2 ** 0.5
      last_step = step;
    }
    neg_step_size[i] = last_a;
    bc2_sqrt[i] = last_b;
  }
  const bool decoupled = o.decoupled_weight_decay && o.weight_decay != 0.0;
  const T w1 = T(1.0 - o.beta1);
  const T decay = decoupled ? T(1.0 - o.lr * o.weight_decay) : T(1);
  const auto start = offsets(t);
  const std::int64_t rows = run_concat(start, gate, [&](std::int64_t i, std::int64_t b, std::int64_t e) {
    const std::uint64_t* row = row_of(t, i);
    AdamSpan<S> a{at<E>(row, kParam) + b, at<E>(row, kGrad) + b, at<E>(row, kState0) + b, at<E>(row, kState1) + b,
                  o.amsgrad ? at<E>(row, kState2) + b : nullptr, e - b, T(o.maximize ? -1 : 1), T(o.weight_decay),
                  decay, w1, T(T(1) - w1), T(o.beta2), T(1.0 - o.beta2), T(o.eps), neg_step_size[i], bc2_sqrt[i],
                  !o.decoupled_weight_decay && o.weight_decay != 0.0, o.amsgrad, std::fabs(double(w1)) < 0.5};
    adam_span(a);
  });
  commit_steps(t, rows);
  return rows;
}

template <class S>
double grad_norm(const Table& t) {
  const auto start = offsets(t);
  const std::int64_t total = start.back();
  const std::int64_t nblocks = (total + kNormBlock - 1) / kNormBlock;
  std::vector<double> partial(static_cast<std::size_t>(nblocks), 0.0);
  parallel_chunks(nblocks, 1, kNormBlock, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t k = b; k < e; ++k) {
      double s = 0.0;
      auto add = [&](std::int64_t i, std::int64_t lo, std::int64_t hi) {
        s += sum_squares(S{}, at<const Elem<S>>(row_of(t, i), kGrad) + lo, hi - lo);
      };
      visit_range(start, k * kNormBlock, std::min(total, (k + 1) * kNormBlock), add);
      partial[k] = s;
    }
  });
  double s = 0.0;
  for (double v : partial) s += v;
  return std::sqrt(s);
}

template <class S>
void scale_grads(const Table& t, double coef) {
  const auto start = offsets(t);
  parallel_concat(start, [&](std::int64_t i, std::int64_t b, std::int64_t e) {
    scale_span(S{}, at<Elem<S>>(row_of(t, i), kGrad) + b, e - b, Math<S>(coef));
  });
}

template <class S>
void clamp_grads(const Table& t, double clip) {
  const auto start = offsets(t);
  parallel_concat(start, [&](std::int64_t i, std::int64_t b, std::int64_t e) {
    clamp_span(S{}, at<Elem<S>>(row_of(t, i), kGrad) + b, e - b, Math<S>(-clip), Math<S>(clip));
  });
}

#define GFO_OPTIM_INSTANTIATE(T)                                     \
  template std::int64_t sgd_step<T>(const Table&, const SGDOptions&, RowGate*);         \
  template std::int64_t adagrad_step<T>(const Table&, const AdagradOptions&, RowGate*); \
  template std::int64_t rmsprop_step<T>(const Table&, const RMSpropOptions&, RowGate*); \
  template std::int64_t adam_step<T>(const Table&, const AdamOptions&, RowGate*);       \
  template double grad_norm<T>(const Table&);                         \
  template void scale_grads<T>(const Table&, double);                 \
  template void clamp_grads<T>(const Table&, double);
GFO_OPTIM_INSTANTIATE(float)
GFO_OPTIM_INSTANTIATE(double)
GFO_OPTIM_INSTANTIATE(Bfloat16)
GFO_OPTIM_INSTANTIATE(Float16)
#undef GFO_OPTIM_INSTANTIATE

}  // namespace gfo::optim

// Fused optimizer steps. Each optimizer has one serial span function per dtype (SIMD-cloned, the hot loop)
// and one driver that prepares the per-step scalars and runs a single parallel region over all tensors.
// Operation order mirrors torch/optim/{sgd,adagrad,rmsprop,adam}.py (_single_tensor_*): e.g. exp_avg uses
// lerp (m + w (g - m)) rather than b1 m + (1 - b1) g, and the denominators divide by sqrt(bias_correction2)
// before adding eps, so results agree with torch to float rounding.
// bf16/fp16 storage: each value is loaded to float32, the float32 math runs, and each stored value is rounded once
// (to nearest even), as in the CUDA kernels (cuda/optim.cu), so both give the same bits.
#include "gfo/optim.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <type_traits>
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
template <bool kSmall, class T>
inline T lerp(T start, T end, T w, T one_minus_w) {
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

// ---------------------------------------------------------------- SGD
// The step's scalars (in the math type T), apart from the arrays: a float16 span staged through float32
// blocks reuses them as they are.
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

template <class S, bool kMomentum, bool kInit, bool kNesterov, bool kL2>
inline void sgd_loop(const SGDSpan<S>& a) {
  using St = Storage<S>;
  using T = Math<S>;
  Elem<S>* __restrict p = a.p;
  const Elem<S>* __restrict g = a.g;
  Elem<S>* __restrict buf = a.buf;
  for (std::int64_t i = 0; i < a.n; ++i) {
    const T x = St::ld(p[i]);
    T d = direction<kL2>(St::ld(g[i]), x, a.c);
    if (kMomentum) {
      T b = kInit ? d : St::ld(buf[i]) * a.c.momentum + a.c.one_minus_dampening * d;
      buf[i] = St::st(b);
      d = kNesterov ? d + a.c.momentum * b : b;
    }
    p[i] = St::st(x + a.c.neg_lr * d);
  }
}

template <class S>
inline void sgd_dispatch(const SGDSpan<S>& a) {
  with_bool(a.c.use_momentum, [&](auto M) {
    with_bool(a.c.init, [&](auto I) {
      with_bool(a.c.nesterov, [&](auto N) {
        with_bool(a.c.l2, [&](auto L) {
          sgd_loop<S, decltype(M)::value, decltype(I)::value, decltype(N)::value, decltype(L)::value>(a);
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

template <class S, bool kL2>
inline void adagrad_loop(const AdagradSpan<S>& a) {
  using St = Storage<S>;
  using T = Math<S>;
  Elem<S>* __restrict p = a.p;
  const Elem<S>* __restrict g = a.g;
  Elem<S>* __restrict sum = a.sum;
  for (std::int64_t i = 0; i < a.n; ++i) {
    const T x = St::ld(p[i]);
    const T d = direction<kL2>(St::ld(g[i]), x, a.c);
    const T s = St::ld(sum[i]) + d * d;  // addcmul_(grad, grad, value=1)
    sum[i] = St::st(s);
    const T std_ = std::sqrt(s) + a.c.eps;
    p[i] = St::st(x + (a.c.neg_clr * d) / std_);
  }
}

template <class S>
inline void adagrad_dispatch(const AdagradSpan<S>& a) {
  with_bool(a.c.l2, [&](auto L) { adagrad_loop<S, decltype(L)::value>(a); });
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

template <class S, bool kL2, bool kCentered, bool kMomentum, bool kSmallLerp>
inline void rmsprop_loop(const RMSpropSpan<S>& a) {
  using St = Storage<S>;
  using T = Math<S>;
  Elem<S>* __restrict p = a.p;
  const Elem<S>* __restrict g = a.g;
  Elem<S>* __restrict sq = a.sq;
  Elem<S>* __restrict gavg = a.gavg;
  Elem<S>* __restrict buf = a.buf;
  for (std::int64_t i = 0; i < a.n; ++i) {
    const T x = St::ld(p[i]);
    const T d = direction<kL2>(St::ld(g[i]), x, a.c);
    const T s = St::ld(sq[i]) * a.c.alpha + (a.c.one_minus_alpha * d) * d;
    sq[i] = St::st(s);
    T avg;
    if (kCentered) {
      const T ga = lerp<kSmallLerp>(St::ld(gavg[i]), d, a.c.one_minus_alpha, a.c.lerp_one_minus_w);
      gavg[i] = St::st(ga);
      avg = std::sqrt(s + (-ga) * ga);
    } else {
      avg = std::sqrt(s);
    }
    avg = avg + a.c.eps;
    if (kMomentum) {
      const T b = St::ld(buf[i]) * a.c.momentum + d / avg;
      buf[i] = St::st(b);
      p[i] = St::st(x + a.c.neg_lr * b);
    } else {
      p[i] = St::st(x + (a.c.neg_lr * d) / avg);
    }
  }
}

template <class S>
inline void rmsprop_dispatch(const RMSpropSpan<S>& a) {
  with_bool(a.c.l2, [&](auto L) {
    with_bool(a.c.centered, [&](auto C) {
      with_bool(a.c.use_momentum, [&](auto M) {
        with_bool(a.c.small_lerp, [&](auto Sm) {
          rmsprop_loop<S, decltype(L)::value, decltype(C)::value, decltype(M)::value, decltype(Sm)::value>(a);
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

template <class S, bool kL2, bool kAmsgrad, bool kSmallLerp>
inline void adam_loop(const AdamSpan<S>& a) {
  using St = Storage<S>;
  using T = Math<S>;
  Elem<S>* __restrict p = a.p;
  const Elem<S>* __restrict g = a.g;
  Elem<S>* __restrict m = a.m;
  Elem<S>* __restrict v = a.v;
  Elem<S>* __restrict vmax = a.vmax;
  for (std::int64_t i = 0; i < a.n; ++i) {
    const T x0 = St::ld(p[i]);
    const T d = direction<kL2>(St::ld(g[i]), x0, a.c);
    const T x = x0 * a.c.decay;  // AdamW's decoupled decay; decay == 1 (exact) otherwise
    const T mi = lerp<kSmallLerp>(St::ld(m[i]), d, a.c.w1, a.c.one_minus_w1);
    m[i] = St::st(mi);
    T vi = St::ld(v[i]) * a.c.beta2 + (a.c.one_minus_beta2 * d) * d;
    v[i] = St::st(vi);
    if (kAmsgrad) {
      vi = nan_max(St::ld(vmax[i]), vi);
      vmax[i] = St::st(vi);
    }
    const T denom = std::sqrt(vi) / a.c.bc2_sqrt + a.c.eps;
    p[i] = St::st(x + (a.c.neg_step_size * mi) / denom);
  }
}

template <class S>
inline void adam_dispatch(const AdamSpan<S>& a) {
  with_bool(a.c.l2, [&](auto L) {
    with_bool(a.c.amsgrad, [&](auto A) {
      with_bool(a.c.small_lerp,
                [&](auto Sm) { adam_loop<S, decltype(L)::value, decltype(A)::value, decltype(Sm)::value>(a); });
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
// rounding to nearest even) a float16 span runs as float32 blocks instead: its arrays converted, the float32
// loop, what the step stores converted back. The values are the portable loop's (the same float32 operations,
// each stored value rounded once to nearest even); a NaN is stored as float_to_half stores it, the quiet NaN
// 0x7E00 with its sign (vcvtps2ph would keep part of its payload).
GFO_SIMD_CLONES void sgd_span_portable(const SGDSpan<Float16>& a) { sgd_dispatch(a); }
GFO_SIMD_CLONES void adagrad_span_portable(const AdagradSpan<Float16>& a) { adagrad_dispatch(a); }
GFO_SIMD_CLONES void rmsprop_span_portable(const RMSpropSpan<Float16>& a) { rmsprop_dispatch(a); }
GFO_SIMD_CLONES void adam_span_portable(const AdamSpan<Float16>& a) { adam_dispatch(a); }

#if GFO_OPTIM_F16C
constexpr int kHalfBlock = 512;

__attribute__((target("avx2,f16c"))) void half_block_to_float(const std::uint16_t* h, float* f, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(f + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
  for (; i < n; ++i) f[i] = half_to_float(h[i]);
}

__attribute__((target("avx2,f16c"))) void float_block_to_half(const float* f, std::uint16_t* h, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(f + i);
    const __m128i r = _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256i nan32 = _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q));
    const __m128i nan16 = _mm_packs_epi32(_mm256_castsi256_si128(nan32), _mm256_extracti128_si256(nan32, 1));
    const __m128i quiet = _mm_or_si128(_mm_and_si128(r, _mm_set1_epi16(static_cast<short>(0x8000))),
                                       _mm_set1_epi16(0x7E00));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i), _mm_blendv_epi8(r, quiet, nan16));
  }
  for (; i < n; ++i) h[i] = float_to_half(f[i]);
}

// Runs body(f, len) over blocks of the K arrays h (nullptr entries stay nullptr in f), converting block by block
// to float32 and back the arrays marked in `stores`.
template <int K, class Body>
void half_staged(std::int64_t n, std::uint16_t* const (&h)[K], const bool (&stores)[K], Body&& body) {
  alignas(32) float buf[K][kHalfBlock];
  for (std::int64_t b = 0; b < n; b += kHalfBlock) {
    const int len = static_cast<int>(std::min<std::int64_t>(kHalfBlock, n - b));
    float* f[K];
    for (int k = 0; k < K; ++k) {
      f[k] = h[k] ? buf[k] : nullptr;
      if (h[k]) half_block_to_float(h[k] + b, buf[k], len);
    }
    body(f, len);
    for (int k = 0; k < K; ++k)
      if (h[k] && stores[k]) float_block_to_half(buf[k], h[k] + b, len);
  }
}

// GFO_NO_F16C=1 in the environment takes the portable loop anyway (tests compare the two paths).
inline bool has_f16c() {
  static const bool yes =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c") && std::getenv("GFO_NO_F16C") == nullptr;
  return yes;
}

inline std::uint16_t* mut(const std::uint16_t* p) { return const_cast<std::uint16_t*>(p); }  // read only: not stored

void sgd_span(const SGDSpan<Float16>& a) {
  if (!has_f16c()) return sgd_span_portable(a);
  std::uint16_t* const h[3] = {a.p, mut(a.g), a.buf};
  half_staged(a.n, h, {true, false, true},
              [&](float* const* f, int n) { sgd_span(SGDSpan<float>{f[0], f[1], f[2], n, a.c}); });
}

void adagrad_span(const AdagradSpan<Float16>& a) {
  if (!has_f16c()) return adagrad_span_portable(a);
  std::uint16_t* const h[3] = {a.p, mut(a.g), a.sum};
  half_staged(a.n, h, {true, false, true},
              [&](float* const* f, int n) { adagrad_span(AdagradSpan<float>{f[0], f[1], f[2], n, a.c}); });
}

void rmsprop_span(const RMSpropSpan<Float16>& a) {
  if (!has_f16c()) return rmsprop_span_portable(a);
  std::uint16_t* const h[5] = {a.p, mut(a.g), a.sq, a.gavg, a.buf};
  half_staged(a.n, h, {true, false, true, true, true}, [&](float* const* f, int n) {
    rmsprop_span(RMSpropSpan<float>{f[0], f[1], f[2], f[3], f[4], n, a.c});
  });
}

void adam_span(const AdamSpan<Float16>& a) {
  if (!has_f16c()) return adam_span_portable(a);
  std::uint16_t* const h[5] = {a.p, mut(a.g), a.m, a.v, a.vmax};
  half_staged(a.n, h, {true, false, true, true, true},
              [&](float* const* f, int n) { adam_span(AdamSpan<float>{f[0], f[1], f[2], f[3], f[4], n, a.c}); });
}
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

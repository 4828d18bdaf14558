// Fused optimizer steps. Each optimizer has one serial span function per dtype (SIMD-cloned, the hot loop)
// and one driver that prepares the per-step scalars and runs a single parallel region over all tensors.
// Operation order mirrors torch/optim/{sgd,adagrad,rmsprop,adam}.py (_single_tensor_*): e.g. exp_avg uses
// lerp (m + w (g - m)) rather than b1 m + (1 - b1) g, and the denominators divide by sqrt(bias_correction2)
// before adding eps, so results agree with torch to float rounding.
#include "gfo/optim.hpp"

#include <cmath>
#include <type_traits>
#include <vector>

#include "gfo/simd.hpp"
#include "gfo/tensor_list.hpp"

namespace gfo::optim {
namespace {

template <class T>
inline T* at(const std::uint64_t* row, int col) {
  return reinterpret_cast<T*>(static_cast<std::uintptr_t>(row[col]));
}

inline const std::uint64_t* row_of(const Table& t, std::int64_t i) { return t.rows + i * kColumns; }

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

// ---------------------------------------------------------------- SGD
template <class T>
struct SGDSpan {
  T* p; const T* g; T* buf; std::int64_t n;
  T sign, wd, momentum, one_minus_dampening, neg_lr;
  bool use_momentum, init, nesterov, l2;
};

template <class T, bool kMomentum, bool kInit, bool kNesterov, bool kL2>
inline void sgd_loop(const SGDSpan<T>& a) {
  T* __restrict p = a.p;
  const T* __restrict g = a.g;
  T* __restrict buf = a.buf;
  for (std::int64_t i = 0; i < a.n; ++i) {
    T d = g[i] * a.sign;
    if (kL2) d = d + a.wd * p[i];
    if (kMomentum) {
      T b = kInit ? d : buf[i] * a.momentum + a.one_minus_dampening * d;
      buf[i] = b;
      d = kNesterov ? d + a.momentum * b : b;
    }
    p[i] = p[i] + a.neg_lr * d;
  }
}

template <class T>
inline void sgd_dispatch(const SGDSpan<T>& a) {
  with_bool(a.use_momentum, [&](auto M) {
    with_bool(a.init, [&](auto I) {
      with_bool(a.nesterov, [&](auto N) {
        with_bool(a.l2, [&](auto L) { sgd_loop<T, decltype(M)::value, decltype(I)::value, decltype(N)::value, decltype(L)::value>(a); });
      });
    });
  });
}

GFO_SIMD_CLONES void sgd_span(const SGDSpan<float>& a) { sgd_dispatch(a); }
GFO_SIMD_CLONES void sgd_span(const SGDSpan<double>& a) { sgd_dispatch(a); }

// ---------------------------------------------------------------- Adagrad
template <class T>
struct AdagradSpan {
  T* p; const T* g; T* sum; std::int64_t n;
  T sign, wd, eps, neg_clr;
  bool l2;
};

template <class T, bool kL2>
inline void adagrad_loop(const AdagradSpan<T>& a) {
  T* __restrict p = a.p;
  const T* __restrict g = a.g;
  T* __restrict sum = a.sum;
  for (std::int64_t i = 0; i < a.n; ++i) {
    T d = g[i] * a.sign;
    if (kL2) d = d + a.wd * p[i];
    const T s = sum[i] + d * d;  // addcmul_(grad, grad, value=1)
    sum[i] = s;
    const T std_ = std::sqrt(s) + a.eps;
    p[i] = p[i] + (a.neg_clr * d) / std_;
  }
}

template <class T>
inline void adagrad_dispatch(const AdagradSpan<T>& a) {
  with_bool(a.l2, [&](auto L) { adagrad_loop<T, decltype(L)::value>(a); });
}

GFO_SIMD_CLONES void adagrad_span(const AdagradSpan<float>& a) { adagrad_dispatch(a); }
GFO_SIMD_CLONES void adagrad_span(const AdagradSpan<double>& a) { adagrad_dispatch(a); }

// ---------------------------------------------------------------- RMSprop
template <class T>
struct RMSpropSpan {
  T* p; const T* g; T* sq; T* gavg; T* buf; std::int64_t n;
  T sign, wd, alpha, one_minus_alpha, lerp_one_minus_w, eps, momentum, neg_lr;
  bool l2, centered, use_momentum, small_lerp;
};

template <class T, bool kL2, bool kCentered, bool kMomentum, bool kSmallLerp>
inline void rmsprop_loop(const RMSpropSpan<T>& a) {
  T* __restrict p = a.p;
  const T* __restrict g = a.g;
  T* __restrict sq = a.sq;
  T* __restrict gavg = a.gavg;
  T* __restrict buf = a.buf;
  for (std::int64_t i = 0; i < a.n; ++i) {
    T d = g[i] * a.sign;
    if (kL2) d = d + a.wd * p[i];
    const T s = sq[i] * a.alpha + (a.one_minus_alpha * d) * d;
    sq[i] = s;
    T avg;
    if (kCentered) {
      const T ga = lerp<kSmallLerp>(gavg[i], d, a.one_minus_alpha, a.lerp_one_minus_w);
      gavg[i] = ga;
      avg = std::sqrt(s + (-ga) * ga);
    } else {
      avg = std::sqrt(s);
    }
    avg = avg + a.eps;
    if (kMomentum) {
      const T b = buf[i] * a.momentum + d / avg;
      buf[i] = b;
      p[i] = p[i] + a.neg_lr * b;
    } else {
      p[i] = p[i] + (a.neg_lr * d) / avg;
    }
  }
}

template <class T>
inline void rmsprop_dispatch(const RMSpropSpan<T>& a) {
  with_bool(a.l2, [&](auto L) {
    with_bool(a.centered, [&](auto C) {
      with_bool(a.use_momentum, [&](auto M) {
        with_bool(a.small_lerp, [&](auto S) {
          rmsprop_loop<T, decltype(L)::value, decltype(C)::value, decltype(M)::value, decltype(S)::value>(a);
        });
      });
    });
  });
}

GFO_SIMD_CLONES void rmsprop_span(const RMSpropSpan<float>& a) { rmsprop_dispatch(a); }
GFO_SIMD_CLONES void rmsprop_span(const RMSpropSpan<double>& a) { rmsprop_dispatch(a); }

// ---------------------------------------------------------------- Adam / AdamW
template <class T>
struct AdamSpan {
  T* p; const T* g; T* m; T* v; T* vmax; std::int64_t n;
  T sign, wd, decay, w1, one_minus_w1, beta2, one_minus_beta2, eps;
  T neg_step_size, bc2_sqrt;  // per tensor (they depend on its step)
  bool l2, amsgrad, small_lerp;
};

template <class T, bool kL2, bool kAmsgrad, bool kSmallLerp>
inline void adam_loop(const AdamSpan<T>& a) {
  T* __restrict p = a.p;
  const T* __restrict g = a.g;
  T* __restrict m = a.m;
  T* __restrict v = a.v;
  T* __restrict vmax = a.vmax;
  for (std::int64_t i = 0; i < a.n; ++i) {
    T d = g[i] * a.sign;
    T x = p[i];
    if (kL2) d = d + a.wd * x;
    x = x * a.decay;  // AdamW's decoupled decay; decay == 1 (exact) otherwise
    const T mi = lerp<kSmallLerp>(m[i], d, a.w1, a.one_minus_w1);
    m[i] = mi;
    T vi = v[i] * a.beta2 + (a.one_minus_beta2 * d) * d;
    v[i] = vi;
    if (kAmsgrad) {
      vi = nan_max(vmax[i], vi);
      vmax[i] = vi;
    }
    const T denom = std::sqrt(vi) / a.bc2_sqrt + a.eps;
    p[i] = x + (a.neg_step_size * mi) / denom;
  }
}

template <class T>
inline void adam_dispatch(const AdamSpan<T>& a) {
  with_bool(a.l2, [&](auto L) {
    with_bool(a.amsgrad, [&](auto A) {
      with_bool(a.small_lerp, [&](auto S) { adam_loop<T, decltype(L)::value, decltype(A)::value, decltype(S)::value>(a); });
    });
  });
}

GFO_SIMD_CLONES void adam_span(const AdamSpan<float>& a) { adam_dispatch(a); }
GFO_SIMD_CLONES void adam_span(const AdamSpan<double>& a) { adam_dispatch(a); }

// ---------------------------------------------------------------- clipping
// Eight independent accumulators in a fixed pattern: vectorizable without reassociation, and the same
// rounding on every ISA clone.
template <class T>
inline double sum_squares_loop(const T* x, std::int64_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += double(x[i + j]) * double(x[i + j]);
  for (int j = 0; i < n; ++i, ++j) acc[j] += double(x[i]) * double(x[i]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

GFO_SIMD_CLONES double sum_squares(const float* x, std::int64_t n) { return sum_squares_loop(x, n); }
GFO_SIMD_CLONES double sum_squares(const double* x, std::int64_t n) { return sum_squares_loop(x, n); }

template <class T>
inline void scale_loop(T* x, std::int64_t n, T c) {
  for (std::int64_t i = 0; i < n; ++i) x[i] = x[i] * c;
}
template <class T>
inline void clamp_loop(T* x, std::int64_t n, T lo, T hi) {
  // torch.clamp: NaN stays NaN.
  for (std::int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    x[i] = v < lo ? lo : (v > hi ? hi : v);
  }
}
GFO_SIMD_CLONES void scale_span(float* x, std::int64_t n, float c) { scale_loop(x, n, c); }
GFO_SIMD_CLONES void scale_span(double* x, std::int64_t n, double c) { scale_loop(x, n, c); }
GFO_SIMD_CLONES void clamp_span(float* x, std::int64_t n, float lo, float hi) { clamp_loop(x, n, lo, hi); }
GFO_SIMD_CLONES void clamp_span(double* x, std::int64_t n, double lo, double hi) { clamp_loop(x, n, lo, hi); }

constexpr std::int64_t kNormBlock = 1 << 15;

}  // namespace

template <class T>
std::int64_t sgd_step(const Table& t, const SGDOptions& o, RowGate* gate) {
  const auto start = offsets(t);
  const bool use_momentum = o.momentum != 0.0;
  return run_concat(start, gate, [&](std::int64_t i, std::int64_t b, std::int64_t e) {
    const std::uint64_t* row = row_of(t, i);
    SGDSpan<T> a{at<T>(row, kParam) + b, at<T>(row, kGrad) + b, use_momentum ? at<T>(row, kState0) + b : nullptr,
                 e - b, T(o.maximize ? -1 : 1), T(o.weight_decay), T(o.momentum), T(1.0 - o.dampening), T(-o.lr),
                 use_momentum, (row[kFlags] & kInitBuffer) != 0, o.nesterov, o.weight_decay != 0.0};
    sgd_span(a);
  });
}

template <class T>
std::int64_t adagrad_step(const Table& t, const AdagradOptions& o, RowGate* gate) {
  std::vector<T> neg_clr(static_cast<std::size_t>(t.n));
  for (std::int64_t i = 0; i < t.n; ++i) {
    const double step = next_step(row_of(t, i));
    neg_clr[i] = T(-(o.lr / (1.0 + (step - 1.0) * o.lr_decay)));
  }
  const auto start = offsets(t);
  const std::int64_t rows = run_concat(start, gate, [&](std::int64_t i, std::int64_t b, std::int64_t e) {
    const std::uint64_t* row = row_of(t, i);
    AdagradSpan<T> a{at<T>(row, kParam) + b, at<T>(row, kGrad) + b, at<T>(row, kState0) + b, e - b,
                     T(o.maximize ? -1 : 1), T(o.weight_decay), T(o.eps), neg_clr[i], o.weight_decay != 0.0};
    adagrad_span(a);
  });
  commit_steps(t, rows);
  return rows;
}

template <class T>
std::int64_t rmsprop_step(const Table& t, const RMSpropOptions& o, RowGate* gate) {
  const auto start = offsets(t);
  const T w = T(1.0 - o.alpha);
  const bool use_momentum = o.momentum > 0.0;
  const std::int64_t rows = run_concat(start, gate, [&](std::int64_t i, std::int64_t b, std::int64_t e) {
    const std::uint64_t* row = row_of(t, i);
    RMSpropSpan<T> a{at<T>(row, kParam) + b, at<T>(row, kGrad) + b, at<T>(row, kState0) + b,
                     o.centered ? at<T>(row, kState1) + b : nullptr, use_momentum ? at<T>(row, kState2) + b : nullptr,
                     e - b, T(o.maximize ? -1 : 1), T(o.weight_decay), T(o.alpha), w, T(T(1) - w), T(o.eps),
                     T(o.momentum), T(-o.lr), o.weight_decay != 0.0, o.centered, use_momentum, std::fabs(double(w)) < 0.5};
    rmsprop_span(a);
  });
  commit_steps(t, rows);  // kept for state_dict parity only
  return rows;
}

template <class T>
std::int64_t adam_step(const Table& t, const AdamOptions& o, RowGate* gate) {
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
    AdamSpan<T> a{at<T>(row, kParam) + b, at<T>(row, kGrad) + b, at<T>(row, kState0) + b, at<T>(row, kState1) + b,
                  o.amsgrad ? at<T>(row, kState2) + b : nullptr, e - b, T(o.maximize ? -1 : 1), T(o.weight_decay),
                  decay, w1, T(T(1) - w1), T(o.beta2), T(1.0 - o.beta2), T(o.eps), neg_step_size[i], bc2_sqrt[i],
                  !o.decoupled_weight_decay && o.weight_decay != 0.0, o.amsgrad, std::fabs(double(w1)) < 0.5};
    adam_span(a);
  });
  commit_steps(t, rows);
  return rows;
}

template <class T>
double grad_norm(const Table& t) {
  const auto start = offsets(t);
  const std::int64_t total = start.back();
  const std::int64_t nblocks = (total + kNormBlock - 1) / kNormBlock;
  std::vector<double> partial(static_cast<std::size_t>(nblocks), 0.0);
  parallel_chunks(nblocks, 1, kNormBlock, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t k = b; k < e; ++k) {
      double s = 0.0;
      auto add = [&](std::int64_t i, std::int64_t lo, std::int64_t hi) {
        s += sum_squares(at<const T>(row_of(t, i), kGrad) + lo, hi - lo);
      };
      visit_range(start, k * kNormBlock, std::min(total, (k + 1) * kNormBlock), add);
      partial[k] = s;
    }
  });
  double s = 0.0;
  for (double v : partial) s += v;
  return std::sqrt(s);
}

template <class T>
void scale_grads(const Table& t, double coef) {
  const auto start = offsets(t);
  parallel_concat(start, [&](std::int64_t i, std::int64_t b, std::int64_t e) {
    scale_span(at<T>(row_of(t, i), kGrad) + b, e - b, T(coef));
  });
}

template <class T>
void clamp_grads(const Table& t, double clip) {
  const auto start = offsets(t);
  parallel_concat(start, [&](std::int64_t i, std::int64_t b, std::int64_t e) {
    clamp_span(at<T>(row_of(t, i), kGrad) + b, e - b, T(-clip), T(clip));
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
#undef GFO_OPTIM_INSTANTIATE

}  // namespace gfo::optim

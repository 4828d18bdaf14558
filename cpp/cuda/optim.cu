// Fused SGD, Adagrad, RMSprop and Adam/AdamW steps over many tensors in one launch.
//
// The arithmetic is torch.optim's for-loop (foreach=False) implementation, operation by operation and
// in the same order: per-tensor scalars (bias corrections, step sizes) are computed on the host in
// double and rounded once to the math type; element-wise math runs in float32 for float32, bf16 and
// fp16 storage (bf16/fp16 loaded to float32, rounded once when stored) and in float64 for float64.
// With --fmad=false nothing is contracted, so float32/float64 results equal the CPU kernels'.
#include <cmath>

#include "multi_tensor.cuh"

namespace gfo::cuda {
namespace {

template <class S> using M = typename Math<S>::type;
template <class S> __device__ __forceinline__ S* ptr(void* p) { return static_cast<S*>(p); }
template <class S> __device__ __forceinline__ const S* cptr(const void* p) { return static_cast<const S*>(p); }

// torch's lerp: exact at both ends, the branch on the weight as in ATen's Lerp.h.
template <class T> __device__ __forceinline__ T lerp(T a, T b, T w) {
  return (w < T(0.5) && w > T(-0.5)) ? a + w * (b - a) : b - (b - a) * (T(1) - w);
}

// The gradient as the step sees it: negated when maximizing, plus L2 weight decay (not AdamW's).
template <class S> __device__ __forceinline__ M<S> grad_of(const DeviceRow& r, std::int64_t i, M<S> p,
                                                            bool maximize, double wd) {
  M<S> g = load(cptr<S>(r.g), i);
  if (maximize) g = -g;
  if (wd != 0.0) g = g + M<S>(wd) * p;
  return g;
}

struct SGDOp {
  SGDOptions o;
  template <class S> __device__ void apply(const DeviceRow& r, std::int64_t i) const {
    using T = M<S>;
    T p = load(cptr<S>(r.p), i);
    T g = grad_of<S>(r, i, p, o.maximize, o.weight_decay);
    if (o.momentum != 0.0) {
      T buf;
      if (r.flags & kInitBuffer) buf = g;
      else buf = load(cptr<S>(r.s0), i) * T(o.momentum) + T(1.0 - o.dampening) * g;
      store(ptr<S>(r.s0), i, buf);
      g = o.nesterov ? g + T(o.momentum) * buf : buf;
    }
    store(ptr<S>(r.p), i, p + T(-o.lr) * g);
  }
};

struct AdagradOp {
  AdagradOptions o;
  template <class S> __device__ void apply(const DeviceRow& r, std::int64_t i) const {
    using T = M<S>;
    const T p = load(cptr<S>(r.p), i);
    const T g = grad_of<S>(r, i, p, o.maximize, o.weight_decay);
    const T sum = load(cptr<S>(r.s0), i) + g * g;
    store(ptr<S>(r.s0), i, sum);
    const T std_ = sqrt(sum) + T(o.eps);
    store(ptr<S>(r.p), i, p + T(-r.c[0]) * g / std_);  // c[0] = clr = lr / (1 + (step - 1) lr_decay)
  }
};

struct RMSpropOp {
  RMSpropOptions o;
  template <class S> __device__ void apply(const DeviceRow& r, std::int64_t i) const {
    using T = M<S>;
    const T p = load(cptr<S>(r.p), i);
    const T g = grad_of<S>(r, i, p, o.maximize, o.weight_decay);
    const T sq = load(cptr<S>(r.s0), i) * T(o.alpha) + T(1.0 - o.alpha) * g * g;
    store(ptr<S>(r.s0), i, sq);
    T avg;
    if (o.centered) {
      const T ga = lerp(load(cptr<S>(r.s1), i), g, T(1.0 - o.alpha));
      store(ptr<S>(r.s1), i, ga);
      avg = sqrt(sq + T(-1) * ga * ga);
    } else {
      avg = sqrt(sq);
    }
    avg = avg + T(o.eps);
    if (o.momentum > 0.0) {
      const T buf = load(cptr<S>(r.s2), i) * T(o.momentum) + T(1) * g / avg;
      store(ptr<S>(r.s2), i, buf);
      store(ptr<S>(r.p), i, p + T(-o.lr) * buf);
    } else {
      store(ptr<S>(r.p), i, p + T(-o.lr) * g / avg);
    }
  }
};

struct AdamOp {
  AdamOptions o;
  template <class S> __device__ void apply(const DeviceRow& r, std::int64_t i) const {
    using T = M<S>;
    T p = load(cptr<S>(r.p), i);
    const T g = grad_of<S>(r, i, p, o.maximize, o.decoupled_weight_decay ? 0.0 : o.weight_decay);
    if (o.decoupled_weight_decay && o.weight_decay != 0.0) p = p * T(1.0 - o.lr * o.weight_decay);
    const T m = lerp(load(cptr<S>(r.s0), i), g, T(1.0 - o.beta1));
    const T v = load(cptr<S>(r.s1), i) * T(o.beta2) + T(1.0 - o.beta2) * g * g;
    store(ptr<S>(r.s0), i, m);
    store(ptr<S>(r.s1), i, v);
    T vhat = v;
    if (o.amsgrad) {
      const T vmax = load(cptr<S>(r.s2), i);
      vhat = (vmax > v || vmax != vmax) ? vmax : v;  // torch.maximum: a NaN in either propagates
      store(ptr<S>(r.s2), i, vhat);
    }
    // c[0] = step_size = lr / (1 - beta1^t), c[1] = sqrt(1 - beta2^t)
    const T denom = sqrt(vhat) / T(r.c[1]) + T(o.eps);
    store(ptr<S>(r.p), i, p + T(-r.c[0]) * m / denom);
  }
};

template <class Op>
void run(DType dtype, const std::vector<DeviceRow>& rows, const Op& op, Stream s, const char* name) {
  dispatch(dtype, [&](auto tag) { launch_multi_tensor<decltype(tag)>(rows, op, s, name); });
}

}  // namespace

void sgd_step(DType dtype, const std::uint64_t* table, std::int64_t n, const SGDOptions& o, Stream s) {
  run(dtype, rows_of(table, n), SGDOp{o}, s, "sgd_step");
}

void adagrad_step(DType dtype, const std::uint64_t* table, std::int64_t n, const AdagradOptions& o, Stream s) {
  std::vector<DeviceRow> rows = rows_of(table, n);
  for (std::int64_t r = 0; r < n; ++r) {
    const double step = bump_step(table + r * kColumns);
    rows[r].c[0] = o.lr / (1.0 + (step - 1.0) * o.lr_decay);
  }
  run(dtype, rows, AdagradOp{o}, s, "adagrad_step");
}

void rmsprop_step(DType dtype, const std::uint64_t* table, std::int64_t n, const RMSpropOptions& o, Stream s) {
  for (std::int64_t r = 0; r < n; ++r) bump_step(table + r * kColumns);
  run(dtype, rows_of(table, n), RMSpropOp{o}, s, "rmsprop_step");
}

void adam_step(DType dtype, const std::uint64_t* table, std::int64_t n, const AdamOptions& o, Stream s) {
  std::vector<DeviceRow> rows = rows_of(table, n);
  for (std::int64_t r = 0; r < n; ++r) {
    const double step = bump_step(table + r * kColumns);
    rows[r].c[0] = o.lr / (1.0 - std::pow(o.beta1, step));
    rows[r].c[1] = std::pow(1.0 - std::pow(o.beta2, step), 0.5);
  }
  run(dtype, rows, AdamOp{o}, s, "adam_step");
}

}  // namespace gfo::cuda

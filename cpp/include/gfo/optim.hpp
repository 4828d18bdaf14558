// Fused gradient steps over many tensors at once (SGD, Adagrad, RMSprop, Adam/AdamW, gradient clipping).
//
// A call receives a table with one row per tensor (see TensorRow) and runs ONE parallel region over all of
// the elements, split evenly by element count (not by tensor), so 2,000 small tensors cost about as much as one
// tensor of the same total size. The arithmetic follows torch.optim's for-loop (foreach=False) implementations
// operation by operation: per-step scalars (bias corrections, step sizes) are computed in double and rounded
// once to the parameter dtype, the element-wise math runs in the parameter dtype. The steps also take bf16 and
// fp16 storage (T = gfo::Bfloat16 / gfo::Float16, memory holding their bits): float32 math, each stored value
// rounded once to nearest even, as the CUDA kernels do.
#pragma once
#include <cstdint>

namespace gfo {
class RowGate;  // gfo/tensor_list.hpp
}

namespace gfo::optim {

// One row of the uint64 table handed from Python: raw addresses (0 where a slot is unused), flags and size.
enum Column : int {
  kParam = 0,     // T*  parameter (updated in place)
  kGrad = 1,      // T*  gradient (read only; clip_* write it)
  kState0 = 2,    // T*  first state tensor (momentum_buffer / sum / square_avg / exp_avg)
  kState1 = 3,    // T*  second state tensor (grad_avg / exp_avg_sq)
  kState2 = 4,    // T*  third state tensor (momentum_buffer of RMSprop / max_exp_avg_sq)
  kStep = 5,      // float* or double* step counter, incremented by the call (0: none)
  kFlags = 6,     // bit field, see Flag
  kNumel = 7,     // element count
  kColumns = 8,
};

enum Flag : std::uint64_t {
  kStepIsDouble = 1,  // the step counter is a double (else float, torch's default scalar dtype)
  kInitBuffer = 2,    // SGD: the momentum buffer is new and must be set to the gradient (torch's first step)
};

struct Table {
  const std::uint64_t* rows;  // (n, kColumns), row-major
  std::int64_t n;
};

struct SGDOptions {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize;
};

struct AdagradOptions {
  double lr, lr_decay, weight_decay, eps;
  bool maximize;
};

struct RMSpropOptions {
  double lr, alpha, eps, weight_decay, momentum;
  bool centered, maximize;
};

struct AdamOptions {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled_weight_decay, amsgrad, maximize;
};

// Each step updates every row and returns t.n; with a gate, the rows are validated by the gate while the
// step runs (RowGate), only the leading rows it validated are updated (step counters included) and their
// count is returned.
template <class T> std::int64_t sgd_step(const Table& t, const SGDOptions& o, RowGate* gate = nullptr);
template <class T> std::int64_t adagrad_step(const Table& t, const AdagradOptions& o, RowGate* gate = nullptr);
template <class T> std::int64_t rmsprop_step(const Table& t, const RMSpropOptions& o, RowGate* gate = nullptr);
template <class T> std::int64_t adam_step(const Table& t, const AdamOptions& o, RowGate* gate = nullptr);

// Global L2 norm of all gradients (column kGrad), summed in double in a fixed order: blocks of a fixed number
// of elements of the concatenated gradients, each summed serially, block sums added in block order. The result
// therefore does not depend on the thread count.
template <class T> double grad_norm(const Table& t);
// Multiplies every gradient by `coef` (in T).
template <class T> void scale_grads(const Table& t, double coef);
// Clamps every gradient element to [-clip, clip].
template <class T> void clamp_grads(const Table& t, double clip);

}  // namespace gfo::optim

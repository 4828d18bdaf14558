// Zeroth-order training kernels: seed-regenerated perturbations applied in place (MeZO, Malladi et al.
// 2023; OpenAI-ES, Salimans et al. 2017). No direction z is ever stored: every pass regenerates it from
// Philox keyed by (seed, stream, element), the stream naming (step, direction, parameter tensor).
//
// One call, `zo_apply`, runs one fused pass over all tensors. Per element it performs, in order:
//   1. for each direction slot j = 0, 1, ...:  for each op of slot j:  theta <- rnd(theta + rnd(scale * z_j))
//      and, when an update is requested, s <- rnd(s + rnd(coef_j * z_j))        (s starts at 0)
//   2. the update (if any):  g = s + wd * theta;  [m <- beta * m + g; g = m];  theta <- rnd(theta - lr * g)
//      or, in gradient mode, grad_out <- s + wd * theta (theta untouched).
// rnd() rounds to the parameter's storage type after every operation (float32, or bfloat16 round-to-
// nearest-even of the float32 result), so splitting the ops over several passes or fusing them into one
// gives the same bits: a rank that skips evaluating a direction fuses that direction's perturb/restore round
// trip into its next pass and stays bit-identical to the rank that evaluated it; a replay fuses a whole
// step into one pass.
//
// Directions. Gaussian: z_i = normal<float>(seed, stream, i) of gfo/rng.hpp bit for bit (float32
// Box-Muller on the uniform pair of element i, gfo/normal32.hpp: branch-free, so the loop vectorizes).
// Rademacher: z_i = +1 if bit (i mod 32) of word floor(i / 32) of the stream is set, else -1.
#pragma once
#include <cstdint>

namespace gfo {

enum class ZoDist : std::int32_t { gaussian = 0, rademacher = 1 };
// Codes shared with python/gfo_native/_torch_ptr.py DTYPE_CODES.
enum class ZoStorage : std::int32_t { f32 = 0, bf16 = 2 };

struct ZoTensor {
  void* data = nullptr;         // parameter storage, n elements of `storage`
  std::int64_t n = 0;
  ZoStorage storage = ZoStorage::f32;
  float lr = 0.f;               // this tensor's group learning rate
  float weight_decay = 0.f;     // this tensor's group L2 coefficient
  float* momentum = nullptr;    // optional heavy-ball buffer (float32, n): the one extra state allowed
  float* grad_out = nullptr;    // gradient mode: write s + wd * theta here (float32, n), theta untouched
};

struct ZoOp {
  std::int32_t slot;  // direction slot; ops must be sorted by slot
  float scale;        // theta <- rnd(theta + rnd(scale * z_slot))
};

struct ZoUpdate {
  bool enabled = false;
  const float* coef = nullptr;  // one per slot
  float momentum = 0.f;         // beta for the heavy-ball buffer (used only where a buffer is given)
};

// The MeZO passes' form: exactly one direction slot in use (with ops, or a non-zero update coefficient) and at
// most one op on it. The CPU and CUDA kernels take a direct path for it, with the same bits as the general
// one; slot is -1 for any other pass.
struct ZoDirect {
  std::int64_t slot = -1;
  int nops = 0;
  float scale = 0.f;
};

inline ZoDirect zo_direct_form(std::int64_t nslots, const ZoOp* ops, std::int64_t nops, const ZoUpdate& update) {
  ZoDirect d;
  std::int64_t oi = 0;
  for (std::int64_t j = 0; j < nslots; ++j) {
    int k = 0;
    float scale = 0.f;
    for (; oi < nops && ops[oi].slot == j; ++oi, ++k) scale = ops[oi].scale;
    if (k == 0 && !(update.enabled && update.coef[j] != 0.f)) continue;
    if (d.slot >= 0 || k > 1) return ZoDirect{};
    d = ZoDirect{j, k, scale};
  }
  return d;
}

// streams: nslots x ntensors stream ids (row = slot). Tensors are split into fixed chunks and the chunks
// of all tensors run in one OpenMP region, so work is balanced by elements and the bits never depend on
// the thread count.
void zo_apply(const ZoTensor* tensors, std::int64_t ntensors, std::uint64_t seed, ZoDist dist,
              const std::uint64_t* streams, std::int64_t nslots, const ZoOp* ops, std::int64_t nops,
              const ZoUpdate& update);

// The directions the kernel uses: z of elements [offset, offset + n) of one stream (for tests and twins).
void zo_directions(std::uint64_t seed, std::uint64_t stream, ZoDist dist, std::uint64_t offset, std::int64_t n,
                   float* out);

}  // namespace gfo

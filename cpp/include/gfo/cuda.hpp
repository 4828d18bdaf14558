// Host-callable launchers of the CUDA kernels (cpp/cuda/*.cu), compiled only with GFO_CUDA=ON.
//
// Every pointer argument is a DEVICE address unless its comment says "host"; `stream` is a cudaStream_t
// passed as an integer (0: the legacy default stream), so this header needs no CUDA include and the
// bindings compile with a plain C++ compiler. Launches are asynchronous on `stream`; errors of the
// launch (bad configuration, no device) are thrown as std::runtime_error naming the CUDA error.
//
// The random numbers are the ones of gfo/rng.hpp: the same (seed, stream, index) gives the same bits and
// uniforms as the CPU kernels and the NumPy reference, and fill_normal the same normals as the CPU's
// fill_normal (float32: gfo/normal32.hpp, the same bits as NumPy too; float64: gfo/vecmath.hpp); kernels
// drawing single float64 normals with gfo::normal<double>() use CUDA's log/sin/cos and agree with the CPU
// to a few ulp (single float32 normals are the same bits everywhere).
#pragma once
#include <cstdint>

#include "gfo/functions.hpp"
#include "gfo/ga.hpp"
#include "gfo/optim.hpp"
#include "gfo/zo.hpp"

namespace gfo::cuda {

using Stream = std::uintptr_t;

// Number of visible CUDA devices; 0 when there is no driver or no GPU (never throws).
int device_count();
// "cudaGetDeviceCount: <error string>" when device_count() is 0 because of an error, else "".
const char* device_error();
// Makes `device` current for the calling thread (the launchers run on the current device).
void set_device(int device);
// Blocks the host until all work queued on `stream` is done (throws on a failed kernel).
void synchronize(Stream stream);

// ---------------------------------------------------------------- randomness (cpp/cuda/rng.cu)
// Elements [offset, offset + n) of a stream, bit for bit as gfo::fill_bits / fill_uniform / fill_normal.
void fill_bits(std::uint64_t seed, std::uint64_t stream_id, std::uint64_t offset, std::int64_t n,
               std::uint32_t* out, Stream stream);
template <class T>
void fill_uniform(std::uint64_t seed, std::uint64_t stream_id, std::uint64_t offset, std::int64_t n, T* out,
                  Stream stream);
template <class T>
void fill_normal(std::uint64_t seed, std::uint64_t stream_id, std::uint64_t offset, std::int64_t n, T* out,
                 Stream stream);

// ---------------------------------------------------------------- benchmark functions (functions.cu)
// Eight threads per row of the C-contiguous (n, d) matrix X, summing in the CPU kernel's order: bit-identical
// to gfo::evaluate_objective except ellipsoid, ackley and levy (CUDA's pow/exp/sin in a few terms).
template <class T>
void evaluate_objective(Objective f, const T* X, std::int64_t n, std::int64_t d, T* out, Stream stream);

// ---------------------------------------------------------------- sampling in a box (sampling.cu)
// As gfo::sample_uniform_box / sample_gaussian_box; lo, hi, center, scale are device vectors of length d.
void sample_uniform_box(std::uint64_t seed, std::uint64_t stream_id, const double* lo, const double* hi,
                        std::int64_t n, std::int64_t d, double* out, Stream stream);
void sample_gaussian_box(std::uint64_t seed, std::uint64_t stream_id, const double* center, const double* scale,
                         const double* lo, const double* hi, std::int64_t n, std::int64_t d, double* out,
                         Stream stream);

// ---------------------------------------------------------------- population updates (population.cu)
// As gfo::pso_update (bounds: 0 clip, 1 reflect) and gfo::de_trials (strategy: 0 rand/1, 1 best/1,
// 2 current-to-best/1), every array in device memory; bit-identical to the CPU kernels. Indices in nbest
// and R must be in [0, n) (the optimizers produce them; they are not checked on the device).
void pso_update(std::uint64_t seed, std::uint64_t stream_r1, std::uint64_t stream_r2, double w, double c1, double c2,
                std::int64_t n, std::int64_t d, const double* X, double* V, double* P, const std::uint8_t* improved,
                const std::int64_t* nbest, const double* vmax, const double* lo, const double* hi, int bounds,
                double* Xnew, Stream stream);
void de_trials(std::uint64_t seed, std::uint64_t stream_cr, int strategy, double CR, std::int64_t n, std::int64_t d,
               const double* X, std::int64_t best, const std::int64_t* R, const double* F, const std::int64_t* jrand,
               const double* lo, const double* hi, double* U, Stream stream);
// As gfo::ga_offspring: parents (n rounded up to even) int64 indices into G (rows of length L).
void ga_offspring(std::uint64_t seed, GaStreams streams, const GaParams& p, std::int64_t n, std::int64_t L,
                  const double* G, const std::int64_t* parents, const double* lo, const double* hi, const double* span,
                  double* C, Stream stream);

// ---------------------------------------------------------------- fused multi-tensor steps (optim.cu)
// The tensor table: the row layout of the CPU kernels (gfo/optim.hpp), one row of kColumns uint64 per
// tensor, in HOST memory (the launcher reads it and copies what the kernel needs to the device at once).
// Tensor addresses are device addresses; the step counter (torch keeps it as a CPU scalar tensor) is a
// HOST address, incremented here.
using optim::Column;
using optim::Flag;
using optim::kColumns, optim::kFlags, optim::kGrad, optim::kNumel, optim::kParam, optim::kState0, optim::kState1,
    optim::kState2, optim::kStep, optim::kInitBuffer, optim::kStepIsDouble;

// Storage dtype of params, grads and states; the arithmetic runs in float32 for all three 32-bit-or-less
// types (bf16/fp16 are loaded to float32 and rounded once when stored) and in float64 for float64.
enum class DType : int { float32 = 0, float64 = 1, bfloat16 = 2, float16 = 3 };

using optim::AdagradOptions, optim::AdamOptions, optim::RMSpropOptions, optim::SGDOptions;

// `table` is (n, kColumns) row-major host memory. One kernel launch covers all n tensors.
void sgd_step(DType dtype, const std::uint64_t* table, std::int64_t n, const SGDOptions& o, Stream stream);
void adagrad_step(DType dtype, const std::uint64_t* table, std::int64_t n, const AdagradOptions& o, Stream stream);
void rmsprop_step(DType dtype, const std::uint64_t* table, std::int64_t n, const RMSpropOptions& o, Stream stream);
void adam_step(DType dtype, const std::uint64_t* table, std::int64_t n, const AdamOptions& o, Stream stream);

// ---------------------------------------------------------------- zeroth-order passes (zo.cu)
// gfo::zo_apply on device tensors, bit for bit: `tensors` (their data, momentum and grad_out addresses on the
// device), `streams`, `ops` and `update.coef` are HOST arrays, copied to the device with the launch.
void zo_apply(const ZoTensor* tensors, std::int64_t ntensors, std::uint64_t seed, ZoDist dist,
              const std::uint64_t* streams, std::int64_t nslots, const ZoOp* ops, std::int64_t nops,
              const ZoUpdate& update, Stream stream);

}  // namespace gfo::cuda

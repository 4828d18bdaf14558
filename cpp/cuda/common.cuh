// Shared pieces of the .cu files: error checks, launch geometry, dtype conversions.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "gfo/cuda.hpp"

namespace gfo::cuda {

inline cudaStream_t as_stream(Stream s) { return reinterpret_cast<cudaStream_t>(s); }

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

// After a launch: configuration errors surface here, faults inside the kernel at the next sync.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

constexpr int kThreads = 256;

// Grid size for `work` items handled by a grid-stride loop; capped so huge inputs loop instead.
inline unsigned grid_for(std::int64_t work, int threads = kThreads) {
  const std::int64_t blocks = (work + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 65535 * 8 ? (blocks > 0 ? blocks : 1) : 65535 * 8);
}

// std::min(std::max(v, lo), hi) exactly, NaN behaviour included (the CPU kernels' and NumPy's clip).
__device__ __forceinline__ double clip(double v, double lo, double hi) {
  const double t = v < lo ? lo : v;
  return hi < t ? hi : t;
}

// Loads and stores: bf16/fp16 storage, float32 arithmetic.
template <class S> struct Math { using type = S; };
template <> struct Math<__nv_bfloat16> { using type = float; };
template <> struct Math<__half> { using type = float; };

__device__ __forceinline__ float load(const __nv_bfloat16* p, std::int64_t i) { return __bfloat162float(p[i]); }
__device__ __forceinline__ float load(const __half* p, std::int64_t i) { return __half2float(p[i]); }
__device__ __forceinline__ float load(const float* p, std::int64_t i) { return p[i]; }
__device__ __forceinline__ double load(const double* p, std::int64_t i) { return p[i]; }

__device__ __forceinline__ void store(__nv_bfloat16* p, std::int64_t i, float v) { p[i] = __float2bfloat16_rn(v); }
__device__ __forceinline__ void store(__half* p, std::int64_t i, float v) { p[i] = __float2half_rn(v); }
__device__ __forceinline__ void store(float* p, std::int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void store(double* p, std::int64_t i, double v) { p[i] = v; }

// Calls body.template operator()<S>() with S the storage type of `dtype`.
template <class Body>
void dispatch(DType dtype, Body&& body) {
  switch (dtype) {
    case DType::float32: body(float{}); return;
    case DType::float64: body(double{}); return;
    case DType::bfloat16: body(__nv_bfloat16{}); return;
    case DType::float16: body(__half{}); return;
  }
  throw std::invalid_argument("dtype: unknown storage dtype code");
}

}  // namespace gfo::cuda

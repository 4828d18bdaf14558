// GFO_HD marks the small math functions shared by the C++ kernels and the CUDA kernels (cpp/cuda), so both
// compile the same arithmetic: host+device inline under nvcc, plain inline elsewhere. An attribute cannot
// be a template, hence the one macro.
#pragma once

#if defined(__CUDACC__)
#define GFO_HD __host__ __device__ __forceinline__
#else
#define GFO_HD inline
#endif

// STREAM-style kernels (McCalpin 1995): the memory roofline that CPU benchmarks report against. They run
// on every OpenMP thread, one contiguous range each (STREAM's static split), so a multi-threaded
// fused step is compared with a multi-threaded stream; a one-thread np.copyto understates what two or
// more cores move.
#pragma once
#include <cstdint>

namespace gfo {

// dst[i] = src[i] for i < n (read src, write dst).
template <class T>
void stream_copy(const T* src, T* dst, std::int64_t n);

// a[i] = s * a[i] for i < n, in place (read and write a): the access pattern of the fused steps and passes.
template <class T>
void stream_scale(T* a, T s, std::int64_t n);

}  // namespace gfo

#include "gfo/stream.hpp"

#include <cstring>

#include "gfo/parallel.hpp"

namespace gfo {
namespace {

// body(begin, end) on one contiguous range per thread (STREAM's static split): the best a thread can stream,
// and for the copy a range large enough that memcpy uses non-temporal stores as it does for one big array.
template <class Body>
void per_thread(std::int64_t n, Body&& body) {
#ifdef _OPENMP
#pragma omp parallel if (n >= kParallelGrain)
  {
    const std::int64_t k = omp_get_thread_num(), m = omp_get_num_threads();
    body(n * k / m, n * (k + 1) / m);
  }
#else
  body(0, n);
#endif
}

}  // namespace

template <class T>
void stream_copy(const T* src, T* dst, std::int64_t n) {
  per_thread(n, [&](std::int64_t b, std::int64_t e) {
    if (e > b) std::memcpy(dst + b, src + b, static_cast<std::size_t>(e - b) * sizeof(T));
  });
}

template <class T>
void stream_scale(T* a, T s, std::int64_t n) {
  per_thread(n, [&](std::int64_t b, std::int64_t e) {
    T* __restrict x = a + b;
    for (std::int64_t i = 0; i < e - b; ++i) x[i] = s * x[i];
  });
}

template void stream_copy<float>(const float*, float*, std::int64_t);
template void stream_copy<double>(const double*, double*, std::int64_t);
template void stream_scale<float>(float*, float, std::int64_t);
template void stream_scale<double>(double*, double, std::int64_t);

}  // namespace gfo

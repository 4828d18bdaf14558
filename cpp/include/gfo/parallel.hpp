// Thin OpenMP helpers. Every kernel must give the same bits for any thread count, so work is split
// into fixed chunks whose results never depend on which thread ran them.
#pragma once
#include <cstddef>
#include <cstdint>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace gfo {

inline int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

inline void set_num_threads(int n) {
#ifdef _OPENMP
  omp_set_num_threads(n);
#else
  (void)n;
#endif
}

inline bool openmp_enabled() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

// Below this many elements of work a parallel region costs more than it saves.
constexpr std::int64_t kParallelGrain = 1 << 14;

// Run body(begin, end) over [0, n) in chunks of `chunk`, in parallel when the work is large enough.
// Chunks are handed out dynamically: on a shared machine a descheduled thread then delays one chunk,
// not half of the work; the chunk boundaries (and so the results) do not depend on who runs them.
template <class Body>
inline void parallel_chunks(std::int64_t n, std::int64_t chunk, std::int64_t work_per_item, Body&& body) {
  if (n <= 0) return;
  const std::int64_t nchunks = (n + chunk - 1) / chunk;
#ifdef _OPENMP
  const bool par = nchunks > 1 && n * work_per_item >= kParallelGrain && omp_get_max_threads() > 1;
#pragma omp parallel for schedule(dynamic, 1) if (par)
#endif
  for (std::int64_t c = 0; c < nchunks; ++c) {
    const std::int64_t b = c * chunk;
    const std::int64_t e = b + chunk < n ? b + chunk : n;
    body(b, e);
  }
}

}  // namespace gfo

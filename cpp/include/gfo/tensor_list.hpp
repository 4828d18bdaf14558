// Parallel loops over a list of tensors treated as one concatenated array: the elements are split evenly
// between threads (by element count, not by tensor) inside ONE parallel region, so a call over thousands of
// small tensors pays for one region wake-up and keeps both cores equally busy.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "gfo/parallel.hpp"
#ifdef _OPENMP
#include <omp.h>
#endif

namespace gfo {

// Start offsets of each tensor in the concatenation (size n + 1; the last entry is the total).
template <class NumelOf>
inline std::vector<std::int64_t> concat_offsets(std::int64_t n, NumelOf&& numel) {
  std::vector<std::int64_t> start(static_cast<std::size_t>(n) + 1, 0);
  for (std::int64_t i = 0; i < n; ++i) start[i + 1] = start[i] + numel(i);
  return start;
}

// Calls body(tensor, begin, end) for the pieces of [lo, hi) of the concatenation, in tensor order.
template <class Body>
inline void visit_range(const std::vector<std::int64_t>& start, std::int64_t lo, std::int64_t hi, Body& body) {
  if (lo >= hi) return;
  const std::int64_t n = static_cast<std::int64_t>(start.size()) - 1;
  // First tensor whose end lies beyond lo.
  std::int64_t i = std::upper_bound(start.begin(), start.end(), lo) - start.begin() - 1;
  for (; i < n && start[i] < hi; ++i) {
    const std::int64_t b = std::max(lo, start[i]) - start[i];
    const std::int64_t e = std::min(hi, start[i + 1]) - start[i];
    if (e > b) body(i, b, e);
  }
}

// Element-wise work over all tensors: thread t of T gets the elements [total*t/T, total*(t+1)/T) of the
// concatenation (rounded to whole cache lines), whatever tensors they belong to. Element-wise results do not
// depend on the split, so any thread count gives the same bits.
template <class Body>
inline void parallel_concat(const std::vector<std::int64_t>& start, Body&& body) {
  const std::int64_t total = start.back();
  if (total <= 0) return;
#ifdef _OPENMP
  const bool par = total >= kParallelGrain && omp_get_max_threads() > 1;
#pragma omp parallel if (par)
  {
    const std::int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    constexpr std::int64_t kLine = 16;  // keep split points on cache-line multiples of the concatenation
    const std::int64_t lo = t == 0 ? 0 : (total * t / nt) / kLine * kLine;
    const std::int64_t hi = t + 1 == nt ? total : (total * (t + 1) / nt) / kLine * kLine;
    visit_range(start, lo, hi, body);
  }
#else
  visit_range(start, 0, total, body);
#endif
}

}  // namespace gfo

// Parallel loops over a list of tensors treated as one concatenated array: the elements are split between
// threads by element count, not by tensor, inside ONE parallel region, so a call over thousands of small
// tensors pays for one region wake-up and keeps both cores equally busy.
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

// Element-wise work over all tensors: the concatenation is cut into fixed chunks of kConcatChunk elements
// (whatever tensors they span) that threads take dynamically, so the elements are balanced between threads
// whatever the tensor sizes, and a thread descheduled by a busy machine holds up one chunk, not half the work.
// Element-wise results do not depend on the split, so any thread count gives the same bits.
constexpr std::int64_t kConcatChunk = 1 << 15;

template <class Body>
inline void parallel_concat(const std::vector<std::int64_t>& start, Body&& body) {
  const std::int64_t total = start.back();
  if (total <= 0) return;
  const std::int64_t nchunks = (total + kConcatChunk - 1) / kConcatChunk;
#ifdef _OPENMP
  const bool par = nchunks > 1 && total >= kParallelGrain && omp_get_max_threads() > 1;
#pragma omp parallel for schedule(dynamic, 1) if (par)
#endif
  for (std::int64_t c = 0; c < nchunks; ++c) {
    const std::int64_t lo = c * kConcatChunk;
    visit_range(start, lo, std::min(total, lo + kConcatChunk), body);
  }
}

}  // namespace gfo

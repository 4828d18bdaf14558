// Parallel loops over a list of tensors treated as one concatenated array: the elements are split between
// threads by element count, not by tensor, inside ONE parallel region, so a call over thousands of small
// tensors pays for one region wake-up and keeps both cores equally busy.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
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

// Rows whose addresses are being validated while the step runs (the torch drop-ins check their cached row
// tables through the Python C API, which only the calling thread may do). validate() runs on the calling
// thread, walks the rows in order and publishes how many leading rows are known valid (store with release)
// as it goes; it returns the final count, and rows from there on must not be touched. After it, validated()
// runs on the same thread (the bindings release the GIL there) before that thread joins the element work.
class RowGate {
 public:
  virtual ~RowGate() = default;
  virtual std::int64_t validate(std::atomic<std::int64_t>& ready) noexcept = 0;
  virtual void validated() noexcept {}
};

namespace detail {
// One round of waiting for the validating thread: spin briefly, then yield the core (on a busy machine the
// validating thread may be the one waiting for it).
inline void wait_round(int& spins) {
  if (++spins < 256) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else {
    std::this_thread::yield();
  }
}
}  // namespace detail

// parallel_concat over the rows a gate validates: the calling thread (thread 0 of the region) validates
// while the other threads already work through the chunks whose rows are validated; then it joins them.
// A chunk waits until every row it touches is validated and is cut short at the first row that failed.
// The validation walk costs about as much per row as a small tensor's update, so on two threads it hides
// behind the element work instead of preceding it. Returns the number of leading rows processed.
template <class Body>
inline std::int64_t parallel_concat_gated(const std::vector<std::int64_t>& start, RowGate& gate, Body&& body) {
  const std::int64_t n = static_cast<std::int64_t>(start.size()) - 1;
  const std::int64_t total = start.back();
  const std::int64_t nchunks = (total + kConcatChunk - 1) / kConcatChunk;
  bool par = false;
#ifdef _OPENMP
  par = nchunks > 1 && total >= kParallelGrain && omp_get_max_threads() > 1;
#endif
  if (!par) {
    std::atomic<std::int64_t> ready{0};
    const std::int64_t rows = std::min(n, gate.validate(ready));
    gate.validated();
    visit_range(start, 0, start[rows], body);
    return rows;
  }
  std::atomic<std::int64_t> ready{0};
  std::atomic<std::int64_t> final_rows{-1};  // set once validate() has returned
  std::atomic<std::int64_t> next{0};         // next chunk to hand out (in order, so validation stays ahead)
#ifdef _OPENMP
#pragma omp parallel
#endif
  {
#ifdef _OPENMP
    if (omp_get_thread_num() == 0) {
      final_rows.store(std::min(n, gate.validate(ready)), std::memory_order_release);
      gate.validated();
    }
#endif
    for (;;) {
      const std::int64_t c = next.fetch_add(1, std::memory_order_relaxed);
      if (c >= nchunks) break;
      const std::int64_t lo = c * kConcatChunk;
      std::int64_t hi = std::min(total, lo + kConcatChunk);
      // Rows are validated faster than they are updated: this waits at the very start only.
      for (int spins = 0;; detail::wait_round(spins)) {
        const std::int64_t f = final_rows.load(std::memory_order_acquire);
        if (f >= 0) {
          hi = std::min(hi, start[f]);
          break;
        }
        if (start[ready.load(std::memory_order_acquire)] >= hi) break;
      }
      if (lo < hi) visit_range(start, lo, hi, body);
    }
  }
  return final_rows.load(std::memory_order_acquire);
}

// parallel_concat without a gate (all rows), else parallel_concat_gated; returns the rows processed.
template <class Body>
inline std::int64_t run_concat(const std::vector<std::int64_t>& start, RowGate* gate, Body&& body) {
  if (gate != nullptr) return parallel_concat_gated(start, *gate, body);
  parallel_concat(start, body);
  return static_cast<std::int64_t>(start.size()) - 1;
}

}  // namespace gfo

// Row sums (and products) in a fixed order that still vectorizes.
#pragma once
#include <cstdint>

namespace gfo {

// A row sum is kept in kCount interleaved partial sums (element j goes to lane j % kCount) combined by a fixed
// tree: the compiler may vectorize the lanes, yet the order of additions depends on the length only, so every ISA
// clone and every thread count give the same bits (and a NumPy twin can reproduce them: pad the row with zeros to a
// multiple of kCount, running sums down each lane, then the tree of sum()).
struct Lanes {
  static constexpr int kCount = 8;
  double v[kCount];
  explicit Lanes(double init) {
    for (double& x : v) x = init;
  }
  // acc[k % kCount] += term(k) for k < m.
  template <class Term>
  void add(std::int64_t m, Term term) {
    std::int64_t k = 0;
    for (; k + kCount <= m; k += kCount)
      for (int l = 0; l < kCount; ++l) v[l] += term(k + l);
    for (int l = 0; k + l < m; ++l) v[l] += term(k + l);
  }
  template <class Term>
  void mul(std::int64_t m, Term term) {
    std::int64_t k = 0;
    for (; k + kCount <= m; k += kCount)
      for (int l = 0; l < kCount; ++l) v[l] *= term(k + l);
    for (int l = 0; k + l < m; ++l) v[l] *= term(k + l);
  }
  double sum() const { return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7])); }
  double product() const { return ((v[0] * v[1]) * (v[2] * v[3])) * ((v[4] * v[5]) * (v[6] * v[7])); }
};

}  // namespace gfo

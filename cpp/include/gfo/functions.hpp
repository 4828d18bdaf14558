// Benchmark objectives, batched over the rows of a C-contiguous (n, d) matrix.
// float32 inputs are evaluated in float64 and rounded once, so both dtypes share one code path.
#pragma once
#include <cstdint>

namespace gfo {

enum class Objective : int {
  sphere,
  ellipsoid,
  rastrigin,
  rosenbrock,
  ackley,
  griewank,
  schwefel,
  levy,
  styblinski_tang,
};

template <class T>
void evaluate_objective(Objective f, const T* X, std::int64_t n, std::int64_t d, T* out);

}  // namespace gfo

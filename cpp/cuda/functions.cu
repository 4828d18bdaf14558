// Benchmark objectives on the GPU: one warp per row, lanes stride over the coordinates (coalesced),
// partial sums in float64 combined by a fixed butterfly, so a row's value is reproducible run to run.
// Definitions as cpp/src/functions.cpp (float32 rows evaluated in float64, rounded once).
#include "common.cuh"

namespace gfo::cuda {
namespace {

constexpr double kPi = 3.141592653589793;
constexpr double kTwoPi = 6.283185307179586;
constexpr double kE = 2.718281828459045;
constexpr int kWarp = 32;

__device__ __forceinline__ double warp_sum(double v) {
  for (int m = kWarp / 2; m > 0; m /= 2) v += __shfl_xor_sync(0xFFFFFFFFu, v, m);
  return v;
}
__device__ __forceinline__ double warp_prod(double v) {
  for (int m = kWarp / 2; m > 0; m /= 2) v *= __shfl_xor_sync(0xFFFFFFFFu, v, m);
  return v;
}

template <class T>
__device__ double row_value(Objective f, const T* x, std::int64_t d, int lane) {
  double s = 0.0;
  switch (f) {
    case Objective::sphere:
      for (std::int64_t j = lane; j < d; j += kWarp) s += double(x[j]) * double(x[j]);
      return warp_sum(s);
    case Objective::ellipsoid:
      for (std::int64_t j = lane; j < d; j += kWarp) {
        const double c = d > 1 ? pow(10.0, 6.0 * double(j) / double(d - 1)) : 1.0;
        s += c * (double(x[j]) * double(x[j]));
      }
      return warp_sum(s);
    case Objective::rastrigin:
      for (std::int64_t j = lane; j < d; j += kWarp) {
        const double v = x[j];
        s += v * v - 10.0 * cos(kTwoPi * v);
      }
      return 10.0 * double(d) + warp_sum(s);
    case Objective::rosenbrock:
      for (std::int64_t j = lane; j + 1 < d; j += kWarp) {
        const double a = x[j], b = x[j + 1];
        const double t = b - a * a, u = 1.0 - a;
        s += 100.0 * (t * t) + u * u;
      }
      return warp_sum(s);
    case Objective::ackley: {
      double c = 0.0;
      for (std::int64_t j = lane; j < d; j += kWarp) {
        const double v = x[j];
        s += v * v;
        c += cos(kTwoPi * v);
      }
      s = warp_sum(s);
      c = warp_sum(c);
      return -20.0 * exp(-0.2 * sqrt(s / double(d))) - exp(c / double(d)) + 20.0 + kE;
    }
    case Objective::griewank: {
      double p = 1.0;
      for (std::int64_t j = lane; j < d; j += kWarp) {
        const double v = x[j];
        s += v * v;
        p *= cos(v * (1.0 / sqrt(double(j + 1))));
      }
      return 1.0 + warp_sum(s) / 4000.0 - warp_prod(p);
    }
    case Objective::schwefel:
      for (std::int64_t j = lane; j < d; j += kWarp) {
        const double v = x[j];
        s += v * sin(sqrt(fabs(v)));
      }
      return 418.9828872724338 * double(d) - warp_sum(s);
    case Objective::levy: {
      const double w0 = 1.0 + (double(x[0]) - 1.0) / 4.0;
      const double wd = 1.0 + (double(x[d - 1]) - 1.0) / 4.0;
      const double a = sin(kPi * w0), c = sin(kTwoPi * wd);
      for (std::int64_t j = lane; j + 1 < d; j += kWarp) {
        const double w = 1.0 + (double(x[j]) - 1.0) / 4.0;
        const double b = sin(kPi * w + 1.0);
        s += (w - 1.0) * (w - 1.0) * (1.0 + 10.0 * (b * b));
      }
      return a * a + warp_sum(s) + (wd - 1.0) * (wd - 1.0) * (1.0 + c * c);
    }
    case Objective::styblinski_tang:
      for (std::int64_t j = lane; j < d; j += kWarp) {
        const double v = x[j], v2 = v * v;
        s += v2 * v2 - 16.0 * v2 + 5.0 * v;
      }
      return 0.5 * warp_sum(s);
  }
  return s;
}

template <class T>
__global__ void objective_kernel(Objective f, const T* X, std::int64_t n, std::int64_t d, T* out) {
  const int lane = threadIdx.x % kWarp;
  const std::int64_t warps = std::int64_t(gridDim.x) * (blockDim.x / kWarp);
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x / kWarp) + threadIdx.x / kWarp; i < n; i += warps) {
    const double v = row_value(f, X + i * d, d, lane);  // the whole warp takes the branch: shuffles stay full
    if (lane == 0) out[i] = static_cast<T>(v);
  }
}

}  // namespace

template <class T>
void evaluate_objective(Objective f, const T* X, std::int64_t n, std::int64_t d, T* out, Stream s) {
  if (n <= 0 || d <= 0) return;
  objective_kernel<T><<<grid_for(n * kWarp), kThreads, 0, as_stream(s)>>>(f, X, n, d, out);
  check_launch("evaluate_objective");
}

template void evaluate_objective<float>(Objective, const float*, std::int64_t, std::int64_t, float*, Stream);
template void evaluate_objective<double>(Objective, const double*, std::int64_t, std::int64_t, double*, Stream);

}  // namespace gfo::cuda

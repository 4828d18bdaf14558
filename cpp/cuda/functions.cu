// Benchmark objectives on the GPU, summed in the CPU kernel's order (cpp/src/functions.cpp): a row's terms
// go to 8 interleaved partial sums (term j to lane j % 8, added in j order) combined by the same fixed tree.
// Here the 8 lanes are 8 threads (4 rows per warp) and the tree is three butterfly shuffles; with the same
// sin/cos (gfo/vecmath.hpp) and no FMA, sphere, rastrigin, rosenbrock, griewank, schwefel and
// styblinski_tang are bit-identical to the CPU. ellipsoid (pow), ackley (exp) and levy (two sin) use CUDA's
// libm for a few terms and agree to rounding. float32 rows are evaluated in float64 and rounded once.
#include "common.cuh"
#include "gfo/vecmath.hpp"

namespace gfo::cuda {
namespace {

constexpr double kPi = 3.141592653589793;
constexpr double kTwoPi = 6.283185307179586;
constexpr double kE = 2.718281828459045;
constexpr int kLanes = 8;

// ((v0 + v1) + (v2 + v3)) + ((v4 + v5) + (v6 + v7)), as Lanes::sum / product on the CPU.
__device__ __forceinline__ double lane_sum(double v) {
  for (int m = 1; m < kLanes; m *= 2) v += __shfl_xor_sync(0xFFFFFFFFu, v, m, kLanes);
  return v;
}
__device__ __forceinline__ double lane_prod(double v) {
  for (int m = 1; m < kLanes; m *= 2) v *= __shfl_xor_sync(0xFFFFFFFFu, v, m, kLanes);
  return v;
}

// sin(a) (shift 0) or cos(a) (shift 1) as vecmath::sin_n / cos_n compute them on the CPU.
__device__ __forceinline__ double trig(double a, std::uint64_t shift) {
  if (vecmath::trig_fast_ok(a)) return vecmath::sin_shifted(a, shift);
  return shift ? cos(a) : sin(a);
}

template <class T>
__device__ double row_value(Objective f, const T* x, std::int64_t d, int lane) {
  double s = 0.0;
  switch (f) {
    case Objective::sphere:
      for (std::int64_t j = lane; j < d; j += kLanes) s += double(x[j]) * double(x[j]);
      return lane_sum(s);
    case Objective::ellipsoid:
      for (std::int64_t j = lane; j < d; j += kLanes) {
        const double c = d > 1 ? pow(10.0, 6.0 * double(j) / double(d - 1)) : 1.0;
        s += c * (double(x[j]) * double(x[j]));
      }
      return lane_sum(s);
    case Objective::rastrigin:
      for (std::int64_t j = lane; j < d; j += kLanes) {
        const double v = x[j];
        s += v * v - 10.0 * trig(kTwoPi * v, 1);
      }
      return 10.0 * double(d) + lane_sum(s);
    case Objective::rosenbrock:
      for (std::int64_t j = lane; j + 1 < d; j += kLanes) {
        const double a = x[j], b = x[j + 1];
        const double t = b - a * a, u = 1.0 - a;
        s += 100.0 * (t * t) + u * u;
      }
      return lane_sum(s);
    case Objective::ackley: {
      double c = 0.0;
      for (std::int64_t j = lane; j < d; j += kLanes) {
        const double v = x[j];
        s += v * v;
        c += trig(kTwoPi * v, 1);
      }
      s = lane_sum(s);
      c = lane_sum(c);
      return -20.0 * exp(-0.2 * sqrt(s / double(d))) - exp(c / double(d)) + 20.0 + kE;
    }
    case Objective::griewank: {
      double p = 1.0;
      for (std::int64_t j = lane; j < d; j += kLanes) {
        const double v = x[j];
        s += v * v;
        p *= trig(v * (1.0 / sqrt(double(j + 1))), 1);
      }
      s = lane_sum(s);
      return 1.0 + s / 4000.0 - lane_prod(p);
    }
    case Objective::schwefel:
      for (std::int64_t j = lane; j < d; j += kLanes) {
        const double v = x[j];
        s += v * trig(sqrt(fabs(v)), 0);
      }
      return 418.9828872724338 * double(d) - lane_sum(s);
    case Objective::levy: {
      const double w0 = 1.0 + (double(x[0]) - 1.0) / 4.0;
      const double wd = 1.0 + (double(x[d - 1]) - 1.0) / 4.0;
      const double a = sin(kPi * w0), c = sin(kTwoPi * wd);
      for (std::int64_t j = lane; j + 1 < d; j += kLanes) {
        const double w = 1.0 + (double(x[j]) - 1.0) / 4.0;
        const double b = trig(kPi * w + 1.0, 0);
        s += (w - 1.0) * (w - 1.0) * (1.0 + 10.0 * (b * b));
      }
      return a * a + lane_sum(s) + (wd - 1.0) * (wd - 1.0) * (1.0 + c * c);
    }
    case Objective::styblinski_tang:
      for (std::int64_t j = lane; j < d; j += kLanes) {
        const double v = x[j], v2 = v * v;
        s += v2 * v2 - 16.0 * v2 + 5.0 * v;
      }
      return 0.5 * lane_sum(s);
  }
  return s;
}

template <class T>
__global__ void objective_kernel(Objective f, const T* X, std::int64_t n, std::int64_t d, T* out) {
  const int lane = threadIdx.x % kLanes;
  const std::int64_t groups = std::int64_t(gridDim.x) * (blockDim.x / kLanes);
  // Every thread of a warp runs the same number of iterations (rows past n are computed on row n - 1 and
  // dropped), so the shuffles always see their full lane group.
  const std::int64_t first = blockIdx.x * std::int64_t(blockDim.x / kLanes) + threadIdx.x / kLanes;
  const std::int64_t rounds = (n + groups - 1) / groups;
  for (std::int64_t r = 0; r < rounds; ++r) {
    const std::int64_t i = first + r * groups;
    const std::int64_t row = i < n ? i : n - 1;
    const double v = row_value(f, X + row * d, d, lane);
    if (lane == 0 && i < n) out[i] = static_cast<T>(v);
  }
}

}  // namespace

template <class T>
void evaluate_objective(Objective f, const T* X, std::int64_t n, std::int64_t d, T* out, Stream s) {
  if (n <= 0 || d <= 0) return;
  objective_kernel<T><<<grid_for(n * kLanes), kThreads, 0, as_stream(s)>>>(f, X, n, d, out);
  check_launch("evaluate_objective");
}

template void evaluate_objective<float>(Objective, const float*, std::int64_t, std::int64_t, float*, Stream);
template void evaluate_objective<double>(Objective, const double*, std::int64_t, std::int64_t, double*, Stream);

}  // namespace gfo::cuda

// Initial populations and random-search proposals on the GPU, element for element the numbers of
// cpp/src/sampling.cpp: element (i, j) takes index i * d + j of the stream. The uniform box is
// bit-identical to the CPU (exact uniforms, no FMA); the Gaussian box differs by the normals' few ulp.
#include "common.cuh"
#include "gfo/rng.hpp"

namespace gfo::cuda {
namespace {

__global__ void uniform_box_kernel(std::uint64_t seed, std::uint64_t sid, const double* lo, const double* hi,
                                   std::int64_t n, std::int64_t d, double* out) {
  // Two elements per thread: one Philox block gives the float64 uniforms of indices 2k and 2k + 1.
  const std::int64_t total = n * d, pairs = (total + 1) / 2;
  for (std::int64_t k = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; k < pairs;
       k += std::int64_t(gridDim.x) * blockDim.x) {
    const Words4 b = philox_block(seed, sid, std::uint64_t(k));
    const double u[2] = {bits_to_uniform64(b.w[0], b.w[1]), bits_to_uniform64(b.w[2], b.w[3])};
    for (int t = 0; t < 2; ++t) {
      const std::int64_t e = 2 * k + t;
      if (e >= total) break;
      const std::int64_t j = e % d;
      out[e] = lo[j] + (hi[j] - lo[j]) * u[t];
    }
  }
}

__global__ void gaussian_box_kernel(std::uint64_t seed, std::uint64_t sid, const double* center,
                                    const double* scale, const double* lo, const double* hi, std::int64_t n,
                                    std::int64_t d, double* out) {
  const std::int64_t total = n * d, pairs = (total + 1) / 2;
  for (std::int64_t k = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; k < pairs;
       k += std::int64_t(gridDim.x) * blockDim.x) {
    double z[2];
    normal_pair<double>(seed, sid, std::uint64_t(k), z[0], z[1]);
    for (int t = 0; t < 2; ++t) {
      const std::int64_t e = 2 * k + t;
      if (e >= total) break;
      const std::int64_t j = e % d;
      const double v = center[j] + scale[j] * z[t];
      out[e] = clip(v, lo[j], hi[j]);
    }
  }
}

}  // namespace

void sample_uniform_box(std::uint64_t seed, std::uint64_t sid, const double* lo, const double* hi, std::int64_t n,
                        std::int64_t d, double* out, Stream s) {
  if (n <= 0 || d <= 0) return;
  uniform_box_kernel<<<grid_for((n * d + 1) / 2), kThreads, 0, as_stream(s)>>>(seed, sid, lo, hi, n, d, out);
  check_launch("sample_uniform_box");
}

void sample_gaussian_box(std::uint64_t seed, std::uint64_t sid, const double* center, const double* scale,
                         const double* lo, const double* hi, std::int64_t n, std::int64_t d, double* out, Stream s) {
  if (n <= 0 || d <= 0) return;
  gaussian_box_kernel<<<grid_for((n * d + 1) / 2), kThreads, 0, as_stream(s)>>>(seed, sid, center, scale, lo, hi,
                                                                                 n, d, out);
  check_launch("sample_gaussian_box");
}

}  // namespace gfo::cuda

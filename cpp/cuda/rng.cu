// Philox4x32-10 fills on the GPU: one thread per Philox block, so every kind of fill costs one block
// function per four 32-bit words, and element i of a stream is the same number as on the CPU: bits and
// uniforms by construction, normals because both sides run the same Box-Muller (float32: gfo/normal32.hpp,
// float64: gfo/vecmath.hpp; only +, -, *, /, sqrt and bit operations, no FMA), not the platform's log/sin/cos.
#include "common.cuh"
#include "gfo/rng.hpp"
#include "gfo/vecmath.hpp"

namespace gfo::cuda {
namespace {

// Elements produced by one Philox block, for each kind of fill (see the contract in gfo/rng.hpp):
// 4 words, 4 float32 uniforms, 2 float64 uniforms, 2 float32 normal pairs, 1 float64 normal pair.
struct Bits {
  static constexpr int K = 4;
  __device__ static void expand(const Words4& b, std::uint32_t* v) {
    for (int j = 0; j < 4; ++j) v[j] = b.w[j];
  }
};
template <class T> struct Uniform;
template <> struct Uniform<float> {
  static constexpr int K = 4;
  __device__ static void expand(const Words4& b, float* v) {
    for (int j = 0; j < 4; ++j) v[j] = bits_to_uniform32(b.w[j]);
  }
};
template <> struct Uniform<double> {
  static constexpr int K = 2;
  __device__ static void expand(const Words4& b, double* v) {
    v[0] = bits_to_uniform64(b.w[0], b.w[1]);
    v[1] = bits_to_uniform64(b.w[2], b.w[3]);
  }
};
template <class T> struct Normal;
template <> struct Normal<float> {  // as the CPU: float32 Box-Muller of gfo/normal32.hpp on word pairs
  static constexpr int K = 4;
  __device__ static void expand(const Words4& b, float* v) {
    normal32::box_muller(b.w[0], b.w[1], v[0], v[1]);
    normal32::box_muller(b.w[2], b.w[3], v[2], v[3]);
  }
};
template <> struct Normal<double> {  // as the CPU fill_normal<double>: the float64 Box-Muller of vecmath.hpp
  static constexpr int K = 2;
  __device__ static void expand(const Words4& b, double* v) {
    vecmath::box_muller(bits_to_uniform64(b.w[0], b.w[1]), bits_to_uniform64(b.w[2], b.w[3]), v[0], v[1]);
  }
};

// Group g holds elements [first + g K, first + (g + 1) K) with first = offset rounded down to K: it is
// exactly Philox block offset / K + g, whatever the offset, so ragged ends need no special path.
template <class Kind, class T>
__global__ void fill_kernel(std::uint64_t seed, std::uint64_t sid, std::uint64_t offset, std::int64_t n, T* out) {
  constexpr int K = Kind::K;
  const std::uint64_t block0 = offset / K, first = block0 * K;
  const std::int64_t groups = static_cast<std::int64_t>((offset + n - first + K - 1) / K);
  for (std::int64_t g = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; g < groups;
       g += std::int64_t(gridDim.x) * blockDim.x) {
    T v[K];
    Kind::expand(philox_block(seed, sid, block0 + g), v);
    for (int j = 0; j < K; ++j) {
      const std::uint64_t idx = first + std::uint64_t(g) * K + j;
      if (idx >= offset && idx < offset + std::uint64_t(n)) out[idx - offset] = v[j];
    }
  }
}

template <class Kind, class T>
void launch(std::uint64_t seed, std::uint64_t sid, std::uint64_t offset, std::int64_t n, T* out, Stream s,
            const char* name) {
  if (n <= 0) return;
  const std::int64_t groups = (std::int64_t(offset % Kind::K) + n + Kind::K - 1) / Kind::K;
  fill_kernel<Kind, T><<<grid_for(groups), kThreads, 0, as_stream(s)>>>(seed, sid, offset, n, out);
  check_launch(name);
}

}  // namespace

void fill_bits(std::uint64_t seed, std::uint64_t sid, std::uint64_t offset, std::int64_t n, std::uint32_t* out,
               Stream s) {
  launch<Bits>(seed, sid, offset, n, out, s, "rng fill_bits");
}

template <class T>
void fill_uniform(std::uint64_t seed, std::uint64_t sid, std::uint64_t offset, std::int64_t n, T* out, Stream s) {
  launch<Uniform<T>>(seed, sid, offset, n, out, s, "rng fill_uniform");
}

template <class T>
void fill_normal(std::uint64_t seed, std::uint64_t sid, std::uint64_t offset, std::int64_t n, T* out, Stream s) {
  launch<Normal<T>>(seed, sid, offset, n, out, s, "rng fill_normal");
}

template void fill_uniform<float>(std::uint64_t, std::uint64_t, std::uint64_t, std::int64_t, float*, Stream);
template void fill_uniform<double>(std::uint64_t, std::uint64_t, std::uint64_t, std::int64_t, double*, Stream);
template void fill_normal<float>(std::uint64_t, std::uint64_t, std::uint64_t, std::int64_t, float*, Stream);
template void fill_normal<double>(std::uint64_t, std::uint64_t, std::uint64_t, std::int64_t, double*, Stream);

}  // namespace gfo::cuda

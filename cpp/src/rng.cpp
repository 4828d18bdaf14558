#include "gfo/rng.hpp"

#include "gfo/parallel.hpp"
#include "gfo/simd.hpp"

namespace gfo {
namespace {

constexpr std::int64_t kChunk = 1 << 14;  // a multiple of 4 keeps chunks block-aligned

// The serial cores: whole Philox blocks where possible, single elements at ragged ends.
GFO_SIMD_CLONES void bits_serial(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, std::int64_t n,
                                 std::uint32_t* out) {
  std::int64_t i = 0;
  for (; i < n && ((first + i) & 3); ++i) out[i] = random_bits(seed, stream, first + i);
  for (; i + 4 <= n; i += 4) {
    const Words4 b = philox_block(seed, stream, (first + i) >> 2);
    out[i] = b.w[0];
    out[i + 1] = b.w[1];
    out[i + 2] = b.w[2];
    out[i + 3] = b.w[3];
  }
  for (; i < n; ++i) out[i] = random_bits(seed, stream, first + i);
}

GFO_SIMD_CLONES void uniform_serial(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, std::int64_t n,
                                    float* out) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = uniform<float>(seed, stream, first + i);
}

GFO_SIMD_CLONES void uniform_serial(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, std::int64_t n,
                                    double* out) {
  std::int64_t i = 0;
  if (n > 0 && (first & 1)) out[i++] = uniform<double>(seed, stream, first);
  for (; i + 2 <= n; i += 2) {
    const Words4 b = philox_block(seed, stream, (first + i) >> 1);
    out[i] = bits_to_uniform64(b.w[0], b.w[1]);
    out[i + 1] = bits_to_uniform64(b.w[2], b.w[3]);
  }
  if (i < n) out[i] = uniform<double>(seed, stream, first + i);
}

template <class T>
void normal_serial(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, std::int64_t n, T* out) {
  std::int64_t i = 0;
  if (n > 0 && (first & 1)) out[i++] = normal<T>(seed, stream, first);
  for (; i + 2 <= n; i += 2) normal_pair<T>(seed, stream, (first + i) >> 1, out[i], out[i + 1]);
  if (i < n) out[i] = normal<T>(seed, stream, first + i);
}

}  // namespace

void fill_bits(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, std::int64_t n, std::uint32_t* out) {
  parallel_chunks(n, kChunk, 8, [&](std::int64_t b, std::int64_t e) { bits_serial(seed, stream, offset + b, e - b, out + b); });
}

template <class T>
void fill_uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, std::int64_t n, T* out) {
  parallel_chunks(n, kChunk, 8, [&](std::int64_t b, std::int64_t e) { uniform_serial(seed, stream, offset + b, e - b, out + b); });
}

template <class T>
void fill_normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, std::int64_t n, T* out) {
  parallel_chunks(n, kChunk, 32, [&](std::int64_t b, std::int64_t e) { normal_serial<T>(seed, stream, offset + b, e - b, out + b); });
}

template void fill_uniform<float>(std::uint64_t, std::uint64_t, std::uint64_t, std::int64_t, float*);
template void fill_uniform<double>(std::uint64_t, std::uint64_t, std::uint64_t, std::int64_t, double*);
template void fill_normal<float>(std::uint64_t, std::uint64_t, std::uint64_t, std::int64_t, float*);
template void fill_normal<double>(std::uint64_t, std::uint64_t, std::uint64_t, std::int64_t, double*);

}  // namespace gfo

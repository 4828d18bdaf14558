#include <algorithm>
#include <cstring>

#include "gfo/parallel.hpp"
#include "gfo/rng.hpp"
#include "gfo/simd.hpp"
#include "gfo/vecmath.hpp"

namespace gfo {
namespace {

constexpr std::int64_t kChunk = 1 << 14;  // elements per parallel work item
constexpr int kTileBlocks = 64;           // Philox blocks computed side by side (one vectorized pass)

// Words of blocks [b0, b0 + kTileBlocks) of a stream: in order (w[4 l + j] is word j of block b0 + l), or
// lane by lane (w[j kTileBlocks + l]) for the kinds with kLanes.
struct Tile {
  alignas(32) std::uint32_t w[4 * kTileBlocks];
};

inline void philox_tile(std::uint64_t seed, std::uint64_t stream, std::uint64_t b0, Tile& t) {
  philox_words(seed, stream, b0, kTileBlocks, t.w);
}

// The same values as bits_to_uniform32/64 in rng.hpp, by conversions that vectorize on every ISA:
// the integers are below 2^24 (float) and 2^52 (double) so every step is exact.
inline float uniform32_of(std::uint32_t w) {
  return static_cast<float>(static_cast<std::int32_t>(2u * (w >> 9) + 1u)) * 5.9604644775390625e-08f;
}

inline double uniform64_of(std::uint32_t lo, std::uint32_t hi) {
  const std::uint64_t x = ((static_cast<std::uint64_t>(hi) << 32) | lo) >> 12;  // 52 bits
  // 1 + x 2^-52 read from the bits, minus 1, plus 2^-53: (2x + 1) 2^-53 exactly
  return (from_bits(std::uint64_t{0x3FF0000000000000u} | x) - 1.0) + 1.1102230246251565e-16;
}

// float64 Box-Muller as in rng.hpp, with the vectorizable log, sin and cos of vecmath.hpp (within an ulp
// of libm's, so the bulk normals agree with normal<double>() to float64 rounding, not always bit for bit).
inline void box_muller_vec(double u1, double u2, double& z0, double& z1) { vecmath::box_muller(u1, u2, z0, z1); }

// Values per Philox block for each kind of output, and how a tile of blocks becomes values.
struct Bits {
  using T = std::uint32_t;
  static constexpr int kPer = 4;
  static constexpr bool kLanes = false;  // the tile in stream order
  static void make(const Tile& t, T* v) { std::memcpy(v, t.w, sizeof t.w); }
};

struct Uniform32 {
  using T = float;
  static constexpr int kPer = 4;
  static constexpr bool kLanes = false;  // the tile in stream order
  static void make(const Tile& t, T* v) {
    for (int i = 0; i < 4 * kTileBlocks; ++i) v[i] = uniform32_of(t.w[i]);
  }
};

struct Uniform64 {
  using T = double;
  static constexpr int kPer = 2;
  static constexpr bool kLanes = false;  // the tile in stream order
  static void make(const Tile& t, T* v) {
    for (int i = 0; i < 2 * kTileBlocks; ++i) v[i] = uniform64_of(t.w[2 * i], t.w[2 * i + 1]);
  }
};

struct Normal64 {  // one pair (u[2k], u[2k+1]) per block
  using T = double;
  static constexpr int kPer = 2;
  static constexpr bool kLanes = false;  // the tile in stream order
  static void make(const Tile& t, T* v) {
    for (int l = 0; l < kTileBlocks; ++l)
      box_muller_vec(uniform64_of(t.w[4 * l], t.w[4 * l + 1]), uniform64_of(t.w[4 * l + 2], t.w[4 * l + 3]), v[2 * l],
                     v[2 * l + 1]);
  }
};

struct Normal32 {  // two pairs of words per block, float32 Box-Muller (gfo/normal32.hpp), from lanes
  using T = float;
  static constexpr int kPer = 4;
  static constexpr bool kLanes = true;  // word j of block l at w[j kTileBlocks + l]
  static void make(const Tile& t, T* v) {
    normal32::box_muller_lanes<kTileBlocks>(t.w, t.w + kTileBlocks, t.w + 2 * kTileBlocks, t.w + 3 * kTileBlocks, v);
  }
};

// Elements [first, first + n) of a stream: whole tiles of blocks, the ragged ends cut from a tile, so
// every element is computed the same way whatever the offset or chunk.
template <class Kind>
inline void fill_serial(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, std::int64_t n,
                        typename Kind::T* out) {
  constexpr std::int64_t kValues = std::int64_t(kTileBlocks) * Kind::kPer;
  Tile t;
  typename Kind::T v[kValues];
  while (n > 0) {
    const std::uint64_t b0 = first / Kind::kPer;
    const std::int64_t skip = static_cast<std::int64_t>(first - b0 * Kind::kPer);
    const std::int64_t take = std::min(kValues - skip, n);
    if constexpr (Kind::kLanes)
      philox_lanes(seed, stream, b0, kTileBlocks, t.w, t.w + kTileBlocks, t.w + 2 * kTileBlocks, t.w + 3 * kTileBlocks);
    else
      philox_tile(seed, stream, b0, t);
    if (skip == 0 && take == kValues) {
      Kind::make(t, out);
    } else {
      Kind::make(t, v);
      std::memcpy(out, v + skip, static_cast<std::size_t>(take) * sizeof(*out));
    }
    out += take;
    first += static_cast<std::uint64_t>(take);
    n -= take;
  }
}

// Elements [first, first + n) of a Kind with 4 values per block: the whole blocks straight into out by
// blocks(b0, nb, out) (a bulk generator giving the same values in stream order), the ragged ends through a tile.
template <class Kind, class Blocks>
inline void fill_blocks(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, std::int64_t n,
                        typename Kind::T* out, Blocks&& blocks) {
  const std::uint64_t head = std::min<std::uint64_t>((4 - first % 4) % 4, static_cast<std::uint64_t>(n));
  fill_serial<Kind>(seed, stream, first, static_cast<std::int64_t>(head), out);
  const std::int64_t nb = (n - static_cast<std::int64_t>(head)) / 4;
  blocks((first + head) / 4, nb, out + head);
  const std::int64_t done = static_cast<std::int64_t>(head) + 4 * nb;
  fill_serial<Kind>(seed, stream, first + static_cast<std::uint64_t>(done), n - done, out + done);
}

GFO_SIMD_CLONES void bits_serial(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, std::int64_t n,
                                 std::uint32_t* out) {
  fill_blocks<Bits>(seed, stream, first, n, out, [&](std::uint64_t b0, std::int64_t nb, std::uint32_t* o) {
    philox_words(seed, stream, b0, nb, o);
  });
}

GFO_SIMD_CLONES void uniform_serial(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, std::int64_t n,
                                    float* out) {
  fill_serial<Uniform32>(seed, stream, first, n, out);
}

GFO_SIMD_CLONES void uniform_serial(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, std::int64_t n,
                                    double* out) {
  fill_serial<Uniform64>(seed, stream, first, n, out);
}

GFO_SIMD_CLONES void normal_serial(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, std::int64_t n,
                                   float* out) {
  fill_blocks<Normal32>(seed, stream, first, n, out, [&](std::uint64_t b0, std::int64_t nb, float* o) {
    philox_normals32(seed, stream, b0, nb, o);
  });
}

GFO_SIMD_CLONES void normal_serial(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, std::int64_t n,
                                   double* out) {
  fill_serial<Normal64>(seed, stream, first, n, out);
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
  parallel_chunks(n, kChunk, 32, [&](std::int64_t b, std::int64_t e) { normal_serial(seed, stream, offset + b, e - b, out + b); });
}

template void fill_uniform<float>(std::uint64_t, std::uint64_t, std::uint64_t, std::int64_t, float*);
template void fill_uniform<double>(std::uint64_t, std::uint64_t, std::uint64_t, std::int64_t, double*);
template void fill_normal<float>(std::uint64_t, std::uint64_t, std::uint64_t, std::int64_t, float*);
template void fill_normal<double>(std::uint64_t, std::uint64_t, std::uint64_t, std::int64_t, double*);

}  // namespace gfo

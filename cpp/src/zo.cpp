#include "gfo/zo.hpp"

#include <algorithm>
#include <vector>

#include "gfo/bits.hpp"
#include "gfo/parallel.hpp"
#include "gfo/rng.hpp"
#include "gfo/simd.hpp"

namespace gfo {
namespace {

// A tile is 256 consecutive elements starting at a multiple of 256 of its tensor: 64 Philox blocks of
// Gaussians (enough lanes for the AVX2 generator in gfo/rng.hpp) or eight words of Rademacher signs.
// Every element is always computed as part of its full tile (tails are padded), so an element's z never
// depends on where a pass starts or how work is split.
constexpr int kTile = 256;
constexpr int kBlocks = kTile / 4;
constexpr int kSignWords = kTile / 32;
constexpr std::int64_t kChunk = 1 << 14;  // elements per unit of parallel work (a multiple of kTile and of 128)
constexpr std::int64_t kChunkWords = kChunk / 32;  // Rademacher sign words of one chunk


// z of a tile: float32 Box-Muller (gfo/normal32.hpp) on the word pairs of its kBlocks Philox blocks.
inline void gaussian_tile(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, float* z) {
  philox_normals32(seed, stream, first >> 2, kBlocks, z);
}

// z of a tile from its kSignWords sign words: +1 (bits 0x3F800000) where the bit is set, else -1 (the
// same with the sign bit), by integer operations that vectorize.
inline void rademacher_from_words(const std::uint32_t* words, float* z) {
  for (int w = 0; w < kSignWords; ++w)
    for (int i = 0; i < 32; ++i)
      z[32 * w + i] = from_bits(0xBF800000u ^ (((words[w] >> i) & 1u) << 31));
}

inline void rademacher_tile(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, float* z) {
  std::uint32_t words[kSignWords];  // word first/32 .. : the tile starts at a multiple of 256, so of 4 words
  philox_words(seed, stream, first >> 7, kSignWords / 4, words);
  rademacher_from_words(words, z);
}

inline void direction_tile(ZoDist dist, std::uint64_t seed, std::uint64_t stream, std::uint64_t first, float* z) {
  if (dist == ZoDist::gaussian) gaussian_tile(seed, stream, first, z);
  else rademacher_tile(seed, stream, first, z);
}

struct Pass {
  const ZoTensor* tensors;
  std::int64_t ntensors;
  std::uint64_t seed;
  ZoDist dist;
  const std::uint64_t* streams;
  std::int64_t nslots;
  const ZoOp* ops;
  std::int64_t nops;
  const ZoUpdate* update;
  // The pass's form (zo_direct_form): a property of the whole pass, so classified once, not per chunk.
  ZoDirect direct;
};

template <bool Bf16>
inline float rnd(float x) {
  if constexpr (Bf16) return round_bf16(x);
  else return x;
}

// The MeZO passes in float32 with Rademacher directions (one direction slot, at most one op on it, a plain
// update): straight over memory, 32 elements per sign word, with the tile path's operations in its order,
// so the same bits. The tile path's copies in and out of its buffers cost more than the pass itself here.
template <bool kOp, bool kUpdate, bool kCoef>
inline void rademacher_direct_f32(float* __restrict theta, const std::uint32_t* __restrict words, std::int64_t n,
                                  float scale, float c, float lr, float wd) {
  for (std::int64_t p = 0; p < n; p += 32) {
    const std::uint32_t w = words[p / 32];
    const int cnt = static_cast<int>(std::min<std::int64_t>(32, n - p));
    float* x = theta + p;
    for (int i = 0; i < cnt; ++i) {
      const float z = from_bits(0xBF800000u ^ (((w >> i) & 1u) << 31));
      float th = x[i];
      if constexpr (kOp) th = th + scale * z;
      if constexpr (kUpdate) {
        float s = 0.f;
        if constexpr (kCoef) s = s + c * z;
        th = th - lr * (s + wd * th);
      }
      x[i] = th;
    }
  }
}

// Returns false (nothing done) where the pass is not of that form; the tile path then runs it.
inline bool rademacher_direct(const Pass& P, const ZoTensor& T, std::int64_t begin, std::int64_t end,
                              const std::uint32_t* sign_words) {
  const ZoUpdate& U = *P.update;
  const std::int64_t slot = P.direct.slot;
  if (slot < 0 || T.momentum || T.grad_out) return false;
  const int nops = P.direct.nops;
  const float scale = P.direct.scale;
  const float c = U.enabled ? U.coef[slot] : 0.f;
  float* theta = static_cast<float*>(T.data) + begin;
  const std::uint32_t* w = sign_words + slot * kChunkWords;
  const std::int64_t n = end - begin;
  const float lr = T.lr, wd = T.weight_decay;
  if (!U.enabled) rademacher_direct_f32<true, false, false>(theta, w, n, scale, c, lr, wd);  // nops == 1 here
  else if (nops == 0) rademacher_direct_f32<false, true, true>(theta, w, n, scale, c, lr, wd);
  else if (c != 0.f) rademacher_direct_f32<true, true, true>(theta, w, n, scale, c, lr, wd);
  else rademacher_direct_f32<true, true, false>(theta, w, n, scale, c, lr, wd);
  return true;
}

// The same passes with Gaussian directions, float32 or bfloat16: tile by tile, the tile's z from the
// float32 Box-Muller (gaussian_tile, 1 KiB, stays in L1) applied straight to memory in the same pass, with
// the tile path's operations in its order (so the same bits) but none of its buffer copies.
template <bool Bf16, bool kOp, bool kUpdate, bool kCoef>
inline void gaussian_direct_run(void* data, std::int64_t begin, std::int64_t end, std::uint64_t seed,
                                std::uint64_t stream, float scale, float c, float lr, float wd) {
  alignas(32) float z[kTile];
  for (std::int64_t p = begin; p < end; p += kTile) {
    gaussian_tile(seed, stream, static_cast<std::uint64_t>(p), z);
    const int cnt = static_cast<int>(std::min<std::int64_t>(kTile, end - p));
    float* xf = static_cast<float*>(data) + p;
    std::uint16_t* xb = static_cast<std::uint16_t*>(data) + p;
    for (int i = 0; i < cnt; ++i) {
      float th;
      if constexpr (Bf16) th = from_bits(static_cast<std::uint32_t>(xb[i]) << 16);
      else th = xf[i];
      if constexpr (kOp) th = rnd<Bf16>(th + scale * z[i]);
      if constexpr (kUpdate) {
        float s = 0.f;
        if constexpr (kCoef) s = s + c * z[i];
        th = rnd<Bf16>(th - lr * (s + wd * th));
      }
      if constexpr (Bf16) xb[i] = static_cast<std::uint16_t>(bits_of(th) >> 16);
      else xf[i] = th;
    }
  }
}

// Returns false (nothing done) where the pass is not of the direct form; the tile path then runs it.
template <bool Bf16>
inline bool gaussian_direct(const Pass& P, std::int64_t t, std::int64_t begin, std::int64_t end) {
  const ZoTensor& T = P.tensors[t];
  const ZoUpdate& U = *P.update;
  const std::int64_t slot = P.direct.slot;
  if (slot < 0 || T.momentum || T.grad_out) return false;
  const std::uint64_t stream = P.streams[slot * P.ntensors + t];
  const float scale = P.direct.scale, c = U.enabled ? U.coef[slot] : 0.f, lr = T.lr, wd = T.weight_decay;
  if (!U.enabled) gaussian_direct_run<Bf16, true, false, false>(T.data, begin, end, P.seed, stream, scale, c, lr, wd);
  else if (P.direct.nops == 0) gaussian_direct_run<Bf16, false, true, true>(T.data, begin, end, P.seed, stream, scale, c, lr, wd);
  else if (c != 0.f) gaussian_direct_run<Bf16, true, true, true>(T.data, begin, end, P.seed, stream, scale, c, lr, wd);
  else gaussian_direct_run<Bf16, true, true, false>(T.data, begin, end, P.seed, stream, scale, c, lr, wd);
  return true;
}

template <bool Bf16>
inline void chunk_body(const Pass& P, std::int64_t t, std::int64_t begin, std::int64_t end) {
  const ZoTensor& T = P.tensors[t];
  const ZoUpdate& U = *P.update;
  alignas(32) float th[kTile], z[kTile], s[kTile];
  // Rademacher: the sign words of the whole chunk for every slot in use, by the vectorized generator in
  // one call per slot (a tile alone needs only two Philox blocks, too few to vectorize). 128 elements per
  // block, and chunks start at multiples of kChunk, so the chunk's words are whole blocks.
  const bool rademacher = P.dist == ZoDist::rademacher;
  static thread_local std::vector<std::uint32_t> sign_words;
  if (rademacher) {
    sign_words.resize(static_cast<std::size_t>(P.nslots * kChunkWords));
    const std::int64_t nblocks = (end - begin + 127) / 128;
    std::int64_t oi = 0;
    for (std::int64_t j = 0; j < P.nslots; ++j) {
      bool used = U.enabled && U.coef[j] != 0.f;
      for (; oi < P.nops && P.ops[oi].slot == j; ++oi) used = true;
      if (used)
        philox_words(P.seed, P.streams[j * P.ntensors + t], static_cast<std::uint64_t>(begin) / 128, nblocks,
                     sign_words.data() + j * kChunkWords);
    }
    if constexpr (!Bf16)
      if (rademacher_direct(P, T, begin, end, sign_words.data())) return;
  } else if (gaussian_direct<Bf16>(P, t, begin, end)) {
    return;
  }
  for (std::int64_t p = begin; p < end; p += kTile) {
    const int cnt = static_cast<int>(std::min<std::int64_t>(kTile, end - p));
    if constexpr (Bf16) {
      const std::uint16_t* src = static_cast<const std::uint16_t*>(T.data) + p;
      for (int i = 0; i < kTile; ++i) th[i] = 0.f;  // padding of a tensor's last tile
      for (int i = 0; i < cnt; ++i) th[i] = from_bits(static_cast<std::uint32_t>(src[i]) << 16);
    } else {
      const float* src = static_cast<const float*>(T.data) + p;
      for (int i = 0; i < kTile; ++i) th[i] = 0.f;
      for (int i = 0; i < cnt; ++i) th[i] = src[i];
    }
    for (int i = 0; i < kTile; ++i) s[i] = 0.f;
    std::int64_t oi = 0;
    for (std::int64_t j = 0; j < P.nslots; ++j) {
      const bool has_op = oi < P.nops && P.ops[oi].slot == j;
      const float c = U.enabled ? U.coef[j] : 0.f;
      if (!has_op && c == 0.f) continue;  // s + 0 * z == s: skipping the slot changes no bit
      if (rademacher) rademacher_from_words(sign_words.data() + j * kChunkWords + (p - begin) / 32, z);
      else gaussian_tile(P.seed, P.streams[j * P.ntensors + t], static_cast<std::uint64_t>(p), z);
      for (; oi < P.nops && P.ops[oi].slot == j; ++oi) {
        const float scale = P.ops[oi].scale;
        for (int i = 0; i < kTile; ++i) th[i] = rnd<Bf16>(th[i] + scale * z[i]);
      }
      if (c != 0.f)
        for (int i = 0; i < kTile; ++i) s[i] = s[i] + c * z[i];
    }
    if (U.enabled && T.grad_out) {
      float* g = T.grad_out + p;
      const float wd = T.weight_decay;
      for (int i = 0; i < cnt; ++i) g[i] = s[i] + wd * th[i];
    } else if (U.enabled) {
      const float wd = T.weight_decay, lr = T.lr;
      if (T.momentum) {
        float* m = T.momentum + p;
        const float beta = U.momentum;
        for (int i = 0; i < cnt; ++i) {
          m[i] = beta * m[i] + (s[i] + wd * th[i]);
          th[i] = rnd<Bf16>(th[i] - lr * m[i]);
        }
      } else {
        for (int i = 0; i < kTile; ++i) th[i] = rnd<Bf16>(th[i] - lr * (s[i] + wd * th[i]));
      }
    }
    if constexpr (Bf16) {
      std::uint16_t* dst = static_cast<std::uint16_t*>(T.data) + p;
      for (int i = 0; i < cnt; ++i) dst[i] = static_cast<std::uint16_t>(bits_of(th[i]) >> 16);
    } else {
      float* dst = static_cast<float*>(T.data) + p;
      for (int i = 0; i < cnt; ++i) dst[i] = th[i];
    }
  }
}

// The serial cores, compiled per instruction set (gfo/simd.hpp); the parallel region stays outside.
GFO_SIMD_CLONES void chunk_f32(const Pass& P, std::int64_t t, std::int64_t begin, std::int64_t end) {
  chunk_body<false>(P, t, begin, end);
}

GFO_SIMD_CLONES void chunk_bf16(const Pass& P, std::int64_t t, std::int64_t begin, std::int64_t end) {
  chunk_body<true>(P, t, begin, end);
}

GFO_SIMD_CLONES void directions_serial(ZoDist dist, std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                                       std::int64_t n, float* out) {
  float z[kTile];
  std::uint64_t tile = offset & ~static_cast<std::uint64_t>(kTile - 1);
  const std::uint64_t stop = offset + static_cast<std::uint64_t>(n);
  for (; tile < stop; tile += kTile) {
    direction_tile(dist, seed, stream, tile, z);
    const std::uint64_t lo = std::max(tile, offset), hi = std::min(tile + kTile, stop);
    for (std::uint64_t i = lo; i < hi; ++i) out[i - offset] = z[i - tile];
  }
}

}  // namespace

void zo_apply(const ZoTensor* tensors, std::int64_t ntensors, std::uint64_t seed, ZoDist dist,
              const std::uint64_t* streams, std::int64_t nslots, const ZoOp* ops, std::int64_t nops,
              const ZoUpdate& update) {
  // Chunks of every tensor in one list: the parallel loop below balances elements, not tensors.
  std::vector<std::int64_t> first_chunk(static_cast<std::size_t>(ntensors) + 1, 0);
  for (std::int64_t t = 0; t < ntensors; ++t)
    first_chunk[t + 1] = first_chunk[t] + (tensors[t].n + kChunk - 1) / kChunk;
  Pass P{tensors, ntensors, seed, dist, streams, nslots, ops, nops, &update};
  P.direct = zo_direct_form(nslots, ops, nops, update);
  const std::int64_t nchunks = first_chunk[ntensors];
  std::int64_t elements = 0;
  for (std::int64_t t = 0; t < ntensors; ++t) elements += tensors[t].n;
  auto run = [&](std::int64_t c) {
    const std::int64_t t = std::upper_bound(first_chunk.begin(), first_chunk.end(), c) - first_chunk.begin() - 1;
    const std::int64_t begin = (c - first_chunk[t]) * kChunk;
    const std::int64_t end = std::min(begin + kChunk, tensors[t].n);
    if (tensors[t].storage == ZoStorage::bf16) chunk_bf16(P, t, begin, end);
    else chunk_f32(P, t, begin, end);
  };
  // Decided on the elements actually present: a small model's pass is cheaper than waking a team (and a
  // team's spinning threads would compete with torch's own OpenMP runtime between the passes).
#ifdef _OPENMP
  const bool par = nchunks > 1 && elements >= 4 * kChunk && omp_get_max_threads() > 1;
#pragma omp parallel for schedule(static) if (par)
#endif
  for (std::int64_t c = 0; c < nchunks; ++c) run(c);
}

void zo_directions(std::uint64_t seed, std::uint64_t stream, ZoDist dist, std::uint64_t offset, std::int64_t n,
                   float* out) {
  parallel_chunks(n, kChunk, 32, [&](std::int64_t b, std::int64_t e) {
    directions_serial(dist, seed, stream, offset + static_cast<std::uint64_t>(b), e - b, out + b);
  });
}

}  // namespace gfo

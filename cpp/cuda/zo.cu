// The zeroth-order pass of gfo/zo.hpp on the GPU: the same per-element operations in the same order as the
// CPU kernel (cpp/src/zo.cpp), so the same bits. --fmad=false keeps every `a + b * c` two roundings, as
// -ffp-contract=off does on the CPU; the directions come from the same Philox blocks through the same
// float32 Box-Muller (gfo/normal32.hpp).
//
// One thread handles four consecutive elements 4k .. 4k + 3 of a tensor: for Gaussian directions exactly
// the four normals of Philox block k, for Rademacher four bits of word 4k / 32 (block 4k / 128, which the
// 32 lanes of a warp share, each drawing it: cheaper than a shuffle round trip and as fast as the
// Gaussian's one block per thread). The pass is memory-bound on the GPU: theta is read and written once.
#include "common.cuh"
#include "gfo/bits.hpp"
#include "gfo/cuda.hpp"
#include "gfo/normal32.hpp"
#include "gfo/rng.hpp"
#include "multi_tensor.cuh"

namespace gfo::cuda {
namespace {

constexpr std::int64_t kZoChunk = 1 << 13;  // elements per thread block: 8 groups of 4 per thread

struct ZoRow {
  void* data;
  std::int64_t n;
  std::int64_t first_chunk;  // thread blocks of the tensors before this one
  float* momentum;
  float* grad_out;
  float lr;
  float wd;
  std::int32_t bf16;
  std::int32_t aligned;  // data is 16-byte (float32) or 8-byte (bfloat16) aligned: vector loads and stores
};

struct ZoArgs {
  const ZoRow* rows;
  const std::uint64_t* streams;  // nslots x ntensors
  const ZoOp* ops;
  const float* coef;  // nslots, or null without an update
  std::uint64_t seed;
  std::int64_t ntensors, nslots, nops;
  float beta;
  ZoDist dist;
  ZoDirect direct;  // the MeZO passes' form (zo_direct_form): the slot loop and its table reads drop out
};

__device__ __forceinline__ void direction4(ZoDist dist, std::uint64_t seed, std::uint64_t stream, std::uint64_t e,
                                           float (&z)[4]) {
  if (dist == ZoDist::gaussian) {
    const Words4 b = philox_block(seed, stream, e >> 2);
    normal32::box_muller(b.w[0], b.w[1], z[0], z[1]);
    normal32::box_muller(b.w[2], b.w[3], z[2], z[3]);
  } else {
    const Words4 b = philox_block(seed, stream, e >> 7);
    const unsigned k = static_cast<unsigned>(e >> 5) & 3u;  // a select, not an index: z stays in registers
    const std::uint32_t w = k == 0 ? b.w[0] : k == 1 ? b.w[1] : k == 2 ? b.w[2] : b.w[3];
    const int bit = static_cast<int>(e & 31);
#pragma unroll
    for (int i = 0; i < 4; ++i) z[i] = from_bits(0xBF800000u ^ (((w >> (bit + i)) & 1u) << 31));
  }
}

template <bool Bf16>
__device__ __forceinline__ float rnd(float x) {
  if constexpr (Bf16) return round_bf16(x);
  else return x;
}

template <bool Bf16>
__device__ __forceinline__ void load4(const ZoRow& r, std::int64_t e, int cnt, float (&th)[4]) {
  if constexpr (Bf16) {
    const std::uint16_t* p = static_cast<const std::uint16_t*>(r.data) + e;
    if (cnt == 4 && r.aligned) {
      const uint2 v = *reinterpret_cast<const uint2*>(p);
      th[0] = from_bits(v.x << 16), th[1] = from_bits(v.x & 0xFFFF0000u);
      th[2] = from_bits(v.y << 16), th[3] = from_bits(v.y & 0xFFFF0000u);
    } else {
#pragma unroll
      for (int i = 0; i < 4; ++i)
        if (i < cnt) th[i] = from_bits(static_cast<std::uint32_t>(p[i]) << 16);
    }
  } else {
    const float* p = static_cast<const float*>(r.data) + e;
    if (cnt == 4 && r.aligned) {
      const float4 v = *reinterpret_cast<const float4*>(p);
      th[0] = v.x, th[1] = v.y, th[2] = v.z, th[3] = v.w;
    } else {
#pragma unroll
      for (int i = 0; i < 4; ++i)
        if (i < cnt) th[i] = p[i];
    }
  }
}

template <bool Bf16>
__device__ __forceinline__ void store4(const ZoRow& r, std::int64_t e, int cnt, const float (&th)[4]) {
  if constexpr (Bf16) {
    std::uint16_t* p = static_cast<std::uint16_t*>(r.data) + e;
    if (cnt == 4 && r.aligned) {
      *reinterpret_cast<uint2*>(p) = make_uint2((bits_of(th[0]) >> 16) | (bits_of(th[1]) & 0xFFFF0000u),
                                                (bits_of(th[2]) >> 16) | (bits_of(th[3]) & 0xFFFF0000u));
    } else {
#pragma unroll
      for (int i = 0; i < 4; ++i)
        if (i < cnt) p[i] = static_cast<std::uint16_t>(bits_of(th[i]) >> 16);
    }
  } else {
    float* p = static_cast<float*>(r.data) + e;
    if (cnt == 4 && r.aligned) *reinterpret_cast<float4*>(p) = make_float4(th[0], th[1], th[2], th[3]);
    else
#pragma unroll
      for (int i = 0; i < 4; ++i)
        if (i < cnt) p[i] = th[i];
  }
}

// Elements e .. e + cnt - 1 (cnt <= 4, e a multiple of 4) of tensor t, loaded in th: the CPU tile path's
// operations. `stream` is the direct slot's stream of this tensor (direct passes only).
template <bool Bf16>
__device__ void group(const ZoArgs& A, std::int64_t t, const ZoRow& r, std::int64_t e, int cnt,
                      std::uint64_t stream, float (&th)[4]) {
  float s[4] = {0.f, 0.f, 0.f, 0.f}, z[4];
  if (A.direct.slot >= 0) {
    direction4(A.dist, A.seed, stream, static_cast<std::uint64_t>(e), z);
    if (A.direct.nops) {
#pragma unroll
      for (int i = 0; i < 4; ++i) th[i] = rnd<Bf16>(th[i] + A.direct.scale * z[i]);
    }
    const float c = A.coef ? A.coef[A.direct.slot] : 0.f;
    if (c != 0.f) {
#pragma unroll
      for (int i = 0; i < 4; ++i) s[i] = s[i] + c * z[i];
    }
  }
  std::int64_t oi = 0;
  for (std::int64_t j = 0; A.direct.slot < 0 && j < A.nslots; ++j) {
    const bool has_op = oi < A.nops && A.ops[oi].slot == j;
    const float c = A.coef ? A.coef[j] : 0.f;
    if (!has_op && c == 0.f) continue;  // s + 0 * z == s: skipping the slot changes no bit
    direction4(A.dist, A.seed, A.streams[j * A.ntensors + t], static_cast<std::uint64_t>(e), z);
    for (; oi < A.nops && A.ops[oi].slot == j; ++oi) {
      const float scale = A.ops[oi].scale;
#pragma unroll
      for (int i = 0; i < 4; ++i) th[i] = rnd<Bf16>(th[i] + scale * z[i]);
    }
    if (c != 0.f) {
#pragma unroll
      for (int i = 0; i < 4; ++i) s[i] = s[i] + c * z[i];
    }
  }
  // Loops over the group run to 4 with a guard: a loop bounded by cnt would index th, s and z at run time
  // and move them from registers to local memory.
  if (A.coef && r.grad_out) {  // gradient mode: the estimate is written, theta gets only the ops
#pragma unroll
    for (int i = 0; i < 4; ++i)
      if (i < cnt) r.grad_out[e + i] = s[i] + r.wd * th[i];
  } else if (A.coef) {
    if (r.momentum) {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        if (i >= cnt) break;
        const float m = A.beta * r.momentum[e + i] + (s[i] + r.wd * th[i]);
        r.momentum[e + i] = m;
        th[i] = rnd<Bf16>(th[i] - r.lr * m);
      }
    } else {
#pragma unroll
      for (int i = 0; i < 4; ++i) th[i] = rnd<Bf16>(th[i] - r.lr * (s[i] + r.wd * th[i]));
    }
  }
}

// kGroups groups per thread at a time, all loads issued before the first use. Measured on an H100 (105M
// float32 parameters, Gaussian perturb pass, kernel time): 1 group (32 registers by a launch bound) 0.90,
// 2 groups 0.88, 4 groups 0.85 and 8 groups 0.42 of the copy bandwidth (145 registers); bfloat16 is bound by
// the arithmetic in every variant (0.34-0.39).
constexpr int kGroups = 2;

template <bool Bf16>
__device__ void chunk(const ZoArgs& A, std::int64_t t, const ZoRow& r, std::int64_t begin, std::int64_t end) {
  const std::uint64_t stream = A.direct.slot >= 0 ? A.streams[A.direct.slot * A.ntensors + t] : 0;
  const std::int64_t stride = 4 * std::int64_t(blockDim.x);
  for (std::int64_t e0 = begin + 4 * std::int64_t(threadIdx.x); e0 < end; e0 += kGroups * stride) {
    float th[kGroups][4];
    int cnt[kGroups];
#pragma unroll
    for (int g = 0; g < kGroups; ++g) {
      const std::int64_t left = end - (e0 + g * stride);
      cnt[g] = left <= 0 ? 0 : left < 4 ? static_cast<int>(left) : 4;
      if (cnt[g] > 0) load4<Bf16>(r, e0 + g * stride, cnt[g], th[g]);
    }
#pragma unroll
    for (int g = 0; g < kGroups; ++g)
      if (cnt[g] > 0) group<Bf16>(A, t, r, e0 + g * stride, cnt[g], stream, th[g]);
#pragma unroll
    for (int g = 0; g < kGroups; ++g)
      if (cnt[g] > 0) store4<Bf16>(r, e0 + g * stride, cnt[g], th[g]);
  }
}

__global__ void zo_kernel(ZoArgs A) {
  // The block's tensor: the last row whose first chunk is at or before this block (a binary search over the
  // small row table, instead of a per-block list uploaded with every launch).
  const std::int64_t b = blockIdx.x;
  std::int64_t lo = 0, hi = A.ntensors - 1;
  while (lo < hi) {
    const std::int64_t mid = (lo + hi + 1) / 2;
    if (A.rows[mid].first_chunk <= b) lo = mid;
    else hi = mid - 1;
  }
  const ZoRow r = A.rows[lo];
  const std::int64_t begin = (b - r.first_chunk) * kZoChunk;
  const std::int64_t end = begin + kZoChunk < r.n ? begin + kZoChunk : r.n;
  if (r.bf16) chunk<true>(A, lo, r, begin, end);
  else chunk<false>(A, lo, r, begin, end);
}

}  // namespace

void zo_apply(const ZoTensor* tensors, std::int64_t ntensors, std::uint64_t seed, ZoDist dist,
              const std::uint64_t* streams, std::int64_t nslots, const ZoOp* ops, std::int64_t nops,
              const ZoUpdate& update, Stream stream) {
  static Staging staging;
  std::vector<ZoRow> rows(static_cast<std::size_t>(ntensors));
  std::int64_t nchunks = 0;
  for (std::int64_t t = 0; t < ntensors; ++t) {
    const ZoTensor& T = tensors[t];
    const bool bf16 = T.storage == ZoStorage::bf16;
    const auto address = reinterpret_cast<std::uintptr_t>(T.data);
    rows[t] = ZoRow{T.data, T.n, nchunks, T.momentum, T.grad_out, T.lr, T.weight_decay, bf16,
                    address % (bf16 ? 8 : 16) == 0};
    nchunks += (T.n + kZoChunk - 1) / kZoChunk;
  }
  if (nchunks == 0) return;
  if (nchunks > 0x7FFFFFFF) throw std::invalid_argument("params: too many elements for one launch");
  const cudaStream_t s = as_stream(stream);
  const std::size_t ncoef = update.enabled ? static_cast<std::size_t>(nslots) : 0;
  std::size_t off[4];
  char* dev = static_cast<char*>(staging.upload({{rows.data(), rows.size() * sizeof(ZoRow)},
                                                 {streams, static_cast<std::size_t>(nslots * ntensors) * 8},
                                                 {ops, static_cast<std::size_t>(nops) * sizeof(ZoOp)},
                                                 {update.coef, ncoef * sizeof(float)}},
                                                s, off));
  ZoArgs A{reinterpret_cast<const ZoRow*>(dev + off[0]),
           reinterpret_cast<const std::uint64_t*>(dev + off[1]),
           reinterpret_cast<const ZoOp*>(dev + off[2]),
           update.enabled ? reinterpret_cast<const float*>(dev + off[3]) : nullptr,
           seed, ntensors, nslots, nops, update.momentum, dist,
           zo_direct_form(nslots, ops, nops, update)};
  zo_kernel<<<static_cast<unsigned>(nchunks), kThreads, 0, s>>>(A);
  const cudaError_t launched = cudaGetLastError();
  cudaFreeAsync(dev, s);
  check(launched, "zo_apply");
}

}  // namespace gfo::cuda

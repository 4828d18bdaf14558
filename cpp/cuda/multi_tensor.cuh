// Many tensors in one launch: a device-side table of tensor rows plus a list of (row, chunk) pairs, one
// per thread block (the multi_tensor_apply idea of NVIDIA apex, with the table in device memory instead of
// kernel arguments, so there is no limit on the number of tensors per launch).
#pragma once
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <vector>

#include "common.cuh"

namespace gfo::cuda {

constexpr std::int64_t kChunk = 1 << 16;  // elements per block: 256 per thread at 256 threads

// What a block needs of one tensor; c[] are per-tensor scalars computed on the host (bias corrections...).
struct DeviceRow {
  void* p;
  const void* g;
  void* s0;
  void* s1;
  void* s2;
  std::int64_t numel;
  double c[3];
  std::uint64_t flags;
};

struct ChunkRef {
  std::int32_t row;
  std::int32_t chunk;
};

// Host arrays copied to the device in one block through a pinned staging buffer (so the copy is truly
// asynchronous); the caller frees the device block with cudaFreeAsync after its launch.
struct HostPart {
  const void* data;
  std::size_t bytes;
};

class Staging {
 public:
  // Part k lands at device address (char*)result + offsets[k], 16-byte aligned. Runs on the current device,
  // which the callers set to the stream's (cuda_set_device before every launch).
  void* upload(std::initializer_list<HostPart> parts, cudaStream_t s, std::size_t* offsets) {
    std::lock_guard<std::mutex> lock(mu_);
    std::size_t bytes = 0, k = 0;
    for (const HostPart& p : parts) {
      offsets[k++] = bytes;
      bytes += (p.bytes + 15) / 16 * 16;
    }
    // The previous upload, from whichever device, must have left the staging buffer before it is overwritten.
    if (last_ != nullptr) check(cudaEventSynchronize(last_), "cudaEventSynchronize");
    if (bytes > cap_) {
      if (host_ != nullptr) cudaFreeHost(host_);
      host_ = nullptr;
      cap_ = 0;
      check(cudaHostAlloc(&host_, bytes * 2, cudaHostAllocPortable), "cudaHostAlloc");
      cap_ = bytes * 2;
    }
    k = 0;
    for (const HostPart& p : parts) {
      if (p.bytes > 0) std::memcpy(static_cast<char*>(host_) + offsets[k], p.data, p.bytes);
      ++k;
    }
    void* dev = nullptr;
    check(cudaMallocAsync(&dev, bytes > 0 ? bytes : 16, s), "cudaMallocAsync");
    check(cudaMemcpyAsync(dev, host_, bytes, cudaMemcpyHostToDevice, s), "cudaMemcpyAsync");
    // An event can only be recorded on a stream of the device it was created on: one event per device.
    int device = 0;
    check(cudaGetDevice(&device), "cudaGetDevice");
    if (static_cast<std::size_t>(device) >= events_.size()) events_.resize(static_cast<std::size_t>(device) + 1, nullptr);
    cudaEvent_t& event = events_[static_cast<std::size_t>(device)];
    if (event == nullptr) check(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), "cudaEventCreate");
    check(cudaEventRecord(event, s), "cudaEventRecord");
    last_ = event;
    return dev;
  }

 private:
  std::mutex mu_;
  void* host_ = nullptr;
  std::size_t cap_ = 0;
  std::vector<cudaEvent_t> events_;  // by device index, created on first use there
  cudaEvent_t last_ = nullptr;       // the event of the latest upload
};

inline std::vector<ChunkRef> chunks_of(const std::vector<DeviceRow>& rows) {
  std::vector<ChunkRef> out;
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::int64_t c = 0; c * kChunk < rows[r].numel; ++c)
      out.push_back(ChunkRef{static_cast<std::int32_t>(r), static_cast<std::int32_t>(c)});
  return out;
}

// Runs op.template apply<S>(row, i) for every element i of every row; op is copied to the kernel.
template <class S, class Op>
__global__ void multi_tensor_kernel(const DeviceRow* rows, const ChunkRef* chunks, Op op) {
  const ChunkRef ref = chunks[blockIdx.x];
  const DeviceRow& row = rows[ref.row];
  const std::int64_t b = std::int64_t(ref.chunk) * kChunk;
  const std::int64_t e = b + kChunk < row.numel ? b + kChunk : row.numel;
  for (std::int64_t i = b + threadIdx.x; i < e; i += blockDim.x) op.template apply<S>(row, i);
}

template <class S, class Op>
void launch_multi_tensor(const std::vector<DeviceRow>& rows, const Op& op, Stream stream, const char* name) {
  static Staging staging;
  if (rows.empty()) return;
  const std::vector<ChunkRef> chunks = chunks_of(rows);
  if (chunks.empty()) return;
  if (chunks.size() > 0x7FFFFFFF) throw std::invalid_argument("params: too many elements for one launch");
  const cudaStream_t s = as_stream(stream);
  std::size_t off[2];
  char* dev = static_cast<char*>(staging.upload(
      {{rows.data(), rows.size() * sizeof(DeviceRow)}, {chunks.data(), chunks.size() * sizeof(ChunkRef)}}, s, off));
  multi_tensor_kernel<S, Op><<<static_cast<unsigned>(chunks.size()), kThreads, 0, s>>>(
      reinterpret_cast<const DeviceRow*>(dev + off[0]), reinterpret_cast<const ChunkRef*>(dev + off[1]), op);
  const cudaError_t launched = cudaGetLastError();
  cudaFreeAsync(dev, s);
  check(launched, name);
}

// The table columns of gfo/cuda.hpp -> device rows (scalars filled in by the caller).
inline std::vector<DeviceRow> rows_of(const std::uint64_t* table, std::int64_t n) {
  std::vector<DeviceRow> rows(static_cast<std::size_t>(n));
  for (std::int64_t r = 0; r < n; ++r) {
    const std::uint64_t* t = table + r * kColumns;
    rows[r] = DeviceRow{reinterpret_cast<void*>(t[kParam]), reinterpret_cast<const void*>(t[kGrad]),
                        reinterpret_cast<void*>(t[kState0]), reinterpret_cast<void*>(t[kState1]),
                        reinterpret_cast<void*>(t[kState2]), static_cast<std::int64_t>(t[kNumel]), {0, 0, 0},
                        t[kFlags]};
  }
  return rows;
}

// Increments the host step counter of a row (float or double, as torch keeps it) and returns its value.
inline double bump_step(const std::uint64_t* row) {
  if (row[kStep] == 0) return 1.0;
  if (row[kFlags] & kStepIsDouble) {
    double* s = reinterpret_cast<double*>(row[kStep]);
    *s += 1.0;
    return *s;
  }
  float* s = reinterpret_cast<float*>(row[kStep]);
  *s += 1.0f;
  return double(*s);
}

}  // namespace gfo::cuda

// Device queries and stream synchronisation for the Python layer (the "is CUDA usable here" checks).
#include "common.cuh"

namespace gfo::cuda {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error for later calls
    return 0;
  }
  return n;
}

const char* device_error() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e == cudaSuccess) return "";
  cudaGetLastError();
  return cudaGetErrorString(e);
}

void set_device(int device) { check(cudaSetDevice(device), "cudaSetDevice"); }

void synchronize(Stream s) { check(cudaStreamSynchronize(as_stream(s)), "cudaStreamSynchronize"); }

}  // namespace gfo::cuda

// Runtime-safe SIMD: hot loops are compiled several times and the best clone for the running CPU is
// chosen once at load time (GCC/Clang ifunc dispatch). The default build therefore runs on any x86-64.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(GFO_MARCH_NATIVE) && \
    !defined(__CUDACC__)
// An attribute cannot be a template: this is the one macro the kernels use. Put it on a plain
// (non-template) function holding a serial hot loop; `flatten` inlines the templated body into every clone.
#define GFO_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), flatten))
#else
#define GFO_SIMD_CLONES
#endif

namespace gfo {

// The instruction set the cloned kernels run with on this CPU.
inline const char* simd_level() {
#if defined(GFO_MARCH_NATIVE)
#if defined(__AVX512F__)
  return "avx512 (-march=native)";
#elif defined(__AVX2__)
  return "avx2 (-march=native)";
#else
  return "native";
#endif
#elif defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4")) return "avx512";
  if (__builtin_cpu_supports("x86-64-v3")) return "avx2";
  return "sse2";
#else
  return "baseline";
#endif
}

}  // namespace gfo

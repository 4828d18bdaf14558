#include <pybind11/stl.h>

#include <array>
#include <cstdint>
#include <string>

#include "arrays.hpp"
#include "gfo/rng.hpp"
#include "registry.hpp"

namespace gfo::bind {
namespace {

template <class T>
void fill(const char* kind, std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, py::array out) {
  T* p = data_of<T>(out, "out", true);
  const std::int64_t n = out.size();
  py::gil_scoped_release nogil;
  if (kind[0] == 'u') fill_uniform<T>(seed, stream, offset, n, p);
  else fill_normal<T>(seed, stream, offset, n, p);
}

void register_rng(py::module_& m) {
  m.def("rng_bits", [](std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, py::array out) {
    if (!out.dtype().equal(py::dtype::of<std::uint32_t>()) || !(out.flags() & py::array::c_style) || !out.writeable())
      throw py::type_error("out: expected a writeable C-contiguous uint32 array");
    auto* p = static_cast<std::uint32_t*>(out.mutable_data());
    py::gil_scoped_release nogil;
    fill_bits(seed, stream, offset, out.size(), p);
  }, py::arg("seed"), py::arg("stream"), py::arg("offset"), py::arg("out"));
  for (const char* kind : {"uniform", "normal"}) {
    m.def((std::string("rng_") + kind).c_str(),
          [kind](std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, py::array out) {
            if (is_float32(out)) fill<float>(kind, seed, stream, offset, out);
            else fill<double>(kind, seed, stream, offset, out);
          },
          py::arg("seed"), py::arg("stream"), py::arg("offset"), py::arg("out"));
  }
  // The float32 Box-Muller of gfo/normal32.hpp on given word pairs (tests reach the uniforms' extremes and
  // the quadrant boundaries with it, which a stream hits too rarely). Pairs in groups of 128 go through the
  // bulk path (box_muller_lanes: AVX2 where the CPU has it), the rest through box_muller, so tests compare
  // both with the NumPy twin.
  m.def("rng_box_muller32", [](py::array w1, py::array w2, py::array z0, py::array z1) {
    const std::uint32_t* a = data_of<std::uint32_t>(w1, "w1");
    const std::uint32_t* b = data_of<std::uint32_t>(w2, "w2");
    float* c = data_of<float>(z0, "z0", true);
    float* s = data_of<float>(z1, "z1", true);
    const py::ssize_t n = w1.size();
    if (w2.size() != n || z0.size() != n || z1.size() != n) throw py::value_error("w1, w2, z0, z1: expected equal sizes");
    py::gil_scoped_release nogil;
    constexpr py::ssize_t kB = 64;  // blocks of box_muller_lanes: pairs i .. i + 63 in words 0, 1, pairs i + 64 .. in 2, 3
    py::ssize_t i = 0;
    for (; i + 2 * kB <= n; i += 2 * kB) {
      float z[4 * kB];
      normal32::box_muller_lanes<kB>(a + i, b + i, a + i + kB, b + i + kB, z);
      for (py::ssize_t l = 0; l < kB; ++l) {
        c[i + l] = z[4 * l];
        s[i + l] = z[4 * l + 1];
        c[i + kB + l] = z[4 * l + 2];
        s[i + kB + l] = z[4 * l + 3];
      }
    }
    for (; i < n; ++i) normal32::box_muller(a[i], b[i], c[i], s[i]);
  }, py::arg("w1"), py::arg("w2"), py::arg("z0"), py::arg("z1"));
  m.def("philox4x32_10", [](std::array<std::uint32_t, 4> ctr, std::array<std::uint32_t, 2> key) {
    const Words4 w = philox4x32_10(Words4{{ctr[0], ctr[1], ctr[2], ctr[3]}}, key[0], key[1]);
    return std::array<std::uint32_t, 4>{w.w[0], w.w[1], w.w[2], w.w[3]};
  }, py::arg("counter"), py::arg("key"));
}

const bool registered = add_area(&register_rng);

}  // namespace
}  // namespace gfo::bind

#include <pybind11/pybind11.h>

#include <vector>

#include "gfo/parallel.hpp"
#include "gfo/simd.hpp"
#include "registry.hpp"

namespace py = pybind11;

namespace gfo::bind {

static std::vector<Registrar>& registrars() {
  static std::vector<Registrar> r;
  return r;
}

bool add_area(Registrar r) {
  registrars().push_back(r);
  return true;
}

void register_all(py::module_& m) {
  for (Registrar r : registrars()) r(m);
}

}  // namespace gfo::bind

#ifndef GFO_VERSION
#define GFO_VERSION "dev"
#endif
#ifndef GFO_BUILD_TYPE
#define GFO_BUILD_TYPE "unknown"
#endif

PYBIND11_MODULE(_core, m) {
  m.doc() = "gfo_native compiled kernels (private: use the gfo_native package)";
  m.def("build_info", [] {
    py::dict d;
    d["version"] = GFO_VERSION;
    d["openmp"] = gfo::openmp_enabled();
    d["max_threads"] = gfo::max_threads();
#ifdef GFO_HAVE_CUDA
    d["cuda"] = true;
#else
    d["cuda"] = false;
#endif
    d["simd"] = gfo::simd_level();
#if defined(__clang__)
    d["compiler"] = "clang " __clang_version__;
#elif defined(__GNUC__)
    d["compiler"] = "gcc " __VERSION__;
#else
    d["compiler"] = "unknown";
#endif
    d["build_type"] = GFO_BUILD_TYPE;
    return d;
  });
  m.def("set_num_threads", &gfo::set_num_threads, py::arg("n"));
  m.def("get_num_threads", &gfo::max_threads);
  gfo::bind::register_all(m);
}

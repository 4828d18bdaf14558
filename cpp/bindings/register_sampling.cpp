#include <cstdint>

#include "arrays.hpp"
#include "gfo/sampling.hpp"
#include "registry.hpp"

namespace gfo::bind {
namespace {

void register_sampling(py::module_& m) {
  m.def("sampling_uniform_box", [](std::uint64_t seed, std::uint64_t stream, const py::array& lo,
                                   const py::array& hi, py::array out) {
    require_ndim(out, "out", 2);
    double* o = data_of<double>(out, "out", true);
    const auto n = out.shape(0), d = out.shape(1);
    const double *l = vector_of(lo, "lo", d), *h = vector_of(hi, "hi", d);
    py::gil_scoped_release nogil;
    sample_uniform_box(seed, stream, l, h, n, d, o);
  }, py::arg("seed"), py::arg("stream"), py::arg("lo"), py::arg("hi"), py::arg("out"));
  m.def("sampling_gaussian_box", [](std::uint64_t seed, std::uint64_t stream, const py::array& center,
                                    const py::array& scale, const py::array& lo, const py::array& hi, py::array out) {
    require_ndim(out, "out", 2);
    double* o = data_of<double>(out, "out", true);
    const auto n = out.shape(0), d = out.shape(1);
    const double *c = vector_of(center, "center", d), *s = vector_of(scale, "scale", d), *l = vector_of(lo, "lo", d),
                 *h = vector_of(hi, "hi", d);
    py::gil_scoped_release nogil;
    sample_gaussian_box(seed, stream, c, s, l, h, n, d, o);
  }, py::arg("seed"), py::arg("stream"), py::arg("center"), py::arg("scale"), py::arg("lo"), py::arg("hi"),
     py::arg("out"));
}

const bool registered = add_area(&register_sampling);

}  // namespace
}  // namespace gfo::bind

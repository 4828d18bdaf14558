#include <cstdint>

#include "gfo/sa.hpp"
#include "population_args.hpp"
#include "registry.hpp"

namespace gfo::bind {
namespace {

void register_sa(py::module_& m) {
  m.def("sa_propose", [](std::uint64_t seed, std::uint64_t stream, double step, const py::array& X,
                         const py::array& span, const py::array& lo, const py::array& hi, py::array Y) {
    const double* x = checked<double>(X, "X", {-1, -1});
    const py::ssize_t n = X.shape(0), d = X.shape(1);
    const double *s = checked<double>(span, "span", {d}), *l = checked<double>(lo, "lo", {d}),
                 *h = checked<double>(hi, "hi", {d});
    double* y = checked<double>(Y, "Y", {n, d}, true);
    py::gil_scoped_release nogil;
    sa_propose(seed, stream, step, n, d, x, s, l, h, y);
  }, py::arg("seed"), py::arg("stream"), py::arg("step"), py::arg("X"), py::arg("span"), py::arg("lo"), py::arg("hi"),
     py::arg("Y"));
}

const bool registered = add_area(&register_sa);

}  // namespace
}  // namespace gfo::bind

#include <cstdint>

#include "gfo/de.hpp"
#include "population_args.hpp"
#include "registry.hpp"

namespace gfo::bind {
namespace {

void register_de(py::module_& m) {
  m.def("de_trials", [](std::uint64_t seed, std::uint64_t stream_cr, int strategy, double CR, const py::array& X,
                        std::int64_t best, const py::array& R, const py::array& F, const py::array& jrand,
                        const py::array& lo, const py::array& hi, py::array U) {
    const double* x = checked<double>(X, "X", {-1, -1});
    const py::ssize_t n = X.shape(0), d = X.shape(1);
    const auto* r = checked<std::int64_t>(R, "R", {n, 3});
    const double* f = checked<double>(F, "F", {n});
    const auto* jr = checked<std::int64_t>(jrand, "jrand", {n});
    const double *l = checked<double>(lo, "lo", {d}), *h = checked<double>(hi, "hi", {d});
    double* u = checked<double>(U, "U", {n, d}, true);
    if (strategy < 0 || strategy > 2) throw py::value_error("strategy: unknown code");
    if (best < 0 || best >= n) throw py::value_error("best: index out of range");
    for (py::ssize_t i = 0; i < 3 * n; ++i)
      if (r[i] < 0 || r[i] >= n) throw py::value_error("R: index out of range");
    py::gil_scoped_release nogil;
    de_trials(seed, stream_cr, static_cast<DeStrategy>(strategy), CR, n, d, x, best, r, f, jr, l, h, u);
  }, py::arg("seed"), py::arg("stream_cr"), py::arg("strategy"), py::arg("CR"), py::arg("X"), py::arg("best"),
     py::arg("R"), py::arg("F"), py::arg("jrand"), py::arg("lo"), py::arg("hi"), py::arg("U"));
}

const bool registered = add_area(&register_de);

}  // namespace
}  // namespace gfo::bind

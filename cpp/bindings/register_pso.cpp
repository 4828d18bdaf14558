#include <cstdint>

#include "gfo/pso.hpp"
#include "population_args.hpp"
#include "registry.hpp"

namespace gfo::bind {
namespace {

void register_pso(py::module_& m) {
  m.def("pso_update", [](std::uint64_t seed, std::uint64_t stream_r1, std::uint64_t stream_r2, double w, double c1,
                         double c2, const py::array& X, py::array V, py::array P, const py::array& improved,
                         const py::array& nbest, const py::array& vmax, const py::array& lo, const py::array& hi,
                         int bounds, py::array Xnew) {
    const py::ssize_t n = X.ndim() == 2 ? X.shape(0) : -1, d = X.ndim() == 2 ? X.shape(1) : -1;
    const double* x = checked<double>(X, "X", {-1, -1});
    double* v = checked<double>(V, "V", {n, d}, true);
    double* p = checked<double>(P, "P", {n, d}, true);
    const auto* imp = checked<std::uint8_t>(improved, "improved", {n});
    const auto* nb = checked<std::int64_t>(nbest, "nbest", {n});
    const double *vm = checked<double>(vmax, "vmax", {d}), *l = checked<double>(lo, "lo", {d}),
                 *h = checked<double>(hi, "hi", {d});
    double* xn = checked<double>(Xnew, "Xnew", {n, d}, true);
    if (bounds != 0 && bounds != 1) throw py::value_error("bounds: expected 0 (clip) or 1 (reflect)");
    for (py::ssize_t i = 0; i < n; ++i)
      if (nb[i] < 0 || nb[i] >= n) throw py::value_error("nbest: index out of range");
    py::gil_scoped_release nogil;
    pso_update(seed, stream_r1, stream_r2, PsoCoefficients{w, c1, c2}, n, d, x, v, p, imp, nb, vm, l, h,
               static_cast<PsoBounds>(bounds), xn);
  }, py::arg("seed"), py::arg("stream_r1"), py::arg("stream_r2"), py::arg("w"), py::arg("c1"), py::arg("c2"),
     py::arg("X"), py::arg("V"), py::arg("P"), py::arg("improved"), py::arg("nbest"), py::arg("vmax"), py::arg("lo"),
     py::arg("hi"), py::arg("bounds"), py::arg("Xnew"));
  m.def("pso_spread", [](const py::array& X, py::array S) {
    const py::ssize_t n = X.ndim() == 2 ? X.shape(0) : -1, d = X.ndim() == 2 ? X.shape(1) : -1;
    const double* x = checked<double>(X, "X", {-1, -1});
    double* s = checked<double>(S, "S", {n}, true);
    if (n < 1) throw py::value_error("X: expected at least one row");
    py::gil_scoped_release nogil;
    pso_spread(n, d, x, s);
  }, py::arg("X"), py::arg("S"));
}

const bool registered = add_area(&register_pso);

}  // namespace
}  // namespace gfo::bind

#include <cstdint>
#include <string>

#include "arrays.hpp"
#include "gfo/es.hpp"
#include "registry.hpp"

namespace gfo::bind {
namespace {

// The noise source: Philox (table None) or the shared table with one offset per noise row (rows used < rows).
EsNoise noise_of(std::uint64_t seed, std::uint64_t stream, const py::object& table, const py::object& offsets,
                 py::ssize_t rows, py::ssize_t d) {
  if (table.is_none() != offsets.is_none()) throw py::value_error("table, offsets: pass both or neither");
  if (table.is_none()) return EsNoise{seed, stream, nullptr, nullptr};
  const auto t = py::cast<py::array>(table), o = py::cast<py::array>(offsets);
  require_ndim(t, "table", 1);
  require_ndim(o, "offsets", 1);
  const float* tp = data_of<float>(t, "table");
  const auto* op = data_of<std::int64_t>(o, "offsets");
  if (o.shape(0) < rows) throw py::value_error("offsets: expected one offset per noise row");
  for (py::ssize_t p = 0; p < rows; ++p)
    if (op[p] < 0 || op[p] + d > t.shape(0)) throw py::value_error("offsets: a row runs past the end of the table");
  return EsNoise{seed, stream, tp, op};
}

void register_es(py::module_& m) {
  m.def("es_perturb", [](std::uint64_t seed, std::uint64_t stream, const py::object& table, const py::object& offsets,
                         const py::array& mean, const py::array& sigma,
                         const py::object& lo, const py::object& hi, std::int64_t first, bool antithetic,
                         py::array out) {
    require_ndim(out, "out", 2);
    double* o = data_of<double>(out, "out", true);
    const auto rows = out.shape(0), d = out.shape(1);
    if (first < 0) throw py::value_error("first: expected a non-negative member index");
    const double *mp = vector_of(mean, "mean", d), *sp = vector_of(sigma, "sigma", d);
    const double *l = nullptr, *h = nullptr;
    if (!lo.is_none() || !hi.is_none()) {
      l = vector_of(py::cast<py::array>(lo), "lo", d);
      h = vector_of(py::cast<py::array>(hi), "hi", d);
    }
    const EsNoise src = noise_of(seed, stream, table, offsets, antithetic ? (first + rows + 1) / 2 : first + rows, d);
    py::gil_scoped_release nogil;
    es_perturb(src, mp, sp, l, h, first, rows, d, antithetic, o);
  }, py::arg("seed"), py::arg("stream"), py::arg("table"), py::arg("offsets"), py::arg("mean"), py::arg("sigma"), py::arg("lo"), py::arg("hi"),
     py::arg("first"), py::arg("antithetic"), py::arg("out"));

  m.def("es_grad", [](std::uint64_t seed, std::uint64_t stream, const py::object& table, const py::object& offsets,
                      const py::array& a, const py::object& b,
                      const py::array& mean, const py::array& sigma, const py::object& X, bool antithetic, double scale,
                      bool divide, py::array g1, const py::object& g2) {
    require_ndim(a, "a", 1);
    const double* ap = data_of<double>(a, "a");
    require_ndim(g1, "g1", 1);
    double* p1 = data_of<double>(g1, "g1", true);
    const auto d = g1.shape(0), rows = a.shape(0);
    if (b.is_none() != g2.is_none()) throw py::value_error("b, g2: pass both or neither");
    const double* bp = b.is_none() ? nullptr : vector_of(py::cast<py::array>(b), "b", rows);
    double* p2 = g2.is_none() ? nullptr : const_cast<double*>(vector_of(py::cast<py::array>(g2), "g2", d, true));
    const double *mp = vector_of(mean, "mean", d), *sp = vector_of(sigma, "sigma", d);
    const double* xp = nullptr;
    if (!X.is_none()) {
      const auto x = py::cast<py::array>(X);
      require_ndim(x, "X", 2);
      xp = data_of<double>(x, "X");
      if (x.shape(1) != d || x.shape(0) < (antithetic ? 2 * rows - 1 : rows))
        throw py::value_error("X: expected the (popsize, d) batch of the noise rows of a");
    }
    const EsNoise src = noise_of(seed, stream, table, offsets, rows, d);
    py::gil_scoped_release nogil;
    es_grad(src, ap, bp, rows, mp, sp, xp, antithetic ? 2 * d : d, scale, divide, d, p1, p2);
  }, py::arg("seed"), py::arg("stream"), py::arg("table"), py::arg("offsets"), py::arg("a"), py::arg("b"), py::arg("mean"), py::arg("sigma"), py::arg("X"),
     py::arg("antithetic"), py::arg("scale"), py::arg("divide"), py::arg("g1"), py::arg("g2"));
}

const bool registered = add_area(&register_es);

}  // namespace
}  // namespace gfo::bind

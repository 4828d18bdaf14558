#include <cstdint>
#include <string>

#include "arrays.hpp"
#include "gfo/gp.hpp"
#include "registry.hpp"

namespace gfo::bind {
namespace {

const double* matrix(const py::array& a, const char* name, py::ssize_t rows, py::ssize_t cols) {
  const double* p = data_of<double>(a, name);
  if (a.ndim() != 2 || (rows >= 0 && a.shape(0) != rows) || a.shape(1) != cols)
    throw py::value_error(std::string(name) + ": expected shape (" + (rows >= 0 ? std::to_string(rows) : "n") + ", " +
                          std::to_string(cols) + ")");
  return p;
}

const double* vector(const py::array& a, const char* name, py::ssize_t size) {
  const double* p = data_of<double>(a, name);
  if (a.ndim() != 1 || a.shape(0) != size)
    throw py::value_error(std::string(name) + ": expected shape (" + std::to_string(size) + ",)");
  return p;
}

double* output(py::array& a, const char* name, py::ssize_t size) {
  double* p = data_of<double>(a, name, true);
  if (a.ndim() != 1 || a.shape(0) != size)
    throw py::value_error(std::string(name) + ": expected shape (" + std::to_string(size) + ",)");
  return p;
}

// The model arrays, checked against X (n, d).
GpModel model(const py::array& X, const py::array& inv_ls, double s2, double mean, const py::array& L,
              const py::array& alpha) {
  require_ndim(X, "X", 2);
  const auto n = X.shape(0), d = X.shape(1);
  return GpModel{matrix(X, "X", n, d), n, d, vector(inv_ls, "inv_ls", d), s2, mean, matrix(L, "L", n, n),
                 vector(alpha, "alpha", n)};
}

void register_gp(py::module_& m) {
  m.def("gp_matern52", [](const py::array& X1, const py::array& X2, const py::array& inv_ls, double s2, py::array out) {
    require_ndim(X1, "X1", 2);
    const auto n1 = X1.shape(0), d = X1.shape(1);
    const double *x1 = matrix(X1, "X1", n1, d), *x2 = matrix(X2, "X2", -1, d), *il = vector(inv_ls, "inv_ls", d);
    const auto n2 = X2.shape(0);
    double* o = data_of<double>(out, "out", true);
    if (out.ndim() != 2 || out.shape(0) != n1 || out.shape(1) != n2)
      throw py::value_error("out: expected shape (len(X1), len(X2))");
    py::gil_scoped_release nogil;
    gp_matern52(x1, n1, x2, n2, d, il, s2, o);
  }, py::arg("X1"), py::arg("X2"), py::arg("inv_ls"), py::arg("s2"), py::arg("out"));

  m.def("gp_matern52_grad_log_ls", [](const py::array& X, const py::array& inv_ls, double s2, const py::array& alpha,
                                      const py::array& Kinv, py::array out) {
    require_ndim(X, "X", 2);
    const auto n = X.shape(0), d = X.shape(1);
    const double *x = matrix(X, "X", n, d), *il = vector(inv_ls, "inv_ls", d), *a = vector(alpha, "alpha", n),
                 *ki = matrix(Kinv, "Kinv", n, n);
    double* o = output(out, "out", d);
    py::gil_scoped_release nogil;
    gp_matern52_grad_log_ls(x, n, d, il, s2, a, ki, o);
  }, py::arg("X"), py::arg("inv_ls"), py::arg("s2"), py::arg("alpha"), py::arg("Kinv"), py::arg("out"));

  m.def("gp_posterior", [](const py::array& X, const py::array& inv_ls, double s2, double mean, const py::array& L,
                           const py::array& alpha, const py::array& Xc, py::array mu, py::array var) {
    const GpModel gp = model(X, inv_ls, s2, mean, L, alpha);
    const double* xc = matrix(Xc, "Xc", -1, gp.d);
    const auto mc = Xc.shape(0);
    double *pm = output(mu, "mu", mc), *pv = output(var, "var", mc);
    py::gil_scoped_release nogil;
    gp_posterior(gp, xc, mc, pm, pv);
  }, py::arg("X"), py::arg("inv_ls"), py::arg("s2"), py::arg("mean"), py::arg("L"), py::arg("alpha"), py::arg("Xc"),
     py::arg("mu"), py::arg("var"));

  m.def("gp_acquisition", [](const py::array& X, const py::array& inv_ls, double s2, double mean, const py::array& L,
                             const py::array& alpha, const py::array& Xc, int kind, double best, double param,
                             py::array out) {
    const GpModel gp = model(X, inv_ls, s2, mean, L, alpha);
    if (kind < 0 || kind > 3) throw py::value_error("kind: expected 0 (log_ei), 1 (ei), 2 (ucb) or 3 (log_pi)");
    const double* xc = matrix(Xc, "Xc", -1, gp.d);
    const auto mc = Xc.shape(0);
    double* o = output(out, "out", mc);
    py::gil_scoped_release nogil;
    gp_acquisition(gp, xc, mc, static_cast<Acquisition>(kind), best, param, o);
  }, py::arg("X"), py::arg("inv_ls"), py::arg("s2"), py::arg("mean"), py::arg("L"), py::arg("alpha"), py::arg("Xc"),
     py::arg("kind"), py::arg("best"), py::arg("param"), py::arg("out"));

  m.def("gp_log_h", [](const py::array& z, py::array out) {
    const double* pz = data_of<double>(z, "z");
    if (z.ndim() != 1) throw py::value_error("z: expected a 1-D array");
    double* o = output(out, "out", z.shape(0));
    const auto n = z.shape(0);
    py::gil_scoped_release nogil;
    for (py::ssize_t i = 0; i < n; ++i) o[i] = gp_log_h(pz[i]);
  }, py::arg("z"), py::arg("out"));
}

const bool registered = add_area(&register_gp);

}  // namespace
}  // namespace gfo::bind

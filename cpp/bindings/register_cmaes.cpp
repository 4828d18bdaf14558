#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "gfo/cmaes.hpp"
#include "registry.hpp"

namespace gfo::bind {
namespace {

double* mat(const py::array& a, const char* name, py::ssize_t r, py::ssize_t c, bool writeable = false) {
  double* p = data_of<double>(a, name, writeable);
  if (a.ndim() != 2 || a.shape(0) != r || a.shape(1) != c)
    throw py::value_error(std::string(name) + ": expected shape (" + std::to_string(r) + ", " + std::to_string(c) + ")");
  return p;
}

// params = (c_sigma, d_sigma, c_c, c1, cmu, c_m, mueff, chi_n)
CmaParams params_of(const py::array& params, std::int64_t mu, std::int64_t generation, std::int64_t lam) {
  const double* q = vector_of(params, "params", 8);
  if (mu < 1 || mu > lam) throw py::value_error("mu: expected 1 <= mu <= popsize");
  return CmaParams{q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], mu, generation};
}

py::tuple step_tuple(const CmaStep& s) { return py::make_tuple(s.sigma, s.h_sigma, s.ps_norm); }

void register_cmaes(py::module_& m) {
  m.def("cmaes_sample", [](std::uint64_t seed, std::uint64_t stream, const py::array& mean, double sigma,
                           const py::array& B, const py::array& D, py::array X, py::array Z) {
    require_ndim(X, "X", 2);
    double* x = data_of<double>(X, "X", true);
    const auto lam = X.shape(0), n = X.shape(1);
    double* z = mat(Z, "Z", lam, n, true);
    const double *mp = vector_of(mean, "mean", n), *bp = mat(B, "B", n, n), *dp = vector_of(D, "D", n);
    std::unique_ptr<double[]> work(new double[lam * n]);
    py::gil_scoped_release nogil;
    cma_sample(seed, stream, mp, sigma, bp, dp, lam, n, x, z, work.get());
  }, py::arg("seed"), py::arg("stream"), py::arg("mean"), py::arg("sigma"), py::arg("B"), py::arg("D"), py::arg("X"),
     py::arg("Z"));

  m.def("cmaes_tell", [](const py::array& X, const py::array& Z, const py::array& f, const py::array& weights, std::int64_t mu,
                         const py::array& params, std::int64_t generation, py::array mean, double sigma, py::array C,
                         const py::array& B, const py::array& D, py::array p_sigma, py::array p_c) {
    require_ndim(X, "X", 2);
    const double* x = data_of<double>(X, "X");
    const auto lam = X.shape(0), n = X.shape(1);
    const double* z = mat(Z, "Z", lam, n);
    const double *fp = vector_of(f, "f", lam), *wp = vector_of(weights, "weights", lam), *bp = mat(B, "B", n, n),
                 *dp = vector_of(D, "D", n);
    double *mp = vector_of(mean, "mean", n, true), *cp = mat(C, "C", n, n, true), *ps = vector_of(p_sigma, "p_sigma", n, true),
           *pc = vector_of(p_c, "p_c", n, true);
    const CmaParams p = params_of(params, mu, generation, lam);
    std::unique_ptr<double[]> work(new double[(lam + 3) * n]);
    std::vector<std::int64_t> order(lam);
    CmaStep s;
    CmaStats t;
    {
      py::gil_scoped_release nogil;
      s = cma_tell(x, z, fp, lam, n, wp, p, mp, sigma, cp, bp, dp, ps, pc, work.get(), order.data(), &t);
    }
    return py::make_tuple(s.sigma, s.h_sigma, s.ps_norm, t.f_min, t.f_median, t.f_max, t.pc_absmax, t.cdiag_min,
                          t.cdiag_max, t.mean_absmax);
  }, py::arg("X"), py::arg("Z"), py::arg("f"), py::arg("weights"), py::arg("mu"), py::arg("params"), py::arg("generation"),
     py::arg("mean"), py::arg("sigma"), py::arg("C"), py::arg("B"), py::arg("D"), py::arg("p_sigma"), py::arg("p_c"));

  m.def("cmaes_sep_sample", [](std::uint64_t seed, std::uint64_t stream, const py::array& mean, double sigma,
                               const py::array& D, py::array X) {
    require_ndim(X, "X", 2);
    double* x = data_of<double>(X, "X", true);
    const auto lam = X.shape(0), n = X.shape(1);
    const double *mp = vector_of(mean, "mean", n), *dp = vector_of(D, "D", n);
    py::gil_scoped_release nogil;
    sep_sample(seed, stream, mp, sigma, dp, lam, n, x);
  }, py::arg("seed"), py::arg("stream"), py::arg("mean"), py::arg("sigma"), py::arg("D"), py::arg("X"));

  m.def("cmaes_sep_tell", [](const py::array& X, const py::array& f, const py::array& weights, std::int64_t mu,
                             const py::array& params, std::int64_t generation, py::array mean, double sigma,
                             py::array c, py::array D, py::array p_sigma, py::array p_c) {
    require_ndim(X, "X", 2);
    const double* x = data_of<double>(X, "X");
    const auto lam = X.shape(0), n = X.shape(1);
    const double *fp = vector_of(f, "f", lam), *wp = vector_of(weights, "weights", lam);
    double *mp = vector_of(mean, "mean", n, true), *cp = vector_of(c, "c", n, true), *dp = vector_of(D, "D", n, true),
           *ps = vector_of(p_sigma, "p_sigma", n, true), *pc = vector_of(p_c, "p_c", n, true);
    const CmaParams p = params_of(params, mu, generation, lam);
    std::unique_ptr<double[]> work(new double[2 * n]);
    std::vector<std::int64_t> order(lam);
    CmaStep s;
    {
      py::gil_scoped_release nogil;
      s = sep_tell(x, fp, lam, n, wp, p, mp, sigma, cp, dp, ps, pc, work.get(), order.data());
    }
    return step_tuple(s);
  }, py::arg("X"), py::arg("f"), py::arg("weights"), py::arg("mu"), py::arg("params"), py::arg("generation"),
     py::arg("mean"), py::arg("sigma"), py::arg("c"), py::arg("D"), py::arg("p_sigma"), py::arg("p_c"));
}

const bool registered = add_area(&register_cmaes);

}  // namespace
}  // namespace gfo::bind

#include "arrays.hpp"
#include "gfo/functions.hpp"
#include "registry.hpp"

namespace gfo::bind {
namespace {

template <class T>
void run(Objective f, const py::array& X, py::array& out) {
  const T* x = data_of<T>(X, "X");
  T* o = data_of<T>(out, "out", true);
  const auto n = X.shape(0), d = X.shape(1);
  if (out.ndim() != 1 || out.shape(0) != n) throw py::value_error("out: expected shape (n,) matching X");
  py::gil_scoped_release nogil;
  evaluate_objective<T>(f, x, n, d, o);
}

void register_functions(py::module_& m) {
  py::enum_<Objective>(m, "Objective")
      .value("sphere", Objective::sphere)
      .value("ellipsoid", Objective::ellipsoid)
      .value("rastrigin", Objective::rastrigin)
      .value("rosenbrock", Objective::rosenbrock)
      .value("ackley", Objective::ackley)
      .value("griewank", Objective::griewank)
      .value("schwefel", Objective::schwefel)
      .value("levy", Objective::levy)
      .value("styblinski_tang", Objective::styblinski_tang);
  m.def("evaluate_objective", [](Objective f, const py::array& X, py::array out) {
    require_ndim(X, "X", 2);
    if (is_float32(X)) run<float>(f, X, out);
    else run<double>(f, X, out);
  }, py::arg("objective"), py::arg("X"), py::arg("out"));
}

const bool registered = add_area(&register_functions);

}  // namespace
}  // namespace gfo::bind

// Bindings of the fused optimizer steps. Python hands one uint64 table per call (one row per tensor: raw
// addresses from NumPy arrays or torch data_ptr(), flags, sizes; layout in gfo/optim.hpp), already validated
// there, or cached with a row guard (`gate`) that revalidates it during the step; here we check the table
// itself and release the GIL. The steps return the number of rows updated.
#include <cstdint>
#include <string>

#include "arrays.hpp"
#include "gfo/bits.hpp"
#include "gfo/optim.hpp"
#include "registry.hpp"
#include "row_gate.hpp"

namespace gfo::bind {
namespace {

using optim::Table;

Table table_of(const py::array& rows) {
  if (!rows.dtype().is(py::dtype::of<std::uint64_t>()))
    throw py::type_error("table: expected a uint64 array, got dtype " + std::string(py::str(rows.dtype())));
  if (rows.ndim() != 2 || rows.shape(1) != optim::kColumns)
    throw py::value_error("table: expected shape (n, " + std::to_string(optim::kColumns) + ")");
  if (!(rows.flags() & py::array::c_style)) throw py::value_error("table: expected a C-contiguous array");
  return Table{static_cast<const std::uint64_t*>(rows.data()), static_cast<std::int64_t>(rows.shape(0))};
}

// Runs step(gate) without the GIL; with a row guard (`gate` not None), the guard validates the table while
// the step runs and the step returns how many leading rows it updated (all of them without a guard).
template <class Step>
std::int64_t run_step(const py::object& gate, Step&& step) {
  if (gate.is_none()) {
    py::gil_scoped_release nogil;
    return step(nullptr);
  }
  GatedRun run(torch_row_gate(gate));
  return step(&run);
}

// dtype code: 0 float32, 1 float64, 2 bfloat16, 3 float16 (as in _torch_ptr.DTYPE_CODES); bf16/fp16 storage runs
// float32 math, each stored value rounded once.
template <class F>
auto by_dtype(int dtype, F&& f) {
  if (dtype == 0) return f(float{});
  if (dtype == 1) return f(double{});
  if (dtype == 2) return f(Bfloat16{});
  if (dtype == 3) return f(Float16{});
  throw py::value_error("dtype: expected 0 (float32), 1 (float64), 2 (bfloat16) or 3 (float16), got " +
                        std::to_string(dtype));
}

void register_optim(py::module_& m) {
  m.def("optim_sgd", [](const py::array& rows, int dtype, double lr, double momentum, double dampening,
                        double weight_decay, bool nesterov, bool maximize, const py::object& gate) {
    const Table t = table_of(rows);
    const optim::SGDOptions o{lr, momentum, dampening, weight_decay, nesterov, maximize};
    return by_dtype(dtype, [&](auto x) {
      return run_step(gate, [&](RowGate* g) { return optim::sgd_step<decltype(x)>(t, o, g); });
    });
  }, py::arg("table"), py::arg("dtype"), py::arg("lr"), py::arg("momentum"), py::arg("dampening"),
     py::arg("weight_decay"), py::arg("nesterov"), py::arg("maximize"), py::arg("gate") = py::none());

  m.def("optim_adagrad", [](const py::array& rows, int dtype, double lr, double lr_decay, double weight_decay,
                            double eps, bool maximize, const py::object& gate) {
    const Table t = table_of(rows);
    const optim::AdagradOptions o{lr, lr_decay, weight_decay, eps, maximize};
    return by_dtype(dtype, [&](auto x) {
      return run_step(gate, [&](RowGate* g) { return optim::adagrad_step<decltype(x)>(t, o, g); });
    });
  }, py::arg("table"), py::arg("dtype"), py::arg("lr"), py::arg("lr_decay"), py::arg("weight_decay"),
     py::arg("eps"), py::arg("maximize"), py::arg("gate") = py::none());

  m.def("optim_rmsprop", [](const py::array& rows, int dtype, double lr, double alpha, double eps,
                            double weight_decay, double momentum, bool centered, bool maximize,
                            const py::object& gate) {
    const Table t = table_of(rows);
    const optim::RMSpropOptions o{lr, alpha, eps, weight_decay, momentum, centered, maximize};
    return by_dtype(dtype, [&](auto x) {
      return run_step(gate, [&](RowGate* g) { return optim::rmsprop_step<decltype(x)>(t, o, g); });
    });
  }, py::arg("table"), py::arg("dtype"), py::arg("lr"), py::arg("alpha"), py::arg("eps"), py::arg("weight_decay"),
     py::arg("momentum"), py::arg("centered"), py::arg("maximize"), py::arg("gate") = py::none());

  m.def("optim_adam", [](const py::array& rows, int dtype, double lr, double beta1, double beta2, double eps,
                         double weight_decay, bool decoupled_weight_decay, bool amsgrad, bool maximize,
                         const py::object& gate) {
    const Table t = table_of(rows);
    const optim::AdamOptions o{lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay, amsgrad, maximize};
    return by_dtype(dtype, [&](auto x) {
      return run_step(gate, [&](RowGate* g) { return optim::adam_step<decltype(x)>(t, o, g); });
    });
  }, py::arg("table"), py::arg("dtype"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"),
     py::arg("weight_decay"), py::arg("decoupled_weight_decay"), py::arg("amsgrad"), py::arg("maximize"),
     py::arg("gate") = py::none());

  m.def("optim_grad_norm", [](const py::array& rows, int dtype) {
    const Table t = table_of(rows);
    py::gil_scoped_release nogil;
    return by_dtype(dtype, [&](auto x) { return optim::grad_norm<decltype(x)>(t); });
  }, py::arg("table"), py::arg("dtype"));

  m.def("optim_scale_grads", [](const py::array& rows, int dtype, double coef) {
    const Table t = table_of(rows);
    py::gil_scoped_release nogil;
    by_dtype(dtype, [&](auto x) { optim::scale_grads<decltype(x)>(t, coef); });
  }, py::arg("table"), py::arg("dtype"), py::arg("coef"));

  m.def("optim_clamp_grads", [](const py::array& rows, int dtype, double clip) {
    const Table t = table_of(rows);
    py::gil_scoped_release nogil;
    by_dtype(dtype, [&](auto x) { optim::clamp_grads<decltype(x)>(t, clip); });
  }, py::arg("table"), py::arg("dtype"), py::arg("clip"));
}

const bool registered = add_area(&register_optim);

}  // namespace
}  // namespace gfo::bind

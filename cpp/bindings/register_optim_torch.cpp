// Per-step revalidation of the cached pointer tables of gfo_native.torch's fused optimizers, through the
// Python C API (the extension never links libtorch: tensors are only touched through their Python methods).
//
// A group of 2,000 small parameters costs ~1.5 ms of kernel per step; re-reading 2,000 .grad attributes and
// data pointers from Python would add most of a millisecond. TorchRowGuard keeps, per parameter, the .grad
// object it saw last (a strong reference, so its id cannot be reused), the parameter's and the gradient's
// data addresses, and where the gradient address lives in the row table. A walk goes over the parameters once:
//   - same .grad object: its address and the parameter's address must be unchanged, and so must the parameter's
//     layout (contiguous, or its strides: p.data = p.data.t() on a square matrix keeps its address);
//   - a new .grad tensor (zero_grad(set_to_none=True) makes one every step): it must have the parameter's
//     dtype, its memory layout (contiguous, or for a dense non-contiguous parameter such as a channels_last
//     weight the parameter's strides: gfo_native.torch._dense) and the row's element count (a parameter
//     shrunk in place, p.data = p.data[:k], keeps its address; its new gradients are smaller than the row);
//     its address is written into the table;
//   - anything else (a .grad that became None or appeared, a moved parameter, a sparse gradient, an error
//     from a tensor method): the walk stops there and Python rebuilds the table, raising its clear errors.
// check() walks before the step (layouts with several tables). A layout with one table is walked during the
// step instead: the guard is the step's RowGate (gfo/tensor_list.hpp), so the other threads update the rows
// already walked while this thread walks on (the walk costs ~0.3-0.5 us per parameter, about half of a
// 1,000-element Adam update on one thread); a walk that stops early leaves the rows after it untouched.
#include <Python.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "gfo/optim.hpp"
#include "registry.hpp"
#include "row_gate.hpp"

namespace gfo::bind {
namespace {

// Owned reference to a Python object (nullptr for "none seen").
class Ref {
 public:
  Ref() = default;
  explicit Ref(PyObject* o) : o_(o) { Py_XINCREF(o_); }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  Ref(Ref&& r) noexcept : o_(r.o_) { r.o_ = nullptr; }
  Ref& operator=(Ref&& r) noexcept {
    if (this != &r) {
      Py_XDECREF(o_);
      o_ = r.o_;
      r.o_ = nullptr;
    }
    return *this;
  }
  ~Ref() { Py_XDECREF(o_); }
  PyObject* get() const { return o_; }
  void reset(PyObject* o) {  // borrowed o
    Py_XINCREF(o);
    Py_XDECREF(o_);
    o_ = o;
  }

 private:
  PyObject* o_ = nullptr;
};

// fn(t) for a torch method returning an int (data_ptr, numel): false on any error (left set for the caller).
bool call_u64(PyObject* fn, PyObject* t, std::uint64_t& out) {
  PyObject* args[1] = {t};
  PyObject* r = PyObject_Vectorcall(fn, args, 1, nullptr);
  if (r == nullptr) return false;
  const unsigned long long v = PyLong_AsUnsignedLongLong(r);
  Py_DECREF(r);
  out = static_cast<std::uint64_t>(v);
  return !(v == static_cast<unsigned long long>(-1) && PyErr_Occurred());
}

struct Entry {
  Ref param;                      // the parameter (identity: its state belongs to this object)
  Ref grad;                       // the .grad object seen last (nullptr: the parameter had no gradient)
  PyObject* dtype = nullptr;      // the parameter's dtype object (owned through dtypes_)
  std::uint64_t param_ptr = 0;
  std::uint64_t grad_ptr = 0;
  std::uint64_t* grad_cell = nullptr;  // table cell holding the gradient address (rows with a gradient)
  Ref layout;  // a non-contiguous parameter's layout (its gradients must have the same); nullptr: contiguous
  bool contiguous = false;  // the parameter was contiguous when the row was built
};

class TorchRowGuard final : public RowGate {
 public:
  // params: the group's list; grads: the .grad objects the tables were built from (None or tensors);
  // cells: per parameter None or (table, row) where its row lives; data_ptr / is_contiguous / numel: the
  // unbound torch.Tensor methods (called with one positional argument); layout: a function of one tensor whose
  // results compare equal for tensors that index their memory alike (torch.Tensor.stride; called for
  // non-contiguous parameters and their new gradients only).
  TorchRowGuard(const py::list& params, const py::list& grads, const py::list& cells, py::object data_ptr,
                py::object is_contiguous, py::object numel, py::object layout)
      : params_(params), data_ptr_(std::move(data_ptr)), is_contiguous_(std::move(is_contiguous)),
        numel_(std::move(numel)), layout_(std::move(layout)) {
    const std::size_t n = params.size();
    if (grads.size() != n || cells.size() != n) throw py::value_error("grads, cells: one entry per parameter");
    entries_.resize(n);
    dtypes_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      Entry& e = entries_[i];
      py::handle p = params[i];
      e.param.reset(p.ptr());
      dtypes_.push_back(p.attr("dtype"));
      e.dtype = dtypes_.back().ptr();
      e.param_ptr = call_ptr(p.ptr());
      if (e.param_ptr == kFailed) throw py::error_already_set();
      py::handle g = grads[i];
      if (g.is_none()) continue;
      e.grad.reset(g.ptr());
      e.grad_ptr = call_ptr(g.ptr());
      if (e.grad_ptr == kFailed) throw py::error_already_set();
      py::handle cell = cells[i];
      if (cell.is_none()) throw py::value_error("cells: a parameter with a gradient needs its (table, row)");
      auto tr = cell.cast<py::tuple>();
      auto table = tr[0].cast<py::array>();
      const auto row = tr[1].cast<std::int64_t>();
      if (!table.dtype().is(py::dtype::of<std::uint64_t>()) || table.ndim() != 2 ||
          table.shape(1) != optim::kColumns || !(table.flags() & py::array::c_style) || !table.writeable() ||
          row < 0 || row >= table.shape(0))
        throw py::value_error("cells: expected (C-contiguous writable uint64 table of shape (n, 8), row in range)");
      e.grad_cell = static_cast<std::uint64_t*>(table.mutable_data()) + row * optim::kColumns + optim::kGrad;
      // without a layout function a non-contiguous parameter's new gradients send the step to the rebuild
      e.contiguous = is_contiguous_(p).cast<bool>();
      if (!layout_.is_none() && !e.contiguous) e.layout.reset(layout_(p).ptr());
      tables_.push_back(std::move(table));  // kept alive with the cells pointing into it
    }
  }

  // True when the tables are valid for `params` now (gradient addresses refreshed in place).
  bool check(const py::handle& params) {
    if (params.ptr() != params_.ptr()) return false;
    std::atomic<std::int64_t> ready{0};
    walk(ready);
    return ok_;
  }

  // RowGate for a step over the one table of a layout (rows: the parameters with a gradient, in order).
  std::int64_t validate(std::atomic<std::int64_t>& ready) noexcept override { return walk(ready); }

  // Whether the last walk found the whole layout valid (a walk can pass every row and still find a
  // parameter that gained a gradient after the last row: the layout must then be rebuilt).
  bool ok() const { return ok_; }

 private:
  // Walks the parameters of the list the guard was built for; publishes in `ready` the number of leading
  // rows found valid (their gradient addresses refreshed in the table) and returns it; ok_ tells whether
  // all of the layout was.
  std::int64_t walk(std::atomic<std::int64_t>& ready) noexcept {
    ok_ = false;
    PyObject* const list = params_.ptr();
    if (!PyList_Check(list) || static_cast<std::size_t>(PyList_GET_SIZE(list)) != entries_.size()) return 0;
    static PyObject* const grad_name = PyUnicode_InternFromString("grad");
    const std::size_t n = entries_.size();
    std::int64_t rows = 0;
    for (std::size_t i = 0; i < n; ++i) {
      // After a step's streaming the tensors' Python objects are out of cache and the walk is a chain of
      // misses per parameter; fetching the objects a few parameters ahead hides the first ones.
#if defined(__GNUC__)
      if (i + kAhead < n) {
        __builtin_prefetch(PyList_GET_ITEM(list, static_cast<Py_ssize_t>(i + kAhead)));
        __builtin_prefetch(entries_[i + kAhead].grad.get());
      }
#endif
      Entry& e = entries_[i];
      PyObject* p = PyList_GET_ITEM(list, static_cast<Py_ssize_t>(i));  // borrowed
      if (p != e.param.get()) return rows;  // the list was edited in place
      PyObject* g = PyObject_GetAttr(p, grad_name);  // new reference
      if (g == nullptr) return fail(rows);
      const bool none = g == Py_None;
      if (none || e.grad.get() == nullptr) {
        Py_DECREF(g);
        if (none != (e.grad.get() == nullptr)) return rows;  // a gradient appeared or vanished: new rows
        continue;                                            // no row for this parameter
      }
      if (g == e.grad.get()) {
        Py_DECREF(g);
        if (call_ptr(g) != e.grad_ptr) return fail(rows);  // still referenced by e.grad, so g is alive
        if (!same_param_layout(e, p)) return fail(rows);
      } else {
        const bool fresh_ok = fresh_grad(e, g);
        Py_DECREF(g);
        if (!fresh_ok) return fail(rows);
      }
      if (call_ptr(p) != e.param_ptr) return fail(rows);
      ready.store(++rows, std::memory_order_release);
    }
    ok_ = true;
    return rows;
  }

  static constexpr std::uint64_t kFailed = ~std::uint64_t{0};
  static constexpr std::size_t kAhead = 8;

  // data_ptr() of a tensor, kFailed on any error (left set; fail() clears it).
  std::uint64_t call_ptr(PyObject* t) const {
    std::uint64_t v = 0;
    return call_u64(data_ptr_.ptr(), t, v) ? v : kFailed;
  }

  // A new .grad tensor for a parameter that had one: same dtype as the parameter (torch enforces it on
  // assignment, checked anyway), contiguous (is_contiguous raises for sparse layouts) or, for a
  // non-contiguous parameter, the parameter's strides (autograd gives such a gradient exactly those), as
  // many elements as the row (torch checks the gradient against the parameter's shape, and the parameter's
  // own count can change behind an unchanged address), then its address.
  bool fresh_grad(Entry& e, PyObject* g) {
    static PyObject* const dtype_name = PyUnicode_InternFromString("dtype");
    PyObject* dt = PyObject_GetAttr(g, dtype_name);
    if (dt == nullptr) return false;
    const bool same_dtype = dt == e.dtype;
    Py_DECREF(dt);
    if (!same_dtype) return false;
    PyObject* args[1] = {g};
    if (e.layout.get() == nullptr) {
      PyObject* c = PyObject_Vectorcall(is_contiguous_.ptr(), args, 1, nullptr);
      if (c == nullptr) return false;
      const bool contiguous = c == Py_True;
      Py_DECREF(c);
      if (!contiguous) return false;
    } else {
      PyObject* key = PyObject_Vectorcall(layout_.ptr(), args, 1, nullptr);
      if (key == nullptr) return false;
      const int same = PyObject_RichCompareBool(key, e.layout.get(), Py_EQ);
      Py_DECREF(key);
      if (same != 1) return false;  // -1 (an error) is cleared by fail()
    }
    std::uint64_t count = 0;
    if (!call_u64(numel_.ptr(), g, count) || count != e.grad_cell[optim::kNumel - optim::kGrad]) return false;
    const std::uint64_t ptr = call_ptr(g);
    if (ptr == kFailed) return false;
    *e.grad_cell = ptr;
    e.grad_ptr = ptr;
    e.grad.reset(g);
    return true;
  }

  // Whether the parameter still indexes its memory as when its row was built. Checked where the gradient object
  // was kept (zero_grad(set_to_none=False)): p.data = p.data.t() on a square matrix keeps the address but not the
  // strides, and the kept gradient its old ones, so the flat pass would pair elements wrongly. (A fresh gradient
  // has the parameter's new strides and fails the layout comparison of fresh_grad instead.)
  bool same_param_layout(const Entry& e, PyObject* p) const {
    PyObject* args[1] = {p};
    if (e.layout.get() != nullptr) {
      PyObject* key = PyObject_Vectorcall(layout_.ptr(), args, 1, nullptr);
      if (key == nullptr) return false;
      const int same = PyObject_RichCompareBool(key, e.layout.get(), Py_EQ);
      Py_DECREF(key);
      return same == 1;  // -1 (an error) is cleared by fail()
    }
    if (!e.contiguous) return true;  // no layout function given: such rows are rebuilt on each fresh gradient
    PyObject* c = PyObject_Vectorcall(is_contiguous_.ptr(), args, 1, nullptr);
    if (c == nullptr) return false;
    const bool contiguous = c == Py_True;
    Py_DECREF(c);
    return contiguous;
  }

  static std::int64_t fail(std::int64_t rows) {
    PyErr_Clear();  // the rebuild in Python reports the problem with a clear message
    return rows;
  }

  py::object params_;
  py::object data_ptr_, is_contiguous_, numel_, layout_;
  std::vector<py::object> dtypes_;
  std::vector<py::array> tables_;
  std::vector<Entry> entries_;
  bool ok_ = false;
};

// The gradient table of gradient clipping (columns kGrad and kNumel) for a list of parameters, read in one
// pass: parameters without .grad are skipped; every gradient must be contiguous and of one dtype listed in
// `codes` ({dtype object: code}). Returns (table, code), or None when there is no gradient or anything else
// is met (mixed dtypes, sparse or non-contiguous gradients, errors): the Python path then handles the case
// and raises its clear errors.
py::object grad_rows(const py::list& params, const py::dict& codes, const py::object& data_ptr,
                     const py::object& is_contiguous, const py::object& numel) {
  static PyObject* const grad_name = PyUnicode_InternFromString("grad");
  static PyObject* const dtype_name = PyUnicode_InternFromString("dtype");
  std::vector<std::uint64_t> rows;
  PyObject* dtype = nullptr;  // borrowed from the first gradient (kept alive by it)
  long code = -1;
  const Py_ssize_t n = PyList_GET_SIZE(params.ptr());
  std::vector<py::object> held;  // the gradients stay alive until the table is built
  held.reserve(static_cast<std::size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* g = PyObject_GetAttr(PyList_GET_ITEM(params.ptr(), i), grad_name);
    if (g == nullptr) {
      PyErr_Clear();
      return py::none();
    }
    held.push_back(py::reinterpret_steal<py::object>(g));
    if (g == Py_None) continue;
    PyObject* dt = PyObject_GetAttr(g, dtype_name);
    if (dt == nullptr) {
      PyErr_Clear();
      return py::none();
    }
    Py_DECREF(dt);  // dtype objects are interned by torch: the gradient keeps it alive
    if (dtype == nullptr) {
      PyObject* c = PyDict_GetItemWithError(codes.ptr(), dt);
      if (c == nullptr) {
        PyErr_Clear();
        return py::none();
      }
      dtype = dt;
      code = PyLong_AsLong(c);
    } else if (dt != dtype) {
      return py::none();
    }
    PyObject* args[1] = {g};
    PyObject* contiguous = PyObject_Vectorcall(is_contiguous.ptr(), args, 1, nullptr);
    if (contiguous == nullptr) {
      PyErr_Clear();
      return py::none();
    }
    Py_DECREF(contiguous);
    std::uint64_t ptr = 0, count = 0;
    if (contiguous != Py_True || !call_u64(data_ptr.ptr(), g, ptr) || !call_u64(numel.ptr(), g, count)) {
      PyErr_Clear();
      return py::none();
    }
    rows.push_back(ptr);
    rows.push_back(count);
  }
  if (dtype == nullptr) return py::none();
  const auto nrows = static_cast<py::ssize_t>(rows.size() / 2);
  py::array_t<std::uint64_t> table({nrows, static_cast<py::ssize_t>(optim::kColumns)});
  std::uint64_t* t = table.mutable_data();
  std::fill(t, t + nrows * optim::kColumns, std::uint64_t{0});
  for (py::ssize_t r = 0; r < nrows; ++r) {
    t[r * optim::kColumns + optim::kGrad] = rows[2 * r];
    t[r * optim::kColumns + optim::kNumel] = rows[2 * r + 1];
  }
  return py::make_tuple(table, code);
}

void register_optim_torch(py::module_& m) {
  py::class_<TorchRowGuard>(m, "TorchRowGuard")
      .def(py::init<const py::list&, const py::list&, const py::list&, py::object, py::object, py::object,
                    py::object>(),
           py::arg("params"), py::arg("grads"), py::arg("cells"), py::arg("data_ptr"), py::arg("is_contiguous"),
           py::arg("numel"), py::arg("layout") = py::none())
      .def("check", &TorchRowGuard::check, py::arg("params"))
      .def_property_readonly("ok", &TorchRowGuard::ok);
  m.def("torch_grad_rows", &grad_rows, py::arg("params"), py::arg("codes"), py::arg("data_ptr"),
        py::arg("is_contiguous"), py::arg("numel"));
}

const bool registered = add_area(&register_optim_torch);

}  // namespace

RowGate& torch_row_gate(const py::handle& guard) {
  if (!py::isinstance<TorchRowGuard>(guard)) throw py::type_error("gate: expected a TorchRowGuard or None");
  return py::cast<TorchRowGuard&>(guard);
}
}  // namespace gfo::bind

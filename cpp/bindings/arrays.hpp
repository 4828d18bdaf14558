// Checks that turn NumPy arrays (and raw pointers validated in Python) into plain pointers, never copying.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

namespace gfo::bind {

namespace py = pybind11;

template <class T>
inline const char* dtype_name() {
  return sizeof(T) == 4 ? "float32" : "float64";
}

// A C-contiguous array of dtype T; `writeable` for outputs. Errors name the argument.
template <class T>
inline T* data_of(const py::array& a, const char* name, bool writeable = false) {
  // dtype equivalence, not identity: an unpickled array carries an equal but distinct dtype object
  if (!py::isinstance<py::array_t<T>>(a)) {
    throw py::type_error(std::string(name) + ": expected a " + dtype_name<T>() + " array, got dtype " +
                         std::string(py::str(a.dtype())));
  }
  if (!(a.flags() & py::array::c_style)) {
    throw py::value_error(std::string(name) + ": expected a C-contiguous array (use np.ascontiguousarray)");
  }
  if (writeable && !a.writeable()) throw py::value_error(std::string(name) + ": array is read-only");
  return static_cast<T*>(const_cast<void*>(a.data()));
}

inline void require_ndim(const py::array& a, const char* name, py::ssize_t ndim) {
  if (a.ndim() != ndim) {
    throw py::value_error(std::string(name) + ": expected a " + std::to_string(ndim) + "-D array, got " +
                          std::to_string(a.ndim()) + "-D");
  }
}

// A float64 vector of length n (e.g. a per-coordinate parameter of an (m, n) batch); errors name the argument.
inline double* vector_of(const py::array& a, const char* name, py::ssize_t n, bool writeable = false) {
  double* p = data_of<double>(a, name, writeable);
  if (a.ndim() != 1 || a.shape(0) != n)
    throw py::value_error(std::string(name) + ": expected shape (" + std::to_string(n) + ",)");
  return p;
}

inline bool is_float32(const py::array& a) { return a.dtype().equal(py::dtype::of<float>()); }

// Converts a raw address handed from Python (e.g. tensor.data_ptr()) into a typed pointer.
template <class T>
inline T* from_address(std::uintptr_t address) {
  return reinterpret_cast<T*>(address);
}

}  // namespace gfo::bind

// Argument checks shared by the population-optimizer bindings (PSO, GA, DE, SA): exact dtype, C order
// and shape, errors naming the argument. Never copies.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

namespace gfo::bind {

namespace py = pybind11;

// A C-contiguous array of dtype T with the given shape (-1: any extent).
template <class T>
inline T* checked(const py::array& a, const char* name, std::initializer_list<py::ssize_t> shape,
                  bool writeable = false) {
  if (!py::isinstance<py::array_t<T>>(a)) {  // dtype equivalence (an unpickled dtype is another object)
    throw py::type_error(std::string(name) + ": expected dtype " + std::string(py::str(py::dtype::of<T>())) +
                         ", got " + std::string(py::str(a.dtype())));
  }
  if (!(a.flags() & py::array::c_style)) throw py::value_error(std::string(name) + ": expected a C-contiguous array");
  if (a.ndim() != static_cast<py::ssize_t>(shape.size())) {
    throw py::value_error(std::string(name) + ": expected " + std::to_string(shape.size()) + " dimensions, got " +
                          std::to_string(a.ndim()));
  }
  py::ssize_t k = 0;
  for (py::ssize_t s : shape) {
    if (s >= 0 && a.shape(k) != s) {
      throw py::value_error(std::string(name) + ": axis " + std::to_string(k) + " has extent " +
                            std::to_string(a.shape(k)) + ", expected " + std::to_string(s));
    }
    ++k;
  }
  if (writeable && !a.writeable()) throw py::value_error(std::string(name) + ": array is read-only");
  return static_cast<T*>(const_cast<void*>(a.data()));
}

}  // namespace gfo::bind

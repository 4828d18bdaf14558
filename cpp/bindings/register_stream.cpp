#include <string>

#include "arrays.hpp"
#include "gfo/stream.hpp"
#include "registry.hpp"

namespace gfo::bind {
namespace {

template <class T>
void copy(const py::array& src, py::array& dst) {
  const T* s = data_of<T>(src, "src");
  T* d = data_of<T>(dst, "dst", true);
  const std::int64_t n = src.size();
  py::gil_scoped_release nogil;
  stream_copy<T>(s, d, n);
}

template <class T>
void scale(py::array& a, double s) {
  T* p = data_of<T>(a, "a", true);
  const std::int64_t n = a.size();
  py::gil_scoped_release nogil;
  stream_scale<T>(p, static_cast<T>(s), n);
}

void register_stream(py::module_& m) {
  m.def("stream_copy", [](const py::array& src, py::array dst) {
    if (!src.dtype().equal(dst.dtype()))
      throw py::type_error("dst: expected the dtype of src (" + std::string(py::str(src.dtype())) + "), got " +
                           std::string(py::str(dst.dtype())));
    if (dst.size() != src.size()) throw py::value_error("dst: expected the size of src");
    if (is_float32(src)) copy<float>(src, dst);
    else copy<double>(src, dst);
  }, py::arg("src"), py::arg("dst"));
  m.def("stream_scale", [](py::array a, double s) {
    if (is_float32(a)) scale<float>(a, s);
    else scale<double>(a, s);
  }, py::arg("a"), py::arg("s"));
}

const bool registered = add_area(&register_stream);

}  // namespace
}  // namespace gfo::bind

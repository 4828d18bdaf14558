// Each register_<area>.cpp adds its functions to the module through one static registrar, so adding an
// area never touches module.cpp.
#pragma once
#include <pybind11/pybind11.h>

namespace gfo::bind {

using Registrar = void (*)(pybind11::module_&);

// Returns a dummy value so that a namespace-scope `static const bool` can call it at load time.
bool add_area(Registrar r);
void register_all(pybind11::module_& m);

}  // namespace gfo::bind

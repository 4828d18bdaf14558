#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "gfo/zo.hpp"
#ifdef GFO_HAVE_CUDA
#include "gfo/cuda.hpp"
#endif
#include "registry.hpp"

namespace gfo::bind {
namespace {

ZoDist dist_of(int d) {
  if (d != 0 && d != 1) throw py::value_error("distribution: expected 0 (gaussian) or 1 (rademacher)");
  return static_cast<ZoDist>(d);
}

// One pass's arguments as the kernels take them (views into the Python lists and arrays, which outlive it).
struct PassArgs {
  std::vector<ZoTensor> tensors;
  std::vector<ZoOp> ops;
  ZoUpdate update;
  const std::uint64_t* streams = nullptr;
  std::int64_t nslots = 0;
};

// Tensors arrive as raw addresses already checked in Python (gfo_native/_torch_ptr.py): dtype, device,
// contiguity. Here only the lengths of the parallel lists and the slot tables are checked.
PassArgs pass_args(const std::vector<std::uintptr_t>& addresses, const std::vector<std::int64_t>& sizes,
                   const std::vector<int>& dtypes, const std::vector<float>& lrs,
                   const std::vector<float>& weight_decays, const std::vector<std::uintptr_t>& momentum_addresses,
                   const std::vector<std::uintptr_t>& grad_addresses, const py::array& streams,
                   const std::vector<std::int32_t>& op_slots, const std::vector<float>& op_scales,
                   const std::optional<py::array>& coefs, float momentum) {
  const std::size_t nt = addresses.size();
  if (sizes.size() != nt || dtypes.size() != nt || lrs.size() != nt || weight_decays.size() != nt ||
      momentum_addresses.size() != nt || grad_addresses.size() != nt)
    throw py::value_error("tensors: addresses, sizes, dtypes, lrs, weight_decays, momentum and grad lists differ in length");
  if (!streams.dtype().is(py::dtype::of<std::uint64_t>()) || !(streams.flags() & py::array::c_style) ||
      streams.ndim() != 2 || static_cast<std::size_t>(streams.shape(1)) != nt)
    throw py::value_error("streams: expected a C-contiguous uint64 array of shape (nslots, ntensors)");
  PassArgs a;
  a.nslots = streams.shape(0);
  a.streams = static_cast<const std::uint64_t*>(streams.data());
  if (op_slots.size() != op_scales.size()) throw py::value_error("ops: slots and scales differ in length");
  a.ops.resize(op_slots.size());
  for (std::size_t k = 0; k < a.ops.size(); ++k) {
    if (op_slots[k] < 0 || op_slots[k] >= a.nslots || (k > 0 && op_slots[k] < op_slots[k - 1]))
      throw py::value_error("ops: slots must be sorted and within [0, nslots)");
    a.ops[k] = ZoOp{op_slots[k], op_scales[k]};
  }
  if (coefs) {
    const float* c = data_of<float>(*coefs, "coefs");
    if (coefs->ndim() != 1 || coefs->shape(0) != a.nslots) throw py::value_error("coefs: expected shape (nslots,)");
    a.update.enabled = true;
    a.update.coef = c;
    a.update.momentum = momentum;
  }
  a.tensors.resize(nt);
  for (std::size_t t = 0; t < nt; ++t) {
    if (dtypes[t] != 0 && dtypes[t] != 2) throw py::type_error("tensors: expected float32 (0) or bfloat16 (2) storage");
    if (sizes[t] < 0) throw py::value_error("sizes: expected non-negative sizes");
    ZoTensor& T = a.tensors[t];
    T.data = from_address<void>(addresses[t]);
    T.n = sizes[t];
    T.storage = static_cast<ZoStorage>(dtypes[t]);
    T.lr = lrs[t];
    T.weight_decay = weight_decays[t];
    T.momentum = from_address<float>(momentum_addresses[t]);
    T.grad_out = from_address<float>(grad_addresses[t]);
  }
  return a;
}

void apply(std::uint64_t seed, int dist, const std::vector<std::uintptr_t>& addresses,
           const std::vector<std::int64_t>& sizes, const std::vector<int>& dtypes, const std::vector<float>& lrs,
           const std::vector<float>& weight_decays, const std::vector<std::uintptr_t>& momentum_addresses,
           const std::vector<std::uintptr_t>& grad_addresses, const py::array& streams,
           const std::vector<std::int32_t>& op_slots, const std::vector<float>& op_scales,
           std::optional<py::array> coefs, float momentum) {
  const PassArgs a = pass_args(addresses, sizes, dtypes, lrs, weight_decays, momentum_addresses, grad_addresses,
                               streams, op_slots, op_scales, coefs, momentum);
  const ZoDist d = dist_of(dist);
  py::gil_scoped_release nogil;
  zo_apply(a.tensors.data(), static_cast<std::int64_t>(a.tensors.size()), seed, d, a.streams, a.nslots,
           a.ops.data(), static_cast<std::int64_t>(a.ops.size()), a.update);
}

#ifdef GFO_HAVE_CUDA
// The same pass on device tensors (addresses checked in Python to be on one CUDA device), on `stream`.
void cuda_apply(std::uint64_t seed, int dist, const std::vector<std::uintptr_t>& addresses,
                const std::vector<std::int64_t>& sizes, const std::vector<int>& dtypes, const std::vector<float>& lrs,
                const std::vector<float>& weight_decays, const std::vector<std::uintptr_t>& momentum_addresses,
                const std::vector<std::uintptr_t>& grad_addresses, const py::array& streams,
                const std::vector<std::int32_t>& op_slots, const std::vector<float>& op_scales,
                std::optional<py::array> coefs, float momentum, cuda::Stream stream) {
  const PassArgs a = pass_args(addresses, sizes, dtypes, lrs, weight_decays, momentum_addresses, grad_addresses,
                               streams, op_slots, op_scales, coefs, momentum);
  const ZoDist d = dist_of(dist);
  py::gil_scoped_release nogil;
  cuda::zo_apply(a.tensors.data(), static_cast<std::int64_t>(a.tensors.size()), seed, d, a.streams, a.nslots,
                 a.ops.data(), static_cast<std::int64_t>(a.ops.size()), a.update, stream);
}
#endif

void register_zo(py::module_& m) {
  m.def("zo_apply", &apply, py::arg("seed"), py::arg("distribution"), py::arg("addresses"), py::arg("sizes"),
        py::arg("dtypes"), py::arg("lrs"), py::arg("weight_decays"), py::arg("momentum_addresses"),
        py::arg("grad_addresses"), py::arg("streams"), py::arg("op_slots"), py::arg("op_scales"),
        py::arg("coefs"), py::arg("momentum"));
#ifdef GFO_HAVE_CUDA
  m.def("cuda_zo_apply", &cuda_apply, py::arg("seed"), py::arg("distribution"), py::arg("addresses"),
        py::arg("sizes"), py::arg("dtypes"), py::arg("lrs"), py::arg("weight_decays"), py::arg("momentum_addresses"),
        py::arg("grad_addresses"), py::arg("streams"), py::arg("op_slots"), py::arg("op_scales"), py::arg("coefs"),
        py::arg("momentum"), py::arg("stream"));
#endif
  m.def("zo_directions", [](std::uint64_t seed, std::uint64_t stream, int dist, std::uint64_t offset, py::array out) {
    float* p = data_of<float>(out, "out", true);
    const ZoDist d = dist_of(dist);
    const std::int64_t n = out.size();
    py::gil_scoped_release nogil;
    zo_directions(seed, stream, d, offset, n, p);
  }, py::arg("seed"), py::arg("stream"), py::arg("distribution"), py::arg("offset"), py::arg("out"));
}

const bool registered = add_area(&register_zo);

}  // namespace
}  // namespace gfo::bind

// Gated optimizer steps from the bindings: a row guard validates the cached row table on the calling thread
// while the kernel's other threads already update the rows it has validated (gfo::RowGate).
#pragma once
#include <Python.h>
#include <pybind11/pybind11.h>

#include <atomic>
#include <cstdint>

#include "gfo/tensor_list.hpp"

namespace gfo::bind {

namespace py = pybind11;

// The TorchRowGuard behind `guard` as a RowGate (register_optim_torch.cpp); throws TypeError for anything else.
RowGate& torch_row_gate(const py::handle& guard);

// Runs a gate with the GIL held (it reads Python objects), then releases the GIL for the rest of the step;
// the destructor takes it back on the calling thread (the one that released it: thread 0 of the region).
class GatedRun final : public RowGate {
 public:
  explicit GatedRun(RowGate& inner) : inner_(inner) {}
  GatedRun(const GatedRun&) = delete;
  GatedRun& operator=(const GatedRun&) = delete;
  ~GatedRun() override {
    if (saved_ != nullptr) PyEval_RestoreThread(saved_);
  }
  std::int64_t validate(std::atomic<std::int64_t>& ready) noexcept override { return inner_.validate(ready); }
  void validated() noexcept override {
    inner_.validated();
    saved_ = PyEval_SaveThread();
  }

 private:
  RowGate& inner_;
  PyThreadState* saved_ = nullptr;
};

}  // namespace gfo::bind

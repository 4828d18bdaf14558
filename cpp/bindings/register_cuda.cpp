// CUDA entry points (`_core.cuda_*`), present only in GFO_CUDA=ON builds. Device arrays arrive as integer
// addresses with their sizes and dtype codes, checked in python/gfo_native/cuda/ (torch tensors, CuPy or any
// __cuda_array_interface__ object); the stream is a cudaStream_t as an integer. Nothing here links libtorch.
#ifdef GFO_HAVE_CUDA
#include <pybind11/numpy.h>

#include <cstdint>
#include <string>

#include "gfo/cuda.hpp"
#include "registry.hpp"

namespace gfo::bind {
namespace {

namespace py = pybind11;
using cuda::Stream;

template <class T>
T* dev(std::uintptr_t address) {
  return reinterpret_cast<T*>(address);
}

// dtype codes of python/gfo_native/_torch_ptr.py: 0 float32, 1 float64, 2 bfloat16, 3 float16.
cuda::DType dtype_of(int code, bool reduced_ok, const char* name) {
  if (code == 0 || code == 1 || (reduced_ok && (code == 2 || code == 3))) return static_cast<cuda::DType>(code);
  throw py::type_error(std::string(name) + ": unsupported dtype code " + std::to_string(code));
}

// The (n, 8) uint64 tensor table of gfo/cuda.hpp, in host memory.
const std::uint64_t* table_of(const py::array& t) {
  if (!t.dtype().is(py::dtype::of<std::uint64_t>()) || t.ndim() != 2 || t.shape(1) != cuda::kColumns ||
      !(t.flags() & py::array::c_style))
    throw py::type_error("table: expected a C-contiguous uint64 array of shape (n, 8)");
  return static_cast<const std::uint64_t*>(t.data());
}

// The optimizer entry points take the arguments of their CPU twins `_core.optim_<name>` (table, dtype code,
// hyperparameters) plus the stream, so one table builder serves both devices.
void register_cuda(py::module_& m) {
  m.def("cuda_device_count", &cuda::device_count);
  m.def("cuda_device_error", [] { return std::string(cuda::device_error()); });
  m.def("cuda_set_device", [](int device) { cuda::set_device(device); }, py::arg("device"));
  m.def("cuda_synchronize", [](Stream s) {
    py::gil_scoped_release nogil;
    cuda::synchronize(s);
  }, py::arg("stream"));

  m.def("cuda_rng_bits", [](std::uint64_t seed, std::uint64_t stream_id, std::uint64_t offset, std::int64_t n,
                            std::uintptr_t out, Stream s) {
    py::gil_scoped_release nogil;
    cuda::fill_bits(seed, stream_id, offset, n, dev<std::uint32_t>(out), s);
  }, py::arg("seed"), py::arg("stream_id"), py::arg("offset"), py::arg("n"), py::arg("out"), py::arg("stream"));
  for (const bool uniform : {true, false}) {
    m.def(uniform ? "cuda_rng_uniform" : "cuda_rng_normal",
          [uniform](std::uint64_t seed, std::uint64_t stream_id, std::uint64_t offset, std::int64_t n,
                    std::uintptr_t out, int dtype, Stream s) {
            const bool f32 = dtype_of(dtype, false, "out") == cuda::DType::float32;
            py::gil_scoped_release nogil;
            if (uniform && f32) cuda::fill_uniform<float>(seed, stream_id, offset, n, dev<float>(out), s);
            else if (uniform) cuda::fill_uniform<double>(seed, stream_id, offset, n, dev<double>(out), s);
            else if (f32) cuda::fill_normal<float>(seed, stream_id, offset, n, dev<float>(out), s);
            else cuda::fill_normal<double>(seed, stream_id, offset, n, dev<double>(out), s);
          },
          py::arg("seed"), py::arg("stream_id"), py::arg("offset"), py::arg("n"), py::arg("out"), py::arg("dtype"),
          py::arg("stream"));
  }

  m.def("cuda_evaluate_objective", [](Objective f, std::uintptr_t X, std::int64_t n, std::int64_t d,
                                      std::uintptr_t out, int dtype, Stream s) {
    const bool f32 = dtype_of(dtype, false, "X") == cuda::DType::float32;
    py::gil_scoped_release nogil;
    if (f32) cuda::evaluate_objective<float>(f, dev<const float>(X), n, d, dev<float>(out), s);
    else cuda::evaluate_objective<double>(f, dev<const double>(X), n, d, dev<double>(out), s);
  }, py::arg("objective"), py::arg("X"), py::arg("n"), py::arg("d"), py::arg("out"), py::arg("dtype"),
     py::arg("stream"));

  m.def("cuda_sampling_uniform_box", [](std::uint64_t seed, std::uint64_t stream_id, std::uintptr_t lo,
                                        std::uintptr_t hi, std::int64_t n, std::int64_t d, std::uintptr_t out,
                                        Stream s) {
    py::gil_scoped_release nogil;
    cuda::sample_uniform_box(seed, stream_id, dev<const double>(lo), dev<const double>(hi), n, d, dev<double>(out), s);
  }, py::arg("seed"), py::arg("stream_id"), py::arg("lo"), py::arg("hi"), py::arg("n"), py::arg("d"), py::arg("out"),
     py::arg("stream"));
  m.def("cuda_sampling_gaussian_box", [](std::uint64_t seed, std::uint64_t stream_id, std::uintptr_t center,
                                         std::uintptr_t scale, std::uintptr_t lo, std::uintptr_t hi, std::int64_t n,
                                         std::int64_t d, std::uintptr_t out, Stream s) {
    py::gil_scoped_release nogil;
    cuda::sample_gaussian_box(seed, stream_id, dev<const double>(center), dev<const double>(scale),
                              dev<const double>(lo), dev<const double>(hi), n, d, dev<double>(out), s);
  }, py::arg("seed"), py::arg("stream_id"), py::arg("center"), py::arg("scale"), py::arg("lo"), py::arg("hi"),
     py::arg("n"), py::arg("d"), py::arg("out"), py::arg("stream"));

  m.def("cuda_pso_update", [](std::uint64_t seed, std::uint64_t stream_r1, std::uint64_t stream_r2, double w,
                              double c1, double c2, std::int64_t n, std::int64_t d, std::uintptr_t X, std::uintptr_t V,
                              std::uintptr_t P, std::uintptr_t improved, std::uintptr_t nbest, std::uintptr_t vmax,
                              std::uintptr_t lo, std::uintptr_t hi, int bounds, std::uintptr_t Xnew, Stream s) {
    if (bounds != 0 && bounds != 1) throw py::value_error("bounds: expected 0 (clip) or 1 (reflect)");
    py::gil_scoped_release nogil;
    cuda::pso_update(seed, stream_r1, stream_r2, w, c1, c2, n, d, dev<const double>(X), dev<double>(V), dev<double>(P),
                     dev<const std::uint8_t>(improved), dev<const std::int64_t>(nbest), dev<const double>(vmax),
                     dev<const double>(lo), dev<const double>(hi), bounds, dev<double>(Xnew), s);
  }, py::arg("seed"), py::arg("stream_r1"), py::arg("stream_r2"), py::arg("w"), py::arg("c1"), py::arg("c2"),
     py::arg("n"), py::arg("d"), py::arg("X"), py::arg("V"), py::arg("P"), py::arg("improved"), py::arg("nbest"),
     py::arg("vmax"), py::arg("lo"), py::arg("hi"), py::arg("bounds"), py::arg("Xnew"), py::arg("stream"));
  m.def("cuda_de_trials", [](std::uint64_t seed, std::uint64_t stream_cr, int strategy, double CR, std::int64_t n,
                             std::int64_t d, std::uintptr_t X, std::int64_t best, std::uintptr_t R, std::uintptr_t F,
                             std::uintptr_t jrand, std::uintptr_t lo, std::uintptr_t hi, std::uintptr_t U, Stream s) {
    if (strategy < 0 || strategy > 2) throw py::value_error("strategy: unknown code");
    if (best < 0 || best >= n) throw py::value_error("best: index out of range");
    py::gil_scoped_release nogil;
    cuda::de_trials(seed, stream_cr, strategy, CR, n, d, dev<const double>(X), best, dev<const std::int64_t>(R),
                    dev<const double>(F), dev<const std::int64_t>(jrand), dev<const double>(lo), dev<const double>(hi),
                    dev<double>(U), s);
  }, py::arg("seed"), py::arg("stream_cr"), py::arg("strategy"), py::arg("CR"), py::arg("n"), py::arg("d"),
     py::arg("X"), py::arg("best"), py::arg("R"), py::arg("F"), py::arg("jrand"), py::arg("lo"), py::arg("hi"),
     py::arg("U"), py::arg("stream"));

  m.def("cuda_ga_offspring", [](std::uint64_t seed, std::uint64_t stream_pair, std::uint64_t stream_gene,
                                std::uint64_t stream_mutate, std::uint64_t stream_mutation, int crossover,
                                double crossover_prob, double alpha, double eta_c, int mutation, double mutation_prob,
                                double sigma, double eta_m, std::int64_t n, std::int64_t L, std::uintptr_t G,
                                std::uintptr_t parents, std::uintptr_t lo, std::uintptr_t hi, std::uintptr_t span,
                                std::uintptr_t C, Stream s) {
    if (crossover < 0 || crossover > 5) throw py::value_error("crossover: unknown operator code");
    if (mutation < 0 || mutation > 3) throw py::value_error("mutation: unknown operator code");
    const GaParams p{static_cast<GaCrossover>(crossover), crossover_prob, alpha, eta_c,
                     static_cast<GaMutation>(mutation), mutation_prob, sigma, eta_m};
    const GaStreams st{stream_pair, stream_gene, stream_mutate, stream_mutation};
    py::gil_scoped_release nogil;
    cuda::ga_offspring(seed, st, p, n, L, dev<const double>(G), dev<const std::int64_t>(parents), dev<const double>(lo),
                       dev<const double>(hi), dev<const double>(span), dev<double>(C), s);
  }, py::arg("seed"), py::arg("stream_pair"), py::arg("stream_gene"), py::arg("stream_mutate"),
     py::arg("stream_mutation"), py::arg("crossover"), py::arg("crossover_prob"), py::arg("alpha"), py::arg("eta_c"),
     py::arg("mutation"), py::arg("mutation_prob"), py::arg("sigma"), py::arg("eta_m"), py::arg("n"), py::arg("L"),
     py::arg("G"), py::arg("parents"), py::arg("lo"), py::arg("hi"), py::arg("span"), py::arg("C"), py::arg("stream"));

  m.def("cuda_optim_sgd", [](const py::array& table, int dtype, double lr, double momentum, double dampening,
                             double weight_decay, bool nesterov, bool maximize, Stream s) {
    const auto dt = dtype_of(dtype, true, "params");
    const std::uint64_t* t = table_of(table);
    const cuda::SGDOptions o{lr, momentum, dampening, weight_decay, nesterov, maximize};
    py::gil_scoped_release nogil;
    cuda::sgd_step(dt, t, table.shape(0), o, s);
  }, py::arg("table"), py::arg("dtype"), py::arg("lr"), py::arg("momentum"), py::arg("dampening"),
     py::arg("weight_decay"), py::arg("nesterov"), py::arg("maximize"), py::arg("stream"));
  m.def("cuda_optim_adagrad", [](const py::array& table, int dtype, double lr, double lr_decay, double weight_decay,
                                 double eps, bool maximize, Stream s) {
    const auto dt = dtype_of(dtype, true, "params");
    const std::uint64_t* t = table_of(table);
    const cuda::AdagradOptions o{lr, lr_decay, weight_decay, eps, maximize};
    py::gil_scoped_release nogil;
    cuda::adagrad_step(dt, t, table.shape(0), o, s);
  }, py::arg("table"), py::arg("dtype"), py::arg("lr"), py::arg("lr_decay"), py::arg("weight_decay"), py::arg("eps"),
     py::arg("maximize"), py::arg("stream"));
  m.def("cuda_optim_rmsprop", [](const py::array& table, int dtype, double lr, double alpha, double eps,
                                 double weight_decay, double momentum, bool centered, bool maximize, Stream s) {
    const auto dt = dtype_of(dtype, true, "params");
    const std::uint64_t* t = table_of(table);
    const cuda::RMSpropOptions o{lr, alpha, eps, weight_decay, momentum, centered, maximize};
    py::gil_scoped_release nogil;
    cuda::rmsprop_step(dt, t, table.shape(0), o, s);
  }, py::arg("table"), py::arg("dtype"), py::arg("lr"), py::arg("alpha"), py::arg("eps"), py::arg("weight_decay"),
     py::arg("momentum"), py::arg("centered"), py::arg("maximize"), py::arg("stream"));
  m.def("cuda_optim_adam", [](const py::array& table, int dtype, double lr, double beta1, double beta2, double eps,
                              double weight_decay, bool decoupled_weight_decay, bool amsgrad, bool maximize, Stream s) {
    const auto dt = dtype_of(dtype, true, "params");
    const std::uint64_t* t = table_of(table);
    const cuda::AdamOptions o{lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay, amsgrad, maximize};
    py::gil_scoped_release nogil;
    cuda::adam_step(dt, t, table.shape(0), o, s);
  }, py::arg("table"), py::arg("dtype"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"),
     py::arg("weight_decay"), py::arg("decoupled_weight_decay"), py::arg("amsgrad"), py::arg("maximize"),
     py::arg("stream"));
}

const bool registered = add_area(&register_cuda);

}  // namespace
}  // namespace gfo::bind
#endif  // GFO_HAVE_CUDA

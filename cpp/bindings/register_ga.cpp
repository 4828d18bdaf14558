#include <cstdint>

#include "gfo/ga.hpp"
#include "population_args.hpp"
#include "registry.hpp"

namespace gfo::bind {
namespace {

void register_ga(py::module_& m) {
  m.def("ga_offspring", [](std::uint64_t seed, std::uint64_t stream_pair, std::uint64_t stream_gene,
                           std::uint64_t stream_mutate, std::uint64_t stream_mutation, int crossover,
                           double crossover_prob, double alpha, double eta_c, int mutation, double mutation_prob,
                           double sigma, double eta_m, const py::array& G, const py::array& parents,
                           const py::array& lo, const py::array& hi, const py::array& span, py::array C) {
    const double* g = checked<double>(G, "G", {-1, -1});
    const py::ssize_t np_ = G.shape(0), L = G.shape(1);
    double* c = checked<double>(C, "C", {-1, L}, true);
    const py::ssize_t n = C.shape(0);
    const auto* par = checked<std::int64_t>(parents, "parents", {2 * ((n + 1) / 2)});
    const double *l = checked<double>(lo, "lo", {L}), *h = checked<double>(hi, "hi", {L}),
                 *sp = checked<double>(span, "span", {L});
    if (crossover < 0 || crossover > 5) throw py::value_error("crossover: unknown operator code");
    if (mutation < 0 || mutation > 3) throw py::value_error("mutation: unknown operator code");
    for (py::ssize_t i = 0; i < parents.shape(0); ++i)
      if (par[i] < 0 || par[i] >= np_) throw py::value_error("parents: index out of range");
    const GaParams p{static_cast<GaCrossover>(crossover), crossover_prob, alpha, eta_c,
                     static_cast<GaMutation>(mutation), mutation_prob, sigma, eta_m};
    const GaStreams s{stream_pair, stream_gene, stream_mutate, stream_mutation};
    py::gil_scoped_release nogil;
    ga_offspring(seed, s, p, n, L, g, par, l, h, sp, c);
  }, py::arg("seed"), py::arg("stream_pair"), py::arg("stream_gene"), py::arg("stream_mutate"),
     py::arg("stream_mutation"), py::arg("crossover"), py::arg("crossover_prob"), py::arg("alpha"), py::arg("eta_c"),
     py::arg("mutation"), py::arg("mutation_prob"), py::arg("sigma"), py::arg("eta_m"), py::arg("G"),
     py::arg("parents"), py::arg("lo"), py::arg("hi"), py::arg("span"), py::arg("C"));
}

const bool registered = add_area(&register_ga);

}  // namespace
}  // namespace gfo::bind

// nwgf._nwgf analytic functions: eta* of Thm 5.1, the JKO times of Thm 5.2 and exact samples of
// the limit curve gamma(t) or of the JKO iterate (analytic/riesz_flow.hpp), with the checks and
// the arithmetic of `nwgf analytic` / `nwgf sample-analytic` (tools/nwgf/cmd_analytic.cpp), so
// the same seed gives the CLI's samples bit for bit.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "nwgf/analytic/riesz_flow.hpp"
#include "nwgf/engine/threads.hpp"
#include "python/src/arrays.hpp"
#include "python/src/module.hpp"

namespace nwgf::py {
namespace {

constexpr int kMaxDim = 1000000;
constexpr int kMaxSteps = 10000000;
constexpr double kMaxValues = 5e8;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

[[noreturn]] void bad(const std::string& message) { throw nb::value_error(message.c_str()); }

void check_d_r(int d, double r) {
  if (d < 1 || d > kMaxDim) bad("d: dimension must be in [1, 1000000], got " + std::to_string(d));
  if (!(r > 0.0 && r < 2.0)) bad("r: Riesz exponent must lie in (0, 2), got " + num(r));
}

void check_tau(double tau) {
  if (!(tau > 0.0) || !std::isfinite(tau)) bad("tau: must be positive and finite, got " + num(tau));
}

nb::dict eta_star_py(int d, double r) {
  check_d_r(d, r);
  const EtaStar e = eta_star(d, r);
  nb::dict o;
  o["d"] = e.d;
  o["r"] = e.r;
  o["case"] = e.ball ? "ball" : "sphere";
  o["radius"] = e.radius;
  if (e.ball) {
    o["s"] = e.s;
    o["A_s"] = e.A_s;
  } else {
    o["c"] = e.c;
  }
  o["second_moment"] = e.second_moment;
  return o;
}

nb::object jko_times_py(int d, double r, double tau, int steps) {
  check_d_r(d, r);
  check_tau(tau);
  if (steps < 1 || steps > kMaxSteps) {
    bad("steps: must be in [1, " + std::to_string(kMaxSteps) + "], got " + std::to_string(steps));
  }
  std::vector<double> t = jko_times(r, tau, steps);
  const index_t n = index_t(t.size());
  return numpy_owning(std::move(t), n, -1);
}

nb::object sample_py(int d, double r, double t, std::int64_t n, std::int64_t seed,
                     const std::string& scheme, nb::handle tau_obj, int threads) {
  check_d_r(d, r);
  if (!(t >= 0.0) || !std::isfinite(t)) bad("t: must be >= 0 and finite, got " + num(t));
  if (n < 1 || double(n) * d > kMaxValues) {
    bad("n: must be >= 1 with n * d <= " + num(kMaxValues) + ", got " + std::to_string(n));
  }
  if (seed < 0) bad("seed: must be >= 0, got " + std::to_string(seed));
  if (scheme != "limit" && scheme != "jko") bad("scheme: must be 'limit' or 'jko', got '" + scheme + "'");
  double scale = 0.0;
  if (scheme == "limit") {
    if (!tau_obj.is_none()) bad("tau: only used with scheme='jko'");
    scale = limit_scale(r, t);
  } else {
    if (tau_obj.is_none()) bad("tau: required with scheme='jko'");
    const double tau = nb::cast<double>(tau_obj);
    check_tau(tau);
    const double ratio = std::round(t / tau);
    if (!(ratio <= kMaxSteps)) bad("t: t / tau = " + num(t / tau) + " exceeds " + std::to_string(kMaxSteps) + " steps");
    if (std::abs(t - ratio * tau) > 1e-9 * std::max(t, tau)) {
      bad("t: must be an integer multiple n * tau for scheme='jko', got t / tau = " + num(t / tau));
    }
    scale = jko_scale(r, tau, int(ratio));
  }
  if (!std::isfinite(scale)) bad("t: the dilation factor at t = " + num(t) + " overflows a double");
  std::vector<double> x(std::size_t(n) * std::size_t(d));
  {
    nb::gil_scoped_release release;
    set_threads(threads > 0 ? threads : default_threads());
    sample_eta_star(d, r, scale, n, std::uint64_t(seed), 0, x.data());
  }
  return numpy_owning(std::move(x), n, d);
}

}  // namespace

void bind_analytic(nb::module_& m) {
  using namespace nb::literals;
  m.def("eta_star", &eta_star_py, "d"_a, "r"_a);
  m.def("jko_times", &jko_times_py, "d"_a, "r"_a, "tau"_a, "steps"_a);
  m.def("sample", &sample_py, "d"_a, "r"_a, "t"_a, "n"_a, "seed"_a = 0, "scheme"_a = "limit",
        "tau"_a.none() = nb::none(), "threads"_a = 0);
}

}  // namespace nwgf::py

// `nwgf analytic` and `nwgf sample-analytic`: the closed-form flow of the Riesz interaction
// energy from delta_0 (paper Thm 5.1, 5.2, Remark 5.3; analytic/riesz_flow.hpp).
//
// sample-analytic --scheme jko needs t = n tau for an integer n >= 0: n = round(t / tau) is
// accepted when |t - n tau| <= 1e-9 max(t, tau) (so t = 0.3, tau = 0.1 works despite rounding);
// anything else is an error naming --t.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "nwgf/analytic/riesz_flow.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/json.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "nwgf/engine/threads.hpp"
#include "tools/nwgf/command.hpp"

namespace nwgf::cli {
namespace {

constexpr int kMaxDim = 1000000;
constexpr int kMaxSteps = 10000000;
constexpr double kMaxValues = 5e8;  // n * d doubles held in memory (4 GB)

struct AnalyticOptions {
  int d = 0;
  double r = 0.0;
  double tau = 0.0;
  int steps = 0;
};

struct SampleOptions {
  int d = 0;
  double r = 0.0;
  double t = -1.0;
  long long n = 0;
  unsigned long long seed = 0;
  unsigned long long stream = 0;
  double tau = 0.0;
  std::string scheme = "limit";
  std::string out;
};

std::string num(double v) { return JsonObject::number(v); }

void check_d_r(int d, double r) {
  if (d < 1 || d > kMaxDim) {
    throw_bad_input("--d: dimension must be in [1, " + std::to_string(kMaxDim) + "], got " +
                    std::to_string(d));
  }
  if (!(r > 0.0 && r < 2.0))
    throw_bad_input("--r: Riesz exponent must lie in (0, 2), got " + num(r));
}

void check_tau(double tau) {
  if (!(tau > 0.0) || !std::isfinite(tau))
    throw_bad_input("--tau: must be positive and finite, got " + num(tau));
}

void add_eta_star(JsonObject& o, const EtaStar& e) {
  o.add("d", e.d).add("r", e.r).add("case", e.ball ? "ball" : "sphere").add("radius", e.radius);
  if (e.ball) {
    o.add("s", e.s).add("A_s", e.A_s);
  } else {
    o.add("c", e.c);
  }
  o.add("second_moment", e.second_moment);
}

int run_analytic(const AnalyticOptions& a, bool tau_given, bool steps_given) {
  check_d_r(a.d, a.r);
  if (tau_given != steps_given)
    throw_bad_input(tau_given ? "--steps: required with --tau" : "--tau: required with --steps");
  JsonObject o;
  add_eta_star(o, eta_star(a.d, a.r));
  if (tau_given) {
    check_tau(a.tau);
    if (a.steps < 1 || a.steps > kMaxSteps) {
      throw_bad_input("--steps: must be in [1, " + std::to_string(kMaxSteps) + "], got " +
                      std::to_string(a.steps));
    }
    const std::vector<double> t = jko_times(a.r, a.tau, a.steps);
    std::vector<double> f_tau(t.size()), f(t.size());
    for (std::size_t k = 0; k < t.size(); ++k) {
      f_tau[k] = std::pow(t[k], 1.0 / (2.0 - a.r));
      f[k] = limit_scale(a.r, double(k + 1) * a.tau);
    }
    o.add("tau", a.tau).add("steps", a.steps).add("t_tau", t).add("f_tau", f_tau).add("f", f);
  }
  std::printf("%s\n", o.str().c_str());
  return 0;
}

int run_sample(const GlobalOptions& g, const SampleOptions& s, bool tau_given) {
  check_d_r(s.d, s.r);
  if (!(s.t >= 0.0) || !std::isfinite(s.t))
    throw_bad_input("--t: must be >= 0 and finite, got " + num(s.t));
  if (s.n < 1 || double(s.n) * s.d > kMaxValues) {
    throw_bad_input("--n: must be >= 1 with n * d <= " + num(kMaxValues) + ", got " +
                    std::to_string(s.n));
  }
  if (s.scheme != "limit" && s.scheme != "jko")
    throw_bad_input("--scheme: must be limit or jko, got '" + s.scheme + "'");
  if (s.out.empty()) throw_bad_input("--out: an output .npy path is required");
  double scale = 0.0;
  long long steps = -1;
  if (s.scheme == "limit") {
    scale = limit_scale(s.r, s.t);
  } else {
    if (!tau_given) throw_bad_input("--tau: required with --scheme jko");
    check_tau(s.tau);
    const double ratio = std::round(s.t / s.tau);
    if (!(ratio <= kMaxSteps)) {
      throw_bad_input("--t: t / tau = " + num(s.t / s.tau) + " exceeds " +
                      std::to_string(kMaxSteps) + " steps");
    }
    steps = (long long)ratio;
    if (std::abs(s.t - ratio * s.tau) > 1e-9 * std::max(s.t, s.tau)) {
      throw_bad_input("--t: must be an integer multiple n * tau for --scheme jko, got t / tau = " +
                      num(s.t / s.tau));
    }
    scale = jko_scale(s.r, s.tau, int(steps));
  }
  if (!std::isfinite(scale))
    throw_bad_input("--t: the dilation factor at t = " + num(s.t) + " overflows a double");
  set_threads(g.threads > 0 ? g.threads : default_threads());
  std::vector<double> x(std::size_t(s.n) * s.d);  // (n, d)
  sample_eta_star(s.d, s.r, scale, s.n, s.seed, s.stream, x.data());
  write_npy(s.out, x.data(), s.n, s.d);
  const EtaStar e = eta_star(s.d, s.r);
  JsonObject o;
  o.add("out", s.out)
      .add("n", s.n)
      .add("d", s.d)
      .add("r", s.r)
      .add("t", s.t)
      .add("scheme", s.scheme);
  if (steps >= 0) o.add("tau", s.tau).add("steps", steps);
  o.add("case", e.ball ? "ball" : "sphere").add("scale", scale).add("radius", scale * e.radius);
  o.add("second_moment", scale * scale * e.second_moment).add("seed", (long long)s.seed);
  std::printf("%s\n", o.str().c_str());
  return 0;
}

CommandRegistrar reg_analytic(
    "analytic", "eta* of Thm 5.1 and, with --tau/--steps, the JKO times t_{tau,n} of Thm 5.2",
    [](CLI::App& sub, const GlobalOptions&) {
      auto a = std::make_shared<AnalyticOptions>();
      sub.add_option("--d", a->d, "Dimension d >= 1")->required();
      sub.add_option("--r", a->r, "Riesz exponent r in (0, 2)")->required();
      CLI::Option* tau = sub.add_option("--tau", a->tau, "JKO step size tau > 0");
      CLI::Option* steps = sub.add_option("--steps", a->steps, "Number of JKO steps K >= 1");
      return [a, tau, steps] { return run_analytic(*a, tau->count() > 0, steps->count() > 0); };
    });

CommandRegistrar reg_sample(
    "sample-analytic",
    "Exact samples of the limit curve gamma(t) or the JKO iterate mu_tau^n (t = n tau), as .npy",
    [](CLI::App& sub, const GlobalOptions& g) {
      auto s = std::make_shared<SampleOptions>();
      sub.add_option("--d", s->d, "Dimension d >= 1")->required();
      sub.add_option("--r", s->r, "Riesz exponent r in (0, 2)")->required();
      sub.add_option("--t", s->t, "Time t >= 0")->required();
      sub.add_option("--n", s->n, "Number of samples")->required();
      sub.add_option("--seed", s->seed, "Philox seed (default 0)");
      sub.add_option("--stream", s->stream, "Philox stream (default 0)");
      CLI::Option* tau =
          sub.add_option("--tau", s->tau, "JKO step size (scheme jko; t must be n tau)");
      sub.add_option("--scheme", s->scheme, "limit (gamma(t), default) or jko (mu_tau^n)");
      sub.add_option("--out", s->out, "Output .npy file, float64 (n, d)")->required();
      return [&g, s, tau] { return run_sample(g, *s, tau->count() > 0); };
    });

}  // namespace
}  // namespace nwgf::cli

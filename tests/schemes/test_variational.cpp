// The variational JKO scheme: Prop. 1 (KL) and Prop. 2 (generalized entropy) objectives at the
// optimal critic against the closed-form functionals by Monte Carlo, and below them away from
// it; the critic's and the map's per-row gradients against central differences; a few JKO steps
// of the OU problem from a Gaussian against the exact discrete iterate.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "nwgf/analytic/gaussian_mixture.hpp"
#include "nwgf/analytic/ou_flow.hpp"
#include "nwgf/engine/philox.hpp"
#include "nwgf/schemes/flow.hpp"
#include "nwgf/schemes/scheme_ops.hpp"
#include "nwgf/schemes/variational/critic_rows.hpp"
#include "tests/helpers.hpp"

using namespace nwgf;

namespace {

const double pi = 3.14159265358979323846;

double normal_pdf(double x, double m, double s) {
  return std::exp(-0.5 * (x - m) * (x - m) / (s * s)) / (std::sqrt(2 * pi) * s);
}

std::vector<double> normals(index_t n, double m, double s, std::uint64_t stream) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) v[std::size_t(i)] = m + s * philox_normal<double>(5, stream, std::uint64_t(i));
  return v;
}

// [m_mu, P_mu, m_Q, P_Q] for 1-D Gaussians.
struct Ratio1d {
  std::vector<double> p;
  double c;
  GaussianLogRatio<double> row() const { return {p.data(), 1, c, nullptr, 0, nullptr}; }
};
Ratio1d ratio_1d(double mm, double sm, double mq, double sq) {
  return {{mm, 1 / (sm * sm), mq, 1 / (sq * sq)}, std::log(sq / sm)};
}

}  // namespace

TEST_CASE("Prop. 1: the KL objective at h* = P / mu is KL(P || Q), and less elsewhere") {
  Context ctx(Device::cpu, 2);
  const index_t K = 400000;
  const double mp = 0.3, sp = 0.8, mm = 0.0, sm = 1.1, mq = -0.5, sq = 0.7;
  const std::vector<double> x = normals(K, mp, sp, 1), z = normals(K, mm, sm, 2);
  const Ratio1d r = ratio_1d(mm, sm, mq, sq);
  auto value = [&](double factor) {  // F^ with h = factor h*, h = u^2
    std::vector<double> u(std::size_t(2 * K));
    for (index_t i = 0; i < 2 * K; ++i) {
      const double v = i < K ? x[std::size_t(i)] : z[std::size_t(i - K)];
      u[std::size_t(i)] = std::sqrt(factor * normal_pdf(v, mp, sp) / normal_pdf(v, mm, sm));
    }
    CriticTerms t;
    const double critic = reduce_rows(ctx, CriticRow<double>{t, u.data(), nullptr, K, 1.0 / K}, 2 * K);
    const double ratio = reduce_rows(ctx, RatioRow<double>{r.row(), x.data(), 1, 1.0 / K}, K);
    return 1 - critic + ratio;
  };
  const double kl = std::log(sq / sp) + (sp * sp + (mp - mq) * (mp - mq)) / (2 * sq * sq) - 0.5;
  const double at_opt = value(1.0);
  CHECK(at_opt == doctest::Approx(kl).epsilon(0.01));
  CHECK(value(1.3) < at_opt);
  CHECK(value(0.7) < at_opt);
}

TEST_CASE("Prop. 2: the entropy objective at h* = P / q is 1/(m-1) int P^m, and less elsewhere") {
  Context ctx(Device::cpu, 2);
  const index_t K = 400000;
  const double s = 0.5, R = 4, q = 1 / (2 * R);
  const std::vector<double> x = normals(K, 0, s, 3);
  std::vector<double> z(static_cast<std::size_t>(K));
  for (index_t i = 0; i < K; ++i) z[std::size_t(i)] = R * (2 * philox_uniform<double>(5, 4, std::uint64_t(i)) - 1);
  for (const double m : {2.0, 3.0}) {
    auto value = [&](double factor) {
      std::vector<double> u(std::size_t(2 * K));
      for (index_t i = 0; i < 2 * K; ++i) {
        const double v = i < K ? x[std::size_t(i)] : z[std::size_t(i - K)];
        u[std::size_t(i)] = std::sqrt(factor * normal_pdf(v, 0, s) / q);
      }
      CriticTerms t;
      t.kind = VariationalKind::entropy;
      t.m = m;
      t.q_m1 = std::pow(q, m - 1);
      return -reduce_rows(ctx, CriticRow<double>{t, u.data(), nullptr, K, 1.0 / K}, 2 * K);
    };
    // int N(0, s^2)^m = (2 pi s^2)^((1-m)/2) / sqrt(m).
    const double g = std::pow(2 * pi * s * s, (1 - m) / 2) / std::sqrt(m) / (m - 1);
    const double at_opt = value(1.0);
    INFO("m = " << m);
    CHECK(at_opt == doctest::Approx(g).epsilon(0.01));
    CHECK(value(1.2) < at_opt);
    CHECK(value(0.8) < at_opt);
  }
}

TEST_CASE("the critic's and the map's row gradients against central differences") {
  Context ctx(Device::cpu, 1);
  const index_t M = 5, d = 3;
  std::vector<double> y(M * d), ty(M * d), u(2 * M);
  for (index_t i = 0; i < M * d; ++i) {
    y[i] = philox_normal<double>(7, 1, i);
    ty[i] = y[i] + 0.3 * philox_normal<double>(7, 2, i);
  }
  for (index_t i = 0; i < 2 * M; ++i) u[i] = 0.5 + philox_uniform<double>(7, 3, i);
  // SPD precisions A A^T + Id.
  std::vector<double> params(2 * d + 2 * d * d);
  for (int k = 0; k < 2; ++k) {
    double* mean = params.data() + k * (d + d * d);
    double* prec = mean + d;
    std::vector<double> a(d * d);
    for (index_t i = 0; i < d * d; ++i) a[i] = philox_normal<double>(7, 4 + k, i);
    for (index_t i = 0; i < d; ++i) {
      mean[i] = philox_normal<double>(7, 6 + k, i);
      for (index_t j = 0; j < d; ++j) {
        double s = i == j ? 1.0 : 0.0;
        for (index_t l = 0; l < d; ++l) s += a[i * d + l] * a[j * d + l];
        prec[i * d + j] = s;
      }
    }
  }
  const GaussianLogRatio<double> ratio{params.data(), d, 0.2, nullptr, 0, nullptr};
  const double h = 1e-6;
  for (const auto kind : {VariationalKind::kl, VariationalKind::entropy})
    for (const auto tr : {OutputTransform::square, OutputTransform::sigmoid, OutputTransform::none})
    for (const double weight : {1.0, 0.7}) {  // the density term's weight in a sum of functionals
      CriticTerms t;
      t.kind = kind;
      t.transform = tr;
      t.m = 2.5;
      t.q_m1 = 0.3;
      t.weight = weight;
      INFO("kind " << int(kind) << ", transform " << int(tr) << ", weight " << weight);
      std::vector<double> du(2 * M);
      reduce_rows(ctx, CriticRow<double>{t, u.data(), du.data(), M, 1.0 / M}, 2 * M);
      for (index_t i = 0; i < 2 * M; ++i) {
        std::vector<double> up = u, um = u;
        up[i] += h;
        um[i] -= h;
        const double fd =
            (reduce_rows(ctx, CriticRow<double>{t, up.data(), nullptr, M, 1.0 / M}, 2 * M) -
             reduce_rows(ctx, CriticRow<double>{t, um.data(), nullptr, M, 1.0 / M}, 2 * M)) / (2 * h);
        CHECK(du[i] == doctest::Approx(fd).epsilon(1e-6).scale(1e-3));
      }
      const GaussianLogRatio<double> rr = kind == VariationalKind::kl ? ratio : GaussianLogRatio<double>{nullptr, d, 0, nullptr, 0, nullptr};
      std::vector<double> dty(M * d), dum(M);
      auto map = [&](const std::vector<double>& tyv, const std::vector<double>& uv, double* g, double* gu) {
        return reduce_rows(ctx, MapRow<double>{t, rr, y.data(), tyv.data(), uv.data(), g, gu, M, d, 0.05}, M);
      };
      map(ty, u, dty.data(), dum.data());
      for (index_t i = 0; i < M * d; ++i) {
        std::vector<double> p = ty, m = ty;
        p[i] += h;
        m[i] -= h;
        const double fd = (map(p, u, nullptr, nullptr) - map(m, u, nullptr, nullptr)) / (2 * h);
        CHECK(dty[i] == doctest::Approx(fd).epsilon(1e-6).scale(1e-3));
      }
      for (index_t i = 0; i < M; ++i) {
        std::vector<double> p = u, m = u;
        p[i] += h;
        m[i] -= h;
        const double fd = (map(ty, p, nullptr, nullptr) - map(ty, m, nullptr, nullptr)) / (2 * h);
        CHECK(dum[i] == doctest::Approx(fd).epsilon(1e-6).scale(1e-3));
      }
    }
}

TEST_CASE("OU: variational JKO steps from a Gaussian land on the exact discrete JKO iterate") {
  const FlowConfig cfg = parse_flow_config(R"(
seed = 3
[flow]
scheme = "variational"
tau = 0.05
steps = 3
[functional]
kind = "kl"
[initial]
kind = "gaussian"
n = 20000
d = 2
radius = 1.0
[target]
kind = "gaussian"
points = [[1.0, -0.5]]
radius = 0.8
[network]
hidden = [64]
activation = "linear"
[train]
iterations = 200
batch = 256
lr = 5e-3
[output]
progress = false
)",
                                           "ou.toml");
  RunOptions opt;
  opt.backend = BackendChoice::cpu;
  opt.threads = 1;  // small networks: one thread is as fast, and never spins on a loaded machine
  const RunResult r = run_flow(cfg, opt);
  REQUIRE(r.metrics.size() == 4);
  OuProblem p;
  p.target = GaussianMoments{{1.0, -0.5}, {0.64, 0, 0, 0.64}};
  p.start = {0, 0};
  // How far the exact iterates move: the scheme must land much closer than that.
  const double moved = symmetric_kl(ou_jko_iterate(p, 0.05, 3), ou_jko_iterate(p, 0.05, 0));
  for (const StepInfo& s : r.metrics) {
    INFO("step " << s.step << ": symkl_jko " << s.symkl_jko << ", symkl_exact " << s.symkl_exact
                 << ", F^ " << s.functional);
    CHECK(s.symkl_jko < 2e-3);
    CHECK(s.symkl_jko < 0.05 * moved);
  }
  // F^ estimates KL(P_3 || Q) (Prop. 1, Q normalised).
  const double kl = gaussian_kl(ou_jko_iterate(p, 0.05, 3), p.target);
  INFO("F^ " << r.metrics.back().functional << ", KL " << kl);
  CHECK(std::fabs(r.metrics.back().functional - kl) < 0.1 * kl);
}

TEST_CASE("KL to a Gaussian mixture: log mu - log Q and its gradient") {
  const index_t d = 2;
  const GaussianMixture q(d, {{1, 0}, {-1, 0.5}}, {{1, 0.2, 0.2, 0.5}, {0.3, 0, 0, 0.8}}, {2, 1});
  std::vector<double> packed;
  for (const std::vector<double>& v : {q.means(), q.chols(), q.log_weights(), q.half_logdets()})
    packed.insert(packed.end(), v.begin(), v.end());
  // mu = N((0.2, -0.1), diag(1.5, 0.7)): params [m_mu, P_mu, (unused) m_Q, P_Q].
  std::vector<double> params = {0.2, -0.1, 1 / 1.5, 0, 0, 1 / 0.7, 0, 0, 0, 0, 0, 0};
  std::vector<double> scratch(3 * d);
  const double c = -0.5 * std::log(1.5 * 0.7) - 0.5 * d * std::log(2 * pi);
  const GaussianLogRatio<double> r{params.data(), d, c, packed.data(), 2, scratch.data()};
  for (const auto& y : std::vector<std::vector<double>>{{0.3, 0.4}, {-1.2, 0.9}, {2, -1}}) {
    const double log_mu = std::log(normal_pdf(y[0], 0.2, std::sqrt(1.5)) * normal_pdf(y[1], -0.1, std::sqrt(0.7)));
    double g[2];
    CHECK(r(y.data(), 1.0, g, 0) == doctest::Approx(log_mu - q.log_density(y.data())).epsilon(1e-12));
    for (int j = 0; j < 2; ++j) {
      std::vector<double> p = y, m = y;
      p[j] += 1e-6;
      m[j] -= 1e-6;
      const double fd = (r(p.data(), 1.0, nullptr, 0) - r(m.data(), 1.0, nullptr, 0)) / 2e-6;
      CHECK(g[j] == doctest::Approx(fd).epsilon(1e-6));
    }
  }
}

TEST_CASE("variational runs resume bit for bit (map, critic and both Adam states checkpointed)") {
  const std::string text = R"(
seed = 2
[flow]
scheme = "variational"
tau = 0.05
steps = 4
[functional]
kind = "kl"
[initial]
kind = "gaussian"
n = 500
d = 2
radius = 1.0
[target]
kind = "gaussian"
points = [[1.0, 0.0]]
radius = 0.8
[network]
hidden = [16]
activation = "prelu"
[critic]
hidden = [16]
[train]
iterations = 20
batch = 100
[output]
progress = false
plots = false
)";
  RunOptions opt;
  opt.backend = BackendChoice::cpu;
  opt.threads = 1;
  const RunResult whole = run_flow(parse_flow_config(text, "v.toml"), opt);
  opt.out_dir = test::tmp_path("variational_resume");
  std::filesystem::remove_all(opt.out_dir);
  run_flow(parse_flow_config(text, "v.toml", {"flow.steps=2"}), opt);
  opt.resume = true;
  const RunResult resumed = run_flow(parse_flow_config(text, "v.toml"), opt);
  CHECK(resumed.samples.data == whole.samples.data);
  CHECK(resumed.metrics.back().functional == whole.metrics.back().functional);
}

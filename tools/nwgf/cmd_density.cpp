// `nwgf density RUN_DIR [--points P.npy] [--out F.npy]`: log-densities of a variational run with
// ICNN maps (network.kind = "icnn") at its checkpoint's step k, eqs. (15)-(16) of the variational
// JKO paper: each point y = x_k is pulled back through the maps, x_{j-1} = (grad phi_j)^{-1}(x_j)
// (Newton), and log P_k(y) = log P_0(x_0) - sum_j log det grad^2 phi_j(x_{j-1})
// (nn/icnn_density.hpp). P_0 is the run's [initial] density: kind = "gaussian" (one mean) or
// "mixture". Points: --points, an (m, d) .npy (float32 or float64), by default the run's particles
// at step k. Writes an (m,) float64 .npy (default RUN_DIR/log_density_step_NNNNNN.npy) and prints
// one JSON object: out, run, step, time, points, d, maps, newton_iterations, residual,
// mean_log_density.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/json.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "nwgf/nn/icnn_density.hpp"
#include "nwgf/schemes/config.hpp"
#include "nwgf/schemes/functional_potential.hpp"
#include "nwgf/schemes/run/run_dir.hpp"
#include "nwgf/schemes/variational/variational_scheme.hpp"
#include "tools/nwgf/command.hpp"

namespace nwgf::cli {
namespace {

struct DensityCliOptions {
  std::string run, points, out;
};

// The checkpoint's particles (n, d) in double.
std::vector<double> particles(const Checkpoint& c) {
  std::vector<double> x(std::size_t(c.n * c.d));
  if (c.scalar_bytes == sizeof(float)) {
    std::vector<float> f(x.size());
    std::memcpy(f.data(), c.samples.data(), f.size() * sizeof(float));
    x.assign(f.begin(), f.end());
  } else {
    std::memcpy(x.data(), c.samples.data(), x.size() * sizeof(double));
  }
  return x;
}

int run_density(const DensityCliOptions& o) {
  const RunDirectory dir(o.run);
  const FlowConfig cfg = load_flow_config(dir.path("config.toml"));
  const index_t d = cfg.initial.d;
  if (cfg.fb) {
    throw_bad_input("flow.fb: the run's explicit forward steps are not ICNN maps; densities "
                    "need fb = false (the paper's App. B)");
  }
  if (cfg.initial.kind == MeasureKind::gaussian && cfg.initial.points.size() > 1) {
    throw_bad_input("initial.points: the run's P_0 is a mixture of several Gaussians given as "
                    "kind = \"gaussian\"; density needs one mean or kind = \"mixture\"");
  }
  const GaussianMixture p0 = target_density(cfg.initial, d, "initial");
  const std::uint32_t bytes = resolved_dtype(cfg) == DType::f32 ? 4 : 8;
  const Checkpoint c = dir.read_checkpoint(bytes, cfg.initial.n, d);
  constexpr index_t chunk = 4096;
  const std::vector<std::unique_ptr<Icnn<double>>> maps =
      variational_icnn_maps(cfg, d, bytes, c.scheme_state, chunk, dir.path("checkpoint.bin"));
  if (index_t(maps.size()) != c.step) {
    throw_bad_input(dir.path("checkpoint.bin") + ": holds " + std::to_string(maps.size()) +
                    " maps for step " + std::to_string(c.step));
  }
  std::vector<double> y;
  index_t m = 0;
  if (o.points.empty()) {
    y = particles(c);
    m = c.n;
  } else {
    const HostMatrix<double> p = read_npy<double>(o.points);
    if (p.cols != d) {
      throw_bad_input("--points: " + o.points + " has d = " + std::to_string(p.cols) +
                      ", the run has d = " + std::to_string(d));
    }
    y = p.data;
    m = p.rows;
  }
  std::vector<double> logp;
  IcnnInversion inv;
  if (maps.empty()) {  // step 0: P_0 itself
    for (index_t i = 0; i < m; ++i) logp.push_back(p0.log_density(y.data() + i * d));
  } else {
    std::vector<Icnn<double>*> ptrs;
    for (const auto& p : maps) ptrs.push_back(p.get());
    const Context cpu(Device::cpu, 1);
    logp = pullback_log_density(
        cpu, ptrs, [&](const double* x) { return p0.log_density(x); }, y.data(), m, &inv);
  }
  const std::string out =
      o.out.empty() ? dir.path("log_density_" + RunDirectory::step_name(c.step) + ".npy") : o.out;
  write_npy_vector(out, logp.data(), m);
  double mean = 0;
  for (double v : logp) mean += v / double(m);
  JsonObject j;
  j.add("out", out)
      .add("run", o.run)
      .add("step", c.step)
      .add("time", c.time)
      .add("points", m)
      .add("d", d)
      .add("maps", index_t(maps.size()))
      .add("newton_iterations", inv.iterations)
      .add("residual", inv.residual)
      .add("mean_log_density", mean);
  std::printf("%s\n", j.str().c_str());
  return 0;
}

CommandRegistrar reg_cmd_density(
    "density",
    "Log-densities of a variational run with ICNN maps (network.kind = \"icnn\") at its "
    "checkpoint's step, by inverting the maps (eqs. (15)-(16))",
    [](CLI::App& sub, const GlobalOptions&) {
      auto o = std::make_shared<DensityCliOptions>();
      sub.add_option("RUN_DIR", o->run, "A run directory of `nwgf run`")->required();
      sub.add_option("--points", o->points,
                     "An (m, d) .npy of points (default: the run's particles at that step)");
      sub.add_option("--out", o->out,
                     "Output .npy of the m log-densities (default RUN_DIR/"
                     "log_density_step_NNNNNN.npy)");
      return [o] { return run_density(*o); };
    });

}  // namespace
}  // namespace nwgf::cli

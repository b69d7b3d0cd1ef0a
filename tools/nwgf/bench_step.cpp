// `nwgf bench step --scheme backward|forward|particle|ift|variational ...`: median seconds per
// training iteration (neural schemes) or per particle step, on the interaction energy, or on the
// MMD to a Gaussian target of --target-n points (ift always: m = n where not given) with the
// Riesz or Gaussian --kernel; the variational scheme on KL to N(0, Id). `--scheme particle
// --target-n M --kernel K` is the MMD-flow iteration an ift iteration compares with.
// Prints one JSON line.
#include <cstdio>
#include <memory>
#include <sstream>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/io/json.hpp"
#include "nwgf/engine/scaling.hpp"
#include "nwgf/engine/simd.hpp"
#include "nwgf/engine/threads.hpp"
#include "nwgf/schemes/functional.hpp"
#include "nwgf/schemes/measures.hpp"
#include "nwgf/schemes/schemes.hpp"
#include "tools/nwgf/bench.hpp"

namespace nwgf::cli {
namespace {

struct StepArgs {
  std::string scheme = "backward", estimator = "exact", hidden = "128,128,128", backend = "auto";
  std::string dtype = "auto", kernel = "riesz", weight_step = "pgd";
  index_t n = 6000, d = 2, batch = 6000, directions = 256, target_n = 0;
  double r = 1, tau = 0.05, gamma = 1, eta = 0.1;
  int repeats = 5;
};

template <class T>
int bench(const GlobalOptions& g, const StepArgs& a, FlowConfig cfg) {
  Context ctx(parse_backend(a.backend), g.threads);
  set_threads(ctx.threads());
  // Samples spread like the flow after a few steps (a small Gaussian), so no pair coincides.
  MeasureConfig m;
  m.kind = MeasureKind::gaussian;
  m.n = a.n;
  m.d = a.d;
  m.radius = 0.1;
  const auto x0 = sample_measure(m, 1, 1, "bench");
  Points<T> x(ctx, a.n, a.d);
  const std::vector<T> h(x0.data.begin(), x0.data.end());
  copy_from_host(ctx, x.buffer(), h.data(), index_t(h.size()));
  std::vector<WeightedPoints> targets;
  if (cfg.functional == FunctionalKind::mmd) {
    targets.push_back(target_measure(cfg.target, cfg.seed, random_stream(RandomPurpose::target, 0),
                                     "target", true));
  }
  auto f = make_functional<T>(ctx, cfg, a.d, std::max(a.n, 2 * a.batch), targets);
  auto s = make_scheme<T>(ctx, cfg, *f, a.n, a.d);
  index_t it = 0;
  const Timing t = time_repeats(
      [&] {
        s->iterate(ctx, x, 1, it++, a.tau);
        ctx.synchronize();
      },
      a.repeats);
  JsonObject o;
  o.add("bench", "step").add("scheme", a.scheme).add("estimator", a.estimator);
  o.add("simd", simd_target());
  o.add("backend", to_string(ctx.device())).add("threads", ctx.threads());
  o.add("dtype", to_string(dtype_of<T>())).add("n", (long long)a.n).add("d", (long long)a.d);
  o.add("r", a.r).add("batch", (long long)a.batch).add("hidden", a.hidden);
  if (a.estimator == "sliced") o.add("directions", (long long)a.directions);
  if (cfg.functional == FunctionalKind::mmd) {
    o.add("target_n", (long long)cfg.target.n).add("kernel", a.kernel);
    if (cfg.kernel == KernelKind::gaussian) o.add("gamma", a.gamma);
  }
  if (cfg.scheme == SchemeKind::ift) o.add("weight_step", a.weight_step).add("eta", a.eta);
  o.add("seconds", t.median).add("min", t.min).add("max", t.max).add("repeats", t.repeats);
  std::printf("%s\n", o.str().c_str());
  return 0;
}

int run_bench(const GlobalOptions& g, const StepArgs& a) {
  FlowConfig cfg;
  cfg.scheme = enum_from_text<SchemeKind>(a.scheme, "--scheme");
  cfg.r = a.r;
  cfg.estimator = enum_from_text<Estimator>(a.estimator, "--estimator");
  cfg.directions = a.directions;
  cfg.tau = a.tau;
  cfg.steps = 1;
  cfg.dtype = enum_from_text<DTypeChoice>(a.dtype, "--dtype");
  cfg.batch = a.batch;
  cfg.initial.kind = MeasureKind::gaussian;
  cfg.initial.n = a.n;
  cfg.initial.d = a.d;
  cfg.initial.radius = 0.1;
  cfg.hidden.clear();
  for (const long long w : parse_int_list(a.hidden, "--hidden")) cfg.hidden.push_back(index_t(w));
  if (cfg.scheme == SchemeKind::variational) {  // KL to N(0, Id): one map and J_2 critic steps
    cfg.functional = FunctionalKind::kl;
    cfg.target.kind = MeasureKind::gaussian;
    cfg.target.d = a.d;
    cfg.target.radius = 1;
  }
  if (a.target_n < 0) throw_bad_input("--target-n: must be >= 0");
  if (cfg.scheme == SchemeKind::ift || a.target_n > 0) {  // the MMD to N(0, Id) samples
    cfg.functional = FunctionalKind::mmd;
    cfg.kernel = enum_from_text<KernelKind>(a.kernel, "--kernel");
    cfg.gamma = a.gamma;
    cfg.target.kind = MeasureKind::gaussian;
    cfg.target.n = a.target_n > 0 ? a.target_n : a.n;
    cfg.target.d = a.d;
    cfg.target.radius = 1;
    cfg.ift.weight_step = enum_from_text<WeightStep>(a.weight_step, "--weight-step");
    cfg.ift.eta = a.eta;
  } else if (a.kernel != "riesz") {
    throw_bad_input("--kernel: a kernel other than riesz needs an MMD target (--target-n or "
                    "--scheme ift)");
  }
  validate(cfg);
  if (resolved_dtype(cfg) == DType::f64) return bench<double>(g, a, cfg);
  return bench<float>(g, a, cfg);
}

BenchRegistrar reg_bench_step("step", "Seconds per training iteration (neural schemes) or particle step",
                   [](CLI::App& sub, const GlobalOptions& g) {
                     auto a = std::make_shared<StepArgs>();
                     sub.add_option("--scheme", a->scheme,
                                    "backward | forward | particle | ift | variational");
                     sub.add_option("--n", a->n, "Samples");
                     sub.add_option("--d", a->d, "Dimension");
                     sub.add_option("--r", a->r, "Riesz exponent");
                     sub.add_option("--batch", a->batch, "Batch size (each of the two batches)");
                     sub.add_option("--hidden", a->hidden, "Hidden widths, comma-separated");
                     sub.add_option("--estimator", a->estimator, "exact | sliced");
                     sub.add_option("--directions", a->directions, "Sliced directions");
                     sub.add_option("--dtype", a->dtype, "auto | f32 | f64");
                     sub.add_option("--target-n", a->target_n,
                                    "MMD to N(0, Id): target points (0: no target; ift: n)");
                     sub.add_option("--kernel", a->kernel, "MMD kernel: riesz | gaussian");
                     sub.add_option("--gamma", a->gamma, "gaussian: exp(-gamma |x - y|^2)");
                     sub.add_option("--weight-step", a->weight_step, "ift: pgd | qp | kl | none");
                     sub.add_option("--eta", a->eta, "ift: the weight step size");
                     sub.add_option("--backend", a->backend, "auto | cpu | cuda");
                     sub.add_option("--repeats", a->repeats, "Timed repeats (median)");
                     return [&g, a] { return run_bench(g, *a); };
                   });

}  // namespace
}  // namespace nwgf::cli

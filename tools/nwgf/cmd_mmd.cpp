// `nwgf mmd A.npy B.npy [--r R] [--sliced P]`: MMD^2 (V-statistic, CONTRACT.md convention)
// between two point sets, one JSON object on stdout: mmd2, method, n, m, d, r. Exact for any r;
// with --sliced P the sliced estimate with P directions (r = 1 only, kernels/sliced.hpp). Points
// of either file may be float32 or float64; the sums run in double.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/json.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/kernels/sliced.hpp"
#include "tools/nwgf/command.hpp"

namespace nwgf::cli {
namespace {

struct MmdOptions {
  std::string a_path, b_path;
  double r = 1.0;
  std::string backend = "auto";
  int sliced = 0;  // directions; 0 = exact
  std::uint64_t seed = 0;
};

struct PointSets {
  HostMatrix<double> a, b;
};

PointSets read_and_check(const MmdOptions& o) {
  if (!(o.r > 0.0 && o.r < 2.0) || !std::isfinite(o.r)) {
    throw_bad_input("--r: the Riesz exponent must lie in (0, 2), got " + std::to_string(o.r));
  }
  if (o.sliced > 0 && o.r != 1.0) {
    throw_bad_input("--sliced: the sliced estimate exists for r = 1 only, got --r " + std::to_string(o.r));
  }
  PointSets p{read_npy<double>(o.a_path), read_npy<double>(o.b_path)};
  if (p.a.cols != p.b.cols) {
    throw_bad_input("dimension mismatch: " + o.a_path + " has d = " + std::to_string(p.a.cols) +
                    ", " + o.b_path + " has d = " + std::to_string(p.b.cols));
  }
  return p;
}

// Exact V-statistic over all pairs (kernels/pairwise.hpp).
double exact_mmd2(const Context& ctx, const PointSets& p, double r) {
  Points<double> a(ctx, p.a.rows, p.a.cols), b(ctx, p.b.rows, p.b.cols);
  copy_from_host(ctx, a.buffer(), p.a.data.data(), index_t(p.a.data.size()));
  copy_from_host(ctx, b.buffer(), p.b.data.data(), index_t(p.b.data.size()));
  return mmd2<double>(ctx, std::as_const(a).view(), std::as_const(b).view(), r);
}

// Sliced estimate with P directions from the Philox stream of `seed` (kernels/sliced.hpp).
double sliced_estimate(const Context& ctx, const PointSets& p, int directions, std::uint64_t seed) {
  Points<double> a(ctx, p.a.rows, p.a.cols), b(ctx, p.b.rows, p.b.cols);
  copy_from_host(ctx, a.buffer(), p.a.data.data(), index_t(p.a.data.size()));
  copy_from_host(ctx, b.buffer(), p.b.data.data(), index_t(p.b.data.size()));
  return sliced_mmd2<double>(ctx, std::as_const(a).view(), std::as_const(b).view(), directions, seed);
}

int run_mmd(const MmdOptions& o, const GlobalOptions& g) {
  const PointSets p = read_and_check(o);
  Context ctx(resolve_backend(parse_backend(o.backend)), g.threads);
  const bool sliced = o.sliced > 0;
  const double value = sliced ? sliced_estimate(ctx, p, o.sliced, o.seed) : exact_mmd2(ctx, p, o.r);
  JsonObject out;
  out.add("mmd2", value).add("method", sliced ? "sliced" : "exact");
  if (sliced) out.add("directions", o.sliced).add("seed", (long long)o.seed);
  out.add("n", (long long)p.a.rows).add("m", (long long)p.b.rows).add("d", (long long)p.a.cols);
  out.add("r", o.r).add("backend", to_string(ctx.device()));
  std::printf("%s\n", out.str().c_str());
  return 0;
}

CommandRegistrar reg_cmd_mmd("mmd", "MMD^2 between two point sets (.npy): exact V-statistic, or sliced (r = 1)",
                     [](CLI::App& sub, const GlobalOptions& g) {
                       auto o = std::make_shared<MmdOptions>();
                       sub.add_option("A", o->a_path, "First point set (N, d), .npy")->required();
                       sub.add_option("B", o->b_path, "Second point set (M, d), .npy")->required();
                       sub.add_option("--r", o->r, "Riesz exponent, 0 < r < 2 (default 1)");
                       sub.add_option("--backend", o->backend, "auto|cpu|cuda (default auto)");
                       sub.add_option("--sliced", o->sliced,
                                      "Sliced estimate with P directions (r = 1 only)")
                           ->check(CLI::Range(1, 1 << 20));
                       sub.add_option("--seed", o->seed, "Seed of the sliced directions (default 0)");
                       return [o, &g] { return run_mmd(*o, g); };
                     });

}  // namespace
}  // namespace nwgf::cli

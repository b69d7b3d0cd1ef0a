// Uses the installed library the way an embedding application would: a BLAS call on the chosen
// backend, and a small flow run through the library API with a per-step callback that stops it.
// Compiled against the installed headers alone (see CMakeLists.txt): no CUDA header is reachable.
#include <nwgf/nwgf.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  nwgf::Context ctx(nwgf::BackendChoice::automatic, 1);
  // C = A A^T for a 3 x 2 matrix of Philox normals, checked against a plain loop.
  nwgf::Buffer<double> a(ctx, 6), c(ctx, 9);
  nwgf::rng_normal(ctx, 42, 0, 0, a.data(), 6);
  nwgf::gemm(ctx, nwgf::Op::N, nwgf::Op::T, 3, 3, 2, 1.0, a.data(), 2, a.data(), 2, 0.0, c.data(), 3);
  const auto ah = nwgf::download(ctx, a), ch = nwgf::download(ctx, c);
  double err = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      err = std::fmax(err, std::fabs(ch[3 * i + j] - (ah[2 * i] * ah[2 * j] + ah[2 * i + 1] * ah[2 * j + 1])));
  std::printf("nwgf consumer: backend %s, gemm max error %.3g\n", nwgf::to_string(ctx.device()), err);
  if (err > 1e-12) return 1;

  // The particle flow of the interaction energy (r = 1) from a tiny square around 0, in code.
  nwgf::FlowConfig cfg;
  cfg.seed = 3;
  cfg.scheme = "particle";
  cfg.tau = 0.05;
  cfg.steps = 10;
  cfg.functional = "interaction";
  cfg.r = 1.0;
  cfg.initial.kind = "square";
  cfg.initial.n = 300;
  cfg.initial.d = 2;
  cfg.initial.radius = 1e-9;
  nwgf::RunOptions opt;
  opt.threads = 1;
  opt.progress = false;
  int seen = 0;
  opt.on_step = [&](const nwgf::StepInfo& s, const nwgf::HostMatrix<double>& x) {
    ++seen;
    double r2 = 0;
    for (std::size_t k = 0; k < x.data.size(); ++k) r2 = std::fmax(r2, std::fabs(x.data[k]));
    std::printf("  step %lld  t %.2f  F %.5f  max |x_k| %.4f\n", (long long)s.step, s.time, s.functional, r2);
    return s.step < 4;  // stop after step 4
  };
  const nwgf::RunResult r = nwgf::run_flow(cfg, opt);
  std::printf("nwgf consumer: flow stopped=%d at step %lld, t = %.2f\n", int(r.stopped),
              (long long)r.steps, r.time);
  // The cloud spreads towards the disc of radius t pi/4 of the exact flow.
  double rmax = 0;
  for (nwgf::index_t i = 0; i < r.samples.rows; ++i)
    rmax = std::fmax(rmax, std::hypot(r.samples.data[2 * i], r.samples.data[2 * i + 1]));
  return (r.stopped && r.steps == 4 && seen >= 4 && rmax > 0.05 && rmax < 0.4) ? 0 : 1;
}

// `nwgf bench mlp`: one training step of the generative MLP (forward + reverse + Adam) at the
// paper's sizes, next to the same step's GEMMs alone (same shapes, same run), so the JSON shows
// how close the step is to its GEMM floor. Loss gradient dL/dout is a fixed random matrix.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "nwgf/engine/blas.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/json.hpp"
#include "nwgf/engine/simd.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/engine/threads.hpp"
#include "nwgf/nn/adam.hpp"
#include "nwgf/nn/mlp.hpp"
#include "tools/nwgf/bench.hpp"

namespace nwgf::cli {
namespace {

struct MlpBenchOptions {
  index_t batch = 12000, d = 2, latent = -1;
  std::vector<index_t> hidden = {128, 128, 128};
  std::string dtype = "f32", backend = "cpu";
  int repeats = 10;
};

template <class T>
int run_mlp_bench(const MlpBenchOptions& o, const GlobalOptions& g) {
  const index_t latent = o.latent < 0 ? o.d : o.latent, B = o.batch, in = o.d + latent;
  std::vector<index_t> widths = {in};
  widths.insert(widths.end(), o.hidden.begin(), o.hidden.end());
  widths.push_back(o.d);
  Context ctx(resolve_backend(parse_backend(o.backend)), g.threads);
  Mlp<T> mlp(ctx, widths, B);
  mlp.init(ctx, 1, 0);
  Adam<T> adam(ctx, mlp.num_params());
  Points<T> x(ctx, B, in), y(ctx, B, o.d), dout(ctx, B, o.d);
  rng_normal<T>(ctx, 2, 0, 0, x.data(), B * in);
  rng_normal<T>(ctx, 2, 1, 0, dout.data(), B * o.d);
  PointsView<T> no_din;

  const auto step = [&] {
    mlp.forward(ctx, x.view(), y.view());
    mlp.backward(ctx, dout.view(), no_din);
    adam.step(ctx, mlp.params(), mlp.grads(), 1e-3);
    ctx.synchronize();
  };

  // The step's GEMMs alone: per layer the forward product, dW = g^T h and (except for the first
  // layer) g W, on buffers of the same shapes.
  const index_t L = index_t(widths.size()) - 1;
  index_t max_w = 0;
  for (index_t w : widths) max_w = std::max(max_w, w);
  Buffer<T> act_a(ctx, B * max_w), act_b(ctx, B * max_w), dw(ctx, mlp.num_params());
  rng_normal<T>(ctx, 3, 0, 0, act_a.data(), B * max_w);
  rng_normal<T>(ctx, 3, 1, 0, act_b.data(), B * max_w);
  const auto gemms = [&] {
    for (index_t l = 0; l < L; ++l) {
      const index_t k = widths[l], n = widths[l + 1];
      const T* W = mlp.params() + mlp.weight_offset(l);
      gemm<T>(ctx, Op::N, Op::T, B, n, k, T(1), act_a.data(), k, W, k, T(0), act_b.data(), n);
    }
    for (index_t l = L - 1; l >= 0; --l) {
      const index_t k = widths[l], n = widths[l + 1];
      const T* W = mlp.params() + mlp.weight_offset(l);
      gemm<T>(ctx, Op::T, Op::N, n, k, B, T(1), act_b.data(), n, act_a.data(), k, T(0),
              dw.data() + mlp.weight_offset(l), k);
      if (l > 0)
        gemm<T>(ctx, Op::N, Op::N, B, k, n, T(1), act_b.data(), n, W, k, T(0), act_a.data(), k);
    }
    ctx.synchronize();
  };

  // Interleave the two timings so machine noise hits both alike.
  Timing ts, tg;
  std::vector<double> s_med, g_med;
  for (int round = 0; round < 3; ++round) {
    ts = time_repeats(step, o.repeats, 0.2);
    tg = time_repeats(gemms, o.repeats, 0.2);
    s_med.push_back(ts.median);
    g_med.push_back(tg.median);
  }
  std::sort(s_med.begin(), s_med.end());
  std::sort(g_med.begin(), g_med.end());
  std::string hidden = "[";
  for (std::size_t i = 0; i < o.hidden.size(); ++i)
    hidden += (i ? ", " : "") + std::to_string(o.hidden[i]);
  JsonObject j;
  j.add("bench", "mlp").add("device", to_string(ctx.device())).add("threads", ctx.threads());
  j.add("simd", simd_target());
  j.add("dtype", to_string(dtype_of<T>())).add("batch", (long long)B).add("d", (long long)o.d);
  j.add("latent", (long long)latent).raw("hidden", hidden + "]");
  j.add("num_params", (long long)mlp.num_params());
  j.add("seconds", s_med[1]).add("gemm_seconds", g_med[1]).add("ratio", s_med[1] / g_med[1]);
  j.add("repeats", ts.repeats);
  std::printf("%s\n", j.str().c_str());
  return 0;
}

BenchRegistrar reg_bench_mlp(
    "mlp", "MLP training step (forward + reverse + Adam) vs its GEMMs alone",
    [](CLI::App& sub, const GlobalOptions& g) {
      auto o = std::make_shared<MlpBenchOptions>();
      sub.add_option("--batch", o->batch, "Batch size (rows)");
      sub.add_option("--d", o->d, "Output dimension d");
      sub.add_option("--latent", o->latent, "Latent dimension (default d)");
      sub.add_option("--hidden", o->hidden, "Hidden widths, comma separated")->delimiter(',');
      sub.add_option("--dtype", o->dtype, "f32 | f64");
      sub.add_option("--backend", o->backend, "auto | cpu | cuda");
      sub.add_option("--repeats", o->repeats, "Timed repeats per round (median of 3 rounds)");
      return [o, &g]() -> int {
        if (o->batch < 1) throw_bad_input("--batch: must be positive");
        if (o->d < 1) throw_bad_input("--d: must be positive");
        if (o->latent == 0 || o->latent < -1) throw_bad_input("--latent: must be positive");
        if (o->repeats < 1) throw_bad_input("--repeats: must be positive");
        for (index_t h : o->hidden)
          if (h < 1) throw_bad_input("--hidden: widths must be positive, got " + std::to_string(h));
        return parse_dtype(o->dtype) == DType::f32 ? run_mlp_bench<float>(*o, g)
                                                   : run_mlp_bench<double>(*o, g);
      };
    });

}  // namespace
}  // namespace nwgf::cli

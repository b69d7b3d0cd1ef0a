#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/kernels/sliced.hpp"
#include "nwgf/nn/adam.hpp"
#include "nwgf/nn/mlp.hpp"
#include "nwgf/schemes/functional.hpp"
#include "nwgf/schemes/measures.hpp"
#include "nwgf/schemes/schemes.hpp"
#include "tools/nwgf/bench_sweep.hpp"

namespace nwgf::cli {
namespace {

template <class T>
struct PairwiseState {
  PairwiseState(const Context& ctx, index_t n, index_t d) : x(ctx, n, d), grad(ctx, n, d) {
    rng_uniform<T>(ctx, 1, 0, 0, x.data(), n * d);
  }
  Points<T> x, grad;
  PairwiseWorkspace ws;
};

template <class T>
struct SlicedState {
  SlicedState(const Context& ctx, index_t n, index_t d, int directions)
      : x(ctx, n, d), y(ctx, n, d), grad(ctx, n, d), out(ctx, 2), sliced(ctx, n, n, d, directions) {
    rng_normal<T>(ctx, 1, 0, 0, x.data(), n * d);
    rng_normal<T>(ctx, 1, 1, 0, y.data(), n * d);
    sliced.draw_directions(ctx, 1, 2, 0);
  }
  Points<T> x, y, grad;
  Buffer<double> out;
  SlicedRiesz<T> sliced;
};

template <class T>
struct MlpState {
  MlpState(const Context& ctx, const std::vector<index_t>& widths, index_t n)
      : mlp(ctx, widths, n),
        adam(ctx, mlp.num_params()),
        x(ctx, n, widths.front()),
        y(ctx, n, widths.back()),
        dout(ctx, n, widths.back()) {
    mlp.init(ctx, 1, 0);
    rng_normal<T>(ctx, 2, 0, 0, x.data(), x.n() * x.d());
    rng_normal<T>(ctx, 2, 1, 0, dout.data(), dout.n() * dout.d());
  }
  Mlp<T> mlp;
  Adam<T> adam;
  Points<T> x, y, dout;
};

// One training iteration of the neural forward scheme on the interaction energy with batch N:
// the network on 2N rows, the exact pair terms between the two batches, backward, Adam.
template <class T>
struct StepState {
  StepState(const Context& ctx, index_t n, index_t d, const SweepKernelOptions& o) : x(ctx, n, d) {
    cfg.scheme = SchemeKind::forward;
    cfg.functional = FunctionalKind::interaction;
    cfg.r = o.r;
    cfg.hidden = o.hidden;
    cfg.batch = n;
    // Samples spread like the flow after a few steps (a small Gaussian): no pair coincides.
    MeasureConfig m;
    m.kind = MeasureKind::gaussian;
    m.n = n;
    m.d = d;
    m.radius = 0.1;
    const HostMatrix<double> x0 = sample_measure(m, 1, 1, "sweep");
    const std::vector<T> h(x0.data.begin(), x0.data.end());
    copy_from_host(ctx, x.buffer(), h.data(), index_t(h.size()));
    f = make_functional<T>(ctx, cfg, d, 2 * n, std::vector<WeightedPoints>{});
    s = make_scheme<T>(ctx, cfg, *f, n, d);
  }
  FlowConfig cfg;
  Points<T> x;
  std::unique_ptr<Functional<T>> f;
  std::unique_ptr<Scheme<T>> s;
  index_t it = 0;
};

// The synthetic kernel's state: N "points" in d coordinates that are computed, not stored, so the
// work is all arithmetic whatever N (no cache effects to bend the N^2 curve).
struct SyntheticState {
  index_t n = 0, d = 0;
  double sink = 0;
};

// sum_{i<j} sqrt(1 + sum_k (x_ik - x_jk)^2) with x_ik = sin-free affine coordinates
// (i h + k g): exactly N(N-1)/2 pair evaluations on one thread, a serial dependency chain (no
// vectorised reduction without -ffast-math), so the time per pair is the same at every N.
double synthetic_pairs(const SyntheticState& p) {
  const double h = 1.0 / double(p.n), g = 0.37;
  double s = 0;
  for (index_t i = 0; i < p.n; ++i) {
    for (index_t j = i + 1; j < p.n; ++j) {
      double q = 1;
      for (index_t k = 0; k < p.d; ++k) {
        const double diff = double(i - j) * h + double(k) * g * h;
        q += diff * diff;
      }
      s += std::sqrt(q);
    }
  }
  return s;
}

long long status_kb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string k = std::string(key) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(k, 0) == 0) return std::stoll(line.substr(k.size())) * 1024;
  }
  return -1;
}

}  // namespace

const std::vector<std::string>& sweep_kernel_names() {
  static const std::vector<std::string> names = {"pairwise", "sliced", "mlp", "step",
                                                  "synthetic-n2"};
  return names;
}

template <class T>
SweepKernel make_sweep_kernel(const Context& ctx, const std::string& kernel, index_t n, index_t d,
                              const SweepKernelOptions& o) {
  SweepKernel k;
  if (kernel == "pairwise") {
    auto s = std::make_shared<PairwiseState<T>>(ctx, n, d);
    k.call = [&ctx, s, r = o.r] {
      const ConstPointsView<T> xv = std::as_const(s->x).view();
      riesz_gradient<T>(ctx, xv, nullptr, xv, nullptr, r, T(1), s->grad.view(), false, &s->ws);
      ctx.synchronize();
    };
    k.pairs = double(n) * double(n);
    // Per pair and coordinate a difference, a square-accumulate and a scale-accumulate; the
    // inverse norm and the kernel's factor counted as 2 (a count model: the vector rsqrt with its
    // Newton step, and pow for r != 1, cost more). Traffic: X read, the gradient written.
    k.flops = k.pairs * double(3 * d + 2);
    k.bytes = 2.0 * double(n) * double(d) * sizeof(T);
    k.state = s;
  } else if (kernel == "sliced") {
    auto s = std::make_shared<SlicedState<T>>(ctx, n, d, o.directions);
    const double nn = double(n) * double(n);
    k.call = [&ctx, s, nn] {
      s->sliced.evaluate(ctx, std::as_const(s->x).view(), std::as_const(s->y).view(),
                         s->out.data(), s->out.data() + 1, T(-0.5 / nn), T(1 / nn),
                         s->grad.view(), false);
      ctx.synchronize();
    };
    // The projections and the back-projection: GEMMs of (P, d) by (d, N).
    k.flops = 3 * 2.0 * double(o.directions) * double(d) * double(n);
    // Traffic: both point sets and the directions read, the gradient written (the projections
    // and their sorts are the kernel's intermediates, not counted).
    k.bytes = (3.0 * double(n) * double(d) + double(o.directions) * double(d)) * sizeof(T);
    k.state = s;
  } else if (kernel == "mlp") {
    std::vector<index_t> widths = {2 * d};
    widths.insert(widths.end(), o.hidden.begin(), o.hidden.end());
    widths.push_back(d);
    auto s = std::make_shared<MlpState<T>>(ctx, widths, n);
    k.call = [&ctx, s] {
      s->mlp.forward(ctx, s->x.view(), s->y.view());
      s->mlp.backward(ctx, s->dout.view(), PointsView<T>());
      s->adam.step(ctx, s->mlp.params(), s->mlp.grads(), 1e-3);
      ctx.synchronize();
    };
    // Forward, the weight gradient and (but the first layer) the input gradient: 2 B k n each.
    for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
      k.flops += (l == 0 ? 2 : 3) * 2.0 * double(n) * double(widths[l]) * double(widths[l + 1]);
    }
    // Traffic: the input and the output gradient read, the output written; each hidden layer's
    // activations written by forward and read by backward; the parameters read and written, the
    // gradients written and read, Adam's two moments read and written (7 per parameter).
    k.bytes = double(n) * double(widths.front() + 2 * widths.back()) * sizeof(T);
    for (std::size_t l = 1; l + 1 < widths.size(); ++l) {
      k.bytes += 2.0 * double(n) * double(widths[l]) * sizeof(T);
    }
    k.bytes += 7.0 * double(s->mlp.num_params()) * sizeof(T);
    k.state = s;
  } else if (kernel == "step") {
    auto s = std::make_shared<StepState<T>>(ctx, n, d, o);
    k.call = [&ctx, s] {
      s->s->iterate(ctx, s->x, 1, s->it++, 0.05);
      ctx.synchronize();
    };
    k.state = s;
  } else if (kernel == "synthetic-n2") {
    auto s = std::make_shared<SyntheticState>();
    s->n = n;
    s->d = d;
    k.call = [s] { s->sink += synthetic_pairs(*s); };
    k.pairs = double(n) * double(n - 1) / 2;
    k.flops = k.pairs * double(3 * d + 2);
    k.state = s;
  } else {
    std::string list;
    for (const std::string& name : sweep_kernel_names()) list += (list.empty() ? "" : ", ") + name;
    throw_bad_input("--kernel: '" + kernel + "' is not one of " + list);
  }
  return k;
}

template SweepKernel make_sweep_kernel<float>(const Context&, const std::string&, index_t, index_t,
                                              const SweepKernelOptions&);
template SweepKernel make_sweep_kernel<double>(const Context&, const std::string&, index_t,
                                               index_t, const SweepKernelOptions&);

bool reset_peak_rss() {
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (!f) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

long long peak_rss() { return status_kb("VmHWM"); }
long long current_rss() { return status_kb("VmRSS"); }

}  // namespace nwgf::cli

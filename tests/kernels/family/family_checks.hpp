#pragma once
// The checks every kernel family's test file (tests/kernels/family/test_<family>.cpp) runs, each on
// every backend present: the CPU backend always, the CUDA backend when cuda_status().usable (a
// GPU, or the emulated device of the emulation build, cmake/NwgfEmulate.cmake). Without one, the
// CUDA half is not run and the reason is printed once; with NWGF_TEST_REQUIRE_CUDA=1 (set by the
// emulation build, whose device is always usable) that is a failure instead.
//
// A family is described to the checks by a test-side struct F:
//   F::name                     its name, for messages
//   F::reference(p)             a long-double functor with the interface of kernels/family/pair.hpp
//                               (value, grad_factor, coincident_rate, coincident_grad_factor of
//                               s = |z|^2 and uu = |u|^2), written from the math, not from the
//                               library's functor; p is the family's parameter
//   F::energy<T>(ctx, x, a, y, b, p, out, ws)                     the family's entry points
//   F::gradient<T>(ctx, x, a, y, b, p, scale, grad, accumulate, ws)   (kernels/pairwise.hpp)
//   F::has_directional, and when true
//   F::directional<T>(ctx, x, v, a, y, w, b, p, out, grad_v, grad_w, scale, accumulate,
//                     coincident, ws)
//
// What the checks compare: sums against a naive long-double double loop (reference_sums), the
// gradients against central differences, the self sums (y aliases x) against the ordered sums
// through a copy, scale and accumulate, float against double, and bitwise reproducibility. On
// CUDA each result is also compared with the CPU backend's (the agreement tolerance) and computed
// twice (bitwise equal).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/kernels/pairwise.hpp"

namespace nwgf::family_test {

using LD = long double;

// ---- backends -------------------------------------------------------------------------------------

struct Backend {
  Device device;
  const char* name;
  bool cuda() const { return device == Device::cuda; }
};

// The CPU backend, then CUDA when usable. The first call says why CUDA is left out, if it is.
inline const std::vector<Backend>& backends() {
  static const CudaStatus status = cuda_status();
  static const std::vector<Backend> list = [] {
    std::vector<Backend> b{{Device::cpu, "cpu"}};
    if (status.usable) b.push_back({Device::cuda, "cuda"});
    return b;
  }();
  static bool told = false;
  if (!told) {
    told = true;
    const char* require = std::getenv("NWGF_TEST_REQUIRE_CUDA");
    const std::string why = status.built ? status.reason : "this build has no CUDA backend";
    if (!status.usable && require && std::string(require) == "1") {
      FAIL_CHECK("NWGF_TEST_REQUIRE_CUDA=1 but no usable CUDA device: " << why);
    } else if (!status.usable) {
      MESSAGE("CUDA half not run (CPU backend only): " << why);
    }
  }
  return list;
}

// The emulation build runs every CUDA thread as a fiber on the CPU: checks whose sizes serve the
// CPU's blocking (several row blocks and tiles of its self pass) take smaller ones there, still
// spanning several CUDA blocks and tiles. The Release build runs the full sizes on the CPU and
// on a real GPU.
#ifdef NWGF_CUDA_EMULATE
inline constexpr bool kEmulated = true;
#else
inline constexpr bool kEmulated = false;
#endif

// ---- problems -------------------------------------------------------------------------------------

// X, V: (n, d), a: (n), Y, W: (m, d), b: (m); points and velocities uniform in [-1, 1]^d, weights
// in [0.2, 1.5]. `coincide` rows of X are copies of rows of Y (coincident pairs).
struct Problem {
  index_t n = 0, m = 0, d = 0;
  std::vector<double> x, v, a, y, w, b;
};

inline Problem make_problem(index_t n, index_t m, index_t d, unsigned seed, index_t coincide = 0) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(-1, 1), pos(0.2, 1.5);
  Problem p;
  p.n = n;
  p.m = m;
  p.d = d;
  auto fill = [&](std::vector<double>& vec, index_t k, std::uniform_real_distribution<double>& dist) {
    vec.resize(std::size_t(k));
    for (auto& e : vec) e = dist(gen);
  };
  fill(p.x, n * d, u);
  fill(p.v, n * d, u);
  fill(p.a, n, pos);
  fill(p.y, m * d, u);
  fill(p.w, m * d, u);
  fill(p.b, m, pos);
  for (index_t c = 0; c < coincide; ++c) {
    const index_t i = (7 * c + 3) % n, j = (5 * c + 1) % m;
    for (index_t k = 0; k < d; ++k) p.x[std::size_t(i * d + k)] = p.y[std::size_t(j * d + k)];
  }
  return p;
}

// The problem of a self sum: Y = X, W = V, b = a.
inline Problem self_problem(const Problem& pb) {
  Problem s = pb;
  s.m = pb.n;
  s.y = pb.x;
  s.w = pb.v;
  s.b = pb.a;
  return s;
}

// ---- the long-double reference ---------------------------------------------------------------------

struct Reference {
  LD energy = 0, rate = 0;
  std::vector<LD> grad, grad_v, grad_w;  // dS/dx (n,d), dD/dv (n,d), dD/dw (m,d)
  index_t coincident = 0;
};

// Straight from the definitions in kernels/pairwise.hpp and kernels/family/pair.hpp, for the
// long-double functor k: S = sum a_i b_j k(s), dS/dx_i = sum a_i b_j f(s) z, and per pair of D
// f(s) <z, u> (z != 0) or the coincident rule (z = 0). self: Y = X, W = V, b = a. energy_only:
// S alone (and the coincident count).
template <class K>
Reference reference_sums(const K& k, const Problem& pb, bool weights, bool self,
                         bool energy_only = false) {
  const Problem& q = pb;
  const std::vector<double>& y = self ? q.x : q.y;
  const std::vector<double>& w = self ? q.v : q.w;
  const std::vector<double>& b = self ? q.a : q.b;
  const index_t n = q.n, m = self ? q.n : q.m, d = q.d;
  Reference out;
  out.grad.assign(std::size_t(n * d), 0);
  out.grad_v.assign(std::size_t(n * d), 0);
  out.grad_w.assign(std::size_t(m * d), 0);
  std::vector<LD> z(static_cast<std::size_t>(d)), u(static_cast<std::size_t>(d));
  for (index_t i = 0; i < n; ++i) {
    for (index_t j = 0; j < m; ++j) {
      const LD ab = weights ? LD(q.a[std::size_t(i)]) * LD(b[std::size_t(j)]) : LD(1);
      LD s = 0, zu = 0, uu = 0;
      for (index_t c = 0; c < d; ++c) {
        z[std::size_t(c)] = LD(q.x[std::size_t(i * d + c)]) - LD(y[std::size_t(j * d + c)]);
        u[std::size_t(c)] = LD(q.v[std::size_t(i * d + c)]) - LD(w[std::size_t(j * d + c)]);
        s += z[std::size_t(c)] * z[std::size_t(c)];
        zu += z[std::size_t(c)] * u[std::size_t(c)];
        uu += u[std::size_t(c)] * u[std::size_t(c)];
      }
      out.energy += ab * k.value(s);
      if (energy_only) {
        out.coincident += s > 0 ? 0 : 1;
      } else if (s > 0) {
        const LD f = ab * k.grad_factor(s);
        out.rate += f * zu;
        for (index_t c = 0; c < d; ++c) {
          out.grad[std::size_t(i * d + c)] += f * z[std::size_t(c)];
          out.grad_v[std::size_t(i * d + c)] += f * z[std::size_t(c)];
          out.grad_w[std::size_t(j * d + c)] -= f * z[std::size_t(c)];
        }
      } else {
        ++out.coincident;
        out.rate += ab * k.coincident_rate(uu);
        const LD c0 = ab * k.coincident_grad_factor(uu);
        for (index_t c = 0; c < d; ++c) {
          out.grad_v[std::size_t(i * d + c)] += c0 * u[std::size_t(c)];
          out.grad_w[std::size_t(j * d + c)] -= c0 * u[std::size_t(c)];
        }
      }
    }
  }
  return out;
}

// Largest error of got against want, relative to want's largest entry.
template <class W>
double max_rel(const std::vector<double>& got, const std::vector<W>& want) {
  LD scale = 1e-300L, err = 0;
  for (std::size_t k = 0; k < want.size(); ++k) {
    scale = std::max(scale, std::fabs(LD(want[k])));
    err = std::max(err, std::fabs(LD(got[k]) - LD(want[k])));
  }
  return double(err / scale);
}

// ---- running a family on a backend -----------------------------------------------------------------

template <class T>
Buffer<T> stage(const Context& ctx, const std::vector<double>& host) {
  return upload(ctx, std::vector<T>(host.begin(), host.end()));
}
template <class T>
ConstPointsView<T> points(const Buffer<T>& b, index_t rows, index_t d) {
  return ConstPointsView<T>(b.data(), rows, d, d, b.device());
}
template <class T>
PointsView<T> points(Buffer<T>& b, index_t rows, index_t d) {
  return PointsView<T>(b.data(), rows, d, d, b.device());
}
template <class T>
std::vector<double> fetch(const Context& ctx, const Buffer<T>& b) {
  const std::vector<T> h = download(ctx, b);
  return std::vector<double>(h.begin(), h.end());
}

// What one run of a family's entry points gives (rate, grad_v, grad_w, coincident only for
// families with a directional derivative).
struct Sums {
  double energy = 0, rate = 0;
  std::vector<double> grad, grad_v, grad_w;  // (n,d) (n,d) (m,d)
  index_t coincident = -1;
};

// Every entry point of family F in precision T on ctx's backend (`threads` CPU threads): the
// energy, the gradient (scale grad_scale, overwriting) and the directional derivative (scale 1).
// self: y is the same view as x (and w as v, b as a).
template <class F, class T>
Sums run_sums(const Context& ctx, const Problem& pb, double p, bool weights, bool self,
              T grad_scale = T(1)) {
  const index_t n = pb.n, m = self ? pb.n : pb.m, d = pb.d;
  const Buffer<T> xb = stage<T>(ctx, pb.x), vb = stage<T>(ctx, pb.v), ab = stage<T>(ctx, pb.a);
  Buffer<T> yb, wb, bb;
  if (!self) yb = stage<T>(ctx, pb.y), wb = stage<T>(ctx, pb.w), bb = stage<T>(ctx, pb.b);
  const ConstPointsView<T> x = points(xb, n, d), v = points(vb, n, d);
  const ConstPointsView<T> y = self ? x : points(yb, m, d), w = self ? v : points(wb, m, d);
  const T* a = weights ? ab.data() : nullptr;
  const T* b = weights ? (self ? ab.data() : bb.data()) : nullptr;
  Buffer<T> g(ctx, n * d), gv(ctx, n * d), gw(ctx, m * d);
  Buffer<double> out(ctx, 2);
  PairwiseWorkspace ws;
  Sums s;
  F::template energy<T>(ctx, x, a, y, b, p, out.data(), &ws);
  F::template gradient<T>(ctx, x, a, y, b, p, grad_scale, points(g, n, d), false, &ws);
  if constexpr (F::has_directional) {
    F::template directional<T>(ctx, x, v, a, y, w, b, p, out.data() + 1, points(gv, n, d),
                               points(gw, m, d), T(1), false, &s.coincident, &ws);
  }
  ctx.synchronize();
  const std::vector<double> o = fetch(ctx, out);
  s.energy = o[0];
  s.grad = fetch(ctx, g);
  if constexpr (F::has_directional) {
    s.rate = o[1];
    s.grad_v = fetch(ctx, gv);
    s.grad_w = fetch(ctx, gw);
  }
  return s;
}

// ---- checks ----------------------------------------------------------------------------------------

// Relative tolerances: of the energy, of D (relative to |D| + 1e-3 |S|: D may nearly cancel), and
// of each gradient (relative to its largest entry).
struct Tol {
  double energy, rate, grad;
};
inline Tol operator+(Tol a, Tol b) { return {a.energy + b.energy, a.rate + b.rate, a.grad + b.grad}; }

// The sums of F against reference_sums, on every backend: the CPU within `ref`; CUDA within
// ref + agree of the reference, within `agree` of the CPU's result (energy and D as doctest
// Approx, the gradients as max_rel), and bitwise equal when run again.
// want: reference_sums(F::reference(p), pb, weights, self), computed once for several T.
template <class F, class T>
void check_sums(const Problem& pb, const Reference& want, double p, bool weights, bool self,
                Tol ref, Tol agree) {
  constexpr bool dir = F::has_directional;
  Sums cpu;
  for (const Backend& be : backends()) {
    const Context ctx(be.device, 2);
    const Sums got = run_sums<F, T>(ctx, pb, p, weights, self);
    const Tol tol = be.cuda() ? ref + agree : ref;
    INFO(F::name << " on " << be.name << (sizeof(T) == 4 ? " f32" : " f64") << ": n=" << pb.n
                 << " m=" << (self ? pb.n : pb.m) << " d=" << pb.d << " p=" << p
                 << " weights=" << weights << " self=" << self);
    CHECK(std::fabs(got.energy - double(want.energy)) <= tol.energy * double(std::fabs(want.energy)));
    CHECK(max_rel(got.grad, want.grad) <= tol.grad);
    if constexpr (dir) {
      CHECK(got.coincident == want.coincident);
      const double scale = double(std::fabs(want.rate)) + double(std::fabs(want.energy)) * 1e-3;
      CHECK(std::fabs(got.rate - double(want.rate)) <= tol.rate * scale);
      CHECK(max_rel(got.grad_v, want.grad_v) <= tol.grad);
      CHECK(max_rel(got.grad_w, want.grad_w) <= tol.grad);
    }
    if (!be.cuda()) {
      cpu = got;
      continue;
    }
    CHECK(got.energy == doctest::Approx(cpu.energy).epsilon(agree.energy));
    CHECK(max_rel(got.grad, cpu.grad) <= agree.grad);
    if constexpr (dir) {
      CHECK(got.rate == doctest::Approx(cpu.rate).epsilon(agree.rate));
      CHECK(got.coincident == cpu.coincident);
      CHECK(max_rel(got.grad_v, cpu.grad_v) <= agree.grad);
      CHECK(max_rel(got.grad_w, cpu.grad_w) <= agree.grad);
    }
    const Sums again = run_sums<F, T>(ctx, pb, p, weights, self);
    CHECK(again.energy == got.energy);
    CHECK(again.grad == got.grad);
    if constexpr (dir) {
      CHECK(again.rate == got.rate);
      CHECK(again.grad_v == got.grad_v);
      CHECK(again.grad_w == got.grad_w);
    }
  }
}
template <class F, class T>
void check_sums(const Problem& pb, double p, bool weights, bool self, Tol ref, Tol agree) {
  check_sums<F, T>(pb, reference_sums(F::reference(p), pb, weights, self), p, weights, self, ref,
                   agree);
}

// Central differences (step 1e-6, double, weighted, away from coincidences) on every backend:
// grad_scale * dS/dx against the differences of S in x; for families with D, dD/dv and dD/dw
// against the differences of D, and D against the t-derivative of S(x + t v, y + t w). Every
// third entry; relative tolerance `eps` (doctest Approx).
template <class F>
void check_gradients_fd(index_t n, index_t m, index_t d, double p, unsigned seed,
                        double grad_scale = 2.0, double eps = 1e-6) {
  const Problem pb = make_problem(n, m, d, seed);
  const double h = 1e-6;
  for (const Backend& be : backends()) {
    const Context ctx(be.device, 2);
    INFO(F::name << " on " << be.name << ": d=" << d << " p=" << p);
    const Buffer<double> a = stage<double>(ctx, pb.a), b = stage<double>(ctx, pb.b);
    Buffer<double> out(ctx, 1);
    PairwiseWorkspace ws;
    auto energy_at = [&](const std::vector<double>& x, const std::vector<double>& y) {
      const Buffer<double> xb = stage<double>(ctx, x), yb = stage<double>(ctx, y);
      F::template energy<double>(ctx, points(xb, n, d), a.data(), points(yb, m, d), b.data(), p,
                                 out.data(), &ws);
      return fetch(ctx, out)[0];
    };
    const Buffer<double> xb = stage<double>(ctx, pb.x), yb = stage<double>(ctx, pb.y);
    Buffer<double> g(ctx, n * d);
    F::template gradient<double>(ctx, points(xb, n, d), a.data(), points(yb, m, d), b.data(), p,
                                 grad_scale, points(g, n, d), false, &ws);
    const std::vector<double> gx = fetch(ctx, g);
    for (index_t e = 0; e < n * d; e += 3) {
      auto xp = pb.x, xm = pb.x;
      xp[std::size_t(e)] += h;
      xm[std::size_t(e)] -= h;
      const double fd = (energy_at(xp, pb.y) - energy_at(xm, pb.y)) / (2 * h);
      CHECK(gx[std::size_t(e)] == doctest::Approx(grad_scale * fd).epsilon(eps));
    }
    if constexpr (F::has_directional) {
      auto rate_at = [&](const std::vector<double>& v, const std::vector<double>& w) {
        const Buffer<double> vb = stage<double>(ctx, v), wb = stage<double>(ctx, w);
        F::template directional<double>(ctx, points(xb, n, d), points(vb, n, d), a.data(),
                                        points(yb, m, d), points(wb, m, d), b.data(), p,
                                        out.data(), PointsView<double>{}, PointsView<double>{},
                                        1.0, false, nullptr, &ws);
        return fetch(ctx, out)[0];
      };
      const Buffer<double> vb = stage<double>(ctx, pb.v), wb = stage<double>(ctx, pb.w);
      Buffer<double> gvb(ctx, n * d), gwb(ctx, m * d);
      index_t coinc = -1;
      F::template directional<double>(ctx, points(xb, n, d), points(vb, n, d), a.data(),
                                      points(yb, m, d), points(wb, m, d), b.data(), p, out.data(),
                                      points(gvb, n, d), points(gwb, m, d), 1.0, false, &coinc,
                                      &ws);
      const double rate = fetch(ctx, out)[0];
      const std::vector<double> gv = fetch(ctx, gvb), gw = fetch(ctx, gwb);
      CHECK(coinc == 0);
      for (index_t e = 0; e < n * d; e += 3) {
        auto vp = pb.v, vm = pb.v;
        vp[std::size_t(e)] += h;
        vm[std::size_t(e)] -= h;
        CHECK(gv[std::size_t(e)] ==
              doctest::Approx((rate_at(vp, pb.w) - rate_at(vm, pb.w)) / (2 * h)).epsilon(eps));
      }
      for (index_t e = 0; e < m * d; e += 3) {
        auto wp = pb.w, wm = pb.w;
        wp[std::size_t(e)] += h;
        wm[std::size_t(e)] -= h;
        CHECK(gw[std::size_t(e)] ==
              doctest::Approx((rate_at(pb.v, wp) - rate_at(pb.v, wm)) / (2 * h)).epsilon(eps));
      }
      // D is the t-derivative of S(x + t v, y + t w).
      auto xp = pb.x, xm = pb.x, yp = pb.y, ym = pb.y;
      for (std::size_t k = 0; k < xp.size(); ++k) xp[k] += h * pb.v[k], xm[k] -= h * pb.v[k];
      for (std::size_t k = 0; k < yp.size(); ++k) yp[k] += h * pb.w[k], ym[k] -= h * pb.w[k];
      CHECK(rate == doctest::Approx((energy_at(xp, yp) - energy_at(xm, ym)) / (2 * h)).epsilon(eps));
    }
  }
}

// The self sums (y the same view as x, b = a) against the same sums through a copy of X (the
// ordered path), on every backend: energy within tol (relative), the gradient (scale 1/2, onto
// ones when accumulating, else overwriting) within tol as max_rel and, when element_eps > 0,
// entry by entry (doctest Approx, epsilon element_eps, scale 1e-6).
template <class F, class T>
void check_self_equals_copy(index_t n, index_t d, double p, bool weights, bool accumulate,
                            double tol, double element_eps = 0) {
  const Problem pb = make_problem(n, 1, d, 21u + unsigned(d), 5);
  for (const Backend& be : backends()) {
    const Context ctx(be.device, 2);
    const Buffer<T> xb = stage<T>(ctx, pb.x), copy = stage<T>(ctx, pb.x);
    const Buffer<T> ab = stage<T>(ctx, pb.a), acopy = stage<T>(ctx, pb.a);
    const T* a = weights ? ab.data() : nullptr;
    const T* ac = weights ? acopy.data() : nullptr;
    const ConstPointsView<T> x = points(xb, n, d), xc = points(copy, n, d);
    Buffer<double> out(ctx, 2);
    PairwiseWorkspace ws;
    F::template energy<T>(ctx, x, a, x, a, p, out.data(), &ws);
    F::template energy<T>(ctx, x, a, xc, ac, p, out.data() + 1, &ws);
    const std::vector<double> ones(std::size_t(n * d), 1.0);
    Buffer<T> gs = stage<T>(ctx, ones), go = stage<T>(ctx, ones);
    F::template gradient<T>(ctx, x, a, x, a, p, T(0.5), points(gs, n, d), accumulate, &ws);
    F::template gradient<T>(ctx, x, a, xc, ac, p, T(0.5), points(go, n, d), accumulate, &ws);
    const std::vector<double> e = fetch(ctx, out), g_self = fetch(ctx, gs), g_copy = fetch(ctx, go);
    INFO(F::name << " on " << be.name << (sizeof(T) == 4 ? " f32" : " f64") << ": n=" << n
                 << " d=" << d << " p=" << p << " weights=" << weights);
    CHECK(std::fabs(e[0] - e[1]) <= tol * std::fabs(e[1]));
    CHECK(max_rel(g_self, g_copy) <= tol);
    if (element_eps > 0) {
      for (std::size_t k = 0; k < g_self.size(); ++k) {
        CHECK(g_self[k] == doctest::Approx(g_copy[k]).epsilon(element_eps).scale(1e-6));
      }
    }
  }
}

// Scale and accumulate on every backend: grad <- 1 - s/2 (dS/dx) equals 1 - (1/2) * (the
// gradient written with scale 1). For families with D, the self sum with w = v: grad_v and grad_w
// aliasing one accumulated buffer hold dD/dv + dD/dw = 2 dD/dv.
template <class F>
void check_scale_accumulate(index_t n, index_t d, double p, unsigned seed) {
  const Problem pb = make_problem(n, n, d, seed);
  for (const Backend& be : backends()) {
    const Context ctx(be.device, 2);
    INFO(F::name << " on " << be.name << ": n=" << n << " d=" << d << " p=" << p);
    const Buffer<double> xb = stage<double>(ctx, pb.x), yb = stage<double>(ctx, pb.y);
    const ConstPointsView<double> x = points(xb, n, d), y = points(yb, n, d);
    Buffer<double> g1(ctx, n * d), g2 = stage<double>(ctx, std::vector<double>(std::size_t(n * d), 1.0));
    F::template gradient<double>(ctx, x, nullptr, y, nullptr, p, 1.0, points(g1, n, d), false,
                                 nullptr);
    F::template gradient<double>(ctx, x, nullptr, y, nullptr, p, -0.5, points(g2, n, d), true,
                                 nullptr);
    const std::vector<double> h1 = fetch(ctx, g1), h2 = fetch(ctx, g2);
    for (std::size_t k = 0; k < h1.size(); ++k) CHECK(h2[k] == doctest::Approx(1.0 - 0.5 * h1[k]));
    if constexpr (F::has_directional) {
      const Buffer<double> vb = stage<double>(ctx, pb.v);
      const ConstPointsView<double> v = points(vb, n, d);
      const std::vector<double> zeros(std::size_t(n * d), 0.0);
      Buffer<double> gv = stage<double>(ctx, zeros), both = stage<double>(ctx, zeros);
      Buffer<double> out(ctx, 1);
      F::template directional<double>(ctx, x, v, nullptr, x, v, nullptr, p, out.data(),
                                      points(gv, n, d), PointsView<double>{}, 1.0, false, nullptr,
                                      nullptr);
      F::template directional<double>(ctx, x, v, nullptr, x, v, nullptr, p, out.data(),
                                      points(both, n, d), points(both, n, d), 1.0, true, nullptr,
                                      nullptr);
      const std::vector<double> hv = fetch(ctx, gv), hb = fetch(ctx, both);
      for (std::size_t k = 0; k < hv.size(); ++k) {
        CHECK(hb[k] == doctest::Approx(2 * hv[k]).epsilon(1e-12));
      }
    }
  }
}

// Float against double on the same backend, every backend: the energy and D within Approx
// epsilons, the gradient within grad_tol (max_rel).
template <class F>
void check_float_agrees_double(const Problem& pb, double p, bool weights, bool self,
                               double energy_eps, double rate_eps, double grad_tol) {
  for (const Backend& be : backends()) {
    const Context ctx(be.device, 2);
    const Sums f = run_sums<F, float>(ctx, pb, p, weights, self);
    const Sums g = run_sums<F, double>(ctx, pb, p, weights, self);
    INFO(F::name << " on " << be.name << ": n=" << pb.n << " d=" << pb.d << " p=" << p
                 << " self=" << self);
    CHECK(f.energy == doctest::Approx(g.energy).epsilon(energy_eps));
    if (grad_tol > 0) CHECK(max_rel(f.grad, g.grad) <= grad_tol);
    if constexpr (F::has_directional) {
      if (rate_eps > 0) CHECK(f.rate == doctest::Approx(g.rate).epsilon(rate_eps));
    }
  }
}

// Bitwise reproducibility: on the CPU for 1, 2 and 3 threads (each thread count twice), on CUDA
// twice: the energy, the gradient and, for families with D, D and dD/dw.
template <class F, class T>
void check_reproducible(const Problem& pb, double p, bool weights) {
  for (const Backend& be : backends()) {
    for (int threads : be.cuda() ? std::vector<int>{0} : std::vector<int>{1, 2, 3}) {
      const Context ctx(be.device, threads);
      const Sums a = run_sums<F, T>(ctx, pb, p, weights, false);
      const Sums b = run_sums<F, T>(ctx, pb, p, weights, false);
      INFO(F::name << " on " << be.name << ", " << threads << " threads");
      CHECK(a.energy == b.energy);
      CHECK(a.grad == b.grad);
      if constexpr (F::has_directional) {
        CHECK(a.rate == b.rate);
        CHECK(a.grad_w == b.grad_w);
      }
    }
  }
}

}  // namespace nwgf::family_test

// CPU backend of the fused pairwise Riesz sums (kernels/pairwise.hpp) and the shared front end.
//
// A row pass: threads own contiguous ranges of row blocks (static split, so a fixed thread count
// gives a fixed summation order); each row block of X runs over all of Y in tiles that are copied
// transposed (structure of arrays, (d, JB)) into per-thread scratch, so the innermost loop runs
// over j with unit stride and vectorises. Per-row sums of one tile accumulate in T in SIMD lanes
// and are added to double accumulators; thread partials are summed in thread order.
#include "kernels/pairwise.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/error.hpp"
#include "kernels/pairwise_simd.hpp"
#include "kernels/riesz_math.hpp"

namespace nwgf {

void PairwiseWorkspace::reserve(const Context& ctx, index_t partials) {
  if (partials_.size() < partials || partials_.device() != ctx.device()) {
    partials_ = Buffer<double>(ctx, std::max<index_t>(partials, 1));
  }
  if (count_.size() < 1 || count_.device() != ctx.device()) count_ = Buffer<index_t>(ctx, 1);
}

namespace detail {
namespace {

constexpr index_t kRowBlock = 64;  // rows of X that share one transposed tile of Y
constexpr int kMaxThreads = 1024;
constexpr index_t kRowMajorD = 16;          // from this d on, loops run over k, not j
constexpr index_t kRowMajorTile = 262144;  // bytes of Y per tile in the row-major path

// Columns of Y per tile: about 32 KiB of coordinates, a multiple of 16 (one AVX-512 float vector).
template <class T>
index_t tile_cols(index_t d) {
  const index_t cols = (32768 / index_t(sizeof(T))) / std::max<index_t>(d, 1);
  return std::clamp<index_t>(cols / 16 * 16, 16, 1024);
}

template <class T>
struct Scratch {
  std::vector<T> yt, wt, bt;       // (d, JB), (d, JB), (JB): the tile of Y, W, b
  std::vector<T> s, zu, uu, f, fu;  // (JB) per-pair terms of one row (general d)
  std::vector<double> g;            // (kRowBlock, d) gradient accumulators of a row block
  std::vector<T> gt;                // (d) one row's gradient over one tile (row-major path)
  void reserve(index_t jb, index_t d, bool directional) {
    auto grow = [](auto& v, index_t n) {
      if (index_t(v.size()) < n) v.resize(std::size_t(n));
    };
    grow(yt, jb * d);
    grow(bt, jb);
    grow(s, jb);
    grow(f, jb);
    grow(g, kRowBlock * d);
    grow(gt, d);
    if (directional) {
      grow(wt, jb * d);
      grow(zu, jb);
      grow(uu, jb);
      grow(fu, jb);
    }
  }
};

template <class T>
Scratch<T>& thread_scratch() {
  thread_local Scratch<T> s;
  return s;
}

// Per-row results of one tile.
template <class T>
struct RowTile {
  T value = 0;      // sum_j b_j |z|^r (energy) or the rate sum (directional)
  index_t coincident = 0;
};

// One row x_i (and v_i) against a transposed tile, d known at compile time (D > 0) or not.
// Adds sum_j b_j (f_ij z_ij + fu_ij u_ij) to g (d doubles).
template <class T, PairwisePass P, int D, bool R1>
RowTile<T> row_tile(const T* xi, const T* vi, Scratch<T>& sc, index_t jn, index_t jb, index_t d_rt,
                    T r, double* g) {
  constexpr bool dir = P == PairwisePass::directional;
  const index_t d = D > 0 ? D : d_rt;
  const T* yt = sc.yt.data();
  const T* wt = sc.wt.data();
  const T* bt = sc.bt.data();
  RowTile<T> out;
  if constexpr (D > 0) {
    T xk[D], vk[D], gl[D];
    for (int k = 0; k < D; ++k) {
      xk[k] = xi[k];
      vk[k] = dir ? vi[k] : T(0);
      gl[k] = 0;
    }
    T value = 0;
    index_t cnt = 0;
#pragma omp simd reduction(+ : value, cnt, gl[:D])
    for (index_t j = 0; j < jn; ++j) {
      T z[D], s = 0;
      for (int k = 0; k < D; ++k) {
        z[k] = xk[k] - yt[k * jb + j];
        s += z[k] * z[k];
      }
      const T bj = bt[j];
      if constexpr (P == PairwisePass::energy) {
        value += bj * (R1 ? riesz::power_r1(s) : riesz::power(s, r));
      } else {
        const T f = bj * (R1 ? riesz::grad_factor_r1(s) : riesz::grad_factor(s, r));
        if constexpr (dir) {
          T u[D], zu = 0, uu = 0;
          for (int k = 0; k < D; ++k) {
            u[k] = vk[k] - wt[k * jb + j];
            zu += z[k] * u[k];
            uu += u[k] * u[k];
          }
          const bool coinc = s == T(0);
          const T fu = coinc ? bj * riesz::coincident_grad_factor(uu, R1) : T(0);
          value += f * zu + (coinc ? bj * riesz::coincident_rate(uu, R1) : T(0));
          cnt += coinc ? 1 : 0;
          for (int k = 0; k < D; ++k) gl[k] += f * z[k] + fu * u[k];
        } else {
          for (int k = 0; k < D; ++k) gl[k] += f * z[k];
        }
      }
    }
    for (int k = 0; k < D; ++k) g[k] += double(gl[k]);
    out.value = value;
    out.coincident = cnt;
  } else {
    T* s = sc.s.data();
    T* zu = sc.zu.data();
    T* uu = sc.uu.data();
    T* f = sc.f.data();
    T* fu = sc.fu.data();
    for (index_t j = 0; j < jn; ++j) s[j] = 0;
    if constexpr (dir) {
      for (index_t j = 0; j < jn; ++j) zu[j] = uu[j] = 0;
    }
    for (index_t k = 0; k < d; ++k) {
      const T x = xi[k];
      const T* yk = yt + k * jb;
#pragma omp simd
      for (index_t j = 0; j < jn; ++j) {
        const T z = x - yk[j];
        s[j] += z * z;
      }
      if constexpr (dir) {
        const T v = vi[k];
        const T* wk = wt + k * jb;
#pragma omp simd
        for (index_t j = 0; j < jn; ++j) {
          const T u = v - wk[j];
          zu[j] += (x - yk[j]) * u;
          uu[j] += u * u;
        }
      }
    }
    T value = 0;
    index_t cnt = 0;
    if constexpr (P == PairwisePass::energy) {
#pragma omp simd reduction(+ : value)
      for (index_t j = 0; j < jn; ++j) value += bt[j] * (R1 ? riesz::power_r1(s[j]) : riesz::power(s[j], r));
    } else {
#pragma omp simd reduction(+ : value, cnt)
      for (index_t j = 0; j < jn; ++j) {
        f[j] = bt[j] * (R1 ? riesz::grad_factor_r1(s[j]) : riesz::grad_factor(s[j], r));
        if constexpr (dir) {
          const bool coinc = s[j] == T(0);
          fu[j] = coinc ? bt[j] * riesz::coincident_grad_factor(uu[j], R1) : T(0);
          value += f[j] * zu[j] + (coinc ? bt[j] * riesz::coincident_rate(uu[j], R1) : T(0));
          cnt += coinc ? 1 : 0;
        }
      }
      for (index_t k = 0; k < d; ++k) {
        const T x = xi[k];
        const T* yk = yt + k * jb;
        T acc = 0;
        if constexpr (dir) {
          const T v = vi[k];
          const T* wk = wt + k * jb;
#pragma omp simd reduction(+ : acc)
          for (index_t j = 0; j < jn; ++j) acc += f[j] * (x - yk[j]) + fu[j] * (v - wk[j]);
        } else {
#pragma omp simd reduction(+ : acc)
          for (index_t j = 0; j < jn; ++j) acc += f[j] * (x - yk[j]);
        }
        g[k] += double(acc);
      }
    }
    out.value = value;
    out.coincident = cnt;
  }
  return out;
}

// Large d: one row x_i (and v_i) against rows j0..j0+jn of Y read in place (row-major), the
// loops over k vectorised. Adds sum_j b_j (f_ij z_ij + fu_ij u_ij) to g (d doubles).
template <class T, PairwisePass P, bool R1>
RowTile<T> row_tile_rowmajor(const RowPassArgs<T>& p, const T* xi, const T* vi, index_t j0,
                             index_t jn, T r, T* gt, double* g) {
  constexpr bool dir = P == PairwisePass::directional;
  const index_t d = p.x.cols;
  RowTile<T> out;
  if constexpr (P != PairwisePass::energy) std::fill(gt, gt + d, T(0));
  for (index_t j = j0; j < j0 + jn; ++j) {
    const T* yj = p.y.data + j * p.y.ld;
    const T* wj = dir ? p.w.data + j * p.w.ld : nullptr;
    const T bj = p.b ? p.b[j] : T(1);
    T s = 0;
#pragma omp simd reduction(+ : s)
    for (index_t k = 0; k < d; ++k) s += (xi[k] - yj[k]) * (xi[k] - yj[k]);
    if constexpr (P == PairwisePass::energy) {
      out.value += bj * (R1 ? riesz::power_r1(s) : riesz::power(s, r));
      continue;
    }
    const T f = bj * (R1 ? riesz::grad_factor_r1(s) : riesz::grad_factor(s, r));
    if constexpr (dir) {
      T zu = 0, uu = 0;
#pragma omp simd reduction(+ : zu, uu)
      for (index_t k = 0; k < d; ++k) {
        const T u = vi[k] - wj[k];
        zu += (xi[k] - yj[k]) * u;
        uu += u * u;
      }
      const bool coinc = s == T(0);
      const T fu = coinc ? bj * riesz::coincident_grad_factor(uu, R1) : T(0);
      out.value += f * zu + (coinc ? bj * riesz::coincident_rate(uu, R1) : T(0));
      out.coincident += coinc ? 1 : 0;
#pragma omp simd
      for (index_t k = 0; k < d; ++k) gt[k] += f * (xi[k] - yj[k]) + fu * (vi[k] - wj[k]);
    } else {
#pragma omp simd
      for (index_t k = 0; k < d; ++k) gt[k] += f * (xi[k] - yj[k]);
    }
  }
  if constexpr (P != PairwisePass::energy) {
    for (index_t k = 0; k < d; ++k) g[k] += double(gt[k]);
  }
  return out;
}

// Copies Y (and W, b) rows j0..j0+jn into the transposed tile (d, jb).
template <class T>
void load_tile(const RowPassArgs<T>& p, bool directional, index_t j0, index_t jn, index_t jb,
               Scratch<T>& sc) {
  const index_t d = p.y.cols;
  for (index_t jj = 0; jj < jn; ++jj) {
    const T* yj = p.y.data + (j0 + jj) * p.y.ld;
    for (index_t k = 0; k < d; ++k) sc.yt[std::size_t(k * jb + jj)] = yj[k];
    if (directional) {
      const T* wj = p.w.data + (j0 + jj) * p.w.ld;
      for (index_t k = 0; k < d; ++k) sc.wt[std::size_t(k * jb + jj)] = wj[k];
    }
    sc.bt[std::size_t(jj)] = p.b ? p.b[j0 + jj] : T(1);
  }
}

struct PassResult {
  double value = 0;
  index_t coincident = 0;
};

template <class T, PairwisePass P, int D, bool R1>
PassResult row_pass_cpu(const RowPassArgs<T>& p, int threads) {
  constexpr bool dir = P == PairwisePass::directional;
  const bool write_g = P != PairwisePass::energy && p.g.data != nullptr;
  const index_t n = p.x.rows, m = p.y.rows, d = p.x.cols;
  // d >= kRowMajorD reads Y in place, kRowMajorTile rows (about 256 KiB, L2) per tile.
  const bool row_major = D == 0 && d >= kRowMajorD;
  const index_t jb = row_major ? std::max<index_t>(16, kRowMajorTile / index_t(sizeof(T)) / d)
                               : tile_cols<T>(d);
  const index_t blocks = (n + kRowBlock - 1) / kRowBlock;
  const int nt = std::clamp(threads, 1, kMaxThreads);
  double value_part[kMaxThreads] = {};
  index_t count_part[kMaxThreads] = {};
  const T r = T(p.r);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    const int nth = omp_get_num_threads();
    Scratch<T>& sc = thread_scratch<T>();
    sc.reserve(jb, d, dir);
    double value = 0;
    index_t count = 0;
    for (index_t blk = blocks * t / nth; blk < blocks * (t + 1) / nth; ++blk) {
      const index_t i0 = blk * kRowBlock, i1 = std::min(n, i0 + kRowBlock);
      double row_value[kRowBlock] = {};
      std::fill(sc.g.begin(), sc.g.begin() + (i1 - i0) * d, 0.0);
      for (index_t j0 = 0; j0 < m; j0 += jb) {
        const index_t jn = std::min(jb, m - j0);
        if (!row_major) load_tile(p, dir, j0, jn, jb, sc);
        for (index_t i = i0; i < i1; ++i) {
          const T* xi = p.x.data + i * p.x.ld;
          const T* vi = dir ? p.v.data + i * p.v.ld : nullptr;
          double* gi = sc.g.data() + (i - i0) * d;
#if defined(__AVX512F__)
          if constexpr (R1 && D > 0 && !dir) {
            constexpr bool grad = P == PairwisePass::gradient;
            const T* yt = sc.yt.data();
            const T* bt = sc.bt.data();
            row_value[i - i0] +=
                double(p.b ? avx512_row_tile_r1<T, D, grad, true>(xi, yt, bt, jn, jb, gi)
                           : avx512_row_tile_r1<T, D, grad, false>(xi, yt, bt, jn, jb, gi));
            continue;
          }
          if constexpr (R1 && D > 0 && dir) {
            row_value[i - i0] += double(avx512_row_tile_dir_r1<T, D>(
                xi, vi, sc.yt.data(), sc.wt.data(), sc.bt.data(), jn, jb, gi, count));
            continue;
          }
#endif
          const RowTile<T> rt =
              row_major ? row_tile_rowmajor<T, P, R1>(p, xi, vi, j0, jn, r, sc.gt.data(), gi)
                        : row_tile<T, P, D, R1>(xi, vi, sc, jn, jb, d, r, gi);
          row_value[i - i0] += double(rt.value);
          count += rt.coincident;
        }
      }
      for (index_t i = i0; i < i1; ++i) {
        const double ai = p.a ? double(p.a[i]) : 1.0;
        value += ai * row_value[i - i0];
        if (write_g) {
          T* gi = p.g.data + i * p.g.ld;
          const double* acc = sc.g.data() + (i - i0) * d;
          for (index_t k = 0; k < d; ++k) {
            const T inc = T(double(p.scale) * ai * acc[k]);
            gi[k] = p.accumulate ? gi[k] + inc : inc;
          }
        }
      }
    }
    value_part[t] = value;
    count_part[t] = count;
  }
  PassResult res;
  for (int t = 0; t < nt; ++t) {
    res.value += value_part[t];
    res.coincident += count_part[t];
  }
  return res;
}

template <class T, PairwisePass P, bool R1>
PassResult dispatch_d(const RowPassArgs<T>& p, int threads) {
  switch (p.x.cols) {
    case 1: return row_pass_cpu<T, P, 1, R1>(p, threads);
    case 2: return row_pass_cpu<T, P, 2, R1>(p, threads);
    case 3: return row_pass_cpu<T, P, 3, R1>(p, threads);
    default: return row_pass_cpu<T, P, 0, R1>(p, threads);
  }
}

template <class T, PairwisePass P>
PassResult cpu_row_pass(const RowPassArgs<T>& p, int threads) {
  return p.r == 1.0 ? dispatch_d<T, P, true>(p, threads) : dispatch_d<T, P, false>(p, threads);
}

void check_r(double r) {
  if (!(r > 0.0 && r < 2.0)) {
    throw_bad_input("Riesz exponent r = " + std::to_string(r) + " is outside (0, 2)");
  }
}

template <class T>
void check_points(const Context& ctx, ConstPointsView<T> p, const char* name) {
  if (p.rows < 0 || p.cols < 1 || p.ld < p.cols || (p.rows > 0 && p.data == nullptr)) {
    throw_runtime(std::string("pairwise: bad view ") + name);
  }
  if (p.device != ctx.device()) {
    throw_runtime(std::string("pairwise: ") + name + " is not on the context's device");
  }
}

template <class T>
void check_pair(const Context& ctx, ConstPointsView<T> x, ConstPointsView<T> y, double r) {
  check_r(r);
  check_points(ctx, x, "x");
  check_points(ctx, y, "y");
  if (x.cols != y.cols) {
    throw_bad_input("pairwise: dimension mismatch, x has d = " + std::to_string(x.cols) +
                    ", y has d = " + std::to_string(y.cols));
  }
}

template <class T>
void check_same_shape(const Context& ctx, ConstPointsView<T> p, ConstPointsView<T> ref,
                      const char* name) {
  check_points(ctx, p, name);
  if (p.rows != ref.rows || p.cols != ref.cols) {
    throw_runtime(std::string("pairwise: ") + name + " has the wrong shape");
  }
}

}  // namespace
}  // namespace detail

using detail::PairwisePass;
using detail::RowPassArgs;

template <class T>
void riesz_energy(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                  const T* b, double r, double* out, PairwiseWorkspace* ws) {
  detail::check_pair(ctx, x, y, r);
  RowPassArgs<T> p;
  p.x = x;
  p.a = a;
  p.y = y;
  p.b = b;
  p.r = r;
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) {
    PairwiseWorkspace tmp;
    detail::cuda_row_pass(ctx, PairwisePass::energy, p, out, nullptr, ws ? *ws : tmp);
    return;
  }
#endif
  (void)ws;
  *out = detail::cpu_row_pass<T, PairwisePass::energy>(p, ctx.threads()).value;
}

template <class T>
void riesz_gradient(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                    const T* b, double r, T scale, PointsView<T> grad, bool accumulate,
                    PairwiseWorkspace* ws) {
  detail::check_pair(ctx, x, y, r);
  detail::check_same_shape<T>(ctx, grad, x, "grad");
  RowPassArgs<T> p;
  p.x = x;
  p.a = a;
  p.y = y;
  p.b = b;
  p.r = r;
  p.g = grad;
  p.scale = scale;
  p.accumulate = accumulate;
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) {
    PairwiseWorkspace tmp;
    detail::cuda_row_pass(ctx, PairwisePass::gradient, p, nullptr, nullptr, ws ? *ws : tmp);
    return;
  }
#endif
  (void)ws;
  detail::cpu_row_pass<T, PairwisePass::gradient>(p, ctx.threads());
}

template <class T>
void riesz_directional(const Context& ctx, ConstPointsView<T> x, ConstPointsView<T> v,
                       const T* a, ConstPointsView<T> y, ConstPointsView<T> w, const T* b,
                       double r, double* out, PointsView<T> grad_v, PointsView<T> grad_w, T scale,
                       bool accumulate, index_t* coincident, PairwiseWorkspace* ws) {
  detail::check_pair(ctx, x, y, r);
  detail::check_same_shape(ctx, v, x, "v");
  detail::check_same_shape(ctx, w, y, "w");
  if (grad_v.data) detail::check_same_shape<T>(ctx, grad_v, x, "grad_v");
  if (grad_w.data) detail::check_same_shape<T>(ctx, grad_w, y, "grad_w");
  if (grad_v.data && grad_v.data == grad_w.data && !accumulate) {
    throw_runtime("riesz_directional: grad_v and grad_w alias without accumulate");
  }
  // Row pass over X gives D and dD/dv; the pass over Y with the roles swapped gives dD/dw, since
  // d/dw_j of r|z|^{r-2}<z,u> (z = x_i - y_j) is r|z'|^{r-2} z' with z' = y_j - x_i (and
  // likewise u/|u| -> u'/|u'| at coincident pairs).
  RowPassArgs<T> p;
  p.x = x;
  p.v = v;
  p.a = a;
  p.y = y;
  p.w = w;
  p.b = b;
  p.r = r;
  p.g = grad_v;
  p.scale = scale;
  p.accumulate = accumulate;
  RowPassArgs<T> q = p;
  q.x = y;
  q.v = w;
  q.a = b;
  q.y = x;
  q.w = v;
  q.b = a;
  q.g = grad_w;
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) {
    PairwiseWorkspace tmp;
    PairwiseWorkspace& wsp = ws ? *ws : tmp;
    detail::cuda_row_pass(ctx, PairwisePass::directional, p, out, coincident, wsp);
    if (grad_w.data) {
      detail::cuda_row_pass(ctx, PairwisePass::directional, q, nullptr, nullptr, wsp);
    }
    return;
  }
#endif
  (void)ws;
  const detail::PassResult res = detail::cpu_row_pass<T, PairwisePass::directional>(p, ctx.threads());
  *out = res.value;
  if (coincident) *coincident = res.coincident;
  if (grad_w.data) detail::cpu_row_pass<T, PairwisePass::directional>(q, ctx.threads());
}

template <class T>
double riesz_energy_value(const Context& ctx, ConstPointsView<T> x, const T* a,
                          ConstPointsView<T> y, const T* b, double r) {
  if (!ctx.is_cuda()) {
    double out = 0;
    riesz_energy(ctx, x, a, y, b, r, &out);
    return out;
  }
  Buffer<double> dev(ctx, 1);
  riesz_energy(ctx, x, a, y, b, r, dev.data());
  double out = 0;
  copy_to_host(ctx, &out, dev);
  ctx.synchronize();
  return out;
}

template <class T>
double mmd2(const Context& ctx, ConstPointsView<T> x, ConstPointsView<T> y, double r) {
  detail::check_pair(ctx, x, y, r);
  if (x.rows < 1 || y.rows < 1) throw_bad_input("mmd2: empty point set");
  const double n = double(x.rows), m = double(y.rows);
  const double xy = riesz_energy_value<T>(ctx, x, nullptr, y, nullptr, r) / (n * m);
  const double xx = riesz_energy_value<T>(ctx, x, nullptr, x, nullptr, r) / (n * n);
  const double yy = riesz_energy_value<T>(ctx, y, nullptr, y, nullptr, r) / (m * m);
  return xy - 0.5 * xx - 0.5 * yy;
}

#define NWGF_PAIRWISE_INSTANTIATE(T)                                                             \
  template void riesz_energy<T>(const Context&, ConstPointsView<T>, const T*, ConstPointsView<T>, \
                                const T*, double, double*, PairwiseWorkspace*);                  \
  template void riesz_gradient<T>(const Context&, ConstPointsView<T>, const T*,                  \
                                  ConstPointsView<T>, const T*, double, T, PointsView<T>, bool,  \
                                  PairwiseWorkspace*);                                           \
  template void riesz_directional<T>(const Context&, ConstPointsView<T>, ConstPointsView<T>,     \
                                     const T*, ConstPointsView<T>, ConstPointsView<T>, const T*, \
                                     double, double*, PointsView<T>, PointsView<T>, T, bool,     \
                                     index_t*, PairwiseWorkspace*);                              \
  template double riesz_energy_value<T>(const Context&, ConstPointsView<T>, const T*,            \
                                        ConstPointsView<T>, const T*, double);                   \
  template double mmd2<T>(const Context&, ConstPointsView<T>, ConstPointsView<T>, double);

NWGF_PAIRWISE_INSTANTIATE(float)
NWGF_PAIRWISE_INSTANTIATE(double)
#undef NWGF_PAIRWISE_INSTANTIATE

}  // namespace nwgf

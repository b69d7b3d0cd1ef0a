// CPU backend of the fused pairwise Riesz sums (kernels/pairwise.hpp) and the shared front end.
//
// A row pass: threads own contiguous ranges of row blocks (static split, so a fixed thread count
// gives a fixed summation order); each row block of X runs over all of Y in tiles that are copied
// transposed (structure of arrays, (d, JB)) into per-thread scratch, so the innermost loop runs
// over j with unit stride (d >= 16: Y read in place, rows of it at a time). The pair rows
// themselves (kernels/pairwise_rows.cpp) are Highway SIMD code dispatched by the CPU at run time.
// Per-row sums of one tile accumulate in T in SIMD lanes and are added to double accumulators;
// thread partials are summed in thread order.
#include "kernels/pairwise.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/error.hpp"
#include "engine/simd.hpp"
#include "kernels/mmd_sums.hpp"
#include "kernels/pairwise_rows.hpp"

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
// Rows per block of the symmetric self pass: a block's pass over a tile ends by adding the tile's
// column sums (d jb) to the gradient, so larger blocks spread that cost over more pairs.
constexpr index_t kSelfRowBlock = 256;
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
  std::vector<T> yt, wt, bt;  // (d, JB), (d, JB), (JB): the tile of Y, W, b
  std::vector<T> work;        // the row kernels' scratch (kernels/pairwise_rows.hpp)
  std::vector<double> g;      // (kRowBlock, d) gradient accumulators of a row block
  void reserve(index_t jb, index_t d, bool directional) {
    auto grow = [](auto& v, index_t n) {
      if (index_t(v.size()) < n) v.resize(std::size_t(n));
    };
    // A vector of padding (64 bytes): the row kernels may read a whole vector at the tail.
    const index_t pad = 64 / index_t(sizeof(T));
    grow(yt, jb * d + pad);
    grow(bt, jb + pad);
    grow(work, (d + 2) * std::max(jb, d) + 64);
    grow(g, kRowBlock * d);
    if (directional) grow(wt, jb * d + pad);
  }
};

template <class T>
Scratch<T>& thread_scratch() {
  thread_local Scratch<T> s;
  return s;
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
    if (p.b) sc.bt[std::size_t(jj)] = p.b[j0 + jj];
  }
}

struct PassResult {
  double value = 0;
  index_t coincident = 0;
};

// g_i (+)= scale * a_i * acc (d sums of row i).
template <class T>
void write_gradient_row(const RowPassArgs<T>& p, index_t i, const double* acc) {
  const double ai = p.a ? double(p.a[i]) : 1.0;
  T* gi = p.g.data + i * p.g.ld;
  for (index_t k = 0; k < p.x.cols; ++k) {
    const T inc = T(double(p.scale) * ai * acc[k]);
    gi[k] = p.accumulate ? gi[k] + inc : inc;
  }
}

// What every row kernel call of a pass shares. Reads NWGF_SIMD once, before threads dispatch.
template <class T>
RowBlock<T> row_block_for(PairwisePass pass, const RowPassArgs<T>& p) {
  simd_target();
  RowBlock<T> b;
  b.pass = pass;
  b.power = riesz_power_of(p.r);
  b.r = p.r;
  b.d = p.x.cols;
  b.ldx = p.x.ld;
  return b;
}

// The self sums S(X, X) and dS/dX with a = b and d <= 3 over unordered pairs: the factor of
// (i, j) serves (j, i) too, which halves the work. Row block I pairs with the columns from its
// own first row on; each thread sums both sides of its pairs into a gradient buffer of its own
// (n, d), and the buffers are added in thread order. Blocks go to threads in a snake order
// (0, 1, .., t-1, t-1, .., 0, ...) that evens out the triangle's rows.
template <class T>
PassResult cpu_self_pass(PairwisePass pass, const RowPassArgs<T>& p, int threads) {
  const index_t n = p.x.rows, d = p.x.cols;
  const index_t jb = tile_cols<T>(d);
  const index_t blocks = (n + kSelfRowBlock - 1) / kSelfRowBlock;
  const int nt = int(std::clamp<index_t>(threads, 1, std::min<index_t>(kMaxThreads, blocks)));
  const bool grad = pass == PairwisePass::gradient;
  double value_part[kMaxThreads] = {};
  std::vector<std::vector<double>> g_part(grad ? std::size_t(nt) : 0);
  RowBlock<T> base = row_block_for(pass, p);
  base.symmetric = true;
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    Scratch<T>& sc = thread_scratch<T>();
    sc.reserve(jb, d, false);
    std::vector<double>* gt = grad ? &g_part[std::size_t(t)] : nullptr;
    if (gt) gt->assign(std::size_t(n * d), 0.0);
    double value = 0;
    RowBlock<T> blk = base;
    blk.work = sc.work.data();
    for (index_t bi = 0; bi < blocks; ++bi) {
      const index_t lap = bi / nt, pos = bi % nt;
      if ((lap % 2 == 0 ? pos : nt - 1 - pos) != t) continue;
      const index_t i0 = bi * kSelfRowBlock, i1 = std::min(n, i0 + kSelfRowBlock);
      double row_value[kSelfRowBlock] = {};
      blk.x = p.x.data + i0 * p.x.ld;
      blk.a = p.a ? p.a + i0 : nullptr;
      blk.rows = i1 - i0;
      blk.value = row_value;
      blk.g = gt ? gt->data() + i0 * d : nullptr;
      for (index_t j0 = i0; j0 < n; j0 += jb) {
        blk.jn = std::min(jb, n - j0);
        blk.diag = i0 - j0;
        load_tile(p, false, j0, blk.jn, jb, sc);
        blk.y = sc.yt.data();
        blk.ldy = jb;
        blk.b = p.b ? sc.bt.data() : nullptr;
        blk.g_columns = gt ? gt->data() + j0 * d : nullptr;
        pairwise_rows(blk);
      }
      for (index_t i = i0; i < i1; ++i) value += (p.a ? double(p.a[i]) : 1.0) * row_value[i - i0];
    }
    value_part[t] = value;
  }
  PassResult res;
  for (int t = 0; t < nt; ++t) res.value += 2.0 * value_part[t];
  if (grad && p.g.data) {
#pragma omp parallel for num_threads(nt) schedule(static)
    for (index_t i = 0; i < n; ++i) {
      double acc[3] = {};  // d <= 3 here
      for (index_t k = 0; k < d; ++k) {
        for (int t = 0; t < nt; ++t) acc[k] += g_part[std::size_t(t)][std::size_t(i * d + k)];
      }
      write_gradient_row(p, i, acc);
    }
  }
  return res;
}

template <class T>
PassResult cpu_row_pass(PairwisePass pass, const RowPassArgs<T>& p, int threads) {
  if (pass != PairwisePass::directional && p.x.data == p.y.data && p.x.ld == p.y.ld &&
      p.x.rows == p.y.rows && p.a == p.b && p.x.cols <= 3) {
    return cpu_self_pass(pass, p, threads);
  }
  const bool dir = pass == PairwisePass::directional;
  const bool write_g = pass != PairwisePass::energy && p.g.data != nullptr;
  const index_t n = p.x.rows, m = p.y.rows, d = p.x.cols;
  // d >= kRowMajorD reads Y in place, kRowMajorTile bytes (about 256 KiB, L2) per tile.
  const bool row_major = d >= kRowMajorD;
  const index_t jb = row_major ? std::max<index_t>(16, kRowMajorTile / index_t(sizeof(T)) / d)
                               : tile_cols<T>(d);
  const index_t blocks = (n + kRowBlock - 1) / kRowBlock;
  const int nt = std::clamp(threads, 1, kMaxThreads);
  double value_part[kMaxThreads] = {};
  index_t count_part[kMaxThreads] = {};
  RowBlock<T> base = row_block_for(pass, p);
  base.ldv = dir ? p.v.ld : 0;
  base.transposed = !row_major;
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    const int nth = omp_get_num_threads();
    Scratch<T>& sc = thread_scratch<T>();
    sc.reserve(jb, d, dir);
    double value = 0;
    index_t count = 0;
    RowBlock<T> blk = base;
    blk.work = sc.work.data();
    blk.g = sc.g.data();
    blk.coincident = &count;
    for (index_t bi = blocks * t / nth; bi < blocks * (t + 1) / nth; ++bi) {
      const index_t i0 = bi * kRowBlock, i1 = std::min(n, i0 + kRowBlock);
      double row_value[kRowBlock] = {};
      std::fill(sc.g.begin(), sc.g.begin() + (i1 - i0) * d, 0.0);
      blk.x = p.x.data + i0 * p.x.ld;
      blk.v = dir ? p.v.data + i0 * p.v.ld : nullptr;
      blk.rows = i1 - i0;
      blk.value = row_value;
      for (index_t j0 = 0; j0 < m; j0 += jb) {
        blk.jn = std::min(jb, m - j0);
        if (row_major) {
          blk.y = p.y.data + j0 * p.y.ld;
          blk.ldy = p.y.ld;
          blk.w = dir ? p.w.data + j0 * p.w.ld : nullptr;
          blk.ldw = dir ? p.w.ld : 0;
          blk.b = p.b ? p.b + j0 : nullptr;
        } else {
          load_tile(p, dir, j0, blk.jn, jb, sc);
          blk.y = sc.yt.data();
          blk.w = sc.wt.data();
          blk.ldy = blk.ldw = jb;
          blk.b = p.b ? sc.bt.data() : nullptr;
        }
        pairwise_rows(blk);
      }
      for (index_t i = i0; i < i1; ++i) {
        const double ai = p.a ? double(p.a[i]) : 1.0;
        value += ai * row_value[i - i0];
        if (write_g) write_gradient_row(p, i, sc.g.data() + (i - i0) * d);
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
  *out = detail::cpu_row_pass<T>(PairwisePass::energy, p, ctx.threads()).value;
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
  detail::cpu_row_pass<T>(PairwisePass::gradient, p, ctx.threads());
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
  const detail::PassResult res = detail::cpu_row_pass<T>(PairwisePass::directional, p, ctx.threads());
  *out = res.value;
  if (coincident) *coincident = res.coincident;
  if (grad_w.data) detail::cpu_row_pass<T>(PairwisePass::directional, q, ctx.threads());
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
  const double xy = riesz_energy_value<T>(ctx, x, nullptr, y, nullptr, r);
  const double xx = riesz_energy_value<T>(ctx, x, nullptr, x, nullptr, r);
  const double yy = riesz_energy_value<T>(ctx, y, nullptr, y, nullptr, r);
  return mmd2_from_sums(xy, xx, yy, double(x.rows), double(y.rows), MmdStatistic::v);
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

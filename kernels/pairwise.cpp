// CPU backend of the fused pairwise sums (kernels/pairwise.hpp); the front end that checks the
// arguments and picks the backend is kernels/pairwise_api.cpp.
//
// A row pass: threads own contiguous ranges of row blocks (static split, so a fixed thread count
// gives a fixed summation order); each row block of X runs over all of Y in tiles that are copied
// transposed (structure of arrays, (d, JB)) into per-thread scratch, so the innermost loop runs
// over j with unit stride (from d = 16, 24 or 32 by the SIMD target and T, row_major_from: Y read
// in place, rows of it at a time). The pair rows themselves (kernels/pairwise_rows-inl.h) are
// Highway SIMD code dispatched by the CPU at run time.
// Per-row sums of one tile accumulate in T in SIMD lanes and are added to double accumulators;
// thread partials are summed in thread order (the fixed-order partials of kernels/reduce.hpp).
#include "nwgf/kernels/pairwise.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "nwgf/engine/simd.hpp"
#include "nwgf/kernels/family/gaussian.hpp"
#include "nwgf/kernels/family/gaussian_attraction.hpp"
#include "nwgf/kernels/pairwise_rows.hpp"
#include "nwgf/kernels/reduce.hpp"

namespace nwgf {

namespace detail {
namespace {

// Tile constants of the CPU row passes.
struct CpuPairwisePolicy {
  // Rows of X that share one transposed tile of Y: the row block's gradient accumulators
  // (64 d doubles) stay in L1 beside the tile.
  static constexpr index_t row_block = 64;
  // Rows per block of the symmetric self pass: a block's pass over a tile ends by adding the
  // tile's column sums (d jb) to the gradient, so larger blocks spread that cost over more pairs.
  static constexpr index_t self_row_block = 256;
  static constexpr int max_threads = 1024;
  // From row_major_from<T>() on, loops run over k, not j, and Y is read in place (5x faster at
  // d = 784 than the transposed tiles when introduced), row_major_tile bytes of it (L2) per tile.
  static constexpr index_t row_major_tile = 262144;
  // Bytes of Y per transposed tile (L1 of 32 KiB), in columns a multiple of 16 (one AVX-512
  // float vector), between 16 and 1024.
  static constexpr index_t tile_bytes = 32768;
};
constexpr index_t kRowBlock = CpuPairwisePolicy::row_block;
constexpr index_t kSelfRowBlock = CpuPairwisePolicy::self_row_block;
constexpr int kMaxThreads = CpuPairwisePolicy::max_threads;
constexpr index_t kRowMajorTile = CpuPairwisePolicy::row_major_tile;

// The d from which the row passes read Y in place (row-major rows, vectorised over k) instead of
// in transposed tiles (vectorised over j), for the SIMD target in use and T. Measured with the
// gradient, energy and directional passes of `nwgf bench pairwise`, r = 1 and 1/2, one Zen 4
// thread (README "Performance"), transposed tiles over row-major rows: 512-bit vectors 1.25x to
// 2.3x (double) and 2.2x to 4.8x (float) at d = 16, 1.0x to 3.6x at d = 24, 0.59x to 1.24x at
// d = 32 and 48 for r = 1; 256-bit vectors, float: 1.1x to 3.1x at d = 16, 0.75x (r = 1
// gradient) to 2.1x at d = 24; double: 0.45x to 0.95x at d = 16 (but the r = 1/2 energy, 1.3x).
template <class T>
index_t row_major_from() {
  const int width = simd_width_bytes();
  if (width >= 64) return 32;
  if (width == 32 && sizeof(T) == 4) return 24;
  return 16;
}

// Columns of Y per transposed tile.
template <class T>
index_t tile_cols(index_t d) {
  const index_t cols = (CpuPairwisePolicy::tile_bytes / index_t(sizeof(T))) / std::max<index_t>(d, 1);
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

bool g_one_pair_rows = false;  // set_cpu_one_pair_rows

// What every row kernel call of a pass shares. Reads NWGF_SIMD once, before threads dispatch.
template <class T>
RowBlock<T> row_block_for(PairwisePass pass, const RowPassArgs<T>& p) {
  simd_target();
  RowBlock<T> b;
  b.pass = pass;
  b.family = p.family;
  b.power = p.family == PairFamily::riesz ? riesz_power_of(p.param) : RieszPower::general;
  b.param = p.param;
  b.d = p.x.cols;
  b.ldx = p.x.ld;
  b.one_pair_rows = g_one_pair_rows;
  return b;
}

}  // namespace

void set_cpu_one_pair_rows(bool on) { g_one_pair_rows = on; }

index_t cpu_row_block() { return kRowBlock; }

int cpu_row_threads(int threads) { return std::clamp(threads, 1, kMaxThreads); }

int cpu_self_threads(index_t n, int threads) {
  const index_t blocks = (n + kSelfRowBlock - 1) / kSelfRowBlock;
  return int(std::clamp<index_t>(threads, 1, std::min<index_t>(kMaxThreads, blocks)));
}

namespace {

// Thread t of nt of the self pass (cpu_self_pass): its snake share of the row blocks, summed into
// its own gradient (gt, (n, d)) or row-sum (vt, (n)) buffer (either may be null); returns its
// part of the energy.
template <class T>
double self_thread(const RowPassArgs<T>& p, const RowBlock<T>& base, int t, int nt,
                   std::vector<double>* gt, std::vector<double>* vt) {
  const index_t n = p.x.rows, d = p.x.cols;
  const index_t jb = tile_cols<T>(d);
  const index_t blocks = (n + kSelfRowBlock - 1) / kSelfRowBlock;
  const T* col_weight = vt ? p.b : p.a;
  Scratch<T>& sc = thread_scratch<T>();
  sc.reserve(jb, d, false);
  if (gt) gt->assign(std::size_t(n * d), 0.0);
  if (vt) vt->assign(std::size_t(n), 0.0);
  double value = 0;
  RowBlock<T> blk = base;
  blk.work = sc.work.data();
  for (index_t bi = 0; bi < blocks; ++bi) {
    const index_t lap = bi / nt, pos = bi % nt;
    if ((lap % 2 == 0 ? pos : nt - 1 - pos) != t) continue;
    const index_t i0 = bi * kSelfRowBlock, i1 = std::min(n, i0 + kSelfRowBlock);
    double row_value[kSelfRowBlock] = {};
    blk.x = p.x.data + i0 * p.x.ld;
    blk.a = col_weight ? col_weight + i0 : nullptr;
    blk.rows = i1 - i0;
    blk.value = vt ? vt->data() + i0 : row_value;
    blk.g = gt ? gt->data() + i0 * d : nullptr;
    for (index_t j0 = i0; j0 < n; j0 += jb) {
      blk.jn = std::min(jb, n - j0);
      blk.diag = i0 - j0;
      load_tile(p, false, j0, blk.jn, jb, sc);
      blk.y = sc.yt.data();
      blk.ldy = jb;
      blk.b = p.b ? sc.bt.data() : nullptr;
      blk.g_columns = gt ? gt->data() + j0 * d : nullptr;
      blk.value_columns = vt ? vt->data() + j0 : nullptr;
      pairwise_rows(blk);
    }
    for (index_t i = i0; i < i1; ++i) value += (p.a ? double(p.a[i]) : 1.0) * row_value[i - i0];
  }
  return value;
}

// The self sums S(X, X) and dS/dX with a = b and d <= 3 over unordered pairs: the factor of
// (i, j) serves (j, i) too, which halves the work. Row block I pairs with the columns from its
// own first row on; each thread sums both sides of its pairs into a gradient buffer of its own
// (n, d), and the buffers are added in thread order. Blocks go to threads in a snake order
// (0, 1, .., t-1, t-1, .., 0, ...) that evens out the triangle's rows.
// Row sums (energy with p.values; any a, b the weights of the points as columns) the same way:
// pair (i, j) adds b_j k to row i and b_i k to row j in per-thread buffers (n), and the diagonal
// b_i k(0) is added at the end.
template <class T>
PassResult cpu_self_pass(PairwisePass pass, const RowPassArgs<T>& p, int threads) {
  const index_t n = p.x.rows, d = p.x.cols;
  const int nt = cpu_self_threads(n, threads);
  const bool grad = pass == PairwisePass::gradient;
  const bool row_sums = pass == PairwisePass::energy && p.values != nullptr;
  double value_part[kMaxThreads] = {};
  std::vector<std::vector<double>> g_part(grad ? std::size_t(nt) : 0);
  std::vector<std::vector<double>> v_part(row_sums ? std::size_t(nt) : 0);
  RowBlock<T> base = row_block_for(pass, p);
  base.symmetric = true;
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    std::vector<double>* gt = grad ? &g_part[std::size_t(t)] : nullptr;
    std::vector<double>* vt = row_sums ? &v_part[std::size_t(t)] : nullptr;
    value_part[t] = self_thread(p, base, t, nt, gt, vt);
  }
  PassResult res;
  // The diagonal pairs (z = 0) for the families with k(0) != 0 (Riesz, quartic_quadratic and
  // log_quadratic have k(0) = 0).
  double k0 = 0;
  if (p.family == PairFamily::gaussian || p.family == PairFamily::gaussian_attraction) {
    k0 = double(p.family == PairFamily::gaussian ? GaussianPair<T>::make(p.param).value(T(0))
                                                 : GaussianAttractionPair<T>::make(p.param).value(T(0)));
  }
  if (row_sums) {
    std::vector<double> full(static_cast<std::size_t>(n));
#pragma omp parallel for num_threads(nt) schedule(static)
    for (index_t i = 0; i < n; ++i) {
      double v = k0 * (p.b ? double(p.b[i]) : 1.0);
      for (int t = 0; t < nt; ++t) v += v_part[std::size_t(t)][std::size_t(i)];
      full[std::size_t(i)] = v;
      const T inc = T(double(p.scale) * (p.a ? double(p.a[i]) : 1.0) * v);
      p.values[i] = p.accumulate ? p.values[i] + inc : inc;
    }
    for (index_t i = 0; i < n; ++i) res.value += (p.a ? double(p.a[i]) : 1.0) * full[std::size_t(i)];
    return res;
  }
  res.value = 2.0 * sum_in_order(value_part, nt);  // each unordered pair stands for two
  // The diagonal: sum_i a_i^2 k(0).
  if (k0 != 0) {
    double diag = 0;
    for (index_t i = 0; i < n; ++i) diag += p.a ? double(p.a[i]) * double(p.a[i]) : 1.0;
    res.value += k0 * diag;
  }
  if (grad && p.g.data) {
    // A row's d sums in a buffer of d (d <= 3 here), not a fixed double[3]: GCC 12 at
    // -march=native on AVX-512 (NWGF_NATIVE) warned that one might be read uninitialised.
#pragma omp parallel num_threads(nt)
    {
      std::vector<double> acc(static_cast<std::size_t>(d));
#pragma omp for schedule(static)
      for (index_t i = 0; i < n; ++i) {
        for (index_t k = 0; k < d; ++k) {
          double sum = 0;
          for (int t = 0; t < nt; ++t) sum += g_part[std::size_t(t)][std::size_t(i * d + k)];
          acc[std::size_t(k)] = sum;
        }
        write_gradient_row(p, i, acc.data());
      }
    }
  }
  return res;
}

}  // namespace

template <class T>
bool cpu_takes_self_pass(PairwisePass pass, const RowPassArgs<T>& p) {
  // Y = X and d <= 3: over unordered pairs (the energy's row sums with any weights; the sums
  // and gradients with a = b).
  const bool self = p.x.data == p.y.data && p.x.ld == p.y.ld && p.x.rows == p.y.rows &&
                    p.x.cols <= 3;
  return self && ((pass == PairwisePass::energy && (p.values || p.a == p.b)) ||
                  (pass == PairwisePass::gradient && p.a == p.b));
}

template <class T>
std::vector<std::vector<double>> cpu_self_gradient_buffers(const RowPassArgs<T>& p, int nt, int t0,
                                                           int t1, int threads) {
  const int count = std::max(t1 - t0, 0);
  std::vector<std::vector<double>> part(static_cast<std::size_t>(count));
  if (count == 0) return part;
  RowBlock<T> base = row_block_for(PairwisePass::gradient, p);
  base.symmetric = true;
  const int nth = std::clamp(std::min(threads, count), 1, kMaxThreads);
#pragma omp parallel for num_threads(nth) schedule(static, 1)
  for (int t = t0; t < t1; ++t) self_thread(p, base, t, nt, &part[std::size_t(t - t0)], nullptr);
  return part;
}

template <class T>
void cpu_write_gradient(const RowPassArgs<T>& p, const double* acc, int threads) {
  const index_t n = p.x.rows, d = p.x.cols;
#pragma omp parallel for num_threads(std::clamp(threads, 1, kMaxThreads)) schedule(static)
  for (index_t i = 0; i < n; ++i) write_gradient_row(p, i, acc + i * d);
}

template <class T>
index_t cpu_column_tile(index_t d) {
  // d >= row_major_from<T>() reads Y in place, kRowMajorTile bytes (about 256 KiB, L2) per tile.
  return d >= row_major_from<T>() ? std::max<index_t>(16, kRowMajorTile / index_t(sizeof(T)) / d)
                                  : tile_cols<T>(d);
}

template <class T>
void cpu_rows_against_tiles(PairwisePass pass, const RowPassArgs<T>& p, double* acc_value,
                            double* acc_g, int threads, const std::function<void()>& progress,
                            index_t* coincident) {
  const index_t n = p.x.rows, m = p.y.rows, d = p.x.cols;
  if (n == 0 || m == 0) return;
  const bool dir = pass == PairwisePass::directional;
  const bool row_major = d >= row_major_from<T>();
  const index_t jb = cpu_column_tile<T>(d);
  const index_t blocks = (n + kRowBlock - 1) / kRowBlock;
  const int nt = std::clamp(threads, 1, kMaxThreads);
  index_t count_part[kMaxThreads] = {};
  RowBlock<T> base = row_block_for(pass, p);
  base.ldv = dir ? p.v.ld : 0;
  base.transposed = !row_major;
  const bool grad = pass != PairwisePass::energy;
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    const int nth = omp_get_num_threads();
    Scratch<T>& sc = thread_scratch<T>();
    sc.reserve(jb, d, dir);
    std::vector<double> row_value(static_cast<std::size_t>(kRowBlock));
    index_t count = 0;
    RowBlock<T> blk = base;
    blk.work = sc.work.data();
    blk.value = row_value.data();
    blk.coincident = &count;
    for (index_t bi = blocks * t / nth; bi < blocks * (t + 1) / nth; ++bi) {
      const index_t i0 = bi * kRowBlock, i1 = std::min(n, i0 + kRowBlock);
      blk.x = p.x.data + i0 * p.x.ld;
      blk.v = dir ? p.v.data + i0 * p.v.ld : nullptr;
      blk.rows = i1 - i0;
      // The rows' accumulators themselves: a tile adds to them exactly as it adds to a row
      // block's in cpu_row_pass (which starts them at 0 and walks every tile in order).
      blk.g = grad ? acc_g + i0 * d : sc.g.data();
      blk.value = acc_value ? acc_value + i0 : row_value.data();
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
      if (t == 0 && progress) progress();
    }
    count_part[t] = count;
  }
  if (coincident) {
    for (int t = 0; t < nt; ++t) *coincident += count_part[t];
  }
}

template <class T>
void cpu_write_rows(const RowPassArgs<T>& p, const double* acc_value, const double* acc_g,
                    int threads) {
  const index_t n = p.x.rows, d = p.x.cols;
#pragma omp parallel for num_threads(std::clamp(threads, 1, kMaxThreads)) schedule(static)
  for (index_t i = 0; i < n; ++i) {
    if (p.g.data && acc_g) write_gradient_row(p, i, acc_g + i * d);
    if (p.values && acc_value) {
      const double ai = p.a ? double(p.a[i]) : 1.0;
      const T inc = T(double(p.scale) * ai * acc_value[i]);
      p.values[i] = p.accumulate ? p.values[i] + inc : inc;
    }
  }
}

template <class T>
PassResult cpu_row_pass(PairwisePass pass, const RowPassArgs<T>& p, int threads) {
  if (cpu_takes_self_pass(pass, p)) return cpu_self_pass(pass, p, threads);
  const bool dir = pass == PairwisePass::directional;
  const bool write_g = pass != PairwisePass::energy && p.g.data != nullptr;
  const bool write_values = p.values != nullptr &&
                            (pass == PairwisePass::energy || pass == PairwisePass::value_gradient);
  const index_t n = p.x.rows, m = p.y.rows, d = p.x.cols;
  // d >= row_major_from<T>() reads Y in place, kRowMajorTile bytes (about 256 KiB, L2) per tile.
  const bool row_major = d >= row_major_from<T>();
  const index_t jb = cpu_column_tile<T>(d);
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
        if (write_values) {
          const T inc = T(double(p.scale) * ai * row_value[i - i0]);
          p.values[i] = p.accumulate ? p.values[i] + inc : inc;
        }
      }
    }
    value_part[t] = value;
    count_part[t] = count;
  }
  PassResult res;
  res.value = sum_in_order(value_part, nt);
  for (int t = 0; t < nt; ++t) res.coincident += count_part[t];
  return res;
}

#define NWGF_CPU_PASS_INSTANTIATE(T)                                                            \
  template PassResult cpu_row_pass<T>(PairwisePass, const RowPassArgs<T>&, int);                \
  template bool cpu_takes_self_pass<T>(PairwisePass, const RowPassArgs<T>&);                    \
  template std::vector<std::vector<double>> cpu_self_gradient_buffers<T>(const RowPassArgs<T>&, \
                                                                         int, int, int, int);   \
  template void cpu_write_gradient<T>(const RowPassArgs<T>&, const double*, int);             \
  template index_t cpu_column_tile<T>(index_t);                                                 \
  template void cpu_rows_against_tiles<T>(PairwisePass, const RowPassArgs<T>&, double*,         \
                                          double*, int, const std::function<void()>&,           \
                                          index_t*);                                            \
  template void cpu_write_rows<T>(const RowPassArgs<T>&, const double*, const double*, int);
NWGF_CPU_PASS_INSTANTIATE(float)
NWGF_CPU_PASS_INSTANTIATE(double)
#undef NWGF_CPU_PASS_INSTANTIATE

}  // namespace detail
}  // namespace nwgf

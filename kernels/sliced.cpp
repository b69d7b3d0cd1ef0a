#include "nwgf/kernels/sliced.hpp"

#include <omp.h>
#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <numbers>
#include <string>
#include <type_traits>

#include "nwgf/engine/blas.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/engine/trace.hpp"
#include "nwgf/kernels/mmd_sums.hpp"
#include "nwgf/kernels/radix_sort.hpp"
#include "nwgf/kernels/sliced_math.hpp"
#include "nwgf/kernels/vq_sort.hpp"

namespace nwgf {

double sliced_constant(index_t d) {
  const double h = 0.5 * double(d);
  return std::sqrt(std::numbers::pi) * std::exp(std::lgamma(h + 0.5) - std::lgamma(h));
}

namespace {

using detail::SlicedCpuSort;

// Where NWGF_SLICED_CPU is auto (or unset): f64 workspaces sized for at least this many keys per
// direction (max N + max M) sort with Highway's vectorised quicksort, smaller ones with the radix
// pairs; f32 always sorts packed. Measured with `nwgf bench sliced` (README, Performance; Zen 4,
// one thread): f64 radix pairs faster up to 1.7e5 keys, vqsort from 2e5 (1.2x) to 2e7 (1.7x);
// f32 packed faster or level at every size from 2e4 to 2e7 keys.
constexpr index_t kVqsortMinF64 = 180000;

// The CPU sort: NWGF_SLICED_CPU=pairs|packed|vqsort forces one (for A/B timings; packed is f32
// only, f64 sorts pairs for it: a 64-bit key leaves no room for the index; vqsort takes the
// radix sort where Highway's sort would run scalar code), auto picks by size.
template <class T>
SlicedCpuSort sliced_cpu_sort(index_t total) {
  const char* env = std::getenv("NWGF_SLICED_CPU");
  const std::string name = env ? env : "";
  constexpr bool f32 = std::is_same_v<T, float>;
  // Highway's sort only where it has vector code for the SIMD targets allowed now.
  const bool vq = VqSorter::vectorised();
  const SlicedCpuSort radix = f32 ? SlicedCpuSort::packed : SlicedCpuSort::pairs;
  if (name.empty() || name == "auto")
    return !f32 && vq && total >= kVqsortMinF64 ? SlicedCpuSort::vqsort : radix;
  if (name == "packed") return f32 ? SlicedCpuSort::packed : SlicedCpuSort::pairs;
  if (name == "pairs") return SlicedCpuSort::pairs;
  if (name == "vqsort") return vq ? SlicedCpuSort::vqsort : radix;
  throw_bad_input("NWGF_SLICED_CPU: expected auto, packed, pairs or vqsort (got \"" + name + "\")");
}

// Asks Linux for transparent huge pages (THP, "madvise" mode) over the page-aligned part of a
// large CPU buffer: the sort's scatter passes and the gradient writes hit random places in
// arrays of 100s of MB, where 4 KiB pages cost a TLB miss per access (`nwgf bench sliced`,
// f32, d = 2: 1.05x faster at N = 1e6, 1.09x at 1e7 on the development machine). Only a
// hint: ignored where THP is off or unavailable. The pairs path (NWGF_SLICED_CPU=pairs) stays
// as it was, without it.
void advise_huge_pages(void* p, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t kHuge = std::uintptr_t(1) << 21;
  const long page_size = sysconf(_SC_PAGESIZE);
  if (!p || page_size <= 0) return;
  const std::uintptr_t page = std::uintptr_t(page_size), a = std::uintptr_t(p);
  const std::uintptr_t lo = (a + page - 1) / page * page, hi = (a + bytes) / page * page;
  if (hi <= lo || hi - lo < kHuge) return;
  (void)madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

// Elements of projections held per pass: bounds memory at large N while keeping the GEMMs and
// the per-direction work coarse.
constexpr index_t kCpuChunkElements = index_t(1) << 25;
constexpr index_t kCudaChunkElements = index_t(1) << 26;

// The sorted union as the rank pass reads it: key and origin index at sorted position k, and
// whether the keys at positions k <= j are equal (a tie).
template <class T>
struct SortedPairs {  // radix_sort_pairs: a key array and an index array
  const T* keys;
  const std::int32_t* from;
  T key(index_t k) const { return keys[k]; }
  std::int32_t index(index_t k) const { return from[k]; }
  bool tie(index_t k, index_t j) const { return keys[k] == keys[j]; }
};
struct SortedPacked {  // radix_sort_packed, VqSorter::packed: one u64 per element, key bits high,
                       // index low
  const std::uint64_t* e;
  float key(index_t k) const { return radix_packed_key(e[k]); }
  std::int32_t index(index_t k) const { return std::int32_t(radix_packed_index(e[k])); }
  // Equal floats have equal radix bits except -0.0 (bits 0x7fffffff) and +0.0 (0x80000000),
  // which sort next to each other: compared on the bits without decoding.
  bool tie(index_t k, index_t j) const {
    const std::uint32_t a = std::uint32_t(e[k] >> 32), b = std::uint32_t(e[j] >> 32);
    return a == b || (a == 0x7fffffffu && b == 0x80000000u);
  }
};
struct SortedWide {  // VqSorter::wide: an f64 key's bits and its index; ties in any order
  const WideKey* e;
  double key(index_t k) const { return radix_key_of_bits(e[k].bits); }
  std::int32_t index(index_t k) const { return std::int32_t(e[k].index); }
  // As SortedPacked: -0.0 (bits 0x7ff...f) sorts directly before +0.0 (0x800...0).
  bool tie(index_t k, index_t j) const {
    const std::uint64_t a = e[k].bits, b = e[j].bits;
    return a == b || (a == 0x7fffffffffffffffull && b == 0x8000000000000000ull);
  }
};

// One direction on the CPU, after the sort: `sorted` is the union of p = row[0, n) (indices
// 0..n-1) and q = row[n, n + m) in ascending order, so for every element the running counts
// cp, cq say how many p and q lie below it, and one branch-free pass yields all ranks. Writes
// the 1-D sums S_xx, S_xy to sums (2) and, when `grad`, the gradient entries G[s, i] over
// p = row[0, n) (one random write each: tried writing them through destination buckets
// instead, 2^10 sequential streams and cache-local writes, and that measured 10% slower at
// N = 1e6 and 1e7).
template <class T, class Sorted>
void cpu_ranks(const Sorted& sorted, T* row, index_t n, index_t m, T scale_xx, T scale_xy,
               bool grad, double* sums) {
  const index_t total = n + m;
  double vxx = 0, vxy = 0;
  index_t cp = 0, cq = 0;  // p and q strictly below key(k)
  T discard;
  for (index_t k = 0; k < total;) {
    const T v = sorted.key(k);
    if (k + 1 < total && sorted.tie(k, k + 1)) {
      // Tie group [k, e): np points of p and nq of q share the value v.
      index_t e = k + 1;
      while (e < total && sorted.tie(k, e)) ++e;
      index_t np = 0;
      for (index_t j = k; j < e; ++j) np += sorted.index(j) < n;
      const index_t nq = e - k - np;
      const index_t ds = sliced_self_derivative(cp, n - cp - np);
      const index_t dc = sliced_cross_derivative(cq, m - cq - nq);
      const index_t dq = sliced_cross_derivative(cp, n - cp - np);
      vxx += double(v) * double(ds) * double(np);
      vxy += double(v) * (double(dc) * double(np) + double(dq) * double(nq));
      if (grad) {
        const T g = sliced_gradient_entry(ds, dc, scale_xx, scale_xy);
        for (index_t j = k; j < e; ++j)
          if (sorted.index(j) < n) row[sorted.index(j)] = g;
      }
      cp += np;
      cq += nq;
      k = e;
      continue;
    }
    // A value of its own: selects instead of branches (p and q interleave at random).
    const std::int32_t i = sorted.index(k);
    const bool is_p = i < n;
    const index_t ds = sliced_self_derivative(cp, n - cp - 1);
    const index_t dc = sliced_cross_derivative(cq, m - cq);
    const index_t dq = sliced_cross_derivative(cp, n - cp);
    vxx += is_p ? double(v) * double(ds) : 0.0;
    vxy += double(v) * double(is_p ? dc : dq);
    if (grad) *(is_p ? row + i : &discard) = sliced_gradient_entry(ds, dc, scale_xx, scale_xy);
    cp += is_p;
    cq += !is_p;
    ++k;
  }
  sums[0] = vxx;
  sums[1] = vxy;
}

// Per-thread scratch of one direction: 2 (N + M) entries of the sort's layout.
template <class T>
struct DirectionScratch {
  T* keys;  // pairs: keys, keys_tmp = keys + cap; from likewise
  std::int32_t* from;
  std::uint64_t* packed;  // packed: out, tmp = packed + cap; vqsort f32: out
  WideKey* wide;          // vqsort f64: out (cap)
  index_t cap;
  const VqSorter* sorter;  // vqsort: this thread's
};

// One direction: sort row (N + M) = [p | q], then ranks; G overwrites row[0, n).
template <class T>
void cpu_direction(const detail::SlicedWorkspace<T>& ws, const DirectionScratch<T>& sc, T* row,
                   index_t n, index_t m, T scale_xx, T scale_xy, bool grad, double* sums) {
  const index_t total = n + m;
  if constexpr (std::is_same_v<T, float>) {
    if (ws.cpu_sort == SlicedCpuSort::packed) {
      radix_sort_packed(row, total, sc.packed, sc.packed + sc.cap);
      return cpu_ranks<float>(SortedPacked{sc.packed}, row, n, m, scale_xx, scale_xy, grad, sums);
    }
    if (ws.cpu_sort == SlicedCpuSort::vqsort) {
      sc.sorter->packed(row, total, sc.packed);
      return cpu_ranks<float>(SortedPacked{sc.packed}, row, n, m, scale_xx, scale_xy, grad, sums);
    }
  } else {
    if (ws.cpu_sort == SlicedCpuSort::vqsort) {
      sc.sorter->wide(row, total, sc.wide);
      return cpu_ranks<double>(SortedWide{sc.wide}, row, n, m, scale_xx, scale_xy, grad, sums);
    }
  }
  // from: 0..n-1 = p
  radix_sort_pairs<T>(row, nullptr, total, sc.keys, sc.from, sc.keys + sc.cap, sc.from + sc.cap);
  cpu_ranks<T>(SortedPairs<T>{sc.keys, sc.from}, row, n, m, scale_xx, scale_xy, grad, sums);
}

template <class T>
void cpu_evaluate(const Context& ctx, detail::SlicedWorkspace<T>& ws, ConstPointsView<T> x,
                  ConstPointsView<T> y, double* out_xx, double* out_xy, T scale_xx, T scale_xy,
                  PointsView<T> grad, bool accumulate) {
  const index_t n = x.rows, m = y.rows;
  const int S = ws.directions;
  const bool want_grad = grad.data != nullptr && n > 0;
  for (int c0 = 0; c0 < S && n > 0; c0 += ws.chunk) {
    const int sc = std::min(ws.chunk, S - c0);
    detail::cpu_sliced_project(ctx, ws, x, y, c0, sc);
    detail::cpu_sliced_rank(ctx, ws, n, m, c0, 0, sc, scale_xx, scale_xy, want_grad);
    if (want_grad) detail::cpu_sliced_back_project(ctx, ws, n, m, c0, sc, grad, accumulate);
  }
  detail::cpu_sliced_sums(ws, n, out_xx, out_xy);
}

}  // namespace

namespace detail {

template <class T>
void cpu_sliced_project(const Context& ctx, SlicedWorkspace<T>& ws, ConstPointsView<T> x,
                        ConstPointsView<T> y, int c0, int sc) {
  const index_t n = x.rows, m = y.rows, d = ws.d, nm = n + m;
  const T* theta = ws.theta.data() + index_t(c0) * d;  // (sc, d)
  T* proj = ws.proj_x.data();  // (sc, n + m): [X Theta_c^T | Y Theta_c^T], then G in [0, n)
  TraceSpan r(Phase::sliced_project);
  gemm<T>(ctx, Op::N, Op::T, sc, n, d, T(1), theta, d, x.data, x.ld, T(0), proj, nm);
  if (m > 0) gemm<T>(ctx, Op::N, Op::T, sc, m, d, T(1), theta, d, y.data, y.ld, T(0), proj + n, nm);
}

template <class T>
void cpu_sliced_rank(const Context& ctx, SlicedWorkspace<T>& ws, index_t n, index_t m, int c0,
                     int s0, int s1, T scale_xx, T scale_xy, bool grad) {
  const index_t nm = n + m;
  T* proj = ws.proj_x.data();
  const int threads = std::min(ctx.threads(), ws.threads);
  TraceSpan r(Phase::sliced_sort_rank);
#pragma omp parallel num_threads(threads)
  {
    const index_t t = omp_get_thread_num();
    const index_t cap = ws.max_n + ws.max_m;
    std::unique_ptr<VqSorter> sorter;
    DirectionScratch<T> scratch{nullptr, nullptr, nullptr, nullptr, cap, nullptr};
    if (ws.cpu_sort != SlicedCpuSort::pairs) {
      scratch.packed = ws.packed.data() + t * 2 * cap;
      scratch.wide = reinterpret_cast<WideKey*>(scratch.packed);
      if (ws.cpu_sort == SlicedCpuSort::vqsort) {
        sorter = std::make_unique<VqSorter>();
        scratch.sorter = sorter.get();
      }
    } else {
      scratch.keys = ws.sorted.data() + t * 2 * cap;
      scratch.from = ws.order.data() + t * 2 * cap;
    }
#pragma omp for schedule(dynamic, 1)
    for (int s = s0; s < s1; ++s) {
      cpu_direction<T>(ws, scratch, proj + index_t(s) * nm, n, m, scale_xx, scale_xy, grad,
                       ws.sums.data() + 2 * (c0 + s));
    }
  }
}

template <class T>
void cpu_sliced_back_project(const Context& ctx, SlicedWorkspace<T>& ws, index_t n, index_t m,
                             int c0, int sc, PointsView<T> grad, bool accumulate) {
  const index_t d = ws.d, nm = n + m;
  const double factor = sliced_constant(d) / ws.directions;
  const T* theta = ws.theta.data() + index_t(c0) * d;
  TraceSpan r(Phase::sliced_back_project);
  // grad (n, d) (+)= factor G^T Theta_c,  G (sc, n).
  const T beta = (c0 == 0 && !accumulate) ? T(0) : T(1);
  gemm<T>(ctx, Op::T, Op::N, n, d, sc, T(factor), ws.proj_x.data(), nm, theta, d, beta, grad.data,
          grad.ld);
}

template <class T>
void cpu_sliced_sums(const SlicedWorkspace<T>& ws, index_t n, double* out_xx, double* out_xy) {
  const int S = ws.directions;
  const double factor = sliced_constant(ws.d) / S;
  double xx = 0, xy = 0;
  for (int s = 0; s < S && n > 0; ++s) {
    xx += ws.sums.data()[2 * s];
    xy += ws.sums.data()[2 * s + 1];
  }
  if (out_xx) *out_xx = factor * xx;
  if (out_xy) *out_xy = factor * xy;
}

const char* to_string(SlicedCpuSort sort) {
  switch (sort) {
    case SlicedCpuSort::pairs:
      return "pairs";
    case SlicedCpuSort::packed:
      return "packed";
    case SlicedCpuSort::vqsort:
      return "vqsort";
  }
  return "?";
}

}  // namespace detail

template <class T>
SlicedRiesz<T>::SlicedRiesz(const Context& ctx, index_t max_n, index_t max_m, index_t d,
                            int directions, int proj_parts) {
  if (d < 1) throw_bad_input("sliced: dimension d must be >= 1 (got " + std::to_string(d) + ")");
  if (directions < 1)
    throw_bad_input("sliced: number of directions must be >= 1 (got " + std::to_string(directions) +
                    ")");
  if (max_n < 0 || max_m < 0 || max_n >= (index_t(1) << 31) || max_m >= (index_t(1) << 31))
    throw_bad_input("sliced: point counts must lie in [0, 2^31)");
  if (proj_parts < 1) throw_runtime("sliced: proj_parts must be >= 1");
  ws_.proj_parts = proj_parts;
  ws_.max_n = max_n;
  ws_.max_m = max_m;
  ws_.d = d;
  ws_.directions = directions;
  ws_.threads = std::max(1, ctx.threads());
  const index_t per_direction = std::max<index_t>(1, max_n + max_m);
  const index_t budget = ctx.is_cuda() ? kCudaChunkElements : kCpuChunkElements;
  ws_.chunk =
      int(std::clamp<index_t>(budget / per_direction, ctx.is_cuda() ? 1 : ws_.threads, directions));
  // CUDA across proj_parts ranks (whose bits do not depend on the chunk): each rank's share of a
  // chunk is what one GPU's budget holds, so with few directions per budget every rank still
  // sorts some of each chunk.
  if (ctx.is_cuda() && proj_parts > 1) {
    ws_.chunk = int(std::min<index_t>(index_t(ws_.chunk) * proj_parts, directions));
  }
  ws_.chunk = std::min(ws_.chunk, directions);
  ws_.theta = Buffer<T>(ctx, index_t(directions) * d);
  if (ctx.is_cuda()) {
#ifdef NWGF_HAVE_CUDA
    const index_t proj_rows = (index_t(ws_.chunk) + proj_parts - 1) / proj_parts;
    ws_.proj_x = Buffer<T>(ctx, proj_rows * max_n);
    ws_.proj_y = Buffer<T>(ctx, proj_rows * max_m);
    detail::cuda_sliced_prepare(ctx, ws_);
#endif
  } else {
    const index_t proj_rows = (index_t(ws_.chunk) + proj_parts - 1) / proj_parts;
    // Sharded: room for a rank's own projections too (chunk (N + M) / P and at most two 64-row
    // blocks more per direction, kernels/sliced_sharded.cpp), so no buffer of their own.
    const index_t slack = proj_parts > 1 ? index_t(ws_.chunk) * 128 : 0;
    ws_.proj_x = Buffer<T>(ctx, proj_rows * (max_n + max_m) + slack);
    ws_.cpu_sort = sliced_cpu_sort<T>(max_n + max_m);
    const index_t scratch = index_t(ws_.threads) * 2 * (max_n + max_m);
    if (ws_.cpu_sort != SlicedCpuSort::pairs) {
      ws_.packed = Buffer<std::uint64_t>(ctx, scratch);
      advise_huge_pages(ws_.packed.data(), ws_.packed.bytes());
      advise_huge_pages(ws_.proj_x.data(), ws_.proj_x.bytes());
    } else {
      ws_.sorted = Buffer<T>(ctx, scratch);
      ws_.order = Buffer<std::int32_t>(ctx, scratch);
    }
    ws_.sums = Buffer<double>(ctx, 2 * index_t(directions));
  }
  draw_directions(ctx, 0, 0, 0);
}

template <class T>
void SlicedRiesz<T>::draw_directions(const Context& ctx, std::uint64_t seed, std::uint64_t stream,
                                     std::uint64_t counter) {
  const index_t total = index_t(ws_.directions) * ws_.d;
  rng_normal<T>(ctx, seed, stream, counter * std::uint64_t(total), ws_.theta.data(), total);
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_sliced_normalize(ctx, ws_);
#endif
  T* theta = ws_.theta.data();
  for (int s = 0; s < ws_.directions; ++s) normalize_direction(theta + index_t(s) * ws_.d, ws_.d);
}

template <class T>
void SlicedRiesz<T>::evaluate(const Context& ctx, ConstPointsView<T> x, ConstPointsView<T> y,
                              double* out_xx, double* out_xy, T scale_xx, T scale_xy,
                              PointsView<T> grad, bool accumulate,
                              const detail::CudaSortSplit* split) {
  // (Appending piece by piece avoids a GCC 12 -Wrestrict false positive on "(" + string.)
  const auto shape = [](index_t r, index_t c) {
    std::string s(1, '(');
    s.append(std::to_string(r)).append(", ").append(std::to_string(c)).append(")");
    return s;
  };
  if (x.rows > ws_.max_n || (x.rows > 0 && x.cols != ws_.d))
    throw_bad_input("sliced: x has shape " + shape(x.rows, x.cols) + ", workspace holds at most " +
                    shape(ws_.max_n, ws_.d));
  if (y.rows > ws_.max_m || (y.rows > 0 && y.cols != ws_.d))
    throw_bad_input("sliced: y has shape " + shape(y.rows, y.cols) + ", workspace holds at most " +
                    shape(ws_.max_m, ws_.d));
  if (grad.data && (grad.rows != x.rows || grad.cols != ws_.d))
    throw_bad_input("sliced: grad has shape " + shape(grad.rows, grad.cols) + ", expected " +
                    shape(x.rows, ws_.d));
  if (ws_.proj_parts > 1)
    throw_runtime("sliced: a workspace for the sharded evaluation (sliced_gradient_sharded)");
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda())
    return detail::cuda_sliced_evaluate(ctx, ws_, x, y, out_xx, out_xy, scale_xx, scale_xy, grad,
                                        accumulate, split);
#endif
  if (split) throw_runtime("sliced: a sort split is for the CUDA backend");
  cpu_evaluate(ctx, ws_, x, y, out_xx, out_xy, scale_xx, scale_xy, grad, accumulate);
}

template <class T>
double sliced_mmd2(const Context& ctx, ConstPointsView<T> x, ConstPointsView<T> y, int directions,
                   std::uint64_t seed) {
  if (directions < 1)
    throw_bad_input("--sliced: number of directions must be >= 1 (got " +
                    std::to_string(directions) + ")");
  if (x.rows < 1 || y.rows < 1) throw_bad_input("sliced_mmd2: both point sets must be non-empty");
  if (x.cols != y.cols)
    throw_bad_input("sliced_mmd2: dimensions differ (" + std::to_string(x.cols) + " vs " +
                    std::to_string(y.cols) + ")");
  const index_t n = x.rows, m = y.rows;
  SlicedRiesz<T> sliced(ctx, std::max(n, m), m, x.cols, directions);
  sliced.draw_directions(ctx, seed, 0, 0);
  Buffer<double> sums(ctx, 3);  // S_xx, S_xy, S_yy
  sliced.evaluate(ctx, x, y, sums.data(), sums.data() + 1, T(0), T(0), PointsView<T>(), false);
  sliced.evaluate(ctx, y, ConstPointsView<T>(), sums.data() + 2, nullptr, T(0), T(0),
                  PointsView<T>(), false);
  const std::vector<double> s = download(ctx, sums);
  return mmd2_from_sums(s[1], s[0], s[2], double(n), double(m), MmdStatistic::v);
}

template class SlicedRiesz<float>;
template class SlicedRiesz<double>;
#define NWGF_SLICED_CPU_STEPS(T)                                                                 \
  template void detail::cpu_sliced_project<T>(const Context&, detail::SlicedWorkspace<T>&,       \
                                              ConstPointsView<T>, ConstPointsView<T>, int, int); \
  template void detail::cpu_sliced_rank<T>(const Context&, detail::SlicedWorkspace<T>&, index_t, \
                                           index_t, int, int, int, T, T, bool);                  \
  template void detail::cpu_sliced_back_project<T>(const Context&, detail::SlicedWorkspace<T>&,  \
                                                   index_t, index_t, int, int, PointsView<T>,    \
                                                   bool);                                        \
  template void detail::cpu_sliced_sums<T>(const detail::SlicedWorkspace<T>&, index_t, double*,  \
                                           double*);
NWGF_SLICED_CPU_STEPS(float)
NWGF_SLICED_CPU_STEPS(double)
#undef NWGF_SLICED_CPU_STEPS
template double sliced_mmd2<float>(const Context&, ConstPointsView<float>, ConstPointsView<float>,
                                   int, std::uint64_t);
template double sliced_mmd2<double>(const Context&, ConstPointsView<double>,
                                    ConstPointsView<double>, int, std::uint64_t);

}  // namespace nwgf

// CUDA backend of the fused pairwise Riesz sums (kernels/pairwise.hpp).
//
// One thread per row i of X. Tiles of Y (and W, b) are staged in shared memory; every thread
// runs over the tile with its per-row sums in registers. The kernels are generic over the
// family's pair functor K (kernels/family/riesz.hpp: value, gradient factor, coincident rule).
// Scalars: the fixed-order partials of kernels/reduce.cuh (one double per block, then one
// ordered one-block sum). Nothing but the integer coincident count uses atomics, so results are
// deterministic for a given launch configuration.
#include <type_traits>

#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"
#include "nwgf/engine/error.hpp"
#include "nwgf/kernels/family/gaussian.hpp"
#include "nwgf/kernels/family/gaussian_attraction.hpp"
#include "nwgf/kernels/family/log_quadratic.hpp"
#include "nwgf/kernels/family/quartic_quadratic.hpp"
#include "nwgf/kernels/family/pair.hpp"
#include "nwgf/kernels/family/riesz.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/kernels/reduce.cuh"
#include "nwgf/kernels/reduce.hpp"

namespace nwgf::detail {
namespace {

// Launch and tile constants of the pair kernels. Chosen when the kernels were written (on sm_90)
// for occupancy without spills: 128 threads (rows) per block, so that the general kernel's
// per-thread register arrays of kTileJ pairs (s, <z,u>, |u|^2) and its shared slots
// (2 kTileJ kThreads T = 32 KiB in double) leave two blocks per SM; a small-d tile of 128 points
// is one load per thread; kTileK = 32 coordinates (+1 against bank conflicts) per shared chunk.
// tools/check_ptxas.sh checks that no kernel spills.
struct CudaPairwisePolicy {
  static constexpr int threads = 128;     // rows per block
  static constexpr int small_tile = 128;  // points of Y per shared tile, small d
  static constexpr int tile_j = 16;       // points of Y per tile, general d (register arrays)
  static constexpr int tile_k = 32;       // coordinates per shared chunk, general d
};
constexpr int kThreads = CudaPairwisePolicy::threads;
constexpr int kSmallTile = CudaPairwisePolicy::small_tile;
constexpr int kTileJ = CudaPairwisePolicy::tile_j;
constexpr int kTileK = CudaPairwisePolicy::tile_k;

__device__ __forceinline__ void add_count(unsigned long long c, unsigned long long* count) {
  for (int o = 16; o > 0; o >>= 1) c += __shfl_down_sync(0xffffffffu, c, o);
  if (threadIdx.x % 32 == 0 && c > 0) atomicAdd(count, c);
}

// Small d known at compile time: x_i, v_i and the gradient stay in registers. C: a chunk of a
// chunked pass (detail::RowCarry: the rows start from carry.from when set, end in carry.to, and
// are written out when carry.last); without C the kernel is the one-launch pass (carry unused).
// carry.from and carry.to are one buffer passed twice: the end's address is then not the
// start's kept live across the loop (which makes ptxas spill).
template <class T, PairwisePass P, int D, class K, bool C>
__global__ void __launch_bounds__(kThreads)
    row_pass_small(RowPassArgs<T> p, K kernel, double* partials, unsigned long long* count,
                   RowCarry carry) {
  constexpr bool dir = P == PairwisePass::directional;
  __shared__ T ys[D][kSmallTile];
  __shared__ T ws[dir ? D : 1][kSmallTile];
  __shared__ T bs[kSmallTile];
  __shared__ double warp_part[kThreads / 32];
  const index_t n = p.x.rows, m = p.y.rows;
  const index_t i = index_t(blockIdx.x) * kThreads + threadIdx.x;
  const bool active = i < n;
  T xi[D], vi[D];
  double g[D];
  for (int k = 0; k < D; ++k) {
    xi[k] = active ? p.x.data[i * p.x.ld + k] : T(0);
    vi[k] = active && dir ? p.v.data[i * p.v.ld + k] : T(0);
    g[k] = 0;
  }
  // The gradient pass has no value to carry (kept a constant 0: no register across the loop).
  constexpr bool carry_value = P != PairwisePass::gradient;
  double value = 0;
  if constexpr (C) {
    if (carry.from && active) {
      const double* c = carry.from + i * (D + 1);
      if constexpr (carry_value) value = c[0];
      for (int k = 0; k < D; ++k) g[k] = c[1 + k];
    }
  }
  unsigned long long cnt = 0;
  for (index_t j0 = 0; j0 < m; j0 += kSmallTile) {
    const int jn = int(m - j0 < kSmallTile ? m - j0 : kSmallTile);
    __syncthreads();
    for (int jj = threadIdx.x; jj < jn; jj += kThreads) {
      for (int k = 0; k < D; ++k) {
        ys[k][jj] = p.y.data[(j0 + jj) * p.y.ld + k];
        if constexpr (dir) ws[k][jj] = p.w.data[(j0 + jj) * p.w.ld + k];
      }
      bs[jj] = p.b ? p.b[j0 + jj] : T(1);
    }
    __syncthreads();
    T tv = 0, tg[D];
    for (int k = 0; k < D; ++k) tg[k] = 0;
    for (int jj = 0; jj < jn; ++jj) {
      T z[D], s = 0;
      for (int k = 0; k < D; ++k) {
        z[k] = xi[k] - ys[k][jj];
        s += z[k] * z[k];
      }
      const T bj = bs[jj];
      if constexpr (P == PairwisePass::energy) {
        tv += bj * kernel.value(s);
      } else if constexpr (dir) {
        T u[D], zu = 0, uu = 0;
        for (int k = 0; k < D; ++k) {
          u[k] = vi[k] - ws[k][jj];
          zu += z[k] * u[k];
          uu += u[k] * u[k];
        }
        const DirectionalPair<T> q = directional_pair(kernel, bj, s, zu, uu);
        tv += q.rate;
        cnt += q.coincident ? 1 : 0;
        for (int k = 0; k < D; ++k) tg[k] += q.f * z[k] + q.fu * u[k];
      } else {
        if constexpr (P == PairwisePass::value_gradient) tv += bj * kernel.value(s);
        const T f = bj * kernel.grad_factor(s);
        for (int k = 0; k < D; ++k) tg[k] += f * z[k];
      }
    }
    value += double(tv);
    for (int k = 0; k < D; ++k) g[k] += double(tg[k]);
  }
  if constexpr (C) {
    if (active) {
      double* c = carry.to + i * (D + 1);
      if constexpr (carry_value) c[0] = value;
      for (int k = 0; k < D; ++k) c[1 + k] = g[k];
    }
  }
  const bool write = active && (!C || carry.last);
  const double ai = active && p.a ? double(p.a[i]) : 1.0;
  if (write && P != PairwisePass::energy && p.g.data) {
    T* gi = p.g.data + i * p.g.ld;
    for (int k = 0; k < D; ++k) {
      const T inc = T(double(p.scale) * ai * g[k]);
      gi[k] = p.accumulate ? gi[k] + inc : inc;
    }
  }
  if (write && (P == PairwisePass::energy || P == PairwisePass::value_gradient) && p.values) {
    const T inc = T(double(p.scale) * ai * value);
    p.values[i] = p.accumulate ? p.values[i] + inc : inc;
  }
  if (partials) block_partial<kThreads>(active ? ai * value : 0.0, partials, warp_part);
  if constexpr (dir) {
    if (count) add_count(active ? cnt : 0ull, count);
  }
}

// Stages Y (and W) rows j0..j0+jn, coordinates k0..k0+kn into the shared chunk (zero-padded).
template <class T, bool Dir>
__device__ __forceinline__ void load_chunk(const RowPassArgs<T>& p, T (*ys)[kTileK + 1],
                                           T (*ws)[kTileK + 1], index_t j0, int jn, index_t k0,
                                           int kn) {
  __syncthreads();
  for (int e = threadIdx.x; e < kTileJ * kTileK; e += kThreads) {
    const int jj = e / kTileK, kk = e % kTileK;
    const bool in = jj < jn && kk < kn;
    ys[jj][kk] = in ? p.y.data[(j0 + jj) * p.y.ld + k0 + kk] : T(0);
    if constexpr (Dir) ws[jj][kk] = in ? p.w.data[(j0 + jj) * p.w.ld + k0 + kk] : T(0);
  }
  __syncthreads();
}

// Any d: s_j = |z|^2 (and <z,u>, |u|^2) for kTileJ points of Y accumulate in registers over
// shared chunks of kTileK coordinates; a second sweep over the chunks adds the tile's gradient
// to the thread's own row of p.g (scaled), which is zeroed first unless accumulating. C: as for
// row_pass_small (the gradient's carry is p.g's row itself, so only the value is in carry.to).
// Blocks per SM that row_pass_general must fit (launch bounds; 0: ptxas's own choice). The f64
// gradient pass of the Riesz kernel with r != 1 (exp2/log2 per pair) spilled 8 bytes on sm_80 at
// the 72 registers ptxas chose; 5 blocks of kThreads threads leave it up to 102 and it takes 94,
// without spills. Every other instantiation keeps ptxas's choice and its code.
template <class K>
struct IsRieszGeneral : std::false_type {};
template <class T>
struct IsRieszGeneral<RieszPair<T, false>> : std::true_type {};
template <class T, PairwisePass P, class K>
constexpr int kGeneralMinBlocks =
    sizeof(T) == 8 && P == PairwisePass::gradient && IsRieszGeneral<K>::value ? 5 : 0;

template <class T, PairwisePass P, class K, bool C>
__global__ void __launch_bounds__(kThreads, (kGeneralMinBlocks<T, P, K>))
    row_pass_general(RowPassArgs<T> p, K kernel, double* partials, unsigned long long* count,
                     RowCarry carry) {
  constexpr bool dir = P == PairwisePass::directional;
  __shared__ T ys[kTileJ][kTileK + 1];
  __shared__ T ws[dir ? kTileJ : 1][kTileK + 1];
  __shared__ T fs[kTileJ][kThreads];
  // qs: the directional pass's q and fu; the value_gradient pass's b_j k per pair.
  __shared__ T qs[dir || P == PairwisePass::value_gradient ? kTileJ : 1][kThreads];
  __shared__ double warp_part[kThreads / 32];
  const index_t n = p.x.rows, m = p.y.rows, d = p.x.cols;
  const index_t i = index_t(blockIdx.x) * kThreads + threadIdx.x;
  const bool active = i < n;
  const bool write_g = P != PairwisePass::energy && p.g.data != nullptr;
  const double ai = active && p.a ? double(p.a[i]) : 1.0;
  const T gscale = T(double(p.scale) * ai);
  const T* xi = p.x.data + (active ? i : 0) * p.x.ld;
  const T* vi = dir ? p.v.data + (active ? i : 0) * p.v.ld : nullptr;
  T* gi = write_g ? p.g.data + (active ? i : 0) * p.g.ld : nullptr;
  // A carried row continues in p.g's row: only the first chunk zeroes it.
  if (write_g && active && !p.accumulate && !(C && carry.from)) {
    for (index_t k = 0; k < d; ++k) gi[k] = T(0);
  }
  // value_gradient keeps the row's running value in shared memory: in a register beside the
  // gradient sweep's factors it makes ptxas spill.
  __shared__ double vsum[P == PairwisePass::value_gradient ? kThreads : 1];
  // The gradient pass has no value to carry (its row of p.g is the carry).
  constexpr bool carry_value = P != PairwisePass::gradient;
  double carried = 0;
  if constexpr (C && carry_value) {
    if (carry.from && active) carried = carry.from[i * (d + 1)];
  }
  if constexpr (P == PairwisePass::value_gradient) vsum[threadIdx.x] = carried;
  double value = P == PairwisePass::value_gradient ? 0.0 : carried;
  unsigned long long cnt = 0;
  for (index_t j0 = 0; j0 < m; j0 += kTileJ) {
    const int jn = int(m - j0 < kTileJ ? m - j0 : kTileJ);
    T s[kTileJ], zu[kTileJ], uu[kTileJ];
#pragma unroll
    for (int jj = 0; jj < kTileJ; ++jj) {
      s[jj] = T(0);
      if constexpr (dir) zu[jj] = uu[jj] = T(0);
    }
    for (index_t k0 = 0; k0 < d; k0 += kTileK) {
      const int kn = int(d - k0 < kTileK ? d - k0 : kTileK);
      load_chunk<T, dir>(p, ys, ws, j0, jn, k0, kn);
      for (int kk = 0; kk < kn; ++kk) {
        const T x = active ? xi[k0 + kk] : T(0);
        const T v = dir && active ? vi[k0 + kk] : T(0);
#pragma unroll
        for (int jj = 0; jj < kTileJ; ++jj) {
          const T z = x - ys[jj][kk];
          s[jj] += z * z;
          if constexpr (dir) {
            const T u = v - ws[jj][kk];
            zu[jj] += z * u;
            uu[jj] += u * u;
          }
        }
      }
    }
    // Per-thread slots in shared memory: fs <- s then f (gradient factor), qs <- q then fu
    // (coincident factor), where q = |u|^2 at coincident pairs (z = 0, so <z,u> = 0) and <z,u>
    // elsewhere. The branchy power functions then run in a loop that is not unrolled, which
    // keeps register arrays out of it (no spills).
#pragma unroll
    for (int jj = 0; jj < kTileJ; ++jj) {
      fs[jj][threadIdx.x] = s[jj];
      if constexpr (dir) qs[jj][threadIdx.x] = s[jj] == T(0) ? uu[jj] : zu[jj];
    }
    T tv = 0;
#pragma unroll 1
    for (int jj = 0; jj < jn; ++jj) {
      const T bj = p.b ? p.b[j0 + jj] : T(1);
      const T sj = fs[jj][threadIdx.x];
      if constexpr (P == PairwisePass::energy) {
        tv += bj * kernel.value(sj);
      } else if constexpr (dir) {
        // q is <z,u> where z != 0 and |u|^2 where z = 0: directional_pair reads each only there.
        const T q = qs[jj][threadIdx.x];
        const DirectionalPair<T> pq = directional_pair(kernel, bj, sj, q, q);
        tv += pq.rate;
        cnt += pq.coincident ? 1 : 0;
        qs[jj][threadIdx.x] = pq.fu;
        fs[jj][threadIdx.x] = pq.f;
      } else {
        // value_gradient: the values go to qs and are summed after the loop (with tv
        // accumulating in this loop ptxas spills).
        if constexpr (P == PairwisePass::value_gradient) qs[jj][threadIdx.x] = bj * kernel.value(sj);
        fs[jj][threadIdx.x] = bj * kernel.grad_factor(sj);
      }
    }
    if constexpr (P == PairwisePass::value_gradient) {
#pragma unroll 1
      for (int jj = 0; jj < jn; ++jj) tv += qs[jj][threadIdx.x];
    }
    for (int jj = jn; jj < kTileJ; ++jj) {
      fs[jj][threadIdx.x] = T(0);
      if constexpr (dir) qs[jj][threadIdx.x] = T(0);
    }
    if constexpr (P == PairwisePass::value_gradient) {
      vsum[threadIdx.x] += double(tv);
    } else {
      value += double(tv);
    }
    if constexpr (P != PairwisePass::energy) {
      if (write_g) {
        T f[kTileJ], fu[dir ? kTileJ : 1];
#pragma unroll
        for (int jj = 0; jj < kTileJ; ++jj) {
          f[jj] = fs[jj][threadIdx.x];
          if constexpr (dir) fu[jj] = qs[jj][threadIdx.x];
        }
        for (index_t k0 = 0; k0 < d; k0 += kTileK) {
          const int kn = int(d - k0 < kTileK ? d - k0 : kTileK);
          load_chunk<T, dir>(p, ys, ws, j0, jn, k0, kn);
#pragma unroll 1
          for (int kk = 0; active && kk < kn; ++kk) {
            const T x = xi[k0 + kk];
            const T v = dir ? vi[k0 + kk] : T(0);
            T acc = 0;
#pragma unroll
            for (int jj = 0; jj < kTileJ; ++jj) {
              acc += f[jj] * (x - ys[jj][kk]);
              if constexpr (dir) acc += fu[jj] * (v - ws[jj][kk]);
            }
            gi[k0 + kk] += gscale * acc;
          }
        }
      }
    }
  }
  if constexpr (P == PairwisePass::value_gradient) value = vsum[threadIdx.x];
  if constexpr (C && carry_value) {
    if (active) carry.to[i * (d + 1)] = value;
  }
  const bool write = active && (!C || carry.last);
  if (write && (P == PairwisePass::energy || P == PairwisePass::value_gradient) && p.values) {
    const T inc = T(double(p.scale) * ai * value);
    p.values[i] = p.accumulate ? p.values[i] + inc : inc;
  }
  if (partials) block_partial<kThreads>(active ? ai * value : 0.0, partials, warp_part);
  if constexpr (dir) {
    if (count) add_count(active ? cnt : 0ull, count);
  }
}

template <class T, PairwisePass P, class K, bool C>
void launch_kernel(const Context& ctx, const RowPassArgs<T>& p, const K& k, double* partials,
                   unsigned long long* count, const RowCarry& c) {
  const unsigned blocks = unsigned((p.x.rows + kThreads - 1) / kThreads);
  cudaStream_t st = stream_of(ctx);
  switch (p.x.cols) {
    case 1: row_pass_small<T, P, 1, K, C><<<blocks, kThreads, 0, st>>>(p, k, partials, count, c); break;
    case 2: row_pass_small<T, P, 2, K, C><<<blocks, kThreads, 0, st>>>(p, k, partials, count, c); break;
    case 3: row_pass_small<T, P, 3, K, C><<<blocks, kThreads, 0, st>>>(p, k, partials, count, c); break;
    default: row_pass_general<T, P, K, C><<<blocks, kThreads, 0, st>>>(p, k, partials, count, c); break;
  }
  NWGF_CUDA_LAUNCH_CHECK();
}

// The one-launch kernels, or the chunked ones (c.to set): separate instantiations, so the
// one-launch kernels keep their code and bits.
template <class T, PairwisePass P, class K>
void launch(const Context& ctx, const RowPassArgs<T>& p, const K& k, double* partials,
            unsigned long long* count, const RowCarry& c) {
  if (c.to) {
    launch_kernel<T, P, K, true>(ctx, p, k, partials, count, c);
    return;
  }
  launch_kernel<T, P, K, false>(ctx, p, k, partials, count, c);
}

// The family's functor; Riesz r = 1 on its own path (square roots only).
template <class T, PairwisePass P>
void launch_family(const Context& ctx, const RowPassArgs<T>& p, double* partials,
                   unsigned long long* count, const RowCarry& c) {
  if (p.family == PairFamily::gaussian) {
    launch<T, P>(ctx, p, GaussianPair<T>::make(p.param), partials, count, c);
  } else if (p.family == PairFamily::quartic_quadratic) {
    launch<T, P>(ctx, p, QuarticQuadraticPair<T>::make(p.param), partials, count, c);
  } else if (p.family == PairFamily::log_quadratic) {
    launch<T, P>(ctx, p, LogQuadraticPair<T>::make(p.param), partials, count, c);
  } else if (p.family == PairFamily::gaussian_attraction) {
    launch<T, P>(ctx, p, GaussianAttractionPair<T>::make(p.param), partials, count, c);
  } else if (p.param == 1.0) {
    launch<T, P>(ctx, p, RieszPair<T, true>::make(p.param), partials, count, c);
  } else {
    launch<T, P>(ctx, p, RieszPair<T, false>::make(p.param), partials, count, c);
  }
}

}  // namespace

template <class T>
void cuda_row_pass(const Context& ctx, PairwisePass pass, const RowPassArgs<T>& p, double* out,
                   index_t* host_count, PairwiseWorkspace& ws, index_t* device_count,
                   const RowCarry& carry) {
  if (carry.to && (out || host_count)) {
    throw_runtime("cuda_row_pass: a chunked pass has no scalar (out) and counts on the device");
  }
  cudaStream_t st = stream_of(ctx);
  const index_t blocks = (p.x.rows + kThreads - 1) / kThreads;
  ws.reserve(ctx, blocks);
  double* partials = out ? ws.partials() : nullptr;
  unsigned long long* count = nullptr;
  if (host_count) {
    count = reinterpret_cast<unsigned long long*>(ws.count());
    NWGF_CUDA_CHECK(cudaMemsetAsync(count, 0, sizeof(unsigned long long), st));
  } else if (device_count) {
    count = reinterpret_cast<unsigned long long*>(device_count);
  }
  if (blocks > 0) {
    switch (pass) {
      case PairwisePass::energy:
        launch_family<T, PairwisePass::energy>(ctx, p, partials, count, carry);
        break;
      case PairwisePass::gradient:
        launch_family<T, PairwisePass::gradient>(ctx, p, partials, count, carry);
        break;
      case PairwisePass::directional:
        launch_family<T, PairwisePass::directional>(ctx, p, partials, count, carry);
        break;
      case PairwisePass::value_gradient:
        launch_family<T, PairwisePass::value_gradient>(ctx, p, partials, count, carry);
        break;
    }
  }
  if (out) cuda_sum_partials(ctx, partials, blocks, out);
  if (host_count) {
    NWGF_CUDA_CHECK(cudaMemcpyAsync(host_count, count, sizeof(index_t), cudaMemcpyDeviceToHost, st));
    NWGF_CUDA_CHECK(cudaStreamSynchronize(st));
  }
}

template <class T>
index_t cuda_column_tile(index_t d) {
  return d <= 3 ? kSmallTile : kTileJ;
}

namespace {
// One thread per 64-row block b: the block's rows' a_i acc[i stride] summed in row order from 0.
template <class T>
__global__ void row_block_sums(const double* acc, index_t stride, const T* a, index_t rows,
                               double* block_sums) {
  constexpr index_t grid = 64;
  const index_t b = index_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b * grid >= rows) return;
  const index_t end = (b + 1) * grid < rows ? (b + 1) * grid : rows;
  double s = 0;
  for (index_t i = b * grid; i < end; ++i) s += (a ? double(a[i]) : 1.0) * acc[i * stride];
  block_sums[b] = s;
}
}  // namespace

template <class T>
void cuda_row_block_sums(const Context& ctx, const double* acc, index_t stride, const T* a,
                         index_t rows, double* block_sums) {
  const index_t blocks = (rows + 63) / 64;
  if (blocks == 0) return;
  const unsigned launch_blocks = unsigned((blocks + kThreads - 1) / kThreads);
  cudaStream_t st = stream_of(ctx);
  row_block_sums<T><<<launch_blocks, kThreads, 0, st>>>(acc, stride, a, rows, block_sums);
  NWGF_CUDA_LAUNCH_CHECK();
}

#define NWGF_ROW_PASS_INSTANTIATE(T)                                                              \
  template void cuda_row_pass<T>(const Context&, PairwisePass, const RowPassArgs<T>&, double*,    \
                                 index_t*, PairwiseWorkspace&, index_t*, const RowCarry&);        \
  template index_t cuda_column_tile<T>(index_t);                                                  \
  template void cuda_row_block_sums<T>(const Context&, const double*, index_t, const T*, index_t, \
                                       double*);
NWGF_ROW_PASS_INSTANTIATE(float)
NWGF_ROW_PASS_INSTANTIATE(double)
#undef NWGF_ROW_PASS_INSTANTIATE

}  // namespace nwgf::detail

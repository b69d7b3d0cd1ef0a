#pragma once
// Fused pairwise kernel sums over two weighted point sets, never materialising the N x M matrix.
// Written once for any kernel family (a pair functor, kernels/family/pair.hpp); the Riesz family
// (kernels/family/riesz.hpp) is the API below, the Gaussian one (kernels/family/gaussian.hpp)
// has energy and gradient.
//
//   S(X, Y) = sum_ij a_i b_j |x_i - y_j|^r                      (energy sum, 0 < r < 2)
//   dS/dx_i = a_i sum_j b_j r |x_i - y_j|^{r-2} (x_i - y_j)       (0 for coincident points)
//   D       = d/dt+ sum_ij a_i b_j |x_i + t v_i - y_j - t w_j|^r at t = 0 (right derivative)
//
// X: (N, d), Y: (M, d), weights a: (N), b: (M); a or b nullptr means all weights 1. y may alias x
// (the self sum counts every ordered pair, the diagonal included). All pointers live on ctx's
// device; a scalar result is one double written to `out` on ctx's device (a host pointer on the
// CPU backend, a device pointer on CUDA). Scalars accumulate in double; results are deterministic
// for a fixed thread count (CPU) or launch configuration (CUDA): the fixed-order partials of
// kernels/reduce.hpp, no atomics on results.
//
// MMD^2 follows CONTRACT.md: D_K^2 = E_K(mu - nu) with K(x,y) = -|x-y|^r, the 1/2 factor of the
// paper and V-statistics, i.e. mean_ij |x_i-y_j|^r - 1/2 mean_ii' |x_i-x_i'|^r - 1/2 mean |y-y'|^r.
#include <functional>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf {

// The kernel families the sums are compiled for; each has a header in kernels/family/.
// The interaction kernels W (quartic_quadratic, log_quadratic, gaussian_attraction) have no
// parameter; their sums are pair_energy / pair_gradient below.
enum class PairFamily { riesz, gaussian, quartic_quadratic, log_quadratic, gaussian_attraction };

// Device scratch of the CUDA path (per-block partial sums, the coincident-pair count). Keep one
// alive across calls to make a training step allocation-free; the CPU path needs none. Calls
// given no workspace allocate a temporary one.
class PairwiseWorkspace {
 public:
  // Grows (never shrinks) to hold `partials` doubles and the counter on ctx's device.
  void reserve(const Context& ctx, index_t partials);
  double* partials() { return partials_.data(); }
  index_t* count() { return count_.data(); }

 private:
  Buffer<double> partials_;
  Buffer<index_t> count_;
};

// out <- S(X, Y).
template <class T>
void riesz_energy(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                  const T* b, double r, double* out, PairwiseWorkspace* ws = nullptr);

// grad_i (+)= scale * dS/dx_i, grad: (N, d). With accumulate = false grad is overwritten.
template <class T>
void riesz_gradient(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                    const T* b, double r, T scale, PointsView<T> grad, bool accumulate,
                    PairwiseWorkspace* ws = nullptr);

// out <- D. Per pair with z = x_i - y_j, u = v_i - w_j the rate is r |z|^{r-2} <z, u> for z != 0;
// for z = 0 it is |u| when r = 1, 0 when r > 1, and +infinity (for u != 0) when r < 1: such pairs
// are left out of `out` and counted in *coincident (host, after the call; may be nullptr), and
// the caller must reject r < 1 with coincident > 0. Every coincident pair is counted, any r.
// grad_v (N, d) (+)= scale * dD/dv and grad_w (M, d) (+)= scale * dD/dw; a view with data ==
// nullptr is skipped. For z = 0, r = 1 the gradient of |u| is u/|u| (0 at u = 0).
// grad_v and grad_w may alias only with accumulate = true (they are written one after the other).
template <class T>
void riesz_directional(const Context& ctx, ConstPointsView<T> x, ConstPointsView<T> v,
                       const T* a, ConstPointsView<T> y, ConstPointsView<T> w, const T* b,
                       double r, double* out, PointsView<T> grad_v, PointsView<T> grad_w, T scale,
                       bool accumulate, index_t* coincident, PairwiseWorkspace* ws = nullptr);
// riesz_directional with the coincident-pair count added to *device_count (one index_t on ctx's
// device, host memory on the CPU; null: not counted) instead of brought to the host: nothing
// downloads or synchronises, so a CUDA graph can capture it. The caller zeroes the count before
// and reads it after the work ran.
template <class T>
void riesz_directional_device_count(const Context& ctx, ConstPointsView<T> x, ConstPointsView<T> v,
                                    const T* a, ConstPointsView<T> y, ConstPointsView<T> w,
                                    const T* b, double r, double* out, PointsView<T> grad_v,
                                    PointsView<T> grad_w, T scale, bool accumulate,
                                    index_t* device_count, PairwiseWorkspace* ws = nullptr);

// The same sums for the Gaussian kernel G(x, y) = exp(-|x - y|^2 / (2 sigma^2)), sigma > 0
// (kernels/family/gaussian.hpp): out <- sum_ij a_i b_j G(x_i, y_j), and
// grad_i (+)= scale * d/dx_i of it = scale * a_i sum_j b_j (-G(x_i, y_j) / sigma^2) (x_i - y_j).
template <class T>
void gaussian_energy(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                     const T* b, double sigma, double* out, PairwiseWorkspace* ws = nullptr);
template <class T>
void gaussian_gradient(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                       const T* b, double sigma, T scale, PointsView<T> grad, bool accumulate,
                       PairwiseWorkspace* ws = nullptr);

// The energy and gradient sums of any family (param: r, sigma, ignored for the interaction
// kernels): out <- sum_ij a_i b_j k(x_i, y_j), grad_i (+)= scale * d/dx_i of it.
template <class T>
void pair_energy(const Context& ctx, PairFamily family, double param, ConstPointsView<T> x,
                 const T* a, ConstPointsView<T> y, const T* b, double* out,
                 PairwiseWorkspace* ws = nullptr);
template <class T>
void pair_gradient(const Context& ctx, PairFamily family, double param, ConstPointsView<T> x,
                   const T* a, ConstPointsView<T> y, const T* b, T scale, PointsView<T> grad,
                   bool accumulate, PairwiseWorkspace* ws = nullptr);

// Row sums of any family (the witness function of a weighted measure at the points x_i):
//   values_i (+)= scale * a_i * sum_j b_j k(x_i, y_j),  values: (N) on ctx's device,
// k the family's pair value (Riesz: |x - y|^r, without the minus sign of K; Gaussian:
// exp(-|x - y|^2 / (2 sigma^2))); param = r or sigma. b may hold any signs. With accumulate =
// false values is overwritten.
template <class T>
void pair_row_sums(const Context& ctx, PairFamily family, double param, ConstPointsView<T> x,
                   const T* a, ConstPointsView<T> y, const T* b, T scale, T* values,
                   bool accumulate, PairwiseWorkspace* ws = nullptr);

// The row sums and the gradient of the same pair sums in one pass (the IFT weight step needs the
// target's witness values and, at the same positions, the target's gradient for the next position
// step):
//   values_i (+)= scale * a_i * sum_j b_j k(x_i, y_j),   grad_i (+)= scale * a_i * d/dx_i of it,
// with the kernels of pair_row_sums (no sign) and pair_gradient; both outputs accumulate or are
// overwritten together. Each equals what the separate passes give, up to rounding (the Gaussian
// family evaluates its exponential once for both).
template <class T>
void pair_row_sums_gradient(const Context& ctx, PairFamily family, double param,
                            ConstPointsView<T> x, const T* a, ConstPointsView<T> y, const T* b,
                            T scale, T* values, PointsView<T> grad, bool accumulate,
                            PairwiseWorkspace* ws = nullptr);

// Host conveniences (synchronise): S(X, Y), and the exact MMD^2 (V-statistic, uniform weights).
template <class T>
double riesz_energy_value(const Context& ctx, ConstPointsView<T> x, const T* a,
                          ConstPointsView<T> y, const T* b, double r);
template <class T>
double mmd2(const Context& ctx, ConstPointsView<T> x, ConstPointsView<T> y, double r);

namespace detail {
// What one pass over all pairs computes for every row i of X (value_gradient: the energy pass's
// row sums and the gradient pass's rows together).
enum class PairwisePass { energy, gradient, directional, value_gradient };

// Arguments of a row pass: rows of X against all of Y. v/w/g used only by some passes.
template <class T>
struct RowPassArgs {
  ConstPointsView<T> x, v;  // (N, d)
  const T* a = nullptr;     // (N) or nullptr
  ConstPointsView<T> y, w;  // (M, d)
  const T* b = nullptr;     // (M) or nullptr
  PairFamily family = PairFamily::riesz;
  double param = 1;  // the family's parameter: r (Riesz), sigma (Gaussian)
  PointsView<T> g;  // (N, d) rows written: g_i (+)= scale * a_i * sum_j b_j ...; data may be null
  T* values = nullptr;  // energy, value_gradient: (N) row sums values_i (+)= scale a_i sum_j b_j k
  T scale = 1;
  bool accumulate = false;
};

// The arguments every pass of (X, a) against (Y, b) under a family shares; the caller adds what
// its pass writes (g, values, scale, accumulate).
template <class T>
RowPassArgs<T> pair_pass_args(PairFamily family, double param, ConstPointsView<T> x, const T* a,
                              ConstPointsView<T> y, const T* b) {
  RowPassArgs<T> p;
  p.x = x;
  p.a = a;
  p.y = y;
  p.b = b;
  p.family = family;
  p.param = param;
  return p;
}

// The two passes of riesz_directional: rows of X against Y (D and dD/dv into grad_v), then rows
// of Y against X with the roles swapped (dD/dw into grad_w): d/dw_j of r|z|^{r-2}<z,u>
// (z = x_i - y_j) is r|z'|^{r-2} z' with z' = y_j - x_i (likewise u/|u| -> u'/|u'| at
// coincident pairs).
template <class T>
struct DirectionalPasses {
  RowPassArgs<T> rows_of_x, rows_of_y;
};
template <class T>
DirectionalPasses<T> directional_pass_args(ConstPointsView<T> x, ConstPointsView<T> v,
                                           const T* a, ConstPointsView<T> y,
                                           ConstPointsView<T> w, const T* b, double r,
                                           PointsView<T> grad_v, PointsView<T> grad_w, T scale,
                                           bool accumulate) {
  RowPassArgs<T> p;
  p.x = x;
  p.v = v;
  p.a = a;
  p.y = y;
  p.w = w;
  p.b = b;
  p.param = r;
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
  return {p, q};
}

// What a row pass returns on the CPU: the scalar (energy or D) and the coincident-pair count.
struct PassResult {
  double value = 0;
  index_t coincident = 0;
};
// CPU row pass over all pairs, `threads` OpenMP threads (the summation order depends on it).
template <class T>
PassResult cpu_row_pass(PairwisePass pass, const RowPassArgs<T>& p, int threads);

// The CPU self pass split by its threads (for ranks, kernels/pairwise_ranks.cpp). cpu_row_pass
// takes the self path (X = Y, d <= 3, unordered pairs) when cpu_takes_self_pass; its gradient is
// then, bit for bit: acc (n, d) = 0; acc += buffer t for t = 0 .. nt-1 in order, the buffers of
// nt = cpu_self_threads(n, threads) threads (cpu_self_gradient_buffers: those of threads
// [t0, t1), computed with `threads` OpenMP threads); then cpu_write_gradient
// (g_i (+)= scale a_i acc_i).
template <class T>
bool cpu_takes_self_pass(PairwisePass pass, const RowPassArgs<T>& p);
int cpu_self_threads(index_t n, int threads);
// Measurement only (`nwgf bench pairwise --one-pair-rows`): from now on the CPU row passes at
// d >= 16 take one pair at a time (RowBlock::one_pair_rows) instead of the register-blocked
// micro-tiles; the bits are the same either way. Not while kernels run.
void set_cpu_one_pair_rows(bool on);
// The rows of X per block of the other CPU passes (one thread sums a block's rows over all of Y).
index_t cpu_row_block();
// The threads of the other CPU passes for `threads`: thread t sums the row blocks
// [B t / nt, B (t + 1) / nt) of B, its rows in order from 0; the value is the thread partials
// summed in thread order (sum_in_order).
int cpu_row_threads(int threads);
// The column tile of the CPU row pass (not the self pass) at dimension d: every row sums over the
// tiles of Y [j0, j0 + jb), j0 = 0, jb, 2 jb, ..., each tile's sums taken in T and added to
// double accumulators. Fed the same tiles in the same order, the sharded pass
// (kernels/pairwise_sharded.hpp) gives a row the same bits.
template <class T>
index_t cpu_column_tile(index_t d);
// Rows of p.x against p.y's columns taken as consecutive tiles of cpu_column_tile<T>(d) (the
// last may be shorter): adds each tile's row sums to acc_value (p.x.rows; energy,
// value_gradient and directional: the row's D) and acc_g ((p.x.rows, d); gradient,
// value_gradient, and directional: dD/dv), as cpu_row_pass does within one row block, and the
// coincident pairs met (directional) to *coincident when set. Threads split the rows in 64-row
// blocks as cpu_row_pass does (a row's bits do not depend on the split). progress, when set, is
// called by the calling thread (the OpenMP team's master, the one that may call MPI) after each
// of its row blocks.
template <class T>
void cpu_rows_against_tiles(PairwisePass pass, const RowPassArgs<T>& p, double* acc_value,
                            double* acc_g, int threads, const std::function<void()>& progress,
                            index_t* coincident = nullptr);
// p.g's rows (+)= scale a_i acc_g_i, p.values (+)= scale a_i acc_value_i (where set), as
// cpu_row_pass writes them.
template <class T>
void cpu_write_rows(const RowPassArgs<T>& p, const double* acc_value, const double* acc_g,
                    int threads);
template <class T>
std::vector<std::vector<double>> cpu_self_gradient_buffers(const RowPassArgs<T>& p, int nt, int t0,
                                                           int t1, int threads);
template <class T>
void cpu_write_gradient(const RowPassArgs<T>& p, const double* acc, int threads);

#ifdef NWGF_HAVE_CUDA
// A CUDA row pass split over column chunks of Y (and W: the directional pass, value D, gradient
// dD/dv): the carry is (p.x.rows, d + 1) doubles on the device, row i's value at [i (d + 1)] and,
// for d <= 3, its gradient sums at [i (d + 1) + 1 + k] (the general-d kernel adds each tile's
// gradient to p.g's row, so there the row of p.g is the carry). A launch with `to` set starts
// its rows from `from` (null: from 0, p.g zeroed unless accumulating; else the same buffer as
// `to`), stores them to `to` at its end, writes p.g / p.values only when last. Its rows get the
// bits of one launch over all the columns when every chunk but the last has a multiple of
// cuda_column_tile<T>(d) columns. No partials (out null); counts only in device_count.
struct RowCarry {
  const double* from = nullptr;
  double* to = nullptr;
  bool last = true;
};
// The column tile of the CUDA row kernels at dimension d (tiles start at 0, jb, 2 jb, ...).
template <class T>
index_t cuda_column_tile(index_t d);
// CUDA row pass: writes the scalar (energy or D) to out (device; may be null) and, when
// host_count is not null, copies the coincident-pair count to it (synchronising); when
// device_count is not null, adds the count to it on the device instead (nothing synchronises).
template <class T>
void cuda_row_pass(const Context& ctx, PairwisePass pass, const RowPassArgs<T>& p, double* out,
                   index_t* host_count, PairwiseWorkspace& ws, index_t* device_count = nullptr,
                   const RowCarry& carry = {});
// The energy of a chunked pass on its fixed grid: block_sums[b] = sum over rows i of the 64-row
// block b (in row order, from 0) of a_i acc[i stride] (a null: 1), rows i < rows; device
// pointers, ceil(rows / 64) blocks.
template <class T>
void cuda_row_block_sums(const Context& ctx, const double* acc, index_t stride, const T* a,
                         index_t rows, double* block_sums);
#endif
}  // namespace detail

}  // namespace nwgf

// CUDA side of schemes/ift/qp_device.hpp: the Gram matrix (one thread per entry), then the solve
// as a fixed sequence of kernels (so it is capturable): the products K v over all blocks, one row
// per thread; the O(n) steps between them (norms, the FISTA step and projection, the objective)
// in one block each (weight_block.cuh's fixed-order reductions), their scalars (lambda, L, t, the
// best objective) in device memory. Nothing leaves the device and nothing synchronises the host.
#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"
#include "nwgf/engine/rng_math.hpp"
#include "nwgf/kernels/family/gaussian.hpp"
#include "nwgf/kernels/family/riesz.hpp"
#include "nwgf/schemes/ift/qp_device.hpp"
#include "nwgf/schemes/ift/weight_block.cuh"

namespace nwgf::detail {
namespace {

constexpr int kPowerIterations = 100;  // spectral_radius's default (qp.hpp)

// K_ij = sign k(|x_i - x_j|^2), the positions in double (the host's gram_matrix).
template <class T>
__global__ void gram_kernel(DeviceQp q, GaussianPair<double> gauss, RieszPair<double, false> riesz,
                            const T* x, index_t n, index_t d, double* K) {
  const long long count = (long long)n * n;
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < count;
       e += (long long)gridDim.x * blockDim.x) {
    const index_t i = index_t(e / n), j = index_t(e % n);
    double s = 0;
    for (index_t c = 0; c < d; ++c) {
      const double z = double(x[i * d + c]) - double(x[j * d + c]);
      s = add_product_rn(s, z, z);
    }
    const double v = q.family == PairFamily::gaussian ? gauss.value(s) : riesz.value(s);
    K[e] = q.sign * v;
  }
}

// y <- K x, one thread per row, the row's terms added in order j = 0, 1, ... as the host's matvec
// (K is symmetric entry for entry, so row i is read as column i: coalesced).
__global__ void matvec_kernel(const double* K, const double* x, double* y, index_t n) {
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += index_t(gridDim.x) * blockDim.x) {
    double s = 0;
    for (index_t j = 0; j < n; ++j) s = add_product_rn(s, K[j * n + i], x[j]);
    y[i] = s;
  }
}

// The solver's vectors (scratch, n each) and scalars (after them).
struct QpVectors {
  double *c, *b, *prev, *y, *grad, *kv, *v, *best, *state;
  __device__ QpVectors(double* s, index_t n)
      : c(s), b(c + n), prev(b + n), y(prev + n), grad(y + n), kv(grad + n), v(kv + n),
        best(v + n), state(best + n) {}
  // state: lambda, L, t, best objective, power iteration stopped (1).
  __device__ double& lambda() { return state[0]; }
  __device__ double& L() { return state[1]; }
  __device__ double& t() { return state[2]; }
  __device__ double& best_j() { return state[3]; }
  __device__ double& stopped() { return state[4]; }
};

// sum_i a_i b_i over the block (fixed order).
__device__ double block_dot(const double* a, const double* b, index_t n, double* scratch) {
  double part = 0;
  for (index_t i = threadIdx.x; i < n; i += kThreads) part = add_product_rn(part, a[i], b[i]);
  return block_all(BlockOp::sum, part, scratch);
}

// J(b) = 1/2 h b'K b - c'b given kv = K b.
__device__ double block_objective(QpVectors& q, const double* b, double h, index_t n,
                                  double* scratch) {
  double part = 0;
  for (index_t i = threadIdx.x; i < n; i += kThreads) {
    part = add_product_rn(part, 0.5 * h * b[i], q.kv[i]);
    part -= q.c[i] * b[i];
  }
  return block_all(BlockOp::sum, part, scratch);
}

// c = K w - g + ref / eta (kv = K w; ref null: K w), the power iteration's start.
template <class T>
__global__ void __launch_bounds__(kThreads)
    qp_setup_kernel(double* scratch_v, index_t n, const T* g, const T* ref, double eta) {
  QpVectors q(scratch_v, n);
  for (index_t i = threadIdx.x; i < n; i += kThreads) {
    const double r = ref ? double(ref[i]) : q.kv[i];
    q.c[i] = q.kv[i] - double(g[i]) + r / eta;
    q.v[i] = 1.0 + 0.01 * double(i % 7);
  }
  if (threadIdx.x == 0) {
    q.lambda() = 0;
    q.stopped() = 0;
  }
}

// The power iteration's v <- v / |v| (stops at v = 0, lambda 0)...
__global__ void __launch_bounds__(kThreads)
    qp_power_normalise_kernel(double* scratch_v, index_t n) {
  __shared__ double scratch[kThreads / 32 + 1];
  QpVectors q(scratch_v, n);
  if (q.stopped() != 0) return;
  const double norm = sqrt(block_dot(q.v, q.v, n, scratch));
  if (!(norm > 0)) {
    __syncthreads();
    if (threadIdx.x == 0) {
      q.lambda() = 0;
      q.stopped() = 1;
    }
    return;
  }
  for (index_t i = threadIdx.x; i < n; i += kThreads) q.v[i] /= norm;
}

// ... and, after kv = K v, lambda = |K v|, v <- K v.
__global__ void __launch_bounds__(kThreads) qp_power_next_kernel(double* scratch_v, index_t n) {
  __shared__ double scratch[kThreads / 32 + 1];
  QpVectors q(scratch_v, n);
  if (q.stopped() != 0) return;
  const double lambda = sqrt(block_dot(q.kv, q.kv, n, scratch));
  for (index_t i = threadIdx.x; i < n; i += kThreads) q.v[i] = q.kv[i];
  if (threadIdx.x == 0) q.lambda() = lambda;
}

// L = 1.02 h lambda (the power iteration approaches lambda_max from below); b, prev, y, best <- w.
__global__ void __launch_bounds__(kThreads)
    qp_fista_start_kernel(double* scratch_v, index_t n, const double* w, double h) {
  QpVectors q(scratch_v, n);
  for (index_t i = threadIdx.x; i < n; i += kThreads) {
    q.best[i] = q.b[i] = q.prev[i] = q.y[i] = w[i];
  }
  if (threadIdx.x == 0) {
    q.L() = 1.02 * h * q.lambda();
    q.t() = 1;
  }
}

// After kv = K b: the start's objective.
__global__ void __launch_bounds__(kThreads) qp_start_objective_kernel(double* scratch_v, index_t n,
                                                                      double h) {
  __shared__ double scratch[kThreads / 32 + 1];
  QpVectors q(scratch_v, n);
  const double j = block_objective(q, q.b, h, n, scratch);
  if (threadIdx.x == 0) q.best_j() = j;
}

// After grad = K y: prev <- b, b <- P(y - (h K y - c) / L). Nothing when L <= 0 (the start is
// returned, as on the host).
__global__ void __launch_bounds__(kThreads)
    qp_fista_step_kernel(double* scratch_v, index_t n, double h, MassConstraint mass,
                         int bisections) {
  __shared__ double scratch[kThreads / 32 + 1];
  // With the bisection count passed on in a register, ptxas (CUDA 13, sm_90) spilled 4 bytes in
  // this kernel (tools/check_ptxas.sh fails on any spill); read from shared memory, none.
  __shared__ int shared_bisections;
  QpVectors q(scratch_v, n);
  const double L = q.L();
  if (!(L > 0)) return;
  for (index_t i = threadIdx.x; i < n; i += kThreads) {
    q.prev[i] = q.b[i];
    q.b[i] = q.y[i] - (h * q.grad[i] - q.c[i]) / L;
  }
  if (mass == MassConstraint::simplex) {
    if (threadIdx.x == 0) shared_bisections = bisections;
    __syncthreads();
    block_project_simplex(q.b, n, shared_bisections, scratch);
  } else {
    for (index_t i = threadIdx.x; i < n; i += kThreads) q.b[i] = q.b[i] > 0 ? q.b[i] : 0.0;
  }
}

// After kv = K b: keep b if its objective is the lowest yet; the momentum step y.
__global__ void __launch_bounds__(kThreads) qp_fista_next_kernel(double* scratch_v, index_t n,
                                                                 double h) {
  __shared__ double scratch[kThreads / 32 + 1];
  QpVectors q(scratch_v, n);
  if (!(q.L() > 0)) return;
  const double j = block_objective(q, q.b, h, n, scratch);
  const double t = q.t(), best_j = q.best_j();
  const bool better = j < best_j;
  const double t_next = 0.5 * (1 + sqrt(1 + 4 * t * t));
  for (index_t i = threadIdx.x; i < n; i += kThreads) {
    if (better) q.best[i] = q.b[i];
    q.y[i] = q.b[i] + (t - 1) / t_next * (q.b[i] - q.prev[i]);
  }
  __syncthreads();  // every thread has read t and best_j
  if (threadIdx.x == 0) {
    if (better) q.best_j() = j;
    q.t() = t_next;
  }
}

// w <- the best iterate; w_t <- T(w).
template <class T>
__global__ void qp_finish_kernel(double* scratch_v, index_t n, double* w, T* w_t) {
  QpVectors q(scratch_v, n);
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += index_t(gridDim.x) * blockDim.x) {
    w[i] = q.best[i];
    w_t[i] = T(q.best[i]);
  }
}

}  // namespace

template <class T>
void cuda_weight_step_qp(const Context& ctx, const DeviceQp& q, const T* x, index_t n, index_t d,
                         const T* g, const T* ref, double* w, T* w_t) {
  if (n <= 0) return;
  const auto gauss = GaussianPair<double>::make(q.param);
  const auto riesz = RieszPair<double, false>::make(q.param);
  constexpr int threads = 256;
  const cudaStream_t s = stream_of(ctx);
  const unsigned rows = grid_for((long long)n, threads);
  double* v = q.scratch;
  const double h = 1 + 1 / q.eta;
  // The vectors' offsets in the scratch (QpVectors).
  double *kv = v + 5 * n, *pv = v + 6 * n, *b = v + n, *y = v + 3 * n, *grad = v + 4 * n;
  gram_kernel<T><<<grid_for((long long)n * n, threads), threads, 0, s>>>(q, gauss, riesz, x, n, d,
                                                                         q.gram);
  matvec_kernel<<<rows, threads, 0, s>>>(q.gram, w, kv, n);
  qp_setup_kernel<T><<<1, kThreads, 0, s>>>(v, n, g, ref, q.eta);
  for (int it = 0; it < kPowerIterations; ++it) {
    qp_power_normalise_kernel<<<1, kThreads, 0, s>>>(v, n);
    matvec_kernel<<<rows, threads, 0, s>>>(q.gram, pv, kv, n);
    qp_power_next_kernel<<<1, kThreads, 0, s>>>(v, n);
  }
  qp_fista_start_kernel<<<1, kThreads, 0, s>>>(v, n, w, h);
  matvec_kernel<<<rows, threads, 0, s>>>(q.gram, b, kv, n);
  qp_start_objective_kernel<<<1, kThreads, 0, s>>>(v, n, h);
  for (index_t it = 0; it < q.iterations; ++it) {
    matvec_kernel<<<rows, threads, 0, s>>>(q.gram, y, grad, n);
    qp_fista_step_kernel<<<1, kThreads, 0, s>>>(v, n, h, q.mass, q.bisections);
    matvec_kernel<<<rows, threads, 0, s>>>(q.gram, b, kv, n);
    qp_fista_next_kernel<<<1, kThreads, 0, s>>>(v, n, h);
  }
  qp_finish_kernel<T><<<rows, threads, 0, s>>>(v, n, w, w_t);
  NWGF_CUDA_LAUNCH_CHECK();
}

template void cuda_weight_step_qp<float>(const Context&, const DeviceQp&, const float*, index_t,
                                         index_t, const float*, const float*, double*, float*);
template void cuda_weight_step_qp<double>(const Context&, const DeviceQp&, const double*, index_t,
                                          index_t, const double*, const double*, double*,
                                          double*);

}  // namespace nwgf::detail

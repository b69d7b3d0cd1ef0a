// Engine on a real GPU: the same Philox header gives the same streams on both backends, cuBLAS
// gemm matches OpenBLAS, buffers round-trip. Skipped (exit 77) where no CUDA device is usable.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "nwgf/engine/blas.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/peak.hpp"
#include "nwgf/engine/rng.hpp"

using namespace nwgf;

TEST_CASE_TEMPLATE("Philox streams are identical on cpu and cuda", T, float, double) {
  Context cpu(Device::cpu, 2), gpu(Device::cuda, 2);
  const index_t n = 100003;
  std::vector<T> uc(n), nc(n);
  rng_uniform<T>(cpu, 5, 2, 17, uc.data(), n);
  rng_normal<T>(cpu, 5, 2, 17, nc.data(), n);
  Buffer<T> ug(gpu, n), ng(gpu, n);
  rng_uniform<T>(gpu, 5, 2, 17, ug.data(), n);
  rng_normal<T>(gpu, 5, 2, 17, ng.data(), n);
  const auto uh = download(gpu, ug), nh = download(gpu, ng);
  index_t u_diff = 0, n_diff = 0;
  double n_max = 0, n_rel = 0;
  for (index_t i = 0; i < n; ++i) {
    u_diff += uh[i] != uc[i];
    n_diff += nh[i] != nc[i];
    const double diff = std::fabs(double(nh[i]) - double(nc[i]));
    n_max = std::fmax(n_max, diff);
    n_rel = std::fmax(n_rel, diff / std::fmax(std::fabs(double(nc[i])), 1e-300));
  }
  CHECK(u_diff == 0);  // integer pipeline: bit-identical
  if constexpr (sizeof(T) == 4) {
    // Rounded from the double Box-Muller value: identical except where the double values (which
    // may differ by an ulp) straddle a float rounding tie.
    CHECK(n_diff <= n / 10000);
  } else {
    // CUDA's log / sincos differ from glibc's by an ulp or so: on an H200 about 14% of 1e5
    // normals differed, each by a few ulp at most.
    CHECK(n_rel <= 16 * std::numeric_limits<double>::epsilon());
  }
  CHECK(n_max < 1e-12 * 10);
}

TEST_CASE_TEMPLATE("scaled uniforms (lo + (hi - lo) U) are identical on cpu and cuda", T, float,
                   double) {
  // nvcc would contract the scaling into an FMA; rng_math.hpp rounds the product on its own.
  Context cpu(Device::cpu, 2), gpu(Device::cuda, 2);
  const index_t n = 100003;
  std::vector<T> uc(n);
  rng_uniform<T>(cpu, 7, 1, 3, uc.data(), n, T(-0.37), T(0.61));
  Buffer<T> ug(gpu, n);
  rng_uniform<T>(gpu, 7, 1, 3, ug.data(), n, T(-0.37), T(0.61));
  const auto uh = download(gpu, ug);
  index_t diff = 0;
  for (index_t i = 0; i < n; ++i) diff += uh[i] != uc[i];
  CHECK(diff == 0);
}

TEST_CASE_TEMPLATE("cuBLAS gemm matches OpenBLAS through the facade", T, float, double) {
  Context cpu(Device::cpu, 2), gpu(Device::cuda, 2);
  const index_t m = 37, n = 29, k = 130;
  for (Op oa : {Op::N, Op::T}) {
    for (Op ob : {Op::N, Op::T}) {
      std::vector<T> a(m * k), b(k * n), c(m * n);
      rng_normal<T>(cpu, 1, 0, 0, a.data(), m * k);
      rng_normal<T>(cpu, 1, 1, 0, b.data(), k * n);
      rng_normal<T>(cpu, 1, 2, 0, c.data(), m * n);
      const index_t lda = oa == Op::N ? k : m, ldb = ob == Op::N ? n : k;
      Buffer<T> ag = upload(gpu, a), bg = upload(gpu, b), cg = upload(gpu, c);
      gemm<T>(cpu, oa, ob, m, n, k, T(1.5), a.data(), lda, b.data(), ldb, T(0.5), c.data(), n);
      gemm<T>(gpu, oa, ob, m, n, k, T(1.5), ag.data(), lda, bg.data(), ldb, T(0.5), cg.data(), n);
      const auto ch = download(gpu, cg);
      double err = 0;
      for (index_t i = 0; i < m * n; ++i) err = std::fmax(err, std::fabs(double(ch[i]) - double(c[i])));
      CHECK(err < (sizeof(T) == 4 ? 1e-3 : 1e-10));
    }
  }
}

TEST_CASE("measure_cuda_peaks: the roofs follow from the properties; the copy kernel copies") {
  const CudaPeaks p = measure_cuda_peaks(0, 0.01, std::size_t(1) << 18);
  CHECK(p.copy_bytes == double(std::size_t(1) << 18));
  CHECK(p.copy_gbytes_per_s > 0);
  CHECK(p.clock_ghz > 0);
  CHECK(p.multiprocessors > 0);
  CHECK(p.dram_gbytes_per_s > 0);
  const FmaLanes l = cuda_fma_lanes_per_sm(p.sm / 10, p.sm % 10);
  CHECK(p.fma_gflops_f32 == doctest::Approx(2.0 * l.f32 * p.multiprocessors * p.clock_ghz));
  CHECK(p.fma_gflops_f64 == doctest::Approx(2.0 * l.f64 * p.multiprocessors * p.clock_ghz));
  // A size that is not a multiple of 16 bytes is rounded down to whole float4s.
  CHECK(measure_cuda_peaks(0, 0.0, 100).copy_bytes == 96.0);
}

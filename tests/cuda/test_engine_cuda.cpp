// Engine on a real GPU: the same Philox header gives the same streams on both backends, cuBLAS
// gemm matches OpenBLAS, buffers round-trip. Skipped (exit 77) where no CUDA device is usable.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "nwgf/engine/blas.hpp"
#include "nwgf/engine/buffer.hpp"
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
  double n_max = 0;
  for (index_t i = 0; i < n; ++i) {
    u_diff += uh[i] != uc[i];
    n_diff += nh[i] != nc[i];
    n_max = std::fmax(n_max, std::fabs(double(nh[i]) - double(nc[i])));
  }
  CHECK(u_diff == 0);  // integer pipeline: bit-identical
  CHECK(n_diff <= n / 10000);  // double transcendental functions may differ by an ulp
  CHECK(n_max < 1e-12 * 10);
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

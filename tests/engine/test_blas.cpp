// The BLAS facade against a naive triple loop, all transpose combinations, float and double,
// with leading dimensions larger than the row length and beta != 0.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "nwgf/engine/blas.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/rng.hpp"

using namespace nwgf;

TEST_CASE_TEMPLATE("gemm matches a naive triple loop", T, float, double) {
  Context ctx(Device::cpu, 2);
  const index_t shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {33, 17, 65}, {128, 3, 2}, {2, 130, 129}};
  for (const auto& s : shapes) {
    const index_t m = s[0], n = s[1], k = s[2];
    for (Op oa : {Op::N, Op::T}) {
      for (Op ob : {Op::N, Op::T}) {
        const index_t ar = oa == Op::N ? m : k, ac = oa == Op::N ? k : m;
        const index_t br = ob == Op::N ? k : n, bc = ob == Op::N ? n : k;
        const index_t lda = ac + 3, ldb = bc + 1, ldc = n + 2;
        std::vector<T> a(ar * lda), b(br * ldb), c(m * ldc), c0;
        rng_normal<T>(ctx, 1, 0, 0, a.data(), index_t(a.size()));
        rng_normal<T>(ctx, 1, 1, 0, b.data(), index_t(b.size()));
        rng_normal<T>(ctx, 1, 2, 0, c.data(), index_t(c.size()));
        c0 = c;
        const T alpha = T(0.75), beta = T(-0.5);
        gemm<T>(ctx, oa, ob, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
        double max_err = 0;
        for (index_t i = 0; i < m; ++i) {
          for (index_t j = 0; j < n; ++j) {
            long double s = 0;
            for (index_t l = 0; l < k; ++l) {
              const T av = oa == Op::N ? a[i * lda + l] : a[l * lda + i];
              const T bv = ob == Op::N ? b[l * ldb + j] : b[j * ldb + l];
              s += (long double)av * bv;
            }
            const long double ref = alpha * s + (long double)beta * c0[i * ldc + j];
            max_err = std::fmax(max_err, double(std::fabs(ref - (long double)c[i * ldc + j])));
          }
          // Padding beyond column n is untouched.
          for (index_t j = n; j < ldc; ++j) CHECK(c[i * ldc + j] == c0[i * ldc + j]);
        }
        const double tol = (sizeof(T) == 4 ? 1e-5 : 1e-13) * double(k + 1);
        CHECK(max_err < tol);
      }
    }
  }
}

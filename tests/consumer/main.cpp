// Uses the installed library the way an embedding application would.
#include <cmath>
#include <cstdio>
#include <vector>

#include "engine/backend.hpp"
#include "engine/blas.hpp"
#include "engine/buffer.hpp"
#include "engine/rng.hpp"

int main() {
  nwgf::Context ctx(nwgf::BackendChoice::automatic, 1);
  // C = A A^T for a 3 x 2 matrix of Philox normals, checked against a plain loop.
  nwgf::Buffer<double> a(ctx, 6), c(ctx, 9);
  nwgf::rng_normal(ctx, 42, 0, 0, a.data(), 6);
  nwgf::gemm(ctx, nwgf::Op::N, nwgf::Op::T, 3, 3, 2, 1.0, a.data(), 2, a.data(), 2, 0.0, c.data(), 3);
  const auto ah = nwgf::download(ctx, a), ch = nwgf::download(ctx, c);
  double err = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      err = std::fmax(err, std::fabs(ch[3 * i + j] - (ah[2 * i] * ah[2 * j] + ah[2 * i + 1] * ah[2 * j + 1])));
  std::printf("nwgf consumer: backend %s, gemm max error %.3g\n", nwgf::to_string(ctx.device()), err);
  return err < 1e-12 ? 0 : 1;
}

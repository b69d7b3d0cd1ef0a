// The PReLU, linear and residual MLP variants on CUDA against the CPU path: forward, reverse
// (parameters, slopes and input), float and double, a ragged width.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/nn/mlp.hpp"
#include "tests/cuda/device_compare.hpp"

using namespace nwgf;
using nwgf::test::rel_err;
using nwgf::test::to_host;

namespace {

template <class T>
void compare(const MlpOptions& o) {
  Context cpu(Device::cpu, 2), gpu(Device::cuda);
  const double tol = sizeof(T) == 4 ? 2e-4 : 1e-11;
  const std::vector<index_t> w = {3, 64, 37, 3};
  const index_t B = 700, in = w.front(), out = w.back();
  Mlp<T> mc(cpu, w, 800, o), mg(gpu, w, 800, o);
  mc.init(cpu, 5, 2);
  mg.init(gpu, 5, 2);
  const index_t P = mc.num_params();
  CHECK(to_host(gpu, mg.params(), P) == std::vector<T>(mc.params(), mc.params() + P));
  std::vector<T> x(B * in), c(B * out), yc(B * out), dxc(B * in);
  rng_normal<T>(cpu, 5, 3, 0, x.data(), B * in);
  rng_normal<T>(cpu, 5, 4, 0, c.data(), B * out);
  Buffer<T> xg = upload(gpu, x), cg = upload(gpu, c), yg(gpu, B * out), dxg(gpu, B * in);
  mc.forward(cpu, ConstPointsView<T>(x.data(), B, in), PointsView<T>(yc.data(), B, out));
  mg.forward(gpu, ConstPointsView<T>(xg.data(), B, in, in, Device::cuda),
             PointsView<T>(yg.data(), B, out, out, Device::cuda));
  CHECK(rel_err(download(gpu, yg), yc) < tol);
  mc.backward(cpu, ConstPointsView<T>(c.data(), B, out), PointsView<T>(dxc.data(), B, in));
  mg.backward(gpu, ConstPointsView<T>(cg.data(), B, out, out, Device::cuda),
              PointsView<T>(dxg.data(), B, in, in, Device::cuda));
  CHECK(rel_err(download(gpu, dxg), dxc) < tol);
  CHECK(rel_err(to_host(gpu, mg.grads(), P), std::vector<T>(mc.grads(), mc.grads() + P)) < tol);
}
}  // namespace

TEST_CASE_TEMPLATE("CUDA PReLU / linear / residual MLPs match the CPU path", T, float, double) {
  MlpOptions o;
  o.activation = Activation::prelu;
  o.residual = true;
  compare<T>(o);
  o.activation = Activation::linear;
  compare<T>(o);
}

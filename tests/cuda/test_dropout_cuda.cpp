// Dropout on CUDA against the CPU path: the masks bit for bit (float and double), an MLP's
// training forward and reverse pass through them, and a variational run with dropout on T.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/nn/dropout.hpp"
#include "nwgf/nn/mlp.hpp"
#include "nwgf/schemes/flow.hpp"
#include "tests/cuda/device_compare.hpp"

using namespace nwgf;
using nwgf::test::rel_err;
using nwgf::test::to_host;


TEST_CASE_TEMPLATE("CUDA dropout masks and MLP passes match the CPU path", T, float, double) {
  Context cpu(Device::cpu, 2), gpu(Device::cuda);
  detail::DropoutLayer<T> d;
  d.seed = 11;
  d.stream = 5;
  d.offset = 1001;  // not a multiple of the 4 words of a Philox block
  d.threshold = detail::dropout_threshold(0.3);
  d.scale = T(1.0 / 0.7);
  const index_t n = 10007;
  std::vector<T> v(static_cast<std::size_t>(n));
  rng_normal<T>(cpu, 1, 2, 0, v.data(), n);
  Buffer<T> vg = upload(gpu, v);
  detail::apply_dropout(cpu, d, v.data(), n);
  detail::apply_dropout(gpu, d, vg.data(), n);
  CHECK(download(gpu, vg) == v);

  const double tol = sizeof(T) == 4 ? 2e-4 : 1e-11;
  const std::vector<index_t> w = {3, 64, 37, 40, 3};
  const index_t B = 700, in = w.front(), out = w.back();
  MlpOptions o;
  o.activation = Activation::prelu;
  o.residual = true;
  o.dropout = 0.1;
  Mlp<T> mc(cpu, w, 800, o), mg(gpu, w, 800, o);
  mc.init(cpu, 5, 2);
  mg.init(gpu, 5, 2);
  const index_t P = mc.num_params();
  std::vector<T> x(B * in), c(B * out), yc(B * out), dxc(B * in);
  rng_normal<T>(cpu, 5, 3, 0, x.data(), B * in);
  rng_normal<T>(cpu, 5, 4, 0, c.data(), B * out);
  Buffer<T> xg = upload(gpu, x), cg = upload(gpu, c), yg(gpu, B * out), dxg(gpu, B * in);
  const DropoutDraw draw{5, 12, 3 * mc.dropout_elements()};
  mc.forward(cpu, ConstPointsView<T>(x.data(), B, in), PointsView<T>(yc.data(), B, out), &draw);
  mg.forward(gpu, ConstPointsView<T>(xg.data(), B, in, in, Device::cuda),
             PointsView<T>(yg.data(), B, out, out, Device::cuda), &draw);
  CHECK(rel_err(download(gpu, yg), yc) < tol);
  mc.backward(cpu, ConstPointsView<T>(c.data(), B, out), PointsView<T>(dxc.data(), B, in));
  mg.backward(gpu, ConstPointsView<T>(cg.data(), B, out, out, Device::cuda),
              PointsView<T>(dxg.data(), B, in, in, Device::cuda));
  CHECK(rel_err(download(gpu, dxg), dxc) < tol);
  CHECK(rel_err(to_host(gpu, mg.grads(), P), std::vector<T>(mc.grads(), mc.grads() + P)) < tol);
}

TEST_CASE("CUDA variational JKO steps with dropout on T match the CPU path") {
  const std::string text = R"(
seed = 4
[flow]
scheme = "variational"
tau = 0.05
steps = 2
dtype = "f64"
[functional]
kind = "entropy"
m = 2
[initial]
kind = "gaussian"
n = 700
d = 2
radius = 0.5
[network]
hidden = [16, 16, 16]
activation = "prelu"
dropout = 0.04
[critic]
hidden = [16]
[train]
iterations = 6
inner = 2
batch = 100
[output]
progress = false
)";
  RunResult r[2];
  for (int k = 0; k < 2; ++k) {
    RunOptions opt;
    opt.backend = k == 0 ? BackendChoice::cpu : BackendChoice::cuda;
    opt.threads = 2;
    r[k] = run_flow(parse_flow_config(text, "variational.toml"), opt);
  }
  CHECK(r[1].device == Device::cuda);
  REQUIRE(r[0].samples.data.size() == r[1].samples.data.size());
  double e = 0, s = 1e-30;
  for (std::size_t i = 0; i < r[0].samples.data.size(); ++i) {
    e = std::max(e, std::fabs(r[0].samples.data[i] - r[1].samples.data[i]));
    s = std::max(s, std::fabs(r[0].samples.data[i]));
  }
  CHECK(e / s < 1e-8);
}

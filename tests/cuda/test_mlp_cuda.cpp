// The MLP and Adam on CUDA against the CPU path: forward, reverse (parameters and input, with
// and without accumulation) and several Adam steps, float and double, a batch below max_batch
// and a ragged width (not a multiple of the 32-column blocks of the bias-gradient kernel).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/nn/adam.hpp"
#include "nwgf/nn/mlp.hpp"
#include "tests/cuda/device_compare.hpp"

using namespace nwgf;
using nwgf::test::rel_err;
using nwgf::test::to_host;


TEST_CASE_TEMPLATE("CUDA MLP forward/backward and Adam match the CPU path", T, float, double) {
  Context cpu(Device::cpu, 2), gpu(Device::cuda);
  const double tol = sizeof(T) == 4 ? 2e-4 : 1e-11;
  const std::vector<index_t> w = {6, 128, 77, 128, 3};
  const index_t B = 5000, max_batch = 6000, in = w.front(), out = w.back();
  Mlp<T> mc(cpu, w, max_batch), mg(gpu, w, max_batch);
  mc.init(cpu, 4, 2);
  mg.init(gpu, 4, 2);
  const index_t P = mc.num_params();
  const std::vector<T> pc(mc.params(), mc.params() + P);
  CHECK(to_host(gpu, mg.params(), P) == pc);  // Philox streams are backend-independent

  std::vector<T> x(B * in), c(B * out), yc(B * out), dxc(B * in);
  rng_normal<T>(cpu, 4, 3, 0, x.data(), B * in);
  rng_normal<T>(cpu, 4, 4, 0, c.data(), B * out);
  Buffer<T> xg = upload(gpu, x), cg = upload(gpu, c), yg(gpu, B * out), dxg(gpu, B * in);
  Adam<T> ac(cpu, P), ag(gpu, P);
  for (int step = 0; step < 3; ++step) {
    mc.forward(cpu, ConstPointsView<T>(x.data(), B, in), PointsView<T>(yc.data(), B, out));
    mg.forward(gpu, ConstPointsView<T>(xg.data(), B, in, in, Device::cuda),
               PointsView<T>(yg.data(), B, out, out, Device::cuda));
    CHECK(rel_err(download(gpu, yg), yc) < tol);
    mc.backward(cpu, ConstPointsView<T>(c.data(), B, out), PointsView<T>(dxc.data(), B, in));
    mg.backward(gpu, ConstPointsView<T>(cg.data(), B, out, out, Device::cuda),
                PointsView<T>(dxg.data(), B, in, in, Device::cuda));
    CHECK(rel_err(download(gpu, dxg), dxc) < tol);
    mc.backward(cpu, ConstPointsView<T>(c.data(), B, out), PointsView<T>(), true);
    mg.backward(gpu, ConstPointsView<T>(cg.data(), B, out, out, Device::cuda), PointsView<T>(),
                true);
    const std::vector<T> gc(mc.grads(), mc.grads() + P);
    CHECK(rel_err(to_host(gpu, mg.grads(), P), gc) < tol);
    ac.step(cpu, mc.params(), mc.grads(), 1e-3);
    ag.step(gpu, mg.params(), mg.grads(), 1e-3);
    const std::vector<T> pcs(mc.params(), mc.params() + P);
    CHECK(rel_err(to_host(gpu, mg.params(), P), pcs) < tol);
  }
  CHECK(ag.device_steps(gpu) == 3);  // the kernel advanced the device-side step counter
  const std::vector<T> mom(ac.moments(), ac.moments() + 2 * P);
  CHECK(rel_err(to_host(gpu, ag.moments(), 2 * P), mom) < 10 * tol);
}

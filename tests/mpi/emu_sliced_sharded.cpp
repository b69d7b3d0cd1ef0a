// The sharded sliced estimator on the CUDA backend (kernels/sliced_sharded.hpp, r = 1) under the
// CUDA emulation build, whose NCCL is the stand-in over MPI: run by `mpirun -np P
// emu_sliced_sharded` (cmake/NwgfEmulate.cmake, label mpi), its own main, one per rank. Every
// rank draws the whole problem, uploads only its own rows of X and of Y (the 64-row grid) to its
// device and runs sliced_gradient_sharded across the P ranks (the transposes over NCCL), then
// compares:
//   - its rows of the gradient and the sums, bit for bit, with one process's sharded CUDA pass
//     over all rows (single_process_comm) with all directions in one chunk: so the bits are the
//     same at every rank count and chunk size;
//   - the same with the CPU sharded pass over all rows (one process): within 2e-3 of the largest
//     gradient entry in f32 and 1e-11 in f64 (the projections are other sums than OpenBLAS's
//     GEMM, so a projection may differ in its last bits and two nearly tied projections swap:
//     one count of G), the sums within 1e-5 (f32) and 1e-12 (f64) relatively;
//   - the same with one GPU process's replicated SlicedRiesz::evaluate (cuBLAS projections,
//     sums over blocks spanning a chunk's directions), same tolerances.
// Cases: f32/f64, N not a multiple of 64, M != N, M = 0 (the target's own sums), d = 1, 2, 5, 20,
// several chunks of directions (the workspace's chunk cut down: its buffers hold more), sums only,
// accumulating onto a start, a rank without rows (N = 100 at 3 ranks).
// Exit 0 when every check holds on every rank; 1 with the failing cases on stderr otherwise.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/comm/nccl_comm.hpp"
#include "nwgf/engine/philox.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "nwgf/kernels/sliced.hpp"
#include "nwgf/kernels/sliced_sharded.hpp"

#include "../kernels/philox_points.hpp"
#include "emu_rows.hpp"

namespace nwgf {
namespace {

using emu_test::download_all;

template <class T>
std::vector<T> points(index_t n, index_t d, std::uint64_t stream) {
  return test::philox_points<T>(9, n, d, stream);
}

struct Case {
  index_t n, m, d;
  int directions;
  int chunk;  // directions per chunk (0: the workspace's)
  bool grad = true, sums = true, accumulate = false;
};

struct Result {
  std::vector<double> grad;  // this rank's rows (or all rows, one process)
  double xx = 0, xy = 0;
};

// The sharded pass of case c over the rows [r0, r1) of X and [t0, t1) of Y that this rank of
// comm holds, on ctx (CUDA: the rows uploaded first).
template <class T>
Result run_pass(const Context& ctx, const Comm& comm, const Case& c, const std::vector<T>& x,
                const std::vector<T>& y, const std::vector<T>& start, bool replicated = false,
                bool cut = true) {
  const index_t d = c.d;
  const auto [r0, r1] = owned_rows(c.n, comm.rank(), comm.size());
  const auto [t0, t1] = owned_rows(c.m, comm.rank(), comm.size());
  const index_t rows = r1 - r0, trows = t1 - t0;
  const auto part = [d](const std::vector<T>& h, index_t i0, index_t i1) {
    return std::vector<T>(h.begin() + i0 * d, h.begin() + i1 * d);
  };
  const Device dev = ctx.device();
  const Buffer<T> xo = upload(ctx, part(x, r0, r1)), yo = upload(ctx, part(y, t0, t1));
  Buffer<T> g = upload(ctx, part(start, r0, r1));
  SlicedRiesz<T> sliced(ctx, c.n, c.m, d, c.directions, comm.size());
  if (c.chunk > 0 && cut) sliced.workspace().chunk = std::min(c.chunk, sliced.workspace().chunk);
  sliced.draw_directions(ctx, 11, 3, 1);
  SlicedShardedBuffers<T> buffers;
  Result res;
  if (comm.size() == 1 && ctx.is_cuda() && replicated) {
    // One GPU process's replicated evaluation of the same directions and chunks.
    SlicedRiesz<T> whole(ctx, c.n, c.m, d, c.directions);
    if (c.chunk > 0) whole.workspace().chunk = std::min(c.chunk, whole.workspace().chunk);
    whole.draw_directions(ctx, 11, 3, 1);
    Buffer<double> sums(ctx, 2);
    fill_zero(ctx, sums);
    const T sxx = T(-0.5 / double(c.n)), sxy = T(c.m > 0 ? 1.0 / double(c.m) : 0.0);
    whole.evaluate(ctx, ConstPointsView<T>(xo.data(), rows, d, dev),
                   ConstPointsView<T>(yo.data(), trows, d, dev), c.sums ? sums.data() : nullptr,
                   c.sums && c.m > 0 ? sums.data() + 1 : nullptr, sxx, sxy,
                   c.grad ? PointsView<T>(g.data(), rows, d, dev) : PointsView<T>(), c.accumulate);
    const std::vector<double> h = download_all(ctx, sums);
    res.xx = h[0];
    res.xy = h[1];
    const std::vector<T> hg = download_all(ctx, g);
    res.grad.assign(hg.begin(), hg.end());
    return res;
  }
  const T scale_xx = T(-0.5 / double(c.n)), scale_xy = T(c.m > 0 ? 1.0 / double(c.m) : 0.0);
  sliced_gradient_sharded<T>(
      ctx, comm, sliced, ConstPointsView<T>(xo.data(), rows, d, dev), c.n,
      ConstPointsView<T>(yo.data(), trows, d, dev), c.m, c.sums ? &res.xx : nullptr,
      c.sums && c.m > 0 ? &res.xy : nullptr, scale_xx, scale_xy,
      c.grad ? PointsView<T>(g.data(), rows, d, dev) : PointsView<T>(), c.accumulate, buffers);
  const std::vector<T> h = download_all(ctx, g);
  res.grad.assign(h.begin(), h.end());
  return res;
}

template <class T>
std::string differs(const Context& gpu, const Context& cpu, const DeviceComm& comm, const Case& c,
                    double* cpu_gap, double* gpu_gap) {
  const index_t d = c.d;
  const std::vector<T> x = points<T>(c.n, d, 1), y = points<T>(c.m, d, 2);
  const std::vector<T> start(static_cast<std::size_t>(c.n * d), T(0.25));
  const Result ranks = run_pass<T>(gpu, comm, c, x, y, start);
  // One process with all directions in one chunk: the chunks must not matter either (CUDA).
  const Result one = run_pass<T>(gpu, single_process_comm(), c, x, y, start, false, false);
  const Result host = run_pass<T>(cpu, single_process_comm(), c, x, y, start);
  const Result whole = run_pass<T>(gpu, single_process_comm(), c, x, y, start, true);
  const auto [r0, r1] = owned_rows(c.n, comm.rank(), comm.size());
  std::string what;
  const std::size_t k0 = std::size_t(r0 * d), k1 = std::size_t(r1 * d);
  if (ranks.grad.size() != k1 - k0 ||
      !std::equal(ranks.grad.begin(), ranks.grad.end(), one.grad.begin() + std::ptrdiff_t(k0))) {
    what += " gradient";
  }
  if (std::memcmp(&ranks.xx, &one.xx, sizeof(double)) != 0) what += " S_xx";
  if (std::memcmp(&ranks.xy, &one.xy, sizeof(double)) != 0) what += " S_xy";
  // Against the CPU sharded pass and one GPU process's replicated evaluation.
  const bool f64 = sizeof(T) == sizeof(double);
  const auto compare = [&](const Result& ref, const char* name, double* gap) {
    double gmax = 0, gdiff = 0;
    for (std::size_t k = 0; k < ref.grad.size(); ++k) {
      gmax = std::max(gmax, std::abs(ref.grad[k]));
      gdiff = std::max(gdiff, std::abs(ref.grad[k] - one.grad[k]));
    }
    const double rel_g = gmax > 0 ? gdiff / gmax : gdiff;
    const double rel_xx = std::abs(ref.xx - one.xx) / std::max(std::abs(ref.xx), 1e-300);
    const double rel_xy = std::abs(ref.xy - one.xy) / std::max(std::abs(ref.xy), 1e-300);
    *gap = std::max({*gap, rel_g, ref.xx != 0 ? rel_xx : 0.0, ref.xy != 0 ? rel_xy : 0.0});
    const std::string vs = std::string(" vs ") + name;
    if (rel_g > (f64 ? 1e-11 : 2e-3)) what += " gradient" + vs + " (" + std::to_string(rel_g) + ")";
    if (ref.xx != 0 && rel_xx > (f64 ? 1e-12 : 1e-5)) what += " S_xx" + vs;
    if (ref.xy != 0 && rel_xy > (f64 ? 1e-12 : 1e-5)) what += " S_xy" + vs;
  };
  compare(host, "CPU", cpu_gap);
  compare(whole, "replicated GPU", gpu_gap);
  if (c.sums && !(one.xx > 0)) what += " S_xx not positive";
  return what;
}

}  // namespace
}  // namespace nwgf

int main() {
  using namespace nwgf;
  const CommSession session;
  const Comm& host = session.comm();
  Context gpu(Device::cuda, 1), cpu(Device::cpu, 1);
  std::unique_ptr<DeviceComm> dc = make_nccl_comm(gpu, host);
  std::string failures;
  double gap32 = 0, gap64 = 0, rep32 = 0, rep64 = 0;
  const auto run = [&](const Case& c, bool f64) {
    const std::string what = f64 ? differs<double>(gpu, cpu, *dc, c, &gap64, &rep64)
                                 : differs<float>(gpu, cpu, *dc, c, &gap32, &rep32);
    if (what.empty()) return;
    failures += "rank " + std::to_string(host.rank()) + ": n = " + std::to_string(c.n) +
                ", m = " + std::to_string(c.m) + ", d = " + std::to_string(c.d) +
                ", S = " + std::to_string(c.directions) + (f64 ? ", f64" : ", f32") +
                ": differs in" + what + "\n";
  };
  // d = 2, N not a multiple of 64, M != N, one chunk.
  run({700, 650, 2, 40, 0}, false);
  run({700, 650, 2, 40, 0}, true);
  // Several chunks (7, 7, ..., 2 directions), accumulating onto a start; d = 5.
  run({300, 333, 5, 23, 7, true, true, true}, true);
  run({300, 333, 5, 23, 7, true, true, true}, false);
  // M = 0: the target's own sums (no gradient), d = 1.
  run({500, 0, 1, 30, 0, false, true}, true);
  // The gradient without sums, d = 20, M > N.
  run({200, 260, 20, 16, 5, true, false}, false);
  // N = 100: at 3 ranks rank 0 owns no rows of X (and of Y, M = 70).
  run({100, 70, 3, 12, 0}, true);
  const CommStatus agreed = host.agree({failures.empty() ? 0 : 1, failures});
  if (agreed.code != 0) {
    std::fprintf(stderr, "FAIL (%d ranks):\n%s", host.size(), agreed.message.c_str());
    return 1;
  }
  if (host.root()) {
    std::printf(
        "ok: %d ranks, the CUDA sharded sliced pass bit for bit one process's; against the CPU "
        "sharded pass at most %.3g (f32), %.3g (f64) relative, against one GPU's replicated "
        "evaluation %.3g (f32), %.3g (f64)\n",
        host.size(), gap32, gap64, rep32, rep64);
  }
  return 0;
}

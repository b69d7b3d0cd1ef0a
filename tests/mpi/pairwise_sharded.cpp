// The sharded pairwise passes (kernels/pairwise_sharded.hpp) over MPI: run by
// `mpirun -np P mpi_pairwise_sharded` (tests/CMakeLists.txt, label mpi), its own main, one per
// rank. Every rank draws the whole problem (to compute one process's answer for comparison),
// hands the sharded pass only copies of its own rows of X and its own block of Y, and compares
// its rows of the gradient and the row sums, and the energy, with one process's bit for bit.
// Exit 0 when every rank agrees, 1 (with the failing cases on stderr) otherwise.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/philox.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "nwgf/kernels/pairwise_sharded.hpp"

namespace nwgf {
namespace {

template <class T>
std::vector<T> points(index_t n, index_t d, std::uint64_t stream) {
  std::vector<T> v(static_cast<std::size_t>(n * d));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = T(philox_uniform<double>(5, stream, i) - 0.5);
  return v;
}

// One case on every rank; the empty string when this rank's results are one process's.
template <class T>
std::string check(const Comm& comm, index_t n, index_t m, index_t d, bool self, index_t chunk,
                  int threads) {
  const int ranks = comm.size(), q = comm.rank();
  if (self) m = n;
  const std::vector<T> x = points<T>(n, d, 1);
  const std::vector<T> y = self ? x : points<T>(m, d, 2);
  std::vector<T> b(static_cast<std::size_t>(m));
  for (index_t j = 0; j < m; ++j) b[std::size_t(j)] = T(0.5 + double(j % 9) / 16.0);
  const T* bw = self ? nullptr : b.data();
  const Context ctx(Device::cpu, threads);
  const ConstPointsView<T> xv(x.data(), n, d), yv(y.data(), m, d);
  std::vector<T> ref_g(static_cast<std::size_t>(n * d)), ref_v(static_cast<std::size_t>(n));
  double ref_e = 0;
  pair_gradient<T>(ctx, PairFamily::riesz, 1.0, xv, nullptr, yv, bw, T(1),
                   PointsView<T>(ref_g.data(), n, d), false);
  pair_row_sums<T>(ctx, PairFamily::riesz, 1.0, xv, nullptr, yv, bw, T(1), ref_v.data(), false);
  pair_energy<T>(ctx, PairFamily::riesz, 1.0, xv, nullptr, yv, bw, &ref_e);

  const auto [r0, r1] = owned_rows(n, q, ranks);
  const auto [c0, c1] = owned_rows(m, q, ranks);
  const std::vector<T> xo(x.begin() + r0 * d, x.begin() + r1 * d);
  const std::vector<T> yo(y.begin() + c0 * d, y.begin() + c1 * d);
  const std::vector<T> bo(b.begin() + c0, b.begin() + c1);
  const index_t rows = r1 - r0;
  std::vector<T> g(static_cast<std::size_t>(rows * d)), v(static_cast<std::size_t>(rows));
  double e = -1;
  ShardedOptions o;
  o.chunk_columns = chunk;
  const ConstPointsView<T> xov(xo.data(), rows, d), yov(yo.data(), c1 - c0, d);
  pair_gradient_sharded<T>(ctx, comm, PairFamily::riesz, 1.0, xov, nullptr, n, yov,
                           self ? nullptr : bo.data(), m, T(1), PointsView<T>(g.data(), rows, d),
                           false, o);
  pair_energy_sharded<T>(ctx, comm, PairFamily::riesz, 1.0, xov, nullptr, n, yov,
                         self ? nullptr : bo.data(), m, &e, T(1), v.data(), false, o);
  std::string what;
  if (std::memcmp(g.data(), ref_g.data() + r0 * d, g.size() * sizeof(T)) != 0) what += " gradient";
  if (std::memcmp(v.data(), ref_v.data() + r0, v.size() * sizeof(T)) != 0) what += " row sums";
  if (std::memcmp(&e, &ref_e, sizeof e) != 0) what += " energy";
  if (what.empty()) return what;
  return "rank " + std::to_string(q) + ": n = " + std::to_string(n) + ", m = " +
         std::to_string(m) + ", d = " + std::to_string(d) + ", f" + std::to_string(8 * sizeof(T)) +
         ", chunk = " + std::to_string(chunk) + ": differs in" + what;
}

}  // namespace
}  // namespace nwgf

int main() {
  const nwgf::CommSession session;
  const nwgf::Comm& comm = session.comm();
  std::string failures;
  const auto add = [&](const std::string& s) {
    if (!s.empty()) failures += s + "\n";
  };
  add(nwgf::check<float>(comm, 3001, 2500, 2, false, 1024, 2));
  add(nwgf::check<float>(comm, 1000, 0, 2, true, 0, 1));
  add(nwgf::check<double>(comm, 777, 0, 3, true, 1, 2));
  add(nwgf::check<float>(comm, 300, 5000, 20, false, 1, 2));
  add(nwgf::check<double>(comm, 129, 700, 100, false, 0, 1));
  const nwgf::CommStatus agreed = comm.agree({failures.empty() ? 0 : 1, failures});
  if (agreed.code != 0) {
    std::fprintf(stderr, "FAIL (%d ranks):\n%s", comm.size(), agreed.message.c_str());
    return 1;
  }
  if (comm.root()) std::printf("ok: %d ranks, bit for bit one process's rows\n", comm.size());
  return 0;
}

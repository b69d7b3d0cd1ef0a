// The NCCL device communicator (engine/comm/nccl_comm.hpp) under the CUDA emulation build, whose
// NCCL is the stand-in over MPI (tools/emulate/include/nccl.h). Run as `mpirun -np P` (P >= 2):
//   - device_broadcast from the last rank;
//   - device_allgather with unequal parts (one empty, gaps between parts that must stay as they
//     were), the parts on every rank afterwards;
//   - device_send/device_recv around a ring;
//   - device_alltoallv with unequal parts (rank q sends rank r 17 q + 5 r + 3 bytes, none from
//     rank 1 to rank 0), each part landing at its offset, the gaps untouched;
//   - an error on one rank (a host buffer where NCCL needs device memory) is every rank's
//     nwgf::Error, nothing hangs, and the aborted communicator refuses later calls.
// Exit 0 when every check holds on every rank; 1 with a FAIL line otherwise.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/comm/nccl_comm.hpp"
#include "nwgf/engine/error.hpp"

using namespace nwgf;

namespace {

int g_failures = 0;

void expect(bool ok, const Comm& comm, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "FAIL (rank %d): %s\n", comm.rank(), what.c_str());
  ++g_failures;
}

// The byte of rank q's part at position k (never 0xEE, the fill of the gaps).
unsigned char pattern(int q, std::size_t k) { return (unsigned char)((q * 37 + k * 11) % 200); }

}  // namespace

int main() {
  const CommSession session;
  const Comm& comm = session.comm();
  const int ranks = comm.size(), me = comm.rank();
  if (ranks < 2) {
    std::fprintf(stderr, "FAIL: run under mpirun -np 2 or more\n");
    return 1;
  }
  Context ctx(Device::cuda, 1);
  std::unique_ptr<DeviceComm> dc = make_nccl_comm(ctx, comm);
  expect(std::string(dc->kind()) == "nccl" && dc->size() == ranks && dc->rank() == me, comm,
         "kind/size/rank");

  // Broadcast from the last rank.
  {
    std::vector<unsigned char> h(1000, 0xEE);
    if (me == ranks - 1) {
      for (std::size_t k = 0; k < h.size(); ++k) h[k] = pattern(7, k);
    }
    Buffer<unsigned char> b(ctx, index_t(h.size()));
    copy_from_host(ctx, b, h.data(), index_t(h.size()));
    dc->device_broadcast(b.data(), h.size(), ranks - 1);
    std::vector<unsigned char> got(h.size());
    copy_to_host(ctx, got.data(), b);
    ctx.synchronize();
    bool ok = true;
    for (std::size_t k = 0; k < got.size(); ++k) ok = ok && got[k] == pattern(7, k);
    expect(ok, comm, "device_broadcast");
  }

  // Allgather of unequal parts: rank q has 40 + 13 q bytes (rank 1: none), a 5-byte gap after
  // each part.
  {
    std::vector<std::size_t> counts(static_cast<std::size_t>(ranks)), offsets(counts.size());
    std::size_t total = 0;
    for (int q = 0; q < ranks; ++q) {
      counts[std::size_t(q)] = q == 1 ? 0 : std::size_t(40 + 13 * q);
      offsets[std::size_t(q)] = total;
      total += counts[std::size_t(q)] + 5;
    }
    std::vector<unsigned char> h(total, 0xEE);
    for (std::size_t k = 0; k < counts[std::size_t(me)]; ++k) {
      h[offsets[std::size_t(me)] + k] = pattern(me, k);
    }
    Buffer<unsigned char> b(ctx, index_t(total));
    copy_from_host(ctx, b, h.data(), index_t(total));
    dc->device_allgather(b.data(), counts, offsets);
    std::vector<unsigned char> got(total);
    copy_to_host(ctx, got.data(), b);
    ctx.synchronize();
    bool parts = true, gaps = true;
    for (int q = 0; q < ranks; ++q) {
      const std::size_t o = offsets[std::size_t(q)], c = counts[std::size_t(q)];
      for (std::size_t k = 0; k < c; ++k) parts = parts && got[o + k] == pattern(q, k);
      for (std::size_t k = 0; k < 5; ++k) gaps = gaps && got[o + c + k] == 0xEE;
    }
    expect(parts, comm, "device_allgather: every rank's part");
    expect(gaps, comm, "device_allgather: the bytes between parts untouched");
  }

  // A ring: rank q sends its pattern to q + 1 and receives q - 1's.
  {
    const std::size_t n = 3000;
    std::vector<unsigned char> h(n);
    for (std::size_t k = 0; k < n; ++k) h[k] = pattern(me, k);
    Buffer<unsigned char> out(ctx, index_t(n)), in(ctx, index_t(n));
    copy_from_host(ctx, out, h.data(), index_t(n));
    const int next = (me + 1) % ranks, prev = (me + ranks - 1) % ranks;
    if (me == 0) {
      dc->device_send(out.data(), n, next);
      dc->device_recv(in.data(), n, prev);
    } else {
      dc->device_recv(in.data(), n, prev);
      dc->device_send(out.data(), n, next);
    }
    std::vector<unsigned char> got(n);
    copy_to_host(ctx, got.data(), in);
    ctx.synchronize();
    bool ok = true;
    for (std::size_t k = 0; k < n; ++k) ok = ok && got[k] == pattern(prev, k);
    expect(ok, comm, "device_send/device_recv around the ring");
  }

  // All to all of unequal parts: from q to r the bytes pattern(100 q + r, k), k < size(q, r),
  // packed in rank order on both sides with a 3-byte gap after each part.
  {
    const auto size = [](int q, int r) -> std::size_t {
      return q == 1 && r == 0 ? 0 : std::size_t(17 * q + 5 * r + 3);
    };
    const std::size_t nr = static_cast<std::size_t>(ranks);
    std::vector<std::size_t> sc(nr), so(nr), rc(nr), ro(nr);
    std::size_t st = 0, rt = 0;
    for (int r = 0; r < ranks; ++r) {
      sc[std::size_t(r)] = size(me, r);
      so[std::size_t(r)] = st;
      st += sc[std::size_t(r)] + 3;
      rc[std::size_t(r)] = size(r, me);
      ro[std::size_t(r)] = rt;
      rt += rc[std::size_t(r)] + 3;
    }
    std::vector<unsigned char> h(st, 0xEE), g(rt, 0xEE);
    for (int r = 0; r < ranks; ++r) {
      for (std::size_t k = 0; k < sc[std::size_t(r)]; ++k) {
        h[so[std::size_t(r)] + k] = pattern(100 * me + r, k);
      }
    }
    Buffer<unsigned char> send(ctx, index_t(st)), recv(ctx, index_t(rt));
    copy_from_host(ctx, send, h.data(), index_t(st));
    copy_from_host(ctx, recv, g.data(), index_t(rt));
    dc->device_alltoallv(send.data(), sc, so, recv.data(), rc, ro);
    copy_to_host(ctx, g.data(), recv);
    ctx.synchronize();
    bool parts = true, gaps = true;
    for (int r = 0; r < ranks; ++r) {
      const std::size_t o = ro[std::size_t(r)], c = rc[std::size_t(r)];
      for (std::size_t k = 0; k < c; ++k) parts = parts && g[o + k] == pattern(100 * r + me, k);
      for (std::size_t k = 0; k < 3; ++k) gaps = gaps && g[o + c + k] == 0xEE;
    }
    expect(parts, comm, "device_alltoallv: every rank's part");
    expect(gaps, comm, "device_alltoallv: the bytes between parts untouched");
  }

  // One rank passes host memory: every rank gets the same error, and the communicator is gone.
  {
    Buffer<unsigned char> b(ctx, 64);
    std::vector<unsigned char> host(64, 0);
    std::string message;
    try {
      dc->device_broadcast(me == 1 ? static_cast<void*>(host.data()) : b.data(), 64, 0);
    } catch (const Error& e) {
      message = e.what();
    }
    expect(!message.empty(), comm, "a host buffer on rank 1: no error on this rank");
    std::string first = message;
    broadcast_string(comm, first, 0);
    expect(message == first, comm, "the error differs between ranks: " + message);
    bool refused = false;
    try {
      dc->device_broadcast(b.data(), 64, 0);
    } catch (const Error& e) {
      refused = std::string(e.what()).find("aborted") != std::string::npos;
    }
    expect(refused, comm, "a call after the error is not refused");
    if (me == 0) std::fprintf(stderr, "the agreed error: %s\n", message.c_str());
  }

  // Every rank's verdict, agreed.
  const CommStatus all = comm.agree(g_failures ? CommStatus{1, "failed"} : CommStatus{});
  if (me == 0) std::fprintf(stderr, all.code == 0 ? "ok: all checks on %d ranks\n" : "FAIL\n", ranks);
  return all.code == 0 ? 0 : 1;
}

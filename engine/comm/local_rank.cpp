// node_local_rank, rank_cuda_device (engine/comm/nccl_comm.hpp): ranks on one host, by host
// name, and the GPU each takes.
#include <unistd.h>

#include <cstring>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/comm/nccl_comm.hpp"

namespace nwgf {

int node_local_rank(const Comm& comm) {
  if (comm.size() == 1) return 0;
  constexpr std::size_t kName = 256;
  const auto ranks = static_cast<std::size_t>(comm.size());
  const auto me = static_cast<std::size_t>(comm.rank());
  std::vector<char> names(kName * ranks, '\0');
  gethostname(names.data() + kName * me, kName - 1);
  std::vector<std::size_t> counts(ranks, kName), offsets(ranks);
  for (std::size_t q = 0; q < ranks; ++q) offsets[q] = kName * q;
  comm.allgather(names.data(), counts, offsets);
  int local = 0;
  for (std::size_t q = 0; q < me; ++q) {
    if (std::memcmp(names.data() + kName * q, names.data() + kName * me, kName) == 0) ++local;
  }
  return local;
}

int rank_cuda_device(const Comm& comm) {
  if (comm.size() == 1) return 0;
  const int local = node_local_rank(comm);
  const CudaStatus s = cuda_status();
  return s.devices.empty() ? 0 : local % int(s.devices.size());
}

}  // namespace nwgf

// A build without NCCL (engine/comm/nccl_comm.hpp): no device communicator.
#ifndef NWGF_HAVE_NCCL
#include "nwgf/engine/comm/nccl_comm.hpp"
#include "nwgf/engine/error.hpp"

namespace nwgf {

bool nccl_available() { return false; }

std::unique_ptr<DeviceComm> make_nccl_comm(const Context&, const Comm&) {
  throw_bad_input(
      "--backend cuda across MPI ranks needs NCCL, and this nwgf was built without it "
      "(NWGF_NCCL=OFF, no nccl.h/libnccl in the CUDA toolkit, or no CUDA backend)");
}

}  // namespace nwgf
#endif  // NWGF_HAVE_NCCL

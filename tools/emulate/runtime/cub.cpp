// nwgf CUDA emulator: what the CUB fake (include/cub/) needs from the runtime: its errors become
// the process's sticky CUDA error, like a failed launch.
#include "internal.hpp"

namespace nwgf::emu {
void report_cub_error(const std::string& why) { impl::set_error(cudaErrorInvalidValue, why); }
}  // namespace nwgf::emu

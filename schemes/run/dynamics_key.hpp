#pragma once
// The settings that must match between a run and its resumption (checkpoint.bin's dynamics
// key): the run length and the outputs may change, and so may flow.memory (how the samples are
// held across ranks, not what flows), so a run checkpointed replicated resumes sharded and back.
#include <string>

#include "nwgf/schemes/config.hpp"

namespace nwgf {

inline std::string dynamics_key(FlowConfig c) {
  c.steps = 0;
  c.t_end = 0;
  c.every = 0;
  c.plots = false;
  c.gif = true;
  c.plot_size = 512;
  c.progress = false;
  c.trace = false;
  c.checkpoint_every = 1;
  c.blowup_step = 0;
  c.eval_mmd = false;
  c.reference = 0;
  c.eval_every = 1;
  c.memory = MemoryLayout::replicated;
  return to_toml(c);
}

}  // namespace nwgf

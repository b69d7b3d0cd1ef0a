#pragma once
// A run's progress on stderr: on a terminal one updating line per training iteration (step,
// iteration, loss, it/s, ETA) and one plain line per finished step; otherwise only the plain
// lines; nothing when disabled.
#include <chrono>
#include <string>

#include "nwgf/engine/types.hpp"
#include "nwgf/schemes/run/step_info.hpp"

namespace nwgf {

class Progress {
 public:
  // total_steps: the run's last step (for the ETA).
  Progress(bool enabled, index_t total_steps);
  void step_begin();
  // Iteration it of its of the step's training (neural schemes), throttled to 5 lines a second.
  void iteration(index_t step, index_t it, index_t its, double loss);
  void step_end(const StepInfo& s);

 private:
  using clock_type = std::chrono::steady_clock;
  bool on_, tty_;
  index_t total_, steps_done_ = 0;
  clock_type::time_point start_, step_start_, last_;
};

}  // namespace nwgf

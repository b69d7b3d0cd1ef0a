#pragma once
// Step sizes of a run (FlowConfig [flow]): constant tau, a piecewise-constant schedule, and the
// paper's geometric warm-up for r < 1 (run_interaction.py: steps 1e-8, 1e-7, ..., each 10x the
// last while below tau, then one step that lands on time tau, then tau).
#include "nwgf/engine/types.hpp"
#include "nwgf/schemes/config.hpp"

namespace nwgf {

class TimeSteps {
 public:
  explicit TimeSteps(const FlowConfig& cfg);
  // The step size of step n (1-based) that starts at `time`.
  double tau(index_t n, double time) const;
  // Whether step n starting at `time` is to be taken (steps / t_end).
  bool more(index_t n, double time) const;
  // True when every step has the same size (the JKO iterate of Thm 5.2 is then known).
  bool constant() const { return constant_; }
  // The run's length: the number of steps taken and the time reached after the last one (with
  // the schedule and the warm-up; t_end itself for a run until t_end).
  index_t total_steps() const;
  double end_time() const;

 private:
  double base_;
  std::vector<std::vector<double>> schedule_;
  bool warmup_;
  double warmup_start_;
  index_t steps_;
  double t_end_;
  bool constant_;
};

}  // namespace nwgf

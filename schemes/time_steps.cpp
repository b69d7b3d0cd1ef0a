#include "schemes/time_steps.hpp"

#include <cmath>

namespace nwgf {

TimeSteps::TimeSteps(const FlowConfig& cfg)
    : base_(cfg.tau),
      schedule_(cfg.schedule),
      warmup_(warmup_enabled(cfg)),
      warmup_start_(cfg.warmup_start),
      steps_(cfg.steps),
      t_end_(cfg.t_end),
      constant_(cfg.schedule.empty() && !warmup_enabled(cfg)) {}

double TimeSteps::tau(index_t n, double time) const {
  double tau = base_;
  for (const auto& s : schedule_) {
    if (time >= s[0] - 1e-12 * (1 + s[0])) tau = s[1];
  }
  if (warmup_ && time < base_) {
    const double geometric = warmup_start_ * std::pow(10.0, double(n - 1));
    if (geometric < base_ && time + geometric < base_) return geometric;
    return base_ - time;
  }
  return tau;
}

bool TimeSteps::more(index_t n, double time) const {
  if (steps_ > 0) return n <= steps_;
  return time < t_end_ * (1 - 1e-12);
}

}  // namespace nwgf

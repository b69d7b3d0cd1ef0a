#include "nwgf/schemes/time_steps.hpp"

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

// The run loop's own walk (step n from `time`, while more(n, time)); constant steps in closed form.
index_t TimeSteps::total_steps() const {
  if (steps_ > 0) return steps_;
  if (constant_) return index_t(std::ceil(t_end_ / base_ - 1e-9));
  index_t n = 0;
  for (double time = 0; more(n + 1, time);) time += tau(++n, time);
  return n;
}

double TimeSteps::end_time() const {
  if (steps_ == 0) return t_end_;
  if (constant_) return double(steps_) * base_;
  double time = 0;
  for (index_t n = 1; n <= steps_; ++n) time += tau(n, time);
  return time;
}

}  // namespace nwgf

#include "nwgf/schemes/run/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace nwgf {
namespace {

std::string text(double v) {
  if (!std::isfinite(v)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.5g", v);
  return b;
}

std::string clock_text(double s) {
  char b[32];
  const long t = long(s);
  std::snprintf(b, sizeof b, "%02ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  return b;
}

}  // namespace

Progress::Progress(bool enabled, index_t total_steps)
    : on_(enabled), tty_(enabled && isatty(2)), total_(total_steps), start_(clock_type::now()) {}

void Progress::step_begin() { step_start_ = clock_type::now(); }

void Progress::iteration(index_t step, index_t it, index_t its, double loss) {
  if (!tty_) return;
  const auto now = clock_type::now();
  if (it != its && std::chrono::duration<double>(now - last_).count() < 0.2) return;
  last_ = now;
  const double el = std::chrono::duration<double>(now - step_start_).count();
  const double rate = el > 0 ? double(it) / el : 0;
  const double step_eta = rate > 0 ? double(its - it) / rate : 0;
  const double per_step = std::chrono::duration<double>(now - start_).count() /
                          std::max(1.0, double(steps_done_) + double(it) / double(its));
  const double eta = step_eta + per_step * double(std::max<index_t>(0, total_ - step));
  std::fprintf(stderr, "\rstep %lld/%lld  it %lld/%lld  loss %.5g  %.1f it/s  ETA %s   ",
               (long long)step, (long long)total_, (long long)it, (long long)its, loss, rate,
               clock_text(eta).c_str());
  std::fflush(stderr);
}

void Progress::step_end(const StepInfo& s) {
  ++steps_done_;
  if (!on_) return;
  if (tty_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "step %lld  t %.6g  tau %.3g  loss %s  F %s  mmd2 %s  %.2fs\n",
               (long long)s.step, s.time, s.tau, text(s.loss).c_str(), text(s.functional).c_str(),
               text(s.mmd2_analytic).c_str(), s.wall_seconds);
}

}  // namespace nwgf

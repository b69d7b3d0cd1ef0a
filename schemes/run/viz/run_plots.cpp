#include "nwgf/schemes/run/viz/run_plots.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

#include "nwgf/analytic/riesz_flow.hpp"
#include "nwgf/engine/viz/plot.hpp"
#include "nwgf/engine/viz/picture.hpp"

namespace nwgf {
namespace {

class RunPlots final : public RunObserver {
 public:
  void start(const RunStart& s) override {
    cfg_ = &s.cfg;
    dir_.emplace(s.out_dir);
    on_ = !s.out_dir.empty();
    d_ = s.d;
    end_time_ = s.end_time;
    reference_ = s.reference;
    if (reference_.kind == AnalyticReference::interaction) eta_ = eta_star(int(d_), cfg_->r);
    if (s.bounds) {
      set_frame_bounds(*s.bounds);
    } else {
      set_frame(s.initial, s.targets);
    }
  }

  void snapshot(const StepInfo& s, const HostMatrix<double>& x) override {
    weighted_snapshot(s, x, nullptr);
  }
  // Weighted particles (ift) as in the IFT paper's Fig. 4/5 where the picture is a scatter.
  void weighted_snapshot(const StepInfo& s, const HostMatrix<double>& x,
                         const std::vector<double>* w) override {
    if (!on_ || !cfg_->plots) return;
    RenderOptions ro;
    ro.scatter.size = int(cfg_->plot_size);
    char title[96];
    std::snprintf(title, sizeof title, "%s  step %lld  t = %.4g", std::string(to_text(cfg_->scheme)).c_str(),
                  (long long)s.step, s.time);
    ro.scatter.title = ro.tiles.title = title;
    apply_frame(ro.scatter, s.time);
    const bool weighted = w && index_t(w->size()) == x.rows &&
                          resolve_style(ro, x.rows, x.cols) == RenderStyle::scatter;
    write_picture(dir_->path("plots/" + RunDirectory::step_name(s.step) + ".png"),
                  weighted ? render_weighted_scatter(x.data.data(), w->data(), x.rows, x.cols,
                                                 ro.scatter)
                       : render_points(x.data.data(), x.rows, x.cols, ro));
  }

  void finish(const std::vector<StepInfo>& metrics) override {
    if (!on_ || !cfg_->plots) return;
    write_metrics_plot(metrics);
    if (!cfg_->gif) return;
    RenderOptions ro;
    ro.scatter.size = int(std::min<index_t>(cfg_->plot_size, 512));
    apply_frame(ro.scatter, -1);
    render_run_gif(*dir_, dir_->path("plots/flow.gif"), ro);
  }

 private:
  // The picture's frame: fixed over the run so that snapshots compare (the support of gamma(t)
  // for the interaction energy, the box around the initial and target points otherwise).
  // time < 0: no time-dependent circle (animations).
  void apply_frame(ScatterOptions& so, double time) const {
    if (reference_.kind == AnalyticReference::interaction) {
      so.centre = reference_.start;
      if (time >= 0) so.circles = {limit_scale(cfg_->r, time) * eta_.radius};
      so.extent = 1.15 * std::max(limit_scale(cfg_->r, end_time_), 1e-12) * eta_.radius;
    } else if (reference_.kind == AnalyticReference::barycenter) {
      so.circles = {
          1.0};  // the unit circle; the square's boundary touches it at (+-1, 0), (0, +-1)
      so.extent = 1.25;
    } else if (frame_extent_ > 0) {
      so.centre = frame_centre_;
      so.extent = frame_extent_;
    }
  }

  // The box around the initial samples and the target points (d <= 2), 10% margin.
  void set_frame(const HostMatrix<double>& x0, const std::vector<WeightedPoints>& targets) {
    if (d_ > 2 || targets.empty()) return;
    std::vector<double> lo(std::size_t(d_), 1e300), hi(std::size_t(d_), -1e300);
    auto add = [&](const HostMatrix<double>& m) {
      for (index_t i = 0; i < m.rows; ++i) {
        for (index_t j = 0; j < d_; ++j) {
          lo[std::size_t(j)] = std::min(lo[std::size_t(j)], m.data[std::size_t(i * d_ + j)]);
          hi[std::size_t(j)] = std::max(hi[std::size_t(j)], m.data[std::size_t(i * d_ + j)]);
        }
      }
    };
    add(x0);
    for (const auto& t : targets) add(t.x);
    frame_from_box(lo, hi);
  }
  // The same box from its corners (RunStart::bounds: a sharded run; the same frame, minima and
  // maxima being exact in any order).
  void set_frame_bounds(const HostMatrix<double>& bounds) {
    if (d_ > 2 || bounds.rows != 2 || bounds.cols != d_) return;
    std::vector<double> lo(std::size_t(d_), 1e300), hi(std::size_t(d_), -1e300);
    for (index_t j = 0; j < d_; ++j) {
      lo[std::size_t(j)] = std::min(lo[std::size_t(j)], bounds.data[std::size_t(j)]);
      hi[std::size_t(j)] = std::max(hi[std::size_t(j)], bounds.data[std::size_t(d_ + j)]);
    }
    frame_from_box(lo, hi);
  }
  void frame_from_box(const std::vector<double>& lo, const std::vector<double>& hi) {
    double half = 0;
    frame_centre_.assign(std::size_t(d_), 0.0);
    for (index_t j = 0; j < d_; ++j) {
      frame_centre_[std::size_t(j)] = 0.5 * (lo[std::size_t(j)] + hi[std::size_t(j)]);
      half = std::max(half, 0.5 * (hi[std::size_t(j)] - lo[std::size_t(j)]));
    }
    frame_extent_ = half > 0 ? 1.1 * half : 0;
  }

  void write_metrics_plot(const std::vector<StepInfo>& metrics) const {
    std::vector<Series> series;
    LinePlotOptions po;
    po.x_label = "time";
    if (reference_.kind != AnalyticReference::none) {
      const bool bary = reference_.kind == AnalyticReference::barycenter;
      Series a{bary ? "exact barycenter" : "gamma(t)", {}, {}, Rgb{31, 119, 180}},
          b{"iterate", {}, {}, Rgb{214, 39, 40}};
      for (const auto& m : metrics) {
        a.x.push_back(m.time), a.y.push_back(m.mmd2_analytic);
        b.x.push_back(m.time), b.y.push_back(m.mmd2_iterate);
      }
      series = {a};
      if (reference_.kind == AnalyticReference::interaction) series.push_back(b);
      po.title =
          std::string(bary ? "MMD^2 to the exact barycenter, " : "MMD^2 to the exact flow, ") +
          std::string(to_text(cfg_->scheme)) + ", r = " + csv_number(cfg_->r) + ", d = " + std::to_string(d_);
      po.log_y = true;
    } else {
      const bool mmd = cfg_->functional == FunctionalKind::mmd;
      Series f{mmd ? "MMD^2 to the target" : "F", {}, {}, Rgb{31, 119, 180}};
      for (const auto& m : metrics) f.x.push_back(m.time), f.y.push_back(m.functional);
      series = {f};
      po.title = std::string(to_text(cfg_->functional)) + " functional, " +
                 std::string(to_text(cfg_->scheme));
      po.log_y = mmd;
    }
    write_picture(dir_->path("plots/metrics.png"), render_lines(series, po));
  }

  const FlowConfig* cfg_ = nullptr;
  std::optional<RunDirectory> dir_;
  bool on_ = false;
  index_t d_ = 0;
  double end_time_ = 0;
  ReferenceProblem reference_;
  EtaStar eta_{};
  std::vector<double> frame_centre_;
  double frame_extent_ = 0;
};

}  // namespace

std::shared_ptr<RunObserver> make_run_plots() { return std::make_shared<RunPlots>(); }

std::vector<SnapshotFrame> run_snapshot_frames(const RunDirectory& run) {
  std::vector<SnapshotFrame> frames;
  for (const SnapshotFile& s : run.snapshots()) frames.push_back({s.step, s.path});
  if (run.has_metrics()) {
    const MetricsTable t = run.read_metrics();
    const std::size_t step = t.column("step"), time = t.column("time");
    if (step < t.columns.size() && time < t.columns.size()) {
      std::map<index_t, double> times;
      for (const auto& row : t.rows) {
        if (std::isfinite(row[step]) && std::isfinite(row[time]))
          times[index_t(row[step])] = row[time];
      }
      for (SnapshotFrame& f : frames) {
        if (const auto it = times.find(f.step); it != times.end()) f.time = it->second;
      }
    }
  }
  return frames;
}

std::string snapshot_label(const SnapshotFrame& frame) {
  if (!std::isfinite(frame.time)) return "step " + std::to_string(frame.step);
  char b[48];
  std::snprintf(b, sizeof b, "t = %.4g", frame.time);
  return b;
}

void render_run_gif(const RunDirectory& run, const std::string& gif_path, const RenderOptions& opt,
                    int delay_cs) {
  const std::vector<SnapshotFrame> frames = run_snapshot_frames(run);
  render_snapshot_gif(frames, gif_path, opt, delay_cs);
}

}  // namespace nwgf

#include "schemes/flow.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "analytic/barycenter.hpp"
#include "analytic/line_flow.hpp"
#include "analytic/riesz_flow.hpp"
#include "engine/backend.hpp"
#include "engine/buffer.hpp"
#include "engine/error.hpp"
#include "engine/io/file_io.hpp"
#include "engine/io/json.hpp"
#include "engine/viz/plot.hpp"
#include "engine/viz/render.hpp"
#include "engine/threads.hpp"
#include "engine/version.hpp"
#include "kernels/pairwise.hpp"
#include "schemes/functional.hpp"
#include "schemes/measures.hpp"
#include "schemes/scheme_ops.hpp"
#include "schemes/schemes.hpp"
#include "schemes/time_steps.hpp"

namespace nwgf {

namespace {

// A cloud of radius <= 1e-6 around one point stands for the Dirac there (the particle flow's
// start).
bool dirac_like(const MeasureConfig& m) {
  const bool tiny = (m.kind == "square" || m.kind == "circle" || m.kind == "gaussian") &&
                    m.points.size() <= 1 && m.radius <= 1e-6;
  return m.kind == "dirac" || tiny;
}

std::vector<double> first_point(const MeasureConfig& m) { return measure_points(m)[0]; }

// m samples of (scale Id)#eta* moved to the initial Dirac's point (the interaction energy's
// closed forms: gamma(t) and the schemes' discrete iterates).
void sample_eta_at_start(const FlowConfig& cfg, double scale, index_t m, std::uint64_t seed,
                         std::uint64_t stream, double* out) {
  const auto c = first_point(cfg.initial);
  const index_t d = index_t(c.size());
  sample_eta_star(int(d), cfg.r, scale, m, seed, stream, out);
  for (index_t i = 0; i < m; ++i) {
    for (index_t j = 0; j < d; ++j) out[i * d + j] += c[std::size_t(j)];
  }
}

bool unit_curve_at_origin(const MeasureConfig& m) {
  if (m.kind != "circle" && m.kind != "square_boundary") return false;
  if (m.d != 2 || m.radius != 1 || m.points.size() > 1) return false;
  return m.points.empty() || (m.points[0][0] == 0 && m.points[0][1] == 0);
}

}  // namespace

AnalyticReference analytic_reference(const FlowConfig& cfg) {
  if (cfg.functional == "interaction" && dirac_like(cfg.initial)) return AnalyticReference::interaction;
  if (cfg.functional == "mmd" && cfg.r == 1 && cfg.initial.d == 1 && dirac_like(cfg.initial) &&
      (cfg.target.kind == "dirac" || (cfg.target.kind == "diracs" && cfg.target.points.size() == 1)) &&
      first_point(cfg.initial)[0] != first_point(cfg.target)[0]) {
    return AnalyticReference::line;
  }
  if (cfg.functional == "barycenter" && cfg.initial.d == 2 && !cfg.targets.empty()) {
    bool all = true;
    for (const auto& m : cfg.targets) all = all && unit_curve_at_origin(m);
    if (all) return AnalyticReference::barycenter;
  }
  return AnalyticReference::none;
}

bool has_analytic_reference(const FlowConfig& cfg) {
  return analytic_reference(cfg) != AnalyticReference::none;
}

void sample_reference(const FlowConfig& cfg, double t, index_t m, std::uint64_t seed,
                      std::uint64_t stream, double* out) {
  switch (analytic_reference(cfg)) {
    case AnalyticReference::interaction:
      sample_eta_at_start(cfg, limit_scale(cfg.r, t), m, seed, stream, out);
      return;
    case AnalyticReference::line: {
      // App. G's flow from delta_{-1} to delta_0, moved to a -> p: the velocity of the r = 1
      // flow is invariant under dilation x -> L x, so the flow over distance L is
      // a + sign(p - a) L (gamma(t / L) + 1).
      const double a = first_point(cfg.initial)[0], p = first_point(cfg.target)[0];
      const double length = std::fabs(p - a), sign = p > a ? 1.0 : -1.0;
      sample_line_flow(t / length, m, seed, stream, out);
      for (index_t i = 0; i < m; ++i) out[i] = a + sign * length * (out[i] + 1);
      return;
    }
    case AnalyticReference::barycenter: {
      std::vector<BarycenterComponent> parts;
      for (std::size_t k = 0; k < cfg.targets.size(); ++k) {
        parts.push_back({cfg.targets[k].kind == "circle" ? Curve2d::unit_circle
                                                          : Curve2d::square_boundary,
                         cfg.weights.empty() ? 1.0 / double(cfg.targets.size()) : cfg.weights[k]});
      }
      sample_barycenter(parts, m, seed, stream, out);
      return;
    }
    case AnalyticReference::none:
      break;
  }
  throw_runtime("sample_reference: the config has no analytic reference");
}

double mmd2_unbiased(const Context& ctx, const HostMatrix<double>& x, const HostMatrix<double>& y,
                     double r) {
  const auto bx = upload(ctx, x.data), by = upload(ctx, y.data);
  const ConstPointsView<double> vx(bx.data(), x.rows, x.cols, bx.device());
  const ConstPointsView<double> vy(by.data(), y.rows, y.cols, by.device());
  const double n = double(x.rows), m = double(y.rows);
  const double sxy = riesz_energy_value<double>(ctx, vx, nullptr, vy, nullptr, r);
  const double sxx = riesz_energy_value<double>(ctx, vx, nullptr, vx, nullptr, r);
  const double syy = riesz_energy_value<double>(ctx, vy, nullptr, vy, nullptr, r);
  return sxy / (n * m) - sxx / (2 * n * (n - 1)) - syy / (2 * m * (m - 1));
}

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

constexpr char checkpoint_magic[8] = {'N', 'W', 'G', 'F', 'C', 'K', 'P', '1'};

std::string step_name(index_t n) {
  char b[32];
  std::snprintf(b, sizeof b, "step_%06lld", (long long)n);
  return b;
}

std::string csv_number(double v) {
  if (!std::isfinite(v)) return "";
  char b[32];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

std::string metrics_header() {
  return "step,time,tau,loss,functional,wall_seconds,mmd2_analytic,mmd2_iterate\n";
}
std::string metrics_row(const StepInfo& s) {
  return std::to_string(s.step) + "," + csv_number(s.time) + "," + csv_number(s.tau) + "," +
         csv_number(s.loss) + "," + csv_number(s.functional) + "," + csv_number(s.wall_seconds) +
         "," + csv_number(s.mmd2_analytic) + "," + csv_number(s.mmd2_iterate) + "\n";
}
std::vector<StepInfo> parse_metrics(const std::string& text, index_t last_step) {
  std::vector<StepInfo> rows;
  std::istringstream is(text);
  std::string line;
  std::getline(is, line);
  while (std::getline(is, line)) {
    std::vector<double> f;
    std::string cell;
    std::istringstream ls(line);
    while (std::getline(ls, cell, ',')) f.push_back(cell.empty() ? StepInfo::none : std::stod(cell));
    f.resize(8, StepInfo::none);
    StepInfo s{index_t(f[0]), f[1], f[2], f[3], f[4], f[5], f[6], f[7]};
    if (s.step <= last_step) rows.push_back(s);
  }
  return rows;
}

// The settings that must match between a run and its resumption (run length and outputs may
// change).
std::string dynamics_key(FlowConfig c) {
  c.steps = 0;
  c.t_end = 0;
  c.every = 0;
  c.plots = false;
  c.gif = true;
  c.plot_size = 512;
  c.progress = false;
  c.checkpoint_every = 1;
  c.blowup_step = 0;
  c.eval_mmd = false;
  c.reference = 0;
  c.eval_every = 1;
  return to_toml(c);
}

// One updating line on a terminal, plain lines otherwise.
class Progress {
 public:
  Progress(bool enabled, index_t total_steps)
      : on_(enabled), tty_(enabled && isatty(2)), total_(total_steps), start_(clock_type::now()) {}
  void iteration(index_t step, index_t it, index_t its, double loss) {
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
  void step_begin() { step_start_ = clock_type::now(); }
  void step_end(const StepInfo& s) {
    ++steps_done_;
    if (!on_) return;
    if (tty_) std::fprintf(stderr, "\r\033[K");
    std::fprintf(stderr, "step %lld  t %.6g  tau %.3g  loss %s  F %s  mmd2 %s  %.2fs\n",
                 (long long)s.step, s.time, s.tau, text(s.loss).c_str(), text(s.functional).c_str(),
                 text(s.mmd2_analytic).c_str(), s.wall_seconds);
  }

 private:
  static std::string text(double v) {
    if (!std::isfinite(v)) return "-";
    char b[32];
    std::snprintf(b, sizeof b, "%.5g", v);
    return b;
  }
  static std::string clock_text(double s) {
    char b[32];
    const long t = long(s);
    std::snprintf(b, sizeof b, "%02ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    return b;
  }
  bool on_, tty_;
  index_t total_, steps_done_ = 0;
  clock_type::time_point start_, step_start_, last_;
};

template <class T>
HostMatrix<double> to_host(const Context& ctx, const Points<T>& x) {
  std::vector<T> h(std::size_t(x.n() * x.d()));
  copy_to_host(ctx, h.data(), x.buffer());
  HostMatrix<double> m;
  m.rows = x.n();
  m.cols = x.d();
  m.data.assign(h.begin(), h.end());
  return m;
}

template <class T>
class Runner {
 public:
  Runner(const FlowConfig& cfg, const RunOptions& opt)
      : cfg_(cfg), opt_(opt), ctx_(opt.backend, opt.threads), steps_(cfg) {}

  RunResult run() {
    set_threads(ctx_.threads());
    const HostMatrix<double> x0 = sample_measure(cfg_.initial, cfg_.seed,
                                                 random_stream(RandomPurpose::initial, 0), "initial");
    n_ = x0.rows;
    d_ = x0.cols;
    if (cfg_.scheme == "forward" && cfg_.r < 1 && has_atoms(x0)) {
      throw_bad_input("functional.r: the forward scheme is undefined for r < 1 from a measure with "
                      "atoms (the initial samples repeat points; paper Sect. 5): use the backward "
                      "scheme");
    }
    // Atoms stay atoms (with their masses) for the exact estimators; the sliced one needs
    // equally weighted samples.
    const bool atoms = cfg_.estimator == "exact";
    std::vector<WeightedPoints> targets;
    if (cfg_.functional == "mmd") {
      targets.push_back(target_measure(cfg_.target, cfg_.seed,
                                       random_stream(RandomPurpose::target, 0), "target", atoms));
    }
    for (std::size_t k = 0; k < cfg_.targets.size(); ++k) {
      targets.push_back(target_measure(cfg_.targets[k], cfg_.seed,
                                       random_stream(RandomPurpose::target, k),
                                       "target.measures[" + std::to_string(k) + "]", atoms));
    }
    const index_t max_rows = std::max<index_t>(
        n_, 2 * std::max(cfg_.batch, cfg_.rescale_batch > 0 ? cfg_.rescale_batch : cfg_.batch));
    functional_ = make_functional<T>(ctx_, cfg_, d_, max_rows, targets);
    set_frame(x0, targets);
    scheme_ = make_scheme<T>(ctx_, cfg_, *functional_, n_, d_);
    x_ = Points<T>(ctx_, n_, d_);
    {
      std::vector<T> h(x0.data.begin(), x0.data.end());
      copy_from_host(ctx_, x_.buffer(), h.data(), index_t(h.size()));
    }
    reference_ = analytic_reference(cfg_);
    if (reference_ == AnalyticReference::interaction) {
      eta_ = eta_star(int(d_), cfg_.r);
      centre_ = first_point(cfg_.initial);
    }
    files_ = !opt_.out_dir.empty();

    index_t n = 0;
    double time = 0;
    if (opt_.resume) {
      // Checked before anything is written: a refused resume leaves the directory as it was.
      std::tie(n, time) = load_checkpoint();
    }
    bool stopped = false;
    // From here on any failure (a numerical fault, a write that fails on a full disk, bad input
    // found during a step) leaves the manifest saying failed, never running or done.
    try {
      if (files_) prepare_dir();
      if (!opt_.resume) {
        StepInfo s0;
        s0.functional = functional_->value(ctx_, x_.view());
        evaluate(s0, 0);
        record(s0, true);
        if (files_) write_checkpoint(0, 0);
      }
      const index_t total = cfg_.steps > 0 ? cfg_.steps
                                           : index_t(std::ceil(cfg_.t_end / cfg_.tau - 1e-9));
      Progress progress(opt_.progress && cfg_.progress, total);
      while (!stopped && steps_.more(n + 1, time)) {
        ++n;
        const double tau = steps_.tau(n, time);
        progress.step_begin();
        const auto t0 = clock_type::now();
        const StepResult res =
            scheme_->step(ctx_, x_, n, tau, [&](index_t it, index_t its, double loss) {
              progress.iteration(n, it, its, loss);
            });
        if (n == cfg_.blowup_step) {
          axpby(ctx_, n_ * d_, T(0), x_.data(), T(std::numeric_limits<double>::quiet_NaN()),
                x_.data());
        }
        if (!all_finite(ctx_, x_.data(), n_ * d_)) {
          throw_numerical("the samples contain NaN or Inf after step " + std::to_string(n) +
                          " (t = " + csv_number(time + tau) + ")");
        }
        time += tau;
        StepInfo s;
        s.step = n;
        s.time = time;
        s.tau = tau;
        s.loss = res.loss;
        const bool last = !steps_.more(n + 1, time);
        const bool eval = last || n % cfg_.eval_every == 0;
        if (eval) s.functional = functional_->value(ctx_, x_.view());
        if (eval) evaluate(s, n);
        s.wall_seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
        HostMatrix<double> host;
        if (opt_.on_step) {
          host = to_host(ctx_, x_);
          stopped = !opt_.on_step(s, host);
        }
        const bool snap = last || stopped || (cfg_.every > 0 && n % cfg_.every == 0);
        record(s, snap);
        if (files_ && (last || stopped || n % cfg_.checkpoint_every == 0)) write_checkpoint(n, time);
        progress.step_end(s);
      }
      if (files_) {
        if (cfg_.plots) write_metrics_plot();
        if (cfg_.plots && cfg_.gif) write_animation();
        write_manifest("done", n, time);
      }
    } catch (const Error&) {
      mark_failed(checkpoint_step_, checkpoint_time_);
      throw;
    }
    RunResult r;
    r.device = ctx_.device();
    r.steps = n;
    r.time = time;
    r.stopped = stopped;
    r.samples = to_host(ctx_, x_);
    r.metrics = metrics_;
    return r;
  }

 private:
  void prepare_dir() {
    const fs::path dir(opt_.out_dir);
    std::error_code ec;
    fs::create_directories(dir / "snapshots", ec);
    if (ec) throw_bad_input("--out " + opt_.out_dir + ": " + ec.message());
    fs::create_directories(dir / "plots", ec);
    if (ec) throw_bad_input("--out " + opt_.out_dir + ": " + ec.message());
    // Temporary files of an earlier process killed in the middle of a write (NAME.tmp.PID).
    for (const fs::path& sub : {dir, dir / "snapshots", dir / "plots"}) {
      for (const auto& e : fs::directory_iterator(sub, ec)) {
        const std::string name = e.path().filename().string();
        const auto at = name.rfind(".tmp.");
        if (at != std::string::npos && at + 5 < name.size() &&
            name.find_first_not_of("0123456789", at + 5) == std::string::npos) {
          fs::remove(e.path(), ec);
        }
      }
    }
    write_file_atomic((dir / "config.toml").string(), to_toml(cfg_));
  }

  // Best effort: the manifest says failed, with the step and time of the last good checkpoint
  // (it must never be left claiming success, or running after the run has stopped); a second
  // failure (the disk is still full) is ignored.
  void mark_failed(index_t step, double time) {
    if (!files_) return;
    try {
      write_manifest("failed", std::max<index_t>(step, 0), std::max(time, 0.0));
    } catch (const Error&) {
    }
  }

  void write_animation() {
    RenderOptions ro;
    ro.scatter.size = int(std::min<index_t>(cfg_.plot_size, 512));
    apply_frame(ro.scatter, -1);
    render_run_gif(opt_.out_dir, path("plots/flow.gif"), ro);
  }
  std::string path(const std::string& rel) const { return (fs::path(opt_.out_dir) / rel).string(); }

  void write_manifest(const std::string& status, index_t step, double time) {
    JsonObject o;
    o.add("version", NWGF_VERSION_STRING);
    o.add("status", status);
    o.add("backend", to_string(ctx_.device()));
    o.add("threads", ctx_.threads());
    o.add("dtype", to_string(dtype_of<T>()));
    o.add("seed", (long long)cfg_.seed);
    o.add("step", (long long)step);
    o.add("time", time);
    o.add("n", (long long)n_);
    o.add("d", (long long)d_);
    if (cfg_.scheme != "particle") o.add("latent_dim", (long long)latent_dim(cfg_));
    o.add("analytic_reference", reference_ != AnalyticReference::none);
    o.raw("config", to_json(cfg_));
    write_file_atomic(path("manifest.json"), o.str() + "\n");
  }

  // Writes metrics.csv (all rows so far), the snapshot and its picture.
  void record(const StepInfo& s, bool snapshot) {
    metrics_.push_back(s);
    if (!files_) return;
    std::string csv = metrics_header();
    for (const auto& m : metrics_) csv += metrics_row(m);
    write_file_atomic(path("metrics.csv"), csv);
    if (s.step == 0) write_manifest("running", 0, 0);
    if (!snapshot) return;
    std::vector<T> h(std::size_t(n_ * d_));
    copy_to_host(ctx_, h.data(), x_.buffer());
    write_npy<T>(path("snapshots/" + step_name(s.step) + ".npy"), h.data(), n_, d_);
    if (cfg_.plots) {
      const std::vector<double> hd(h.begin(), h.end());
      RenderOptions ro;
      ro.scatter.size = int(cfg_.plot_size);
      char title[96];
      std::snprintf(title, sizeof title, "%s  step %lld  t = %.4g", cfg_.scheme.c_str(),
                    (long long)s.step, s.time);
      ro.scatter.title = ro.tiles.title = title;
      apply_frame(ro.scatter, s.time);
      write_png(path("plots/" + step_name(s.step) + ".png"), render_points(hd.data(), n_, d_, ro));
    }
  }

  // The picture's frame: fixed over the run so that snapshots compare (the support of gamma(t)
  // for the interaction energy, the box around the initial and target points otherwise).
  // time < 0: no time-dependent circle (animations).
  void apply_frame(ScatterOptions& so, double time) const {
    if (reference_ == AnalyticReference::interaction) {
      so.centre = centre_;
      if (time >= 0) so.circles = {limit_scale(cfg_.r, time) * eta_.radius};
      const double t_final = cfg_.steps > 0 ? double(cfg_.steps) * cfg_.tau : cfg_.t_end;
      so.extent = 1.15 * std::max(limit_scale(cfg_.r, t_final), 1e-12) * eta_.radius;
    } else if (reference_ == AnalyticReference::barycenter) {
      so.circles = {1.0};  // the unit circle; the square's boundary touches it at (+-1, 0), (0, +-1)
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
    double half = 0;
    frame_centre_.assign(std::size_t(d_), 0.0);
    for (index_t j = 0; j < d_; ++j) {
      frame_centre_[std::size_t(j)] = 0.5 * (lo[std::size_t(j)] + hi[std::size_t(j)]);
      half = std::max(half, 0.5 * (hi[std::size_t(j)] - lo[std::size_t(j)]));
    }
    frame_extent_ = half > 0 ? 1.1 * half : 0;
  }

  void write_metrics_plot() {
    std::vector<Series> series;
    LinePlotOptions po;
    po.x_label = "time";
    if (reference_ != AnalyticReference::none) {
      const bool bary = reference_ == AnalyticReference::barycenter;
      Series a{bary ? "exact barycenter" : "gamma(t)", {}, {}, Rgb{31, 119, 180}},
          b{"iterate", {}, {}, Rgb{214, 39, 40}};
      for (const auto& m : metrics_) {
        a.x.push_back(m.time), a.y.push_back(m.mmd2_analytic);
        b.x.push_back(m.time), b.y.push_back(m.mmd2_iterate);
      }
      series = {a};
      if (reference_ == AnalyticReference::interaction) series.push_back(b);
      po.title = std::string(bary ? "MMD^2 to the exact barycenter, " : "MMD^2 to the exact flow, ") +
                 cfg_.scheme + ", r = " + csv_number(cfg_.r) + ", d = " + std::to_string(d_);
      po.log_y = true;
    } else {
      const bool mmd = cfg_.functional == "mmd";
      Series f{mmd ? "MMD^2 to the target" : "F", {}, {}, Rgb{31, 119, 180}};
      for (const auto& m : metrics_) f.x.push_back(m.time), f.y.push_back(m.functional);
      series = {f};
      po.title = cfg_.functional + " functional, " + cfg_.scheme;
      po.log_y = mmd;
    }
    write_png(path("plots/metrics.png"), render_lines(series, po));
  }

  // mmd2_analytic / mmd2_iterate of StepInfo (when a closed form exists).
  void evaluate(StepInfo& s, index_t n) {
    if (reference_ == AnalyticReference::none || !cfg_.eval_mmd) return;
    const HostMatrix<double> x = to_host(ctx_, x_);
    HostMatrix<double> y;
    y.rows = cfg_.reference > 0 ? cfg_.reference : n_;
    y.cols = d_;
    y.data.resize(std::size_t(y.rows * d_));
    const std::uint64_t stream = random_stream(RandomPurpose::reference, std::uint64_t(n));
    sample_reference(cfg_, s.time, y.rows, cfg_.seed, stream, y.data.data());
    s.mmd2_analytic = mmd2_unbiased(ctx_, x, y, cfg_.r);
    if (reference_ != AnalyticReference::interaction) return;
    double iterate = StepInfo::none;
    if (cfg_.scheme == "backward") {
      if (steps_.constant()) {
        iterate = jko_scale(cfg_.r, cfg_.tau, int(n));
      } else if (cfg_.r == 1) {
        iterate = s.time;  // t_{tau,n} = sum of the steps for r = 1
      }
    } else if (cfg_.scheme == "forward" && cfg_.r == 1) {
      iterate = s.time;  // Thm 5.4: a_k = a_{k-1} + tau_k
    }
    if (std::isfinite(iterate)) {
      sample_eta_at_start(cfg_, iterate, y.rows, cfg_.seed, stream | (std::uint64_t(1) << 40),
                          y.data.data());
      s.mmd2_iterate = mmd2_unbiased(ctx_, x, y, cfg_.r);
    }
  }

  // checkpoint.bin: magic | i64 step | f64 time | u32 sizeof(T) | i64 n | i64 d | T x[n d]
  //                 | u64 bytes | scheme state | u64 bytes | dynamics key.
  void write_checkpoint(index_t step, double time) {
    std::string b(checkpoint_magic, 8);
    auto put = [&b](const void* p, std::size_t k) { b.append(static_cast<const char*>(p), k); };
    const std::int64_t st = step, n = n_, d = d_;
    const std::uint32_t size = sizeof(T);
    put(&st, 8), put(&time, 8), put(&size, 4), put(&n, 8), put(&d, 8);
    std::vector<T> h(std::size_t(n_ * d_));
    copy_to_host(ctx_, h.data(), x_.buffer());
    put(h.data(), h.size() * sizeof(T));
    for (const std::string& s : {scheme_->state(ctx_), dynamics_key(cfg_)}) {
      const std::uint64_t len = s.size();
      put(&len, 8);
      b += s;
    }
    write_file_atomic(path("checkpoint.bin"), b);
    checkpoint_step_ = step;
    checkpoint_time_ = time;
  }

  std::pair<index_t, double> load_checkpoint() {
    const std::string file = path("checkpoint.bin");
    if (!fs::exists(file)) throw_bad_input("--resume: no checkpoint in " + opt_.out_dir);
    const std::string b = read_file(file);
    std::size_t at = 0;
    auto get = [&](void* p, std::size_t k) {
      if (at + k > b.size()) throw_bad_input(file + ": truncated checkpoint");
      std::memcpy(p, b.data() + at, k);
      at += k;
    };
    char magic[8];
    get(magic, 8);
    if (std::memcmp(magic, checkpoint_magic, 8) != 0) throw_bad_input(file + ": not a checkpoint");
    std::int64_t step, n, d;
    double time;
    std::uint32_t size;
    get(&step, 8), get(&time, 8), get(&size, 4), get(&n, 8), get(&d, 8);
    if (step < 0 || !std::isfinite(time) || time < 0) {
      throw_bad_input(file + ": corrupt checkpoint (step " + std::to_string(step) + ", time " +
                      csv_number(time) + ")");
    }
    if (size != sizeof(T) || n != n_ || d != d_) {
      throw_bad_input(file + ": checkpoint has a different dtype or shape than the config");
    }
    std::vector<T> h(std::size_t(n * d));
    get(h.data(), h.size() * sizeof(T));
    copy_from_host(ctx_, x_.buffer(), h.data(), index_t(h.size()));
    std::string parts[2];
    for (auto& s : parts) {
      std::uint64_t len;
      get(&len, 8);
      if (len > b.size() - at) throw_bad_input(file + ": truncated checkpoint");
      s = b.substr(at, len);
      at += len;
    }
    if (parts[1] != dynamics_key(cfg_)) {
      throw_bad_input("--resume: the config differs from the run in " + opt_.out_dir +
                      " (only flow.steps, flow.t_end, [output] and [eval] may change)");
    }
    scheme_->restore(ctx_, parts[0], file);
    if (fs::exists(path("metrics.csv"))) {
      metrics_ = parse_metrics(read_file(path("metrics.csv")), step);
    }
    checkpoint_step_ = index_t(step);
    checkpoint_time_ = time;
    return {index_t(step), time};
  }

  const FlowConfig& cfg_;
  const RunOptions& opt_;
  Context ctx_;
  TimeSteps steps_;
  index_t n_ = 0, d_ = 0;
  std::unique_ptr<Functional<T>> functional_;
  std::unique_ptr<Scheme<T>> scheme_;
  Points<T> x_;
  AnalyticReference reference_ = AnalyticReference::none;
  bool files_ = false;
  index_t checkpoint_step_ = 0;  // the last checkpoint written or resumed from
  double checkpoint_time_ = 0;
  std::vector<double> frame_centre_;
  double frame_extent_ = 0;
  EtaStar eta_{};
  std::vector<double> centre_;
  std::vector<StepInfo> metrics_;
};

}  // namespace

RunResult run_flow(const FlowConfig& cfg, const RunOptions& opt) {
  validate(cfg);
  if (resolved_dtype(cfg) == DType::f64) return Runner<double>(cfg, opt).run();
  return Runner<float>(cfg, opt).run();
}

}  // namespace nwgf

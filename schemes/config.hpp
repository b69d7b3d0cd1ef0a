#pragma once
// The configuration of one flow run (CONTRACT.md, "Config"): a plain struct that C++ callers fill
// in directly, or that is read from TOML. TOML types never appear here; parsing lives in
// config.cpp. Every value is checked by `validate`, which names the offending key (exit 2).
#include <cstdint>
#include <string>
#include <vector>

#include "engine/types.hpp"

namespace nwgf {

// A point cloud: the initial measure, or a target measure.
//   dirac           all n points at points[0] (default: the origin)
//   diracs          the listed points with masses `weights` (default equal); as the initial
//                   measure n samples split over them in proportion to the weights
//   square          uniform in the cube of half-width `radius` around each listed point
//   square_boundary uniform on the boundary of that cube (surface measure; the boundary of a
//                   square for d = 2)
//   circle          uniform on the sphere of `radius` around each listed point (a circle for d = 2)
//   gaussian        N(p, radius^2 Id) around each listed point
//   uniform         uniform in the box [low, high]^d (default [0, 1]^d)
//   npy             the rows of the file `path` (n and d are taken from the file)
//   idx             the first n items of the IDX file `path` (MNIST format, optionally gzip), one
//                   row each, u8 pixels scaled to [0, 1] (d from the file: 784 for 28x28 images)
//   image           n samples (d = 2) of the picture `path` (PNG, JPEG, ...): dark = mass, blurred
//                   by `blur` pixels, plus a faint `background` (README, "Image targets"), with
//                   sub-pixel jitter, the longer side mapped to [-box, box]
struct MeasureConfig {
  std::string kind = "dirac";
  index_t n = 1000;
  index_t d = 2;
  std::vector<std::vector<double>> points;  // empty: the origin
  std::vector<double> weights;              // diracs: mass of each point (normalised)
  double radius = 1e-9;
  double low = 0, high = 1;
  std::string path;
  double blur = 1.0;         // image: Gaussian blur, standard deviation in pixels (0: none)
  double background = 0.01;  // image: weight of the wide blurs added as background
  double box = 1.0;          // image: half-width of the box the picture is mapped to
};

struct FlowConfig {
  std::uint64_t seed = 0;

  // [flow]
  std::string scheme = "forward";  // backward | forward | particle
  double tau = 0.05;
  index_t steps = 0;  // 0: run until t_end
  double t_end = 0;
  // Piecewise-constant step sizes: {time, tau} pairs, tau applies from that time on
  // (the paper's MNIST run: {{0, .5}, {5, 1}, {25, 2}, {50, 3}, {6000, 6}}). Empty: tau.
  std::vector<std::vector<double>> schedule;
  // The paper's start for r < 1: steps 1e-8, 1e-7, ... (factor 10) below tau, then one step up
  // to time tau. "auto": on when r < 1.  "on" | "off" | "auto".
  std::string warmup = "auto";
  double warmup_start = 1e-8;
  std::string dtype = "auto";  // f32 | f64 | auto (f64 for particle, f32 for the neural schemes)

  // [functional]
  std::string functional = "interaction";  // interaction | mmd | barycenter | energy33
  double r = 1.0;
  std::string estimator = "exact";  // exact | sliced (r = 1)
  index_t directions = 256;         // sliced: projections per evaluation

  // [initial], [target]
  MeasureConfig initial;
  MeasureConfig target;                       // mmd
  std::vector<MeasureConfig> targets;         // barycenter: the measures mu_i of (34)
  std::vector<double> weights;                // barycenter: alpha_i (default equal)

  // [network]
  std::vector<index_t> hidden = {128, 128, 128};
  index_t latent_dim = 0;  // 0: d

  // [train]
  index_t iterations = 2000;
  index_t iterations_first = 0;  // 0: iterations
  index_t first_steps = 1;       // steps that use iterations_first
  index_t batch = 6000;          // per batch; the interaction term uses two independent batches
  index_t rescale_batch = 0;     // forward: batch for the rescaling (15); 0: batch
  double lr = 1e-3;

  // [output]
  index_t every = 1;           // snapshot every this many steps (0: first and last only)
  bool plots = true;           // PNG per snapshot and a metrics plot
  bool gif = true;             // with plots: plots/flow.gif, the snapshots animated
  index_t plot_size = 512;     // pixels
  bool progress = true;        // progress on stderr
  index_t checkpoint_every = 1;

  // [eval]
  bool eval_mmd = true;      // mmd2_analytic / mmd2_iterate where a closed form exists
  index_t reference = 0;     // exact reference samples (0: n)
  index_t eval_every = 1;    // evaluate the metrics every this many steps (and at the end)

  // Test-only hook (documented in the README): multiply the samples by this factor after step
  // `blowup_step` to force a numerical failure (exit 3).
  index_t blowup_step = 0;
};

// Reads TOML; `overrides` are "key=value" strings (value parsed as TOML, key dotted:
// "flow.tau=0.1"). Unknown keys, wrong types and out-of-range values are bad-input errors naming
// the key. The result is validated. load_flow_config resolves relative measure `path`s in the
// file against the file's directory (made absolute); paths given in overrides, and all paths of
// parse_flow_config, are taken as they are (relative to the working directory).
FlowConfig parse_flow_config(const std::string& toml_text, const std::string& name,
                             const std::vector<std::string>& overrides = {});
FlowConfig load_flow_config(const std::string& path, const std::vector<std::string>& overrides = {});

// Checks every value and the combination (scheme vs r, estimator vs r, ...); throws bad input
// naming the key.
void validate(const FlowConfig& cfg);

// The resolved configuration as TOML text (round-trips through parse_flow_config) and as one JSON
// object (for manifest.json).
std::string to_toml(const FlowConfig& cfg);
std::string to_json(const FlowConfig& cfg);

// Values that "auto"/0 resolve to.
DType resolved_dtype(const FlowConfig& cfg);
bool warmup_enabled(const FlowConfig& cfg);
index_t latent_dim(const FlowConfig& cfg);  // after the initial measure is known
index_t initial_dim(const FlowConfig& cfg);  // d, or the npy/idx file's column count
index_t measure_dim(const MeasureConfig& m);  // the same for any measure

}  // namespace nwgf

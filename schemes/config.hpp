#pragma once
// The configuration of one flow run (CONTRACT.md, "Config"): a plain struct that C++ callers fill
// in directly, or that is read from TOML. TOML types never appear here. The member initialisers
// below are the defaults; every key's name, type, check and help is one row of the schema table
// (config_schema.cpp), from which reading (config_read.cpp), writing (config_write.cpp) and the
// reference (`nwgf run --help-config`, README) are made. `validate` (config_validate.cpp) checks
// every value and the paper's constraints, naming the offending key (exit 2).
#include <cstdint>
#include <string>
#include <vector>

#include "nwgf/engine/types.hpp"
#include "nwgf/schemes/config_enums.hpp"

namespace nwgf {

// A point cloud: the initial measure, or a target measure.
//   dirac           all n points at points[0] (default: the origin)
//   diracs          the listed points with masses `weights` (default equal); as the initial
//                   measure n samples split over them in proportion to the weights
//   square          uniform in the cube of half-width `radius` around each listed point
//   square_boundary uniform on the boundary of that cube (surface measure; the boundary of a
//                   square for d = 2)
//   circle          uniform on the sphere of `radius` around each listed point (a circle for d = 2)
//   gaussian        N(p, radius^2 Id) around each listed point, or N(p, cov) when `cov` is given
//                   (full covariance, d x d, symmetric positive definite)
//   mixture         sum_k w_k N(mean_k, cov_k) over `components` (weights normalised to sum 1)
//   uniform         uniform in the box [low, high]^d (default [0, 1]^d)
//   npy             the rows of the file `path` (n and d are taken from the file)
//   idx             the first n items of the IDX file `path` (MNIST format, optionally gzip), one
//                   row each, u8 pixels scaled to [0, 1] (d from the file: 784 for 28x28 images)
//   image           n samples (d = 2) of the picture `path` (PNG, JPEG, ...): dark = mass, blurred
//                   by `blur` pixels, plus a faint `background` (README, "Image targets"), with
//                   sub-pixel jitter, the longer side mapped to [-box, box]
//   barenblatt      the Barenblatt profile of mass 1 of dU/dt = Delta U^m at time t0, centred at
//                   the origin (analytic/barenblatt.hpp); m where not given: [functional] m
//
// In TOML `kind` is required, and `d` where not given follows from `points`, else from the other
// measure (initial <-> target); the file kinds take d from the file.
// One component of a Gaussian mixture ([[target.components]] in TOML).
struct MixtureComponent {
  std::vector<double> mean;
  std::vector<double> cov;  // d x d row-major, symmetric positive definite
  double weight = 0;        // >= 0; the components' weights are normalised to sum 1
};

struct MeasureConfig {
  MeasureKind kind = MeasureKind::dirac;
  index_t n = 1000;
  index_t d = 2;
  std::vector<std::vector<double>> points;  // empty: the origin
  std::vector<double> weights;              // diracs: mass of each point (normalised)
  double radius = 1e-9;
  std::vector<double> cov;  // d x d row-major; empty: isotropic (radius = standard deviation)
  std::vector<MixtureComponent> components;  // mixture
  double low = 0, high = 1;
  std::string path;
  std::string weights_path;  // npy initial measure of an IFT run: an (n) .npy of weights
  double blur = 1.0;         // image: Gaussian blur, standard deviation in pixels (0: none)
  double background = 0.01;  // image: weight of the wide blurs added as background
  double box = 1.0;          // image: half-width of the box the picture is mapped to
  double m = 0;              // barenblatt: the exponent m > 1
  double t0 = 0;             // barenblatt: the profile's time t0 > 0
};

// [ift]: one IFT iteration = a position step, then a weight step (schemes/ift/ift_scheme.hpp).
struct IftConfig {
  PositionStep position_step = PositionStep::weighted;  // the IFT code's; unweighted: eq. (15)
  WeightStep weight_step = WeightStep::pgd;
  double eta = 0.1;               // the MMD step size (the code's lr_)
  index_t qp_iterations = 200;    // FISTA iterations of weight_step = qp
  QpReference qp_reference = QpReference::half;  // eq. (23) vs Alg. 1 / eq. (24)
  MassConstraint mass = MassConstraint::simplex;  // spherical IFT vs IFT on M+
  KlNormalise kl_normalise = KlNormalise::sum;
  double noise = 0;                // noisy MMD flow: x~ = x + noise z in the position step
  index_t noise_off = 0;           // the last noisy iteration (0: never switched off)
  NoiseWitness noise_witness = NoiseWitness::noisy;
  bool target_resample = false;    // a fresh target sample every iteration
};

// One term of a sum of functionals ([[functional.terms]], [functional] kind = "sum"):
// F = sum_i weight_i F_i. Every key that defines the term is required (config_read.cpp):
// kind and weight always, kernel for interaction, m for entropy, r for an interaction term of
// kernel = "riesz". kl and potential take the density of [target].
struct FunctionalTerm {
  FunctionalKind kind = FunctionalKind::interaction;  // kl | entropy | potential | interaction
  double weight = 0;                                   // > 0
  KernelKind kernel = KernelKind::riesz;               // interaction: an interaction kernel W
  double m = 0;                                        // entropy: m > 1
  double r = 1;                                        // kernel = riesz: W = -|z|^r, 0 < r < 2
};

struct FlowConfig {
  std::uint64_t seed = 0;

  // [flow]
  SchemeKind scheme = SchemeKind::forward;
  double tau = 0.05;
  index_t steps = 0;  // 0: run until t_end
  double t_end = 0;
  // Piecewise-constant step sizes: {time, tau} pairs, tau applies from that time on
  // (the paper's MNIST run: {{0, .5}, {5, 1}, {25, 2}, {50, 3}, {6000, 6}}). Empty: tau.
  std::vector<std::vector<double>> schedule;
  // The paper's start for r < 1: steps 1e-8, 1e-7, ... (factor 10) below tau, then one step up
  // to time tau. automatic: on when r < 1.
  Warmup warmup = Warmup::automatic;
  double warmup_start = 1e-8;
  DTypeChoice dtype = DTypeChoice::automatic;  // automatic: f64 for particle, f32 otherwise
  MemoryLayout memory = MemoryLayout::replicated;  // sharded: each rank holds only its own rows
  // variational: the interaction part of F as the explicit forward step (12), the rest by the
  // variational JKO step (forward-backward)
  bool fb = false;

  // [functional] (in TOML `kind` is required)
  FunctionalKind functional = FunctionalKind::interaction;
  double r = 1.0;
  Estimator estimator = Estimator::exact;  // sliced: r = 1
  index_t directions = 256;         // sliced: projections per evaluation
  KernelKind kernel = KernelKind::riesz;
  double gamma = 1.0;  // gaussian: K(x, y) = exp(-gamma |x - y|^2)
  std::vector<FunctionalTerm> terms;  // kind = sum: the terms (at least one)

  // [ift]
  IftConfig ift;
  double m = 0;                     // entropy: the exponent m > 1 of 1/(m-1) ∫ P^m (required)

  // [initial], [target]
  MeasureConfig initial;
  MeasureConfig target;                       // mmd
  std::vector<MeasureConfig> targets;         // barycenter: the measures mu_i of (34)
  std::vector<double> weights;                // barycenter: alpha_i (default equal)

  // [network]
  std::vector<index_t> hidden = {128, 128, 128};
  index_t latent_dim = 0;  // 0: d
  Activation activation = Activation::relu;  // hidden layers of the network
  bool residual = true;                      // variational: T(x) = x + net(x)
  double dropout = 0;  // variational: p of the map's dropout (training only; 0: none)
  MapKind map = MapKind::mlp;  // variational: the map T, an MLP or grad phi of an ICNN
  index_t rank = 1;                  // icnn: quadratic terms per unit
  double strong_convexity = 1e-6;    // icnn: eps of (eps/2) |x|^2 in phi
  index_t pretrain_iterations = 4000;  // icnn: Adam steps fitting T to the identity before step 1
  double pretrain_lr = 8e-3;           // icnn: their learning rate

  // [critic] the variational scheme's critic h
  std::vector<index_t> critic_hidden = {64};
  Activation critic_activation = Activation::prelu;
  OutputTransform critic_output = OutputTransform::square;

  // [train]
  index_t iterations = 2000;
  index_t iterations_first = 0;  // 0: iterations
  index_t first_steps = 1;       // steps that use iterations_first
  index_t batch = 6000;          // per batch; the interaction term uses two independent batches
  index_t rescale_batch = 0;     // forward: batch for the rescaling (15); 0: batch
  double lr = 1e-3;
  index_t inner = 3;  // variational: critic ascent steps per map step (J_2 of Alg. 1)

  // [output]
  index_t every = 1;           // snapshot every this many steps (0: first and last only)
  bool plots = true;           // PNG per snapshot and a metrics plot
  bool gif = true;             // with plots: plots/flow.gif, the snapshots animated
  index_t plot_size = 512;     // pixels
  bool progress = true;        // progress on stderr
  bool trace = false;          // trace.json (Chrome Trace Event / Perfetto) in the run directory
  index_t checkpoint_every = 1;

  // [eval]
  bool eval_mmd = true;      // mmd2_analytic / mmd2_iterate where a closed form exists
  index_t reference = 0;     // exact reference samples (0: n)
  index_t eval_every = 1;    // evaluate the metrics every this many steps (and at the end)

  // Test-only hook (documented in the README): multiply the samples by this factor after step
  // `blowup_step` to force a numerical failure (exit 3).
  index_t blowup_step = 0;
  // Test only: the rank whose samples blowup_step makes NaN (-1: every rank), to check that a
  // failure on one rank ends the job on every rank.
  index_t blowup_rank = -1;
};

// Reads TOML; what defines the problem must be given: [functional] kind, [initial] kind, a
// [target] for mmd and [[target.measures]] for barycenter (bad input naming what is missing).
// `overrides` are "key=value" strings (value parsed as TOML, key dotted:
// "flow.tau=0.1"). Unknown keys, wrong types and out-of-range values are bad-input errors naming
// the key. The result is validated. load_flow_config resolves relative measure `path`s in the
// file against the file's directory (made absolute); paths given in overrides, and all paths of
// parse_flow_config, are taken as they are (relative to the working directory).
FlowConfig parse_flow_config(const std::string& toml_text, const std::string& name,
                             const std::vector<std::string>& overrides = {});
FlowConfig load_flow_config(const std::string& path, const std::vector<std::string>& overrides = {});

// Checks every value (the schema's checks), each measure, and the paper's constraints
// (check_paper_constraints); throws bad input naming the key.
void validate(const FlowConfig& cfg);

// The combinations the paper excludes and flows that cannot move, from the config alone:
// scheme vs r vs initial atoms, estimator vs r, particles that start coincident. Throws bad input
// with the reason. Called by validate.
void check_paper_constraints(const FlowConfig& cfg);
// Paper Sect. 5: for r < 1 the forward scheme (the directional derivative) is undefined at a
// measure with atoms: no steepest descent direction exists. Throws bad input (key functional.r)
// when r < 1; `atoms` says where the atoms are. The one place of this rule: the config check, the
// initial samples and the directional derivative's coincident pairs all call it.
void refuse_forward_at_atoms(double r, const std::string& atoms);

// The resolved configuration as TOML text (round-trips through parse_flow_config) and as one JSON
// object (for manifest.json).
std::string to_toml(const FlowConfig& cfg);
std::string to_json(const FlowConfig& cfg);

// The reference of every key (name, type, default, help), generated from the schema table:
// plain text for `nwgf run --help-config`, or the Markdown table of the README.
enum class ReferenceFormat { text, markdown };
std::string config_reference(ReferenceFormat format);

// The terms of F: [[functional.terms]] for kind = "sum", else the one term {kind, weight 1, kernel,
// m}.
std::vector<FunctionalTerm> functional_terms(const FlowConfig& cfg);
// Whether F has a term of this kind.
bool has_term(const FlowConfig& cfg, FunctionalKind kind);
// Whether F takes the density of [target] (a kl or potential term).
bool uses_target_density(const FlowConfig& cfg);

// Values that "auto"/0 resolve to.
DType resolved_dtype(const FlowConfig& cfg);
bool warmup_enabled(const FlowConfig& cfg);
index_t latent_dim(const FlowConfig& cfg);  // after the initial measure is known
index_t initial_dim(const FlowConfig& cfg);  // d, or the npy/idx file's column count
index_t measure_dim(const MeasureConfig& m);  // the same for any measure

}  // namespace nwgf

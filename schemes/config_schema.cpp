#include "nwgf/schemes/config_schema.hpp"

#include "nwgf/engine/error.hpp"
#include "nwgf/schemes/config_codec.hpp"

namespace nwgf {

void throw_not_one_of(const std::string& key, std::string_view text, const std::string& choices) {
  throw_bad_input(key + ": '" + std::string(text) + "' is not one of " + choices);
}

namespace config_schema {

void bad(const std::string& key, const std::string& what) { throw_bad_input(key + ": " + what); }

namespace {

std::vector<Field<FlowConfig>> make_flow_fields() {
  using C = FlowConfig;
  std::vector<Field<C>> f;
  f.push_back(field("", "seed", &C::seed, "seed of every random stream (README, \"Random numbers\")"));

  f.push_back(field("flow", "scheme", &C::scheme,
                    "backward: neural JKO (Alg. 1); forward: neural steepest descent (Alg. 2, eqs. "
                    "(14)-(15)); particle: App. D; ift: interaction-force transport, weighted "
                    "particles ([ift], README \"IFT flows\"); variational: JKO steps through a "
                    "map T and a critic h (README, \"Variational JKO\")"));
  f.push_back(field("flow", "tau", &C::tau, "step size", positive()));
  f.push_back(field("flow", "steps", &C::steps, "number of steps (0: run until t_end)",
                    at_least(0)));
  f.push_back(field("flow", "t_end", &C::t_end, "end time when steps = 0",
                    Check<double>([](const std::string& k, double v) {
                      if (v < 0 || !std::isfinite(v)) bad(k, "must be a finite number >= 0");
                    })));
  f.push_back(field("flow", "schedule", &C::schedule,
                    "[[time, tau], ...]: piecewise-constant step sizes, tau from that time on "
                    "(the paper's MNIST run); empty: tau",
                    Check<std::vector<std::vector<double>>>(
                        [](const std::string& k, const std::vector<std::vector<double>>& v) {
                          double last = -1;
                          for (const auto& s : v) {
                            if (s.size() != 2) bad(k, "entries are [time, tau] pairs");
                            if (!(s[0] > last) || s[0] < 0) bad(k, "times must increase from >= 0");
                            positive()(k, s[1]);
                            last = s[0];
                          }
                        })));
  f.push_back(field("flow", "warmup", &C::warmup,
                    "the paper's geometric start for r < 1: steps warmup_start, x10, ... below "
                    "tau, then one step to time tau (auto: on for r < 1)"));
  f.push_back(field("flow", "warmup_start", &C::warmup_start, "first warm-up step", positive()));
  f.push_back(field("flow", "dtype", &C::dtype,
                    "sample precision (auto: f64 for particle, f32 for the neural schemes)"));
  f.push_back(omit_default(
      field("flow", "memory", &C::memory,
            "replicated: every MPI rank holds all N samples; sharded: each rank holds only its own "
            "rows of the samples and of the target (O(N/P) memory per rank; every scheme and "
            "functional: the particle scheme's exact functionals of every kernel, energy33, the "
            "potential and sums, or the sliced estimator (Riesz r = 1, interaction, mmd, "
            "barycenter); the backward and forward schemes' exact Riesz functionals and energy33; "
            "the ift scheme, every `ift.weight_step` (each rank also holds its rows of the "
            "weights); the variational scheme, every functional it takes, fb, MLP or ICNN maps; "
            "every measure kind, drawn or read by rows; CPU backend, and CUDA for every "
            "scheme's exact estimator (the particle scheme's every functional: interaction of "
            "every kernel, mmd, barycenter, energy33, the potential and sums; the ift, backward, "
            "forward and variational schemes) and the particle scheme's sliced estimator; "
            "`output.plots` drawn by "
            "rank 0 from the snapshot files; README \"MPI runs\")")));
  f.push_back(omit_default(variational(field(
      "flow", "fb", &C::fb,
      "variational: forward-backward, the interaction terms of F as the explicit forward step "
      "(12) x <- x - tau grad(W * P)(x), the rest by the variational JKO step"))));

  f.push_back(required(field(
      "functional", "kind", &C::functional,
      "the functional F: interaction energy E_K, MMD^2 D_K^2 to [target], the MMD barycenter "
      "(eq. 34) of [[target.measures]], the energy (33) (d = 2); variational scheme: kl = "
      "KL(P || Q) to the [target] density, entropy = 1/(m-1) int P^m; potential = int V dP, "
      "V = -ln Q of the [target] density (particle and variational schemes); sum: "
      "[[functional.terms]]")));
  f.push_back(field("functional", "r", &C::r, "Riesz exponent of K(x, y) = -|x - y|^r, 0 < r < 2",
                    Check<double>([](const std::string& k, double v) {
                      if (!(v > 0 && v < 2)) bad(k, "must lie in (0, 2)");
                    })));
  f.push_back(field("functional", "estimator", &C::estimator,
                    "exact pair sums, or sliced (r = 1): random 1-D projections (the Riesz "
                    "interaction, mmd and barycenter of the particle, backward and forward "
                    "schemes)"));
  f.push_back(field("functional", "directions", &C::directions,
                    "sliced: projections per evaluation", at_least(1)));
  f.push_back(omit_default(field("functional", "kernel", &C::kernel,
                                 "the kernel of mmd: riesz K = -|x - y|^r, or gaussian K = "
                                 "exp(-gamma |x - y|^2) (particle and ift schemes); of "
                                 "interaction (particle and variational schemes, F = 1/2 ∫∫ "
                                 "W(x - y)): "
                                 "quartic_quadratic W = |z|^4/4 - |z|^2/2, log_quadratic "
                                 "W = |z|^2/2 - ln|z|, gaussian_attraction W = "
                                 "-exp(-|z|^2)/pi, riesz W = -|z|^r (repulsive; with r)")));
  f.push_back(omit_default(field("functional", "gamma", &C::gamma,
                                 "gaussian: K(x, y) = exp(-gamma |x - y|^2), gamma > 0",
                                 positive())));

  f.push_back(ift_field("position_step", &IftConfig::position_step,
                        "weighted: x_i -= tau n w_i grad g(x_i) (the IFT code; the code's lr = tau "
                        "n / 2); unweighted: x_i -= tau grad g(x_i) (eq. 15)"));
  f.push_back(ift_field("weight_step", &IftConfig::weight_step,
                        "pgd: w <- P(w - 2 eta g) (the paper's runs); qp: the exact step (23) by "
                        "FISTA; kl: w <- w exp(-eta g) (WFR); none: the MMD flow"));
  f.push_back(ift_field("eta", &IftConfig::eta,
                        "MMD (weight) step size, >= 0 (the IFT code's lr_; 0: no weight change; qp: "
                        "> 0)",
                        non_negative()));
  f.push_back(ift_field("qp_iterations", &IftConfig::qp_iterations,
                        "qp: FISTA iterations per step (warm-started)", at_least(1)));
  f.push_back(ift_field("qp_reference", &IftConfig::qp_reference,
                        "qp: the proximal term's reference, half: mu^{l+1/2} (eq. 23), previous: "
                        "mu^l (Alg. 1, eq. 24)"));
  f.push_back(ift_field("mass", &IftConfig::mass,
                        "simplex: spherical IFT, sum w = 1; nonnegative: IFT on M+ (gaussian "
                        "kernel)"));
  f.push_back(ift_field("kl_normalise", &IftConfig::kl_normalise,
                        "kl: divide by the sum (paper), or project onto the simplex (the IFT "
                        "code)"));
  f.push_back(ift_field("noise", &IftConfig::noise,
                        "noisy MMD flow: the position step's gradient at x + noise z, z ~ N(0, Id)",
                        non_negative()));
  f.push_back(ift_field("noise_off", &IftConfig::noise_off,
                        "the last iteration with noise (0: never switched off)", at_least(0)));
  f.push_back(ift_field("noise_witness", &IftConfig::noise_witness,
                        "the witness of the noisy step from the noisy particles (the IFT code) or "
                        "the clean ones (Arbel et al.)"));
  f.push_back(ift_field("target_resample", &IftConfig::target_resample,
                        "a fresh target sample every iteration (metrics: the fixed first one)"));
  f.push_back(terms_field());
  f.push_back(variational(field("functional", "m", &C::m,
                                "entropy: the exponent m > 1 (required for kind = \"entropy\")")));

  f.push_back(field("network", "hidden", &C::hidden, "hidden layer widths of the network",
                    Check<std::vector<index_t>>([](const std::string& k,
                                                   const std::vector<index_t>& v) {
                      if (v.empty()) bad(k, "needs at least one hidden layer");
                      for (index_t h : v) {
                        if (h < 1 || h > 65536) bad(k, "widths must lie in [1, 65536]");
                      }
                    })));
  f.push_back(field("network", "latent_dim", &C::latent_dim, "latent noise dimension (0: d)",
                    at_least(0)));
  f.push_back(variational(field("network", "activation", &C::activation,
                                "hidden-layer activation (prelu: one learnable slope per layer; "
                                "linear: an affine network)")));
  f.push_back(variational(field("network", "residual", &C::residual,
                                "variational: the map is T(x) = x + net(x)")));
  f.push_back(omit_default(variational(field(
      "network", "dropout", &C::dropout,
      "variational: dropout probability p after each hidden Linear(w, w) of the map T (not the "
      "first layer; training passes only, Philox masks; 0: none), 0 <= p < 1",
      Check<double>([](const std::string& k, double v) {
        if (!(v >= 0 && v < 1)) bad(k, "must lie in [0, 1)");
      })))));
  f.push_back(omit_default(variational(field(
      "network", "kind", &C::map,
      "variational: the map T, an MLP (mlp) or T = grad phi of an input-convex network phi "
      "(icnn: the paper's code's DenseICNN, quadratic skips, CELU; README \"ICNN maps\")"))));
  f.push_back(omit_default(variational(field("network", "rank", &C::rank,
                                             "icnn: quadratic terms per unit (rank)",
                                             at_least(1)))));
  f.push_back(omit_default(variational(field(
      "network", "strong_convexity", &C::strong_convexity,
      "icnn: eps of the term (eps/2) |x|^2 of phi", non_negative()))));
  f.push_back(omit_default(variational(field(
      "network", "pretrain_iterations", &C::pretrain_iterations,
      "icnn: Adam steps fitting T to the identity on the initial particles before step 1 "
      "(the paper's code: 4000; 0: none)",
      at_least(0)))));
  f.push_back(omit_default(variational(field("network", "pretrain_lr", &C::pretrain_lr,
                                             "icnn: the learning rate of that pretraining",
                                             positive()))));
  const auto widths = Check<std::vector<index_t>>([](const std::string& k,
                                                     const std::vector<index_t>& v) {
    if (v.empty()) bad(k, "needs at least one hidden layer");
    for (index_t h : v) {
      if (h < 1 || h > 65536) bad(k, "widths must lie in [1, 65536]");
    }
  });
  f.push_back(variational(field("critic", "hidden", &C::critic_hidden,
                                "variational: hidden layer widths of the critic h", widths)));
  f.push_back(variational(field("critic", "activation", &C::critic_activation,
                                "variational: the critic's hidden-layer activation")));
  f.push_back(variational(field("critic", "output", &C::critic_output,
                                "variational: the critic's output transform (square: u^2; "
                                "sigmoid: 20 sigmoid(3u/20))")));

  f.push_back(field("train", "iterations", &C::iterations, "Adam iterations per step",
                    at_least(1)));
  f.push_back(field("train", "iterations_first", &C::iterations_first,
                    "iterations of the first first_steps steps (0: iterations)", at_least(0)));
  f.push_back(field("train", "first_steps", &C::first_steps, "steps that use iterations_first",
                    at_least(0)));
  f.push_back(field("train", "batch", &C::batch,
                    "batch size (the interaction term uses two independent batches)", at_least(1)));
  f.push_back(field("train", "rescale_batch", &C::rescale_batch,
                    "forward: batch of the rescaling (15) (0: batch)", at_least(0)));
  f.push_back(field("train", "lr", &C::lr, "Adam learning rate", positive()));
  f.push_back(variational(field("train", "inner", &C::inner,
                                "variational: critic ascent steps per map step (J_2)",
                                at_least(1))));

  f.push_back(field("output", "every", &C::every,
                    "snapshot every this many steps (0: first and last only)", at_least(0)));
  f.push_back(field("output", "plots", &C::plots, "a PNG per snapshot and plots/metrics.png"));
  f.push_back(field("output", "gif", &C::gif, "with plots: plots/flow.gif, the snapshots animated"));
  f.push_back(field("output", "plot_size", &C::plot_size, "picture size in pixels, 64 to 4096",
                    Check<index_t>([](const std::string& k, index_t v) {
                      if (v < 64 || v > 4096) bad(k, "must lie in [64, 4096]");
                    })));
  f.push_back(field("output", "progress", &C::progress, "progress on stderr"));
  f.push_back(field("output", "trace", &C::trace,
                    "trace.json in the run directory: a Chrome Trace Event / Perfetto trace of "
                    "the run's phases (README, \"Profiling\"; --trace FILE puts it elsewhere)"));
  f.push_back(field("output", "checkpoint_every", &C::checkpoint_every,
                    "write checkpoint.bin every this many steps", at_least(1)));
  f.push_back(field("output", "blowup_step", &C::blowup_step,
                    "test only: NaN samples after this step (exit 3); 0: off", at_least(0)));
  f.push_back(omit_default(field(
      "output", "blowup_rank", &C::blowup_rank,
      "test only: the MPI rank whose samples blowup_step makes NaN; -1: every rank",
      at_least(-1))));

  f.push_back(field("eval", "mmd", &C::eval_mmd,
                    "mmd2_analytic / mmd2_iterate where a closed form exists"));
  f.push_back(field("eval", "reference", &C::reference,
                    "exact reference samples of the closed form (0: n)", at_least(0)));
  f.push_back(field("eval", "every", &C::eval_every,
                    "evaluate the metrics every this many steps (and at the end)", at_least(1)));
  return f;
}

}  // namespace

const std::vector<Field<FlowConfig>>& flow_fields() {
  static const auto f = make_flow_fields();
  return f;
}

const Field<FlowConfig>& barycenter_weights_field() {
  static const auto f = field("target", "weights", &FlowConfig::weights,
                              "barycenter: alpha_i of [[target.measures]], summing to 1 (default "
                              "equal)");
  return f;
}

const std::vector<std::string>& table_names() {
  static const std::vector<std::string> t = {"flow",    "functional", "ift",   "initial", "target",
                                             "network", "critic",     "train", "output",  "eval"};
  return t;
}

}  // namespace config_schema
}  // namespace nwgf

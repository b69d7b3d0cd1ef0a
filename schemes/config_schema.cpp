#include "nwgf/schemes/config_schema.hpp"

#include <cmath>

#include "nwgf/engine/error.hpp"

namespace nwgf {

void throw_not_one_of(const std::string& key, std::string_view text, const std::string& choices) {
  throw_bad_input(key + ": '" + std::string(text) + "' is not one of " + choices);
}

namespace config_schema {

void bad(const std::string& key, const std::string& what) { throw_bad_input(key + ": " + what); }

namespace {

double as_double(const toml::node& n, const std::string& key) {
  if (n.is_floating_point()) return n.as_floating_point()->get();
  if (n.is_integer()) return double(n.as_integer()->get());
  bad(key, "expected a number");
}
index_t as_int(const toml::node& n, const std::string& key) {
  if (n.is_integer()) return index_t(n.as_integer()->get());
  if (n.is_floating_point()) {
    const double v = n.as_floating_point()->get();
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15) return index_t(v);
  }
  bad(key, "expected an integer");
}
std::vector<double> as_doubles(const toml::node& n, const std::string& key) {
  if (!n.is_array()) bad(key, "expected an array of numbers");
  std::vector<double> v;
  for (const auto& e : *n.as_array()) v.push_back(as_double(e, key));
  return v;
}
toml::array to_array(const std::vector<double>& v) {
  toml::array a;
  for (double x : v) a.push_back(x);
  return a;
}

// How a member type is read from a TOML node, written into a table, and named in the reference.
template <class M, class = void>
struct Codec;
template <>
struct Codec<double> {
  static std::string type() { return "number"; }
  static double read(const toml::node& n, const std::string& k) { return as_double(n, k); }
  static toml::value<double> node(double v) { return toml::value<double>(v); }
};
template <>
struct Codec<index_t> {
  static std::string type() { return "integer"; }
  static index_t read(const toml::node& n, const std::string& k) { return as_int(n, k); }
  static toml::value<std::int64_t> node(index_t v) { return toml::value<std::int64_t>(v); }
};
template <>
struct Codec<std::uint64_t> {
  static std::string type() { return "integer >= 0"; }
  static std::uint64_t read(const toml::node& n, const std::string& k) {
    const index_t v = as_int(n, k);
    if (v < 0) bad(k, "must be >= 0");
    return std::uint64_t(v);
  }
  static toml::value<std::int64_t> node(std::uint64_t v) {
    return toml::value<std::int64_t>(std::int64_t(v));
  }
};
template <>
struct Codec<bool> {
  static std::string type() { return "bool"; }
  static bool read(const toml::node& n, const std::string& k) {
    if (!n.is_boolean()) bad(k, "expected true or false");
    return n.as_boolean()->get();
  }
  static toml::value<bool> node(bool v) { return toml::value<bool>(v); }
};
template <>
struct Codec<std::string> {
  static std::string type() { return "string"; }
  static std::string read(const toml::node& n, const std::string& k) {
    if (!n.is_string()) bad(k, "expected a string");
    return n.as_string()->get();
  }
  static toml::value<std::string> node(const std::string& v) { return toml::value<std::string>(v); }
};
template <>
struct Codec<std::vector<double>> {
  static std::string type() { return "list of numbers"; }
  static std::vector<double> read(const toml::node& n, const std::string& k) {
    return as_doubles(n, k);
  }
  static toml::array node(const std::vector<double>& v) { return to_array(v); }
};
template <>
struct Codec<std::vector<index_t>> {
  static std::string type() { return "list of integers"; }
  static std::vector<index_t> read(const toml::node& n, const std::string& k) {
    if (!n.is_array()) bad(k, "expected an array of integers");
    std::vector<index_t> v;
    for (const auto& e : *n.as_array()) v.push_back(as_int(e, k));
    return v;
  }
  static toml::array node(const std::vector<index_t>& v) {
    toml::array a;
    for (index_t x : v) a.push_back(std::int64_t(x));
    return a;
  }
};
template <>
struct Codec<std::vector<std::vector<double>>> {
  static std::string type() { return "list of lists of numbers"; }
  static std::vector<std::vector<double>> read(const toml::node& n, const std::string& k) {
    if (!n.is_array()) bad(k, "expected an array of arrays of numbers");
    std::vector<std::vector<double>> v;
    for (const auto& e : *n.as_array()) v.push_back(as_doubles(e, k));
    return v;
  }
  static toml::array node(const std::vector<std::vector<double>>& v) {
    toml::array a;
    for (const auto& x : v) a.push_back(to_array(x));
    return a;
  }
};
template <class E>
struct Codec<E, std::enable_if_t<std::is_enum_v<E>>> {
  static std::string type() { return enum_choices<E>(); }
  static E read(const toml::node& n, const std::string& k) {
    if (!n.is_string()) bad(k, "expected a string");
    return enum_from_text<E>(n.as_string()->get(), k);
  }
  static toml::value<std::string> node(E v) { return toml::value<std::string>(std::string(to_text(v))); }
};

template <class M>
using Check = std::function<void(const std::string& key, const M& v)>;
template <class M>
using Reader = std::function<M(const toml::node& n, const std::string& key)>;

// A row bound to member `m` of S.
template <class S, class M>
Field<S> field(std::string table, std::string key, M S::*m, std::string help, Check<M> check = {},
               Reader<M> read = {}) {
  Field<S> f;
  f.table = std::move(table);
  f.key = key;
  f.type = Codec<M>::type();
  f.help = std::move(help);
  if (!read) read = [](const toml::node& n, const std::string& k) { return Codec<M>::read(n, k); };
  f.read = [m, read](const toml::node& n, const std::string& k, S& s) { s.*m = read(n, k); };
  f.write = [m, key](toml::table& t, const S& s) { t.insert(key, Codec<M>::node(s.*m)); };
  if (check) f.check = [m, check](const std::string& k, const S& s) { check(k, s.*m); };
  return f;
}
template <class S>
Field<S> required(Field<S> f) {
  f.required = true;
  return f;
}
template <class S>
Field<S> variational(Field<S> f) {
  f.variational_key = true;
  return f;
}

// Checks of one value.
Check<double> positive() {
  return [](const std::string& k, double v) {
    if (!(v > 0) || !std::isfinite(v)) bad(k, "must be a finite number > 0");
  };
}
Check<index_t> at_least(index_t lo) {
  return [lo](const std::string& k, index_t v) {
    if (v < lo) bad(k, "must be >= " + std::to_string(lo));
  };
}

// A single point may be given as a flat list.
std::vector<std::vector<double>> read_points(const toml::node& n, const std::string& k) {
  if (n.is_array() && !n.as_array()->empty() && !n.as_array()->get(0)->is_array()) {
    return {as_doubles(n, k)};
  }
  return Codec<std::vector<std::vector<double>>>::read(n, k);
}

template <class S>
Field<S> omit_default(Field<S> f) {
  f.omit_default = true;
  return f;
}

// A d x d matrix given as d rows of d numbers, stored flat (row-major).
std::vector<double> read_matrix(const toml::node& n, const std::string& k) {
  const auto rows = Codec<std::vector<std::vector<double>>>::read(n, k);
  std::vector<double> flat;
  for (const auto& r : rows) {
    if (r.size() != rows.size()) bad(k, "expected a d x d matrix (d rows of d numbers)");
    flat.insert(flat.end(), r.begin(), r.end());
  }
  return flat;
}
toml::array matrix_node(const std::vector<double>& flat) {
  const auto d = std::size_t(std::llround(std::sqrt(double(flat.size()))));
  toml::array a;
  for (std::size_t i = 0; i < d; ++i) {
    a.push_back(to_array(std::vector<double>(flat.begin() + std::ptrdiff_t(i * d),
                                             flat.begin() + std::ptrdiff_t((i + 1) * d))));
  }
  return a;
}

// [[table.components]]: an array of tables {mean, cov, weight}, each key required.
std::vector<MixtureComponent> read_components(const toml::node& n, const std::string& k) {
  if (!n.is_array()) bad(k, "expected an array of tables ([[...components]] with mean, cov, weight)");
  std::vector<MixtureComponent> v;
  for (const auto& e : *n.as_array()) {
    const std::string ck = k + "[" + std::to_string(v.size()) + "]";
    if (!e.is_table()) bad(ck, "expected a table with mean, cov and weight");
    const toml::table& t = *e.as_table();
    for (const auto& [key, value] : t) {
      const std::string name(key.str());
      if (name != "mean" && name != "cov" && name != "weight") bad(ck + "." + name, "unknown key");
    }
    MixtureComponent c;
    for (const char* need : {"mean", "cov", "weight"}) {
      if (!t.contains(need)) bad(ck + "." + need, "required");
    }
    c.mean = as_doubles(*t.get("mean"), ck + ".mean");
    c.cov = read_matrix(*t.get("cov"), ck + ".cov");
    c.weight = as_double(*t.get("weight"), ck + ".weight");
    v.push_back(std::move(c));
  }
  return v;
}

Field<MeasureConfig> cov_field() {
  Field<MeasureConfig> f;
  f.key = "cov";
  f.type = "list of lists of numbers";
  f.help = "gaussian: full covariance, d rows of d numbers, symmetric positive definite (empty: "
           "radius^2 Id)";
  f.omit_default = true;
  f.read = [](const toml::node& n, const std::string& k, MeasureConfig& m) {
    m.cov = read_matrix(n, k);
  };
  f.write = [](toml::table& t, const MeasureConfig& m) { t.insert("cov", matrix_node(m.cov)); };
  return f;
}

Field<MeasureConfig> components_field() {
  Field<MeasureConfig> f;
  f.key = "components";
  f.type = "array of tables";
  f.help = "mixture: one [[...components]] table per Gaussian, each with mean (d numbers), cov "
           "(d x d) and weight (>= 0; the weights are normalised to sum 1)";
  f.omit_default = true;
  f.read = [](const toml::node& n, const std::string& k, MeasureConfig& m) {
    m.components = read_components(n, k);
  };
  f.write = [](toml::table& t, const MeasureConfig& m) {
    toml::array a;
    for (const auto& c : m.components) {
      toml::table ct;
      ct.insert("mean", to_array(c.mean));
      ct.insert("cov", matrix_node(c.cov));
      ct.insert("weight", c.weight);
      a.push_back(std::move(ct));
    }
    t.insert("components", std::move(a));
  };
  return f;
}

std::vector<Field<FlowConfig>> make_flow_fields() {
  using C = FlowConfig;
  std::vector<Field<C>> f;
  f.push_back(field("", "seed", &C::seed, "seed of every random stream (README, \"Random numbers\")"));

  f.push_back(field("flow", "scheme", &C::scheme,
                    "backward: neural JKO (Alg. 1); forward: neural steepest descent (Alg. 2, eqs. "
                    "(14)-(15)); particle: App. D; variational: JKO steps through a map T and a "
                    "critic h (README, \"Variational JKO\")"));
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

  f.push_back(required(field(
      "functional", "kind", &C::functional,
      "the functional F: interaction energy E_K, MMD^2 D_K^2 to [target], the MMD barycenter "
      "(eq. 34) of [[target.measures]], the energy (33) (d = 2); variational scheme: kl = "
      "KL(P || Q) to the [target] density, entropy = 1/(m-1) int P^m")));
  f.push_back(field("functional", "r", &C::r, "Riesz exponent of K(x, y) = -|x - y|^r, 0 < r < 2",
                    Check<double>([](const std::string& k, double v) {
                      if (!(v > 0 && v < 2)) bad(k, "must lie in (0, 2)");
                    })));
  f.push_back(field("functional", "estimator", &C::estimator,
                    "exact pair sums, or sliced (r = 1): random 1-D projections"));
  f.push_back(field("functional", "directions", &C::directions,
                    "sliced: projections per evaluation", at_least(1)));
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
  f.push_back(field("output", "checkpoint_every", &C::checkpoint_every,
                    "write checkpoint.bin every this many steps", at_least(1)));
  f.push_back(field("output", "blowup_step", &C::blowup_step,
                    "test only: NaN samples after this step (exit 3); 0: off", at_least(0)));

  f.push_back(field("eval", "mmd", &C::eval_mmd,
                    "mmd2_analytic / mmd2_iterate where a closed form exists"));
  f.push_back(field("eval", "reference", &C::reference,
                    "exact reference samples of the closed form (0: n)", at_least(0)));
  f.push_back(field("eval", "every", &C::eval_every,
                    "evaluate the metrics every this many steps (and at the end)", at_least(1)));
  return f;
}

std::vector<Field<MeasureConfig>> make_measure_fields() {
  using M = MeasureConfig;
  std::vector<Field<M>> f;
  f.push_back(required(
      field("", "kind", &M::kind, "the measure (README, \"Measures\"); required where used")));
  f.push_back(field("", "n", &M::n, "number of samples (npy: the file's rows)"));
  f.push_back(field("", "d", &M::d,
                    "dimension; where not given: from points, else from the other measure (file "
                    "kinds: from the file; image: 2)"));
  f.push_back(field("", "points", &M::points,
                    "centres / atoms, one list per point (one point may be a flat list); empty: "
                    "the origin",
                    Check<std::vector<std::vector<double>>>{}, Reader<std::vector<std::vector<double>>>(read_points)));
  f.push_back(field("", "weights", &M::weights, "diracs: mass of each point (default equal)"));
  f.push_back(field("", "radius", &M::radius,
                    "square, square_boundary: half-width; circle: radius; gaussian: standard "
                    "deviation"));
  f.push_back(cov_field());
  f.push_back(components_field());
  f.push_back(field("", "low", &M::low, "uniform: the box [low, high]^d"));
  f.push_back(field("", "high", &M::high, "uniform: the box [low, high]^d"));
  f.push_back(field("", "path", &M::path,
                    "npy, idx, image: the file (relative to the config file's directory)"));
  f.push_back(field("", "blur", &M::blur, "image: Gaussian blur in pixels (0: none)"));
  f.push_back(field("", "background", &M::background, "image: weight of the wide blurs"));
  f.push_back(field("", "box", &M::box, "image: half-width of the box the picture is mapped to"));
  f.push_back(omit_default(field("", "m", &M::m,
                                "barenblatt: the exponent m > 1 (where not given: [functional] m)")));
  f.push_back(omit_default(field("", "t0", &M::t0, "barenblatt: the profile's time t0 > 0")));
  return f;
}

}  // namespace

const std::vector<Field<FlowConfig>>& flow_fields() {
  static const auto f = make_flow_fields();
  return f;
}

const std::vector<Field<MeasureConfig>>& measure_fields() {
  static const auto f = make_measure_fields();
  return f;
}

const Field<FlowConfig>& barycenter_weights_field() {
  static const auto f = field("target", "weights", &FlowConfig::weights,
                              "barycenter: alpha_i of [[target.measures]], summing to 1 (default "
                              "equal)");
  return f;
}

const std::vector<std::string>& table_names() {
  static const std::vector<std::string> t = {"flow",    "functional", "initial", "target", "network",
                                             "critic", "train",      "output",  "eval"};
  return t;
}

}  // namespace config_schema
}  // namespace nwgf

#include "schemes/config.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "engine/error.hpp"
#include "engine/io/file_io.hpp"
#include "engine/io/json.hpp"
#include "engine/io/idx.hpp"
#include "engine/io/npy.hpp"

namespace nwgf {
namespace {

[[noreturn]] void bad(const std::string& key, const std::string& what) {
  throw_bad_input(key + ": " + what);
}

// Reads typed values out of one TOML table, remembering which keys were used so that the rest
// can be reported as unknown.
class TableReader {
 public:
  TableReader(const toml::table* t, std::string prefix) : t_(t), prefix_(std::move(prefix)) {}

  std::string key(const std::string& k) const { return prefix_.empty() ? k : prefix_ + "." + k; }
  const toml::node* get(const std::string& k) {
    used_.insert(k);
    return t_ ? t_->get(k) : nullptr;
  }
  bool has(const std::string& k) const { return t_ && t_->contains(k); }

  void read(const std::string& k, double& out) {
    if (const auto* n = get(k)) out = as_double(*n, key(k));
  }
  void read(const std::string& k, index_t& out) {
    if (const auto* n = get(k)) out = as_int(*n, key(k));
  }
  void read(const std::string& k, std::uint64_t& out) {
    if (const auto* n = get(k)) {
      const index_t v = as_int(*n, key(k));
      if (v < 0) bad(key(k), "must be >= 0");
      out = std::uint64_t(v);
    }
  }
  void read(const std::string& k, bool& out) {
    if (const auto* n = get(k)) {
      if (!n->is_boolean()) bad(key(k), "expected true or false");
      out = n->as_boolean()->get();
    }
  }
  void read(const std::string& k, std::string& out) {
    if (const auto* n = get(k)) {
      if (!n->is_string()) bad(key(k), "expected a string");
      out = n->as_string()->get();
    }
  }
  void read(const std::string& k, std::vector<double>& out) {
    if (const auto* n = get(k)) out = as_doubles(*n, key(k));
  }
  void read(const std::string& k, std::vector<index_t>& out) {
    if (const auto* n = get(k)) {
      if (!n->is_array()) bad(key(k), "expected an array of integers");
      out.clear();
      for (const auto& e : *n->as_array()) out.push_back(as_int(e, key(k)));
    }
  }
  void read(const std::string& k, std::vector<std::vector<double>>& out) {
    if (const auto* n = get(k)) {
      if (!n->is_array()) bad(key(k), "expected an array of arrays of numbers");
      out.clear();
      for (const auto& e : *n->as_array()) out.push_back(as_doubles(e, key(k)));
    }
  }

  // Any key of this table not read is unknown.
  void check_unknown() const {
    if (!t_) return;
    for (const auto& [k, v] : *t_) {
      if (!used_.count(std::string(k.str()))) bad(key(std::string(k.str())), "unknown key");
    }
  }

  static double as_double(const toml::node& n, const std::string& key) {
    if (n.is_floating_point()) return n.as_floating_point()->get();
    if (n.is_integer()) return double(n.as_integer()->get());
    bad(key, "expected a number");
  }
  static index_t as_int(const toml::node& n, const std::string& key) {
    if (n.is_integer()) return index_t(n.as_integer()->get());
    if (n.is_floating_point()) {
      const double v = n.as_floating_point()->get();
      if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15) return index_t(v);
    }
    bad(key, "expected an integer");
  }
  static std::vector<double> as_doubles(const toml::node& n, const std::string& key) {
    if (!n.is_array()) bad(key, "expected an array of numbers");
    std::vector<double> v;
    for (const auto& e : *n.as_array()) v.push_back(as_double(e, key));
    return v;
  }

 private:
  const toml::table* t_;
  std::string prefix_;
  std::set<std::string> used_;
};

const toml::table* subtable(const toml::table& root, const std::string& name) {
  const toml::node* n = root.get(name);
  if (!n) return nullptr;
  if (!n->is_table()) bad(name, "expected a table");
  return n->as_table();
}

void read_measure(TableReader& r, MeasureConfig& m) {
  r.read("kind", m.kind);
  r.read("n", m.n);
  r.read("d", m.d);
  if (r.has("points")) {
    // A single point may be given as a flat list.
    const toml::node* n = r.get("points");
    if (n->is_array() && !n->as_array()->empty() && !n->as_array()->get(0)->is_array()) {
      m.points = {TableReader::as_doubles(*n, r.key("points"))};
    } else {
      r.read("points", m.points);
    }
  }
  r.read("weights", m.weights);
  r.read("radius", m.radius);
  r.read("low", m.low);
  r.read("high", m.high);
  r.read("path", m.path);
  r.read("blur", m.blur);
  r.read("background", m.background);
  r.read("box", m.box);
}

toml::table parse_toml(const std::string& text, const std::string& name) {
  try {
    return toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw_bad_input(name + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) + ": " +
                    std::string(e.description()));
  }
}

// "flow.tau=0.1": the value is TOML; a bare word is taken as a string.
void apply_override(toml::table& root, const std::string& spec) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw_bad_input("--set: expected key=value, got '" + spec + "'");
  }
  const std::string key = spec.substr(0, eq);
  const std::string value = spec.substr(eq + 1);
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + value);
  } catch (const toml::parse_error&) {
    parsed = toml::table{{"v", value}};
  }
  toml::table* t = &root;
  std::size_t start = 0;
  for (;;) {
    const auto dot = key.find('.', start);
    const std::string part = key.substr(start, dot == std::string::npos ? dot : dot - start);
    if (part.empty()) throw_bad_input("--set: bad key '" + key + "'");
    if (dot == std::string::npos) {
      t->insert_or_assign(part, *parsed.get("v"));
      return;
    }
    toml::node* n = t->get(part);
    if (!n) {
      t->insert(part, toml::table{});
      n = t->get(part);
    }
    if (!n->is_table()) throw_bad_input("--set " + key + ": '" + part + "' is not a table");
    t = n->as_table();
    start = dot + 1;
  }
}

FlowConfig from_table(const toml::table& root) {
  FlowConfig c;
  TableReader top(&root, "");
  top.read("seed", c.seed);
  for (const char* t : {"flow", "functional", "initial", "target", "network", "train", "output",
                        "eval"}) {
    top.get(t);
  }
  top.check_unknown();

  TableReader flow(subtable(root, "flow"), "flow");
  flow.read("scheme", c.scheme);
  flow.read("tau", c.tau);
  flow.read("steps", c.steps);
  flow.read("t_end", c.t_end);
  flow.read("schedule", c.schedule);
  flow.read("warmup", c.warmup);
  flow.read("warmup_start", c.warmup_start);
  flow.read("dtype", c.dtype);
  flow.check_unknown();

  TableReader fun(subtable(root, "functional"), "functional");
  fun.read("kind", c.functional);
  fun.read("r", c.r);
  fun.read("estimator", c.estimator);
  fun.read("directions", c.directions);
  fun.check_unknown();

  TableReader init(subtable(root, "initial"), "initial");
  read_measure(init, c.initial);
  init.check_unknown();

  TableReader target(subtable(root, "target"), "target");
  if (target.has("measures")) {
    const toml::node* n = target.get("measures");
    if (!n->is_array()) bad("target.measures", "expected an array of tables");
    int i = 0;
    for (const auto& e : *n->as_array()) {
      const std::string k = "target.measures[" + std::to_string(i++) + "]";
      if (!e.is_table()) bad(k, "expected a table");
      TableReader m(e.as_table(), k);
      c.targets.emplace_back();
      read_measure(m, c.targets.back());
      m.check_unknown();
    }
    target.read("weights", c.weights);
  } else {
    read_measure(target, c.target);
  }
  target.check_unknown();

  TableReader net(subtable(root, "network"), "network");
  net.read("hidden", c.hidden);
  net.read("latent_dim", c.latent_dim);
  net.check_unknown();

  TableReader train(subtable(root, "train"), "train");
  train.read("iterations", c.iterations);
  train.read("iterations_first", c.iterations_first);
  train.read("first_steps", c.first_steps);
  train.read("batch", c.batch);
  train.read("rescale_batch", c.rescale_batch);
  train.read("lr", c.lr);
  train.check_unknown();

  TableReader out(subtable(root, "output"), "output");
  out.read("every", c.every);
  out.read("plots", c.plots);
  out.read("gif", c.gif);
  out.read("plot_size", c.plot_size);
  out.read("progress", c.progress);
  out.read("checkpoint_every", c.checkpoint_every);
  out.read("blowup_step", c.blowup_step);
  out.check_unknown();

  TableReader ev(subtable(root, "eval"), "eval");
  ev.read("mmd", c.eval_mmd);
  ev.read("reference", c.reference);
  ev.read("every", c.eval_every);
  ev.check_unknown();
  return c;
}

void check_one_of(const std::string& key, const std::string& v,
                  std::initializer_list<const char*> allowed) {
  std::string list;
  for (const char* a : allowed) {
    if (v == a) return;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  bad(key, "'" + v + "' is not one of " + list);
}
void check_positive(const std::string& key, double v) {
  if (!(v > 0) || !std::isfinite(v)) bad(key, "must be a finite number > 0");
}
void check_at_least(const std::string& key, index_t v, index_t lo) {
  if (v < lo) bad(key, "must be >= " + std::to_string(lo));
}

void validate_measure(const std::string& p, const MeasureConfig& m) {
  check_one_of(p + ".kind", m.kind,
               {"dirac", "diracs", "square", "square_boundary", "circle", "gaussian", "uniform",
                "npy", "idx", "image"});
  if (m.kind == "npy" || m.kind == "idx" || m.kind == "image") {
    if (m.path.empty()) bad(p + ".path", "required for kind = \"" + m.kind + "\"");
  }
  if (m.kind == "npy") return;
  check_at_least(p + ".n", m.n, 1);
  if (m.kind == "idx") return;
  if (m.kind == "image") {
    if (!(m.blur >= 0) || !std::isfinite(m.blur) || m.blur > 1000) {
      bad(p + ".blur", "must lie in [0, 1000] (pixels)");
    }
    if (!(m.background >= 0) || !std::isfinite(m.background)) {
      bad(p + ".background", "must be a finite number >= 0");
    }
    check_positive(p + ".box", m.box);
    if (m.d != 2) bad(p + ".d", "an image measure has d = 2");
    return;
  }
  check_at_least(p + ".d", m.d, 1);
  if (m.d > 100000) bad(p + ".d", "must be <= 100000");
  for (const auto& pt : m.points) {
    if (index_t(pt.size()) != m.d) {
      bad(p + ".points", "each point needs d = " + std::to_string(m.d) + " coordinates");
    }
    for (double v : pt) {
      if (!std::isfinite(v)) bad(p + ".points", "coordinates must be finite");
    }
  }
  if (m.kind == "diracs" && m.points.empty()) bad(p + ".points", "required for kind = \"diracs\"");
  if (!m.weights.empty()) {
    if (m.kind != "diracs") bad(p + ".weights", "only for kind = \"diracs\"");
    if (m.weights.size() != m.points.size()) bad(p + ".weights", "one weight per point");
    double sum = 0;
    for (double w : m.weights) {
      if (!(w >= 0) || !std::isfinite(w)) bad(p + ".weights", "weights must be finite and >= 0");
      sum += w;
    }
    if (!(sum > 0)) bad(p + ".weights", "weights must not all be 0");
  }
  if (m.kind == "square" || m.kind == "square_boundary" || m.kind == "circle" ||
      m.kind == "gaussian") {
    check_positive(p + ".radius", m.radius);
  }
  if (m.kind == "uniform" && !(m.high > m.low)) bad(p + ".high", "must be > low");
}

}  // namespace

index_t measure_dim(const MeasureConfig& m) {
  if (m.kind == "npy") return parse_npy_header(read_file(m.path), m.path).cols;
  if (m.kind == "idx") return read_idx_header(m.path).item_size();
  if (m.kind == "image") return 2;
  return m.d;
}

index_t initial_dim(const FlowConfig& cfg) { return measure_dim(cfg.initial); }

namespace {
// A target's dimension must be the samples' (its d key, or that of its file).
void check_same_dim(const std::string& p, const MeasureConfig& m, index_t d) {
  const index_t dm = measure_dim(m);
  if (dm == d) return;
  const bool file = m.kind == "npy" || m.kind == "idx" || m.kind == "image";
  bad(file ? p + ".path" : p + ".d",
      (file ? m.path + " has d = " : "is ") + std::to_string(dm) + ", the initial measure has d = " +
          std::to_string(d));
}
}  // namespace

DType resolved_dtype(const FlowConfig& cfg) {
  if (cfg.dtype == "auto") return cfg.scheme == "particle" ? DType::f64 : DType::f32;
  return parse_dtype(cfg.dtype, "flow.dtype");
}

bool warmup_enabled(const FlowConfig& cfg) {
  return cfg.warmup == "on" || (cfg.warmup == "auto" && cfg.r < 1);
}

index_t latent_dim(const FlowConfig& cfg) {
  return cfg.latent_dim > 0 ? cfg.latent_dim : initial_dim(cfg);
}

void validate(const FlowConfig& c) {
  check_one_of("flow.scheme", c.scheme, {"backward", "forward", "particle"});
  check_positive("flow.tau", c.tau);
  check_at_least("flow.steps", c.steps, 0);
  if (c.steps == 0 && !(c.t_end > 0)) bad("flow.steps", "give flow.steps > 0 or flow.t_end > 0");
  if (c.t_end < 0 || !std::isfinite(c.t_end)) bad("flow.t_end", "must be a finite number >= 0");
  double last = -1;
  for (const auto& s : c.schedule) {
    if (s.size() != 2) bad("flow.schedule", "entries are [time, tau] pairs");
    if (!(s[0] > last) || s[0] < 0) bad("flow.schedule", "times must increase from >= 0");
    check_positive("flow.schedule", s[1]);
    last = s[0];
  }
  check_one_of("flow.warmup", c.warmup, {"auto", "on", "off"});
  check_positive("flow.warmup_start", c.warmup_start);
  check_one_of("flow.dtype", c.dtype, {"auto", "f32", "f64", "float32", "float64"});

  check_one_of("functional.kind", c.functional, {"interaction", "mmd", "barycenter", "energy33"});
  if (!(c.r > 0 && c.r < 2)) bad("functional.r", "must lie in (0, 2)");
  check_one_of("functional.estimator", c.estimator, {"exact", "sliced"});
  if (c.estimator == "sliced" && c.r != 1) {
    bad("functional.estimator", "the sliced estimator needs r = 1");
  }
  if (c.estimator == "sliced" && c.functional == "energy33") {
    bad("functional.estimator", "energy33 has only the exact estimator");
  }
  check_at_least("functional.directions", c.directions, 1);
  if (c.estimator == "sliced" && c.scheme == "forward" &&
      (c.initial.kind == "dirac" || c.initial.kind == "diracs")) {
    bad("functional.estimator",
        "the sliced forward scheme cannot start at atoms (sliced directional derivatives miss "
        "the right derivative at coincident points); use estimator = \"exact\"");
  }

  validate_measure("initial", c.initial);
  const index_t d = initial_dim(c);
  if (c.functional == "mmd") {
    validate_measure("target", c.target);
    check_same_dim("target", c.target, d);
  }
  if (c.functional == "barycenter") {
    if (c.targets.empty()) bad("target.measures", "barycenter needs at least one measure");
    for (std::size_t i = 0; i < c.targets.size(); ++i) {
      const std::string k = "target.measures[" + std::to_string(i) + "]";
      validate_measure(k, c.targets[i]);
      check_same_dim(k, c.targets[i], d);
    }
    if (!c.weights.empty()) {
      if (c.weights.size() != c.targets.size()) bad("target.weights", "one weight per measure");
      double sum = 0;
      for (double w : c.weights) {
        if (!(w >= 0)) bad("target.weights", "weights must be >= 0");
        sum += w;
      }
      if (std::fabs(sum - 1) > 1e-9) bad("target.weights", "weights must sum to 1");
    }
  }
  if (c.functional == "energy33" && d != 2) bad("initial.d", "energy33 is defined for d = 2");

  // Paper Sect. 5: for r < 1 there is no steepest descent direction at a measure with atoms.
  if (c.scheme == "forward" && c.r < 1 && (c.initial.kind == "dirac" || c.initial.kind == "diracs")) {
    bad("functional.r",
        "the forward scheme is undefined for r < 1 from a measure with atoms (initial.kind = \"" +
            c.initial.kind + "\"): no steepest descent direction exists (paper Sect. 5); use the "
            "backward scheme");
  }

  if (c.hidden.empty()) bad("network.hidden", "needs at least one hidden layer");
  for (index_t h : c.hidden) {
    if (h < 1 || h > 65536) bad("network.hidden", "widths must lie in [1, 65536]");
  }
  check_at_least("network.latent_dim", c.latent_dim, 0);
  check_at_least("train.iterations", c.iterations, 1);
  check_at_least("train.iterations_first", c.iterations_first, 0);
  check_at_least("train.first_steps", c.first_steps, 0);
  check_at_least("train.batch", c.batch, 1);
  check_at_least("train.rescale_batch", c.rescale_batch, 0);
  check_positive("train.lr", c.lr);

  check_at_least("output.every", c.every, 0);
  if (c.plot_size < 64 || c.plot_size > 4096) bad("output.plot_size", "must lie in [64, 4096]");
  check_at_least("output.checkpoint_every", c.checkpoint_every, 1);
  check_at_least("output.blowup_step", c.blowup_step, 0);
  check_at_least("eval.reference", c.reference, 0);
  check_at_least("eval.every", c.eval_every, 1);
}

namespace {

// Relative `path` keys of the measures in the file are relative to the file's directory (so a
// config runs from any working directory); --set values stay relative to the working directory.
void resolve_paths(toml::table& root, const std::filesystem::path& base) {
  auto fix = [&](toml::node* table) {
    if (!table || !table->is_table()) return;
    toml::node* p = table->as_table()->get("path");
    if (!p || !p->is_string()) return;
    const std::filesystem::path v(p->as_string()->get());
    if (v.empty() || v.is_absolute()) return;
    *p->as_string() = std::filesystem::absolute(base / v).lexically_normal().string();
  };
  fix(root.get("initial"));
  toml::node* target = root.get("target");
  fix(target);
  if (target && target->is_table()) {
    toml::node* ms = target->as_table()->get("measures");
    if (ms && ms->is_array()) {
      for (auto& m : *ms->as_array()) fix(&m);
    }
  }
}

FlowConfig parse_config(const std::string& toml_text, const std::string& name,
                        const std::vector<std::string>& overrides,
                        const std::filesystem::path* base) {
  toml::table root = parse_toml(toml_text, name);
  if (base) resolve_paths(root, *base);
  for (const auto& o : overrides) apply_override(root, o);
  FlowConfig c = from_table(root);
  validate(c);
  return c;
}

}  // namespace

FlowConfig parse_flow_config(const std::string& toml_text, const std::string& name,
                             const std::vector<std::string>& overrides) {
  return parse_config(toml_text, name, overrides, nullptr);
}

FlowConfig load_flow_config(const std::string& path, const std::vector<std::string>& overrides) {
  const std::filesystem::path base = std::filesystem::path(path).parent_path();
  return parse_config(read_file(path), path, overrides, &base);
}

namespace {

toml::array to_array(const std::vector<double>& v) {
  toml::array a;
  for (double x : v) a.push_back(x);
  return a;
}
toml::array to_array(const std::vector<std::vector<double>>& v) {
  toml::array a;
  for (const auto& x : v) a.push_back(to_array(x));
  return a;
}
toml::table measure_table(const MeasureConfig& m) {
  toml::table t{{"kind", m.kind},     {"n", m.n},
                {"d", m.d},           {"points", to_array(m.points)},
                {"weights", to_array(m.weights)}, {"radius", m.radius},
                {"low", m.low},       {"high", m.high},
                {"path", m.path},     {"blur", m.blur},
                {"background", m.background}, {"box", m.box}};
  return t;
}

toml::table to_table(const FlowConfig& c) {
  toml::array hidden;
  for (index_t h : c.hidden) hidden.push_back(h);
  toml::table target;
  if (c.functional == "barycenter") {
    toml::array ms;
    for (const auto& m : c.targets) ms.push_back(measure_table(m));
    target.insert("measures", ms);
    target.insert("weights", to_array(c.weights));
  } else {
    target = measure_table(c.target);
  }
  return toml::table{
      {"seed", index_t(c.seed)},
      {"flow", toml::table{{"scheme", c.scheme},
                           {"tau", c.tau},
                           {"steps", c.steps},
                           {"t_end", c.t_end},
                           {"schedule", to_array(c.schedule)},
                           {"warmup", c.warmup},
                           {"warmup_start", c.warmup_start},
                           {"dtype", c.dtype}}},
      {"functional", toml::table{{"kind", c.functional},
                                 {"r", c.r},
                                 {"estimator", c.estimator},
                                 {"directions", c.directions}}},
      {"initial", measure_table(c.initial)},
      {"target", target},
      {"network", toml::table{{"hidden", hidden}, {"latent_dim", c.latent_dim}}},
      {"train", toml::table{{"iterations", c.iterations},
                            {"iterations_first", c.iterations_first},
                            {"first_steps", c.first_steps},
                            {"batch", c.batch},
                            {"rescale_batch", c.rescale_batch},
                            {"lr", c.lr}}},
      {"output", toml::table{{"every", c.every},
                             {"plots", c.plots},
                             {"gif", c.gif},
                             {"plot_size", c.plot_size},
                             {"progress", c.progress},
                             {"checkpoint_every", c.checkpoint_every},
                             {"blowup_step", c.blowup_step}}},
      {"eval", toml::table{{"mmd", c.eval_mmd},
                           {"reference", c.reference},
                           {"every", c.eval_every}}}};
}

}  // namespace

std::string to_toml(const FlowConfig& cfg) {
  std::ostringstream os;
  os << toml::toml_formatter(to_table(cfg));
  return os.str() + "\n";
}

std::string to_json(const FlowConfig& cfg) {
  std::ostringstream os;
  os << toml::json_formatter(to_table(cfg), toml::format_flags::none);
  return os.str();
}

}  // namespace nwgf

// Reading a flow config from TOML: the schema's rows (config_schema.cpp) for every key, --set
// overrides, paths relative to the config file, what must be given, and the measures' d.
#include <cmath>
#include <filesystem>
#include <optional>
#include <set>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/file_io.hpp"
#include "nwgf/schemes/config_schema.hpp"

namespace nwgf {
namespace {

using config_schema::bad;
using config_schema::Field;

// One TOML table: reads the schema's rows of it, remembering which keys were used so that the
// rest can be reported as unknown.
class TableReader {
 public:
  TableReader(const toml::table* t, std::string prefix) : t_(t), prefix_(std::move(prefix)) {}

  std::string key(const std::string& k) const { return prefix_.empty() ? k : prefix_ + "." + k; }
  const toml::node* get(const std::string& k) {
    used_.insert(k);
    return t_ ? t_->get(k) : nullptr;
  }
  bool has(const std::string& k) const { return t_ && t_->contains(k); }

  // Reads field f into s when given; a required one that is missing is an error when `require`.
  template <class S>
  bool read(const Field<S>& f, S& s, bool require) {
    const toml::node* n = get(f.key);
    if (!n) {
      if (f.required && require) bad(key(f.key), "required (" + f.type + ")");
      return false;
    }
    f.read(*n, key(f.key), s);
    return true;
  }

  // Any key of this table not read is unknown.
  void check_unknown() const {
    if (!t_) return;
    for (const auto& [k, v] : *t_) {
      if (!used_.count(std::string(k.str()))) bad(key(std::string(k.str())), "unknown key");
    }
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

// A measure read from its table; d_given: whether `d` was in it.
struct ReadMeasure {
  MeasureConfig* m;
  bool d_given;
};

// Reads every measure key of the table; kind is required when `require_kind`.
bool read_measure(TableReader& r, MeasureConfig& m, bool require_kind) {
  bool d_given = false;
  for (const auto& f : config_schema::measure_fields()) {
    const bool given = r.read(f, m, require_kind);
    if (f.key == "d") d_given = given;
  }
  return d_given;
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

// The dimension a measure states itself without reading a file: its d key, or its points',
// components' or covariance's.
std::optional<index_t> stated_dim(const ReadMeasure& r) {
  if (from_file(r.m->kind)) return std::nullopt;
  if (r.d_given) return r.m->d;
  if (!r.m->points.empty()) return index_t(r.m->points[0].size());
  if (!r.m->components.empty()) return index_t(r.m->components[0].mean.size());
  if (!r.m->cov.empty()) return index_t(std::llround(std::sqrt(double(r.m->cov.size()))));
  return std::nullopt;
}

// d where not given: from the measure's points, else from the other measure(s) (initial <->
// targets). The file kinds take d from the file (their d key is not used). Inconsistent d is
// left to validate, which names the measure.
void resolve_dims(const ReadMeasure& initial, const std::vector<ReadMeasure>& targets) {
  MeasureConfig& m0 = *initial.m;
  if (!from_file(m0.kind) && !initial.d_given) {
    std::optional<index_t> d = stated_dim(initial);
    for (const auto& t : targets) {
      if (d) break;
      if (from_file(t.m->kind) && !t.m->path.empty()) d = measure_dim(*t.m);
      else d = stated_dim(t);
    }
    if (!d) bad("initial.d", "not given and not implied by points or a target measure: give d");
    m0.d = *d;
  }
  for (const auto& t : targets) {
    if (from_file(t.m->kind) || t.d_given) continue;
    if (from_file(m0.kind) && m0.path.empty()) continue;  // validate names the missing path
    const auto own = stated_dim(t);
    t.m->d = own ? *own : measure_dim(m0);
  }
}

FlowConfig from_table(const toml::table& root) {
  FlowConfig c;
  // Unknown keys first (a misspelt key is the likelier culprit than the default it left): every
  // schema key of a table is marked used, then the rest of each table is reported.
  std::vector<std::pair<std::string, std::unique_ptr<TableReader>>> tables;
  auto reader = [&](const std::string& name) -> TableReader& {
    for (auto& [n, r] : tables) {
      if (n == name) return *r;
    }
    const toml::table* t = name.empty() ? &root : subtable(root, name);
    tables.emplace_back(name, std::make_unique<TableReader>(t, name));
    return *tables.back().second;
  };
  TableReader& top = reader("");
  for (const auto& t : config_schema::table_names()) top.get(t);
  for (const auto& t : config_schema::table_names()) reader(t);
  for (const auto& f : config_schema::flow_fields()) reader(f.table).get(f.key);
  for (const auto& f : config_schema::measure_fields()) reader("initial").get(f.key);
  if (reader("target").has("measures")) {
    reader("target").get("measures");
    reader("target").get(config_schema::barycenter_weights_field().key);
  } else {
    for (const auto& f : config_schema::measure_fields()) reader("target").get(f.key);
  }
  for (auto& [n, r] : tables) r->check_unknown();

  for (const auto& f : config_schema::flow_fields()) reader(f.table).read(f, c, true);

  if (!subtable(root, "initial")) {
    bad("initial", "required: the initial measure ([initial] with kind = ...)");
  }
  ReadMeasure initial{&c.initial, read_measure(reader("initial"), c.initial, true)};

  std::vector<ReadMeasure> targets;
  TableReader& target = reader("target");
  const bool mmd = c.functional == FunctionalKind::mmd;
  const bool barycenter = c.functional == FunctionalKind::barycenter;
  if (target.has("measures")) {
    if (!barycenter) bad("target.measures", "only for functional.kind = \"barycenter\"");
    const toml::node* n = target.get("measures");
    if (!n->is_array()) bad("target.measures", "expected an array of tables");
    c.targets.reserve(n->as_array()->size());
    int i = 0;
    for (const auto& e : *n->as_array()) {
      const std::string k = "target.measures[" + std::to_string(i++) + "]";
      if (!e.is_table()) bad(k, "expected a table");
      TableReader m(e.as_table(), k);
      for (const auto& f : config_schema::measure_fields()) m.get(f.key);
      m.check_unknown();
      c.targets.emplace_back();
      targets.push_back({&c.targets.back(), read_measure(m, c.targets.back(), true)});
    }
    target.read(config_schema::barycenter_weights_field(), c, false);
  } else {
    if (mmd && !subtable(root, "target")) {
      bad("target", "required for functional.kind = \"mmd\" (the measure nu of D_K^2(mu, nu))");
    }
    const bool density = uses_target_density(c);
    if (density && !subtable(root, "target")) {
      bad("target", "required for functional.kind = \"" + std::string(to_text(c.functional)) +
                        "\" (the density Q of kl, the potential V = -ln Q)");
    }
    const bool d_given = read_measure(target, c.target, mmd || density);
    if (mmd || density) targets.push_back({&c.target, d_given});
  }
  if (barycenter && c.targets.empty()) {
    bad("target.measures", "required for functional.kind = \"barycenter\" (one "
                           "[[target.measures]] table per measure mu_i)");
  }
  resolve_dims(initial, targets);
  if (c.initial.kind == MeasureKind::barenblatt && c.initial.m == 0) c.initial.m = c.m;
  return c;
}

// Relative `path` keys of the measures in the file are relative to the file's directory (so a
// config runs from any working directory); --set values stay relative to the working directory.
void resolve_paths(toml::table& root, const std::filesystem::path& base) {
  auto fix = [&](toml::node* table) {
    if (!table || !table->is_table()) return;
    for (const char* key : {"path", "weights_path"}) {
      toml::node* p = table->as_table()->get(key);
      if (!p || !p->is_string()) continue;
      const std::filesystem::path v(p->as_string()->get());
      if (v.empty() || v.is_absolute()) continue;
      *p->as_string() = std::filesystem::absolute(base / v).lexically_normal().string();
    }
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

}  // namespace nwgf

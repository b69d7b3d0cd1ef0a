// Writing a flow config: the resolved config as TOML and JSON (manifest.json), and the key
// reference, all from the schema's rows (config_schema.cpp).
#include <cstdio>
#include <sstream>

#include "nwgf/schemes/config_schema.hpp"

namespace nwgf {
namespace {

// Whether f is left out of the written config: an omit_default key at its default.
template <class S>
bool omitted(const config_schema::Field<S>& f, const S& s) {
  if (!f.omit_default) return false;
  toml::table value, def;
  f.write(value, s);
  f.write(def, S{});
  return value == def;
}

toml::table measure_table(const MeasureConfig& m) {
  toml::table t;
  for (const auto& f : config_schema::measure_fields()) {
    if (!omitted(f, m)) f.write(t, m);
  }
  return t;
}

toml::table* table_in(toml::table& root, const std::string& name) {
  if (name.empty()) return &root;
  if (!root.contains(name)) root.insert(name, toml::table{});
  return root.get(name)->as_table();
}

// A variational key at its default outside the variational scheme is not written.
bool written(const config_schema::Field<FlowConfig>& f, const FlowConfig& c) {
  if (!f.variational_key || c.scheme == SchemeKind::variational) return true;
  toml::table mine, def;
  f.write(mine, c);
  f.write(def, FlowConfig{});
  return !(mine == def);
}

// Every key with its value: [target] holds the mmd target, or for a barycenter its measures and
// weights.
toml::table to_table(const FlowConfig& c) {
  toml::table root;
  for (const auto& f : config_schema::flow_fields()) {
    if (!omitted(f, c) && written(f, c)) f.write(*table_in(root, f.table), c);
  }
  root.insert("initial", measure_table(c.initial));
  if (c.functional == FunctionalKind::barycenter) {
    toml::array ms;
    for (const auto& m : c.targets) ms.push_back(measure_table(m));
    toml::table target;
    target.insert("measures", ms);
    config_schema::barycenter_weights_field().write(target, c);
    root.insert("target", target);
  } else {
    root.insert("target", measure_table(c.target));
  }
  return root;
}

// A value as short TOML text for the reference ("0.05", "\"auto\"", "[128, 128, 128]").
std::string value_text(const toml::node& n) {
  if (const auto* v = n.as_floating_point()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", v->get());
    return buf;
  }
  if (const auto* a = n.as_array()) {
    std::string s = "[";
    for (std::size_t i = 0; i < a->size(); ++i) s += (i ? ", " : "") + value_text(*a->get(i));
    return s + "]";
  }
  if (const auto* v = n.as_string()) return "\"" + v->get() + "\"";
  if (const auto* v = n.as_boolean()) return v->get() ? "true" : "false";
  if (const auto* v = n.as_integer()) return std::to_string(v->get());
  return "?";
}

// A key's default: the member initialiser's value, or "required".
template <class S>
std::string default_text(const config_schema::Field<S>& f) {
  if (f.required) return "required";
  toml::table t;
  f.write(t, S{});
  return value_text(*t.get(f.key));
}

struct Row {
  std::string key, type, def, help;
};

std::vector<std::pair<std::string, std::vector<Row>>> reference_rows() {
  std::vector<std::pair<std::string, std::vector<Row>>> groups;
  auto group = [&](const std::string& name) -> std::vector<Row>& {
    for (auto& [n, rows] : groups) {
      if (n == name) return rows;
    }
    groups.emplace_back(name, std::vector<Row>{});
    return groups.back().second;
  };
  group("top level");
  for (const auto& t : config_schema::table_names()) {
    if (t == "initial") {
      group("[initial], [target], [[target.measures]]");
    } else if (t != "target") {
      group("[" + t + "]");
    }
  }
  for (const auto& f : config_schema::flow_fields()) {
    group(f.table.empty() ? "top level" : "[" + f.table + "]")
        .push_back({f.key, f.type, default_text(f), f.help});
  }
  auto& measures = group("[initial], [target], [[target.measures]]");
  for (const auto& f : config_schema::measure_fields()) {
    measures.push_back({f.key, f.type, default_text(f), f.help});
  }
  const auto& w = config_schema::barycenter_weights_field();
  measures.push_back({"weights (in [target])", w.type, default_text(w), w.help});
  return groups;
}

std::string escape_cell(const std::string& s) {
  std::string o;
  for (char ch : s) o += ch == '|' ? std::string("\\|") : std::string(1, ch);
  return o;
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

std::string config_reference(ReferenceFormat format) {
  std::ostringstream os;
  const auto groups = reference_rows();
  if (format == ReferenceFormat::markdown) {
    os << "| key | type | default | meaning |\n|---|---|---|---|\n";
    for (const auto& [name, rows] : groups) {
      for (const auto& r : rows) {
        const std::string key = name == "top level" ? r.key : name + " " + r.key;
        os << "| `" << escape_cell(key) << "` | " << escape_cell(r.type) << " | `"
           << escape_cell(r.def) << "` | " << escape_cell(r.help) << " |\n";
      }
    }
    return os.str();
  }
  os << "Config keys (TOML; --set table.key=value overrides any of them):\n";
  for (const auto& [name, rows] : groups) {
    os << "\n" << name << "\n";
    for (const auto& r : rows) {
      os << "  " << r.key << " (" << r.type << "; "
         << (r.def == "required" ? r.def : "default " + r.def) << ")\n      " << r.help << "\n";
    }
  }
  return os.str();
}

}  // namespace nwgf

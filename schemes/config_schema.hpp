#pragma once
// The schema of a flow config: one row per TOML key (its table, name, type, help, whether it is
// required, how it is read, written and checked), bound to a member of FlowConfig or
// MeasureConfig. The defaults are the structs' member initialisers. Reading (config_read.cpp),
// writing (config_write.cpp), the per-key checks of validate (config_validate.cpp) and the
// reference (`nwgf run --help-config`, the README's table) all walk these rows; nothing else in
// the code lists the keys. Internal to schemes/config*.cpp (TOML types appear here).
#include <functional>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "nwgf/schemes/config.hpp"

namespace nwgf::config_schema {

[[noreturn]] void bad(const std::string& key, const std::string& what);

template <class S>
struct Field {
  std::string table;  // FlowConfig: "" (top level), "flow", "functional", ...; MeasureConfig: ""
  std::string key;
  std::string type;  // for the reference: "number", "integer", "backward | forward | ...", ...
  std::string help;
  bool required = false;  // the problem's definition: no default (config_read.cpp says when)
  // Written (config.toml, manifest.json) only for the variational scheme or when not at its
  // default: the keys of the variational scheme leave the other schemes' resolved configs as
  // they were.
  bool variational_key = false;
  // Written (TOML, manifest.json) only when not at its default: keys added after runs whose
  // manifests must stay as they were (the default reproduces the older behaviour).
  bool omit_default = false;
  // node -> member (bad input naming full_key on a wrong type); member -> t[key]; the value's
  // own range (empty: any value of the type).
  std::function<void(const toml::node& node, const std::string& full_key, S& s)> read;
  std::function<void(toml::table& t, const S& s)> write;
  std::function<void(const std::string& full_key, const S& s)> check;
};

// [[functional.terms]] (config_schema_terms.cpp).
Field<FlowConfig> terms_field();

// FlowConfig's keys outside the measures, in reference order.
const std::vector<Field<FlowConfig>>& flow_fields();
// A measure's keys: [initial], [target], [[target.measures]].
const std::vector<Field<MeasureConfig>>& measure_fields();
// The barycenter's keys of [target] besides [[target.measures]]: `weights` (alpha_i).
const Field<FlowConfig>& barycenter_weights_field();

// The tables of a config file, in reference order ("initial" and "target" hold measures).
const std::vector<std::string>& table_names();

}  // namespace nwgf::config_schema

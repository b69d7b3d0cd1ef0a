#pragma once
// How a config key's value is read from TOML, written back and checked: the codecs of the
// member types (Codec<M>), the row builders (field, required, variational, omit_default,
// ift_field) and the value checks the schema's rows use (config_schema.cpp,
// config_schema_measure.cpp). Internal to schemes/config*.cpp.
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "nwgf/schemes/config_schema.hpp"

namespace nwgf::config_schema {
inline double as_double(const toml::node& n, const std::string& key) {
  if (n.is_floating_point()) return n.as_floating_point()->get();
  if (n.is_integer()) return double(n.as_integer()->get());
  bad(key, "expected a number");
}
inline index_t as_int(const toml::node& n, const std::string& key) {
  if (n.is_integer()) return index_t(n.as_integer()->get());
  if (n.is_floating_point()) {
    const double v = n.as_floating_point()->get();
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15) return index_t(v);
  }
  bad(key, "expected an integer");
}
inline std::vector<double> as_doubles(const toml::node& n, const std::string& key) {
  if (!n.is_array()) bad(key, "expected an array of numbers");
  std::vector<double> v;
  for (const auto& e : *n.as_array()) v.push_back(as_double(e, key));
  return v;
}
inline toml::array to_array(const std::vector<double>& v) {
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
inline Check<double> positive() {
  return [](const std::string& k, double v) {
    if (!(v > 0) || !std::isfinite(v)) bad(k, "must be a finite number > 0");
  };
}
inline Check<index_t> at_least(index_t lo) {
  return [lo](const std::string& k, index_t v) {
    if (v < lo) bad(k, "must be >= " + std::to_string(lo));
  };
}

// A single point may be given as a flat list.
inline std::vector<std::vector<double>> read_points(const toml::node& n, const std::string& k) {
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

// A row of [ift], bound to member m of FlowConfig::ift; written only when not at its default.
template <class M>
Field<FlowConfig> ift_field(std::string key, M IftConfig::*m, std::string help,
                            Check<M> check = {}) {
  Field<FlowConfig> f;
  f.table = "ift";
  f.key = key;
  f.type = Codec<M>::type();
  f.help = std::move(help);
  f.omit_default = true;
  f.read = [m](const toml::node& n, const std::string& k, FlowConfig& s) {
    s.ift.*m = Codec<M>::read(n, k);
  };
  f.write = [m, key](toml::table& t, const FlowConfig& s) { t.insert(key, Codec<M>::node(s.ift.*m)); };
  if (check) f.check = [m, check](const std::string& k, const FlowConfig& s) { check(k, s.ift.*m); };
  return f;
}

inline Check<double> non_negative() {
  return [](const std::string& k, double v) {
    if (!(v >= 0) || !std::isfinite(v)) bad(k, "must be a finite number >= 0");
  };
}

}  // namespace nwgf::config_schema

// The rows of a measure's keys ([initial], [target], [[target.measures]]) and the readers of
// its matrix-valued keys (a Gaussian's cov, a mixture's components).
#include <cmath>

#include "nwgf/schemes/config_codec.hpp"

namespace nwgf::config_schema {
namespace {

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
  f.push_back(omit_default(field("", "weights_path", &M::weights_path,
                                 "[initial] of an ift run, kind npy: an (n,) .npy of weights "
                                 "(default: uniform)")));
  f.push_back(field("", "blur", &M::blur, "image: Gaussian blur in pixels (0: none)"));
  f.push_back(field("", "background", &M::background, "image: weight of the wide blurs"));
  f.push_back(field("", "box", &M::box, "image: half-width of the box the picture is mapped to"));
  f.push_back(omit_default(field("", "m", &M::m,
                                "barenblatt: the exponent m > 1 (where not given: [functional] m)")));
  f.push_back(omit_default(field("", "t0", &M::t0, "barenblatt: the profile's time t0 > 0")));
  return f;
}

}  // namespace

const std::vector<Field<MeasureConfig>>& measure_fields() {
  static const auto f = make_measure_fields();
  return f;
}

}  // namespace nwgf::config_schema

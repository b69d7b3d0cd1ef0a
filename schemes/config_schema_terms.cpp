// The row of [[functional.terms]] (kind = "sum"): an array of tables, each with its own kind,
// weight and the keys that kind needs (kernel for interaction, m for entropy, r for an
// interaction term of kernel = "riesz"), all required.
#include <cmath>

#include "nwgf/schemes/config_codec.hpp"

namespace nwgf::config_schema {
namespace {

bool needs_kernel(FunctionalKind k) { return k == FunctionalKind::interaction; }
bool needs_m(FunctionalKind k) { return k == FunctionalKind::entropy; }
bool needs_r(const FunctionalTerm& t) {
  return t.kind == FunctionalKind::interaction && t.kernel == KernelKind::riesz;
}

std::vector<FunctionalTerm> read_terms(const toml::node& n, const std::string& k) {
  if (!n.is_array()) bad(k, "expected an array of tables ([[functional.terms]] with kind, weight)");
  std::vector<FunctionalTerm> v;
  for (const auto& e : *n.as_array()) {
    const std::string tk = k + "[" + std::to_string(v.size()) + "]";
    if (!e.is_table()) bad(tk, "expected a table with kind and weight");
    const toml::table& t = *e.as_table();
    if (!t.contains("kind")) bad(tk + ".kind", "required (kl | entropy | potential | interaction)");
    FunctionalTerm term;
    term.kind = Codec<FunctionalKind>::read(*t.get("kind"), tk + ".kind");
    if (needs_kernel(term.kind)) {  // first: which kernel decides whether r belongs
      if (!t.contains("kernel")) {
        bad(tk + ".kernel", "required for an interaction term (quartic_quadratic | log_quadratic "
                            "| gaussian_attraction | riesz)");
      }
      term.kernel = Codec<KernelKind>::read(*t.get("kernel"), tk + ".kernel");
    }
    for (const auto& [key, value] : t) {
      const std::string name(key.str());
      const bool known = name == "kind" || name == "weight" ||
                         (name == "kernel" && needs_kernel(term.kind)) ||
                         (name == "m" && needs_m(term.kind)) ||
                         (name == "r" && needs_r(term));
      if (!known) {
        bad(tk + "." + name, name == "r" && needs_kernel(term.kind)
                                 ? "only for an interaction term of kernel = \"riesz\""
                                 : "unknown key for a term of kind = \"" +
                                       std::string(to_text(term.kind)) + "\"");
      }
    }
    if (!t.contains("weight")) bad(tk + ".weight", "required (the term's factor, > 0)");
    term.weight = as_double(*t.get("weight"), tk + ".weight");
    if (needs_r(term)) {
      if (!t.contains("r")) bad(tk + ".r", "required for a riesz term (W = -|z|^r, 0 < r < 2)");
      term.r = as_double(*t.get("r"), tk + ".r");
    }
    if (needs_m(term.kind)) {
      if (!t.contains("m")) bad(tk + ".m", "required for an entropy term (m > 1)");
      term.m = as_double(*t.get("m"), tk + ".m");
    }
    v.push_back(term);
  }
  return v;
}

}  // namespace

Field<FlowConfig> terms_field() {
  Field<FlowConfig> f;
  f.table = "functional";
  f.key = "terms";
  f.type = "array of tables";
  f.help = "kind = \"sum\": F = sum_i weight_i F_i, one [[functional.terms]] table per term with "
           "kind (kl | entropy | potential | interaction), weight > 0 and the keys that kind "
           "needs (interaction: kernel, a W kernel, and r for kernel = riesz; entropy: m), all "
           "required; kl and potential "
           "take [target]";
  f.omit_default = true;
  f.read = [](const toml::node& n, const std::string& k, FlowConfig& c) {
    c.terms = read_terms(n, k);
  };
  f.write = [](toml::table& t, const FlowConfig& c) {
    toml::array a;
    for (const auto& term : c.terms) {
      toml::table tt;
      tt.insert("kind", Codec<FunctionalKind>::node(term.kind));
      tt.insert("weight", term.weight);
      if (needs_kernel(term.kind)) tt.insert("kernel", Codec<KernelKind>::node(term.kernel));
      if (needs_r(term)) tt.insert("r", term.r);
      if (needs_m(term.kind)) tt.insert("m", term.m);
      a.push_back(std::move(tt));
    }
    t.insert("terms", std::move(a));
  };
  f.check = [](const std::string& k, const FlowConfig& c) {
    for (std::size_t i = 0; i < c.terms.size(); ++i) {
      const std::string tk = k + "[" + std::to_string(i) + "]";
      const FunctionalTerm& t = c.terms[i];
      if (!(t.weight > 0) || !std::isfinite(t.weight)) bad(tk + ".weight", "must be a finite number > 0");
      if (t.kind != FunctionalKind::kl && t.kind != FunctionalKind::entropy &&
          t.kind != FunctionalKind::potential && t.kind != FunctionalKind::interaction) {
        bad(tk + ".kind", "a term is kl, entropy, potential or interaction");
      }
      if (needs_kernel(t.kind) && t.kernel == KernelKind::gaussian) {
        bad(tk + ".kernel", "an interaction term takes a kernel W: quartic_quadratic, "
                            "log_quadratic, gaussian_attraction or riesz (W = -|z|^r)");
      }
      if (needs_r(t) && !(t.r > 0 && t.r < 2 && std::isfinite(t.r))) {
        bad(tk + ".r", "the Riesz exponent must lie in (0, 2)");
      }
      if (needs_m(t.kind) && !(t.m > 1 && std::isfinite(t.m))) {
        bad(tk + ".m", "the generalized entropy 1/(m-1) int P^m needs m > 1");
      }
    }
  };
  return f;
}

}  // namespace nwgf::config_schema

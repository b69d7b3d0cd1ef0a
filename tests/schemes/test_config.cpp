// Flow configs: parsing, --set overrides, and errors that name the key (exit 2 from the CLI).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "nwgf/engine/error.hpp"
#include "nwgf/schemes/config.hpp"
#include "nwgf/schemes/time_steps.hpp"
#include "tests/helpers.hpp"

using namespace nwgf;

namespace {

const char* base = R"(
seed = 7
[flow]
scheme = "backward"
tau = 0.1
steps = 3
[functional]
kind = "interaction"
r = 1.5
[initial]
kind = "dirac"
n = 50
d = 2
)";

// The message of the bad-input error parse throws.
std::string parse_error(const std::string& text, const std::vector<std::string>& sets = {}) {
  try {
    parse_flow_config(text, "test.toml", sets);
  } catch (const Error& e) {
    CHECK(e.exit_code() == 2);
    return e.what();
  }
  return "";
}

std::string write_config(const std::string& name, const std::string& text) {
  const std::string p = test::tmp_path(name);
  std::ofstream(p) << text;
  return p;
}

}  // namespace

TEST_CASE("config: values are read and defaults resolved") {
  const FlowConfig c = parse_flow_config(base, "test.toml");
  CHECK(c.seed == 7);
  CHECK(c.scheme == SchemeKind::backward);
  CHECK(c.tau == doctest::Approx(0.1));
  CHECK(c.steps == 3);
  CHECK(c.r == doctest::Approx(1.5));
  CHECK(c.initial.n == 50);
  CHECK(resolved_dtype(c) == DType::f32);
  CHECK(latent_dim(c) == 2);
  CHECK_FALSE(warmup_enabled(c));
}

TEST_CASE("config: the resolved TOML round-trips") {
  FlowConfig c = parse_flow_config(base, "test.toml", {"flow.schedule=[[0, 0.1], [1, 0.5]]"});
  const FlowConfig d = parse_flow_config(to_toml(c), "resolved.toml");
  CHECK(to_toml(d) == to_toml(c));
  CHECK(d.schedule.size() == 2);
  CHECK(to_json(c).find("\"scheme\"") != std::string::npos);
}

TEST_CASE("config: --set overrides any key, values parsed as TOML") {
  const FlowConfig c = parse_flow_config(
      base, "test.toml",
      {"flow.tau=0.25", "network.hidden=[8, 4]", "flow.scheme=particle", "initial.kind=square",
       "train.lr=1e-2"});
  CHECK(c.tau == doctest::Approx(0.25));
  CHECK(c.hidden == std::vector<index_t>{8, 4});
  CHECK(c.scheme == SchemeKind::particle);
  CHECK(resolved_dtype(c) == DType::f64);
  CHECK(c.lr == doctest::Approx(1e-2));
}

TEST_CASE("config: errors name the key") {
  CHECK(parse_error(std::string(base) + "[train]\nbogus = 1\n").find("train.bogus") !=
        std::string::npos);
  CHECK(parse_error(base, {"flow.tau=\"fast\""}).find("flow.tau") != std::string::npos);
  CHECK(parse_error(base, {"flow.tau=-1"}).find("flow.tau") != std::string::npos);
  CHECK(parse_error(base, {"functional.r=2.5"}).find("functional.r") != std::string::npos);
  CHECK(parse_error(base, {"flow.scheme=sideways"}).find("flow.scheme") != std::string::npos);
  CHECK(parse_error(base, {"initial.n=0"}).find("initial.n") != std::string::npos);
  CHECK(parse_error(base, {"network.hidden=[0]"}).find("network.hidden") != std::string::npos);
  CHECK(parse_error(base, {"initial.points=[[1, 2, 3]]"}).find("initial.points") !=
        std::string::npos);
  CHECK(parse_error(base, {"functional.estimator=\"sliced\""}).find("functional.estimator") !=
        std::string::npos);
  CHECK(parse_error(base, {"nonsense=1"}).find("nonsense") != std::string::npos);
  CHECK(parse_error("[flow\n").find("test.toml") != std::string::npos);
}

TEST_CASE("config: the forward scheme with r < 1 from a Dirac is rejected with the reason") {
  const std::string msg = parse_error(base, {"flow.scheme=forward", "functional.r=0.5"});
  CHECK(msg.find("functional.r") != std::string::npos);
  CHECK(msg.find("undefined for r < 1") != std::string::npos);
  CHECK(msg.find("atoms") != std::string::npos);
}

TEST_CASE("time steps: the paper's geometric warm-up for r < 1, then tau") {
  FlowConfig c = parse_flow_config(base, "test.toml", {"functional.r=0.5", "flow.tau=0.05"});
  REQUIRE(warmup_enabled(c));
  const TimeSteps ts(c);
  double t = 0;
  std::vector<double> taus;
  for (index_t n = 1; n <= 10; ++n) {
    taus.push_back(ts.tau(n, t));
    t += taus.back();
  }
  // run_interaction.py: 1e-8 ... 1e-2, then 0.05 - time, then 0.05.
  for (int k = 0; k < 7; ++k) CHECK(taus[std::size_t(k)] == doctest::Approx(std::pow(10.0, k - 8)));
  CHECK(taus[7] == doctest::Approx(0.05 - 0.01111111));
  CHECK(taus[8] == doctest::Approx(0.05));
  CHECK(t == doctest::Approx(0.05 * 3));
  CHECK_FALSE(ts.constant());
}

TEST_CASE("time steps: piecewise schedule and t_end") {
  FlowConfig c = parse_flow_config(
      base, "test.toml", {"flow.steps=0", "flow.t_end=3.0", "flow.schedule=[[0, 0.5], [1, 1.0]]"});
  const TimeSteps ts(c);
  double t = 0;
  index_t n = 0;
  std::vector<double> taus;
  while (ts.more(n + 1, t)) {
    ++n;
    taus.push_back(ts.tau(n, t));
    t += taus.back();
  }
  CHECK(taus == std::vector<double>{0.5, 0.5, 1.0, 1.0});
  CHECK(t == doctest::Approx(3.0));
  CHECK(ts.total_steps() == 4);
  CHECK(ts.end_time() == 3.0);
}

TEST_CASE("time steps: the run length counts the warm-up and the schedule") {
  // r < 1 with steps: the warm-up steps are steps too, so the run ends before steps * tau.
  FlowConfig c = parse_flow_config(base, "test.toml", {"functional.r=0.5", "flow.steps=10"});
  TimeSteps ts(c);
  double t = 0;
  for (index_t n = 1; n <= 10; ++n) t += ts.tau(n, t);
  CHECK(ts.total_steps() == 10);
  CHECK(ts.end_time() == t);
  CHECK(ts.end_time() < 10 * c.tau);
  // Until t_end with the warm-up: 7 geometric steps, one up to tau, then tau.
  c = parse_flow_config(base, "test.toml",
                        {"functional.r=0.5", "flow.steps=0", "flow.t_end=0.3", "flow.tau=0.05"});
  const TimeSteps tw(c);
  index_t n = 0;
  for (t = 0; tw.more(n + 1, t);) t += tw.tau(++n, t);
  CHECK(tw.total_steps() == n);
  CHECK(n == 7 + 1 + 5);
  CHECK(tw.end_time() == 0.3);
  // Constant steps: the closed form.
  c = parse_flow_config(base, "test.toml", {"flow.steps=0", "flow.t_end=1.0", "flow.tau=0.3"});
  CHECK(TimeSteps(c).total_steps() == 4);
}

TEST_CASE("config: enums are read from their words, aliases included, and written canonically") {
  FlowConfig c = parse_flow_config(base, "test.toml", {"flow.dtype=float64", "flow.warmup=off"});
  CHECK(c.dtype == DTypeChoice::f64);
  CHECK(c.warmup == Warmup::off);
  CHECK(to_toml(c).find("dtype = 'f64'") != std::string::npos);
  CHECK(enum_from_text<SchemeKind>("particle", "k") == SchemeKind::particle);
  CHECK(to_text(MeasureKind::square_boundary) == "square_boundary");
  CHECK(enum_choices<Estimator>() == "exact | sliced");
  const std::string msg = parse_error(base, {"initial.kind=\"cube\""});
  CHECK(msg.find("initial.kind: 'cube' is not one of dirac, diracs,") != std::string::npos);
}

TEST_CASE("config: what defines the problem must be given") {
  const std::string head = "seed = 1\n[flow]\nscheme = \"backward\"\nsteps = 2\n";
  const std::string init = "[initial]\nkind = \"dirac\"\nn = 10\nd = 2\n";
  // An empty [functional], or none.
  std::string msg = parse_error(head + "[functional]\n" + init);
  CHECK(msg.find("functional.kind: required") != std::string::npos);
  CHECK(parse_error(head + init).find("functional.kind: required") != std::string::npos);
  // No [initial], or one without kind.
  const std::string fun = "[functional]\nkind = \"interaction\"\n";
  msg = parse_error(head + fun);
  CHECK(msg.find("initial: required") != std::string::npos);
  msg = parse_error(head + fun + "[initial]\nn = 10\nd = 2\n");
  CHECK(msg.find("initial.kind: required") != std::string::npos);
  // mmd without [target] (it used to flow to delta_0), or a target without kind.
  const std::string mmd = "[functional]\nkind = \"mmd\"\n";
  msg = parse_error(head + mmd + init);
  CHECK(msg.find("target: required for functional.kind = \"mmd\"") != std::string::npos);
  msg = parse_error(head + mmd + init + "[target]\nn = 5\n");
  CHECK(msg.find("target.kind: required") != std::string::npos);
  // barycenter without measures; measures for anything else.
  const std::string bary = "[functional]\nkind = \"barycenter\"\n";
  CHECK(parse_error(head + bary + init).find("target.measures: required") != std::string::npos);
  msg = parse_error(head + mmd + init + "[[target.measures]]\nkind = \"circle\"\n");
  CHECK(msg.find("target.measures: only for functional.kind = \"barycenter\"") !=
        std::string::npos);
  msg = parse_error(head + bary + init + "[[target.measures]]\nradius = 1.0\n");
  CHECK(msg.find("target.measures[0].kind: required") != std::string::npos);
  // The same through the CLI: exit 2, the key named.
  const std::string p = write_config("cfg_no_functional.toml", head + "[functional]\n" + init);
  const auto r = test::run_cli("run '" + p + "' --out '" + test::tmp_path("cfg_nf_out") + "'");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("error: functional.kind: required") != std::string::npos);
}

TEST_CASE("config: a flow that cannot move is refused with the reason") {
  // Particles from one exact point: all coincide, get the same gradient and never separate.
  std::string msg = parse_error(base, {"flow.scheme=particle"});
  CHECK(msg.find("initial.kind") != std::string::npos);
  CHECK(msg.find("never separate") != std::string::npos);
  msg = parse_error(base, {"flow.scheme=particle", "initial.kind=diracs",
                           "initial.points=[[0, 0], [1, 1]]"});
  CHECK(msg.find("initial.kind") != std::string::npos);
  // One particle per atom moves; a tiny cube around the point moves (the paper's start).
  CHECK_NOTHROW(parse_flow_config(base, "test.toml",
                                  {"flow.scheme=particle", "initial.kind=diracs", "initial.n=2",
                                   "initial.points=[[0, 0], [1, 1]]"}));
  CHECK_NOTHROW(parse_flow_config(base, "test.toml",
                                  {"flow.scheme=particle", "initial.kind=square"}));
  msg = parse_error(base, {"flow.scheme=particle", "initial.kind=square", "initial.n=1"});
  CHECK(msg.find("initial.n: the particle scheme with one particle cannot move") !=
        std::string::npos);
  CHECK_NOTHROW(parse_flow_config(base, "test.toml",
                                  {"flow.scheme=particle", "initial.n=1", "functional.kind=mmd",
                                   "target.kind=gaussian"}));
  // The neural schemes start at a Dirac (they push noise forward).
  CHECK_NOTHROW(parse_flow_config(base, "test.toml", {"flow.scheme=forward"}));
}

TEST_CASE("config: a measure's d follows from its points or the other measure") {
  const std::string head =
      "[flow]\nscheme = \"backward\"\nsteps = 2\n[functional]\nkind = \"mmd\"\n";
  // The initial measure's d from its points, the target's from the initial measure.
  FlowConfig c = parse_flow_config(
      head + "[initial]\nkind = \"dirac\"\npoints = [1, 2, 3]\n[target]\nkind = \"gaussian\"\n",
      "t.toml");
  CHECK(c.initial.d == 3);
  CHECK(c.target.d == 3);
  // The initial measure's d from the target's points.
  c = parse_flow_config(
      head + "[initial]\nkind = \"dirac\"\n[target]\nkind = \"diracs\"\npoints = [[1], [2]]\n",
      "t.toml");
  CHECK(c.initial.d == 1);
  // From the barycenter's measures.
  c = parse_flow_config(
      "[flow]\nscheme = \"backward\"\nsteps = 2\n[functional]\nkind = \"barycenter\"\n"
      "[initial]\nkind = \"dirac\"\n[[target.measures]]\nkind = \"circle\"\nd = 4\n",
      "t.toml");
  CHECK(c.initial.d == 4);
  // Nothing says d: an error, no silent 2.
  std::string msg = parse_error(head + "[initial]\nkind = \"dirac\"\n[target]\nkind = \"gaussian\"\n");
  CHECK(msg.find("initial.d: not given") != std::string::npos);
  // Inconsistent d: exit 2 naming the measure.
  msg = parse_error(head + "[initial]\nkind = \"dirac\"\nd = 3\n[target]\nkind = \"diracs\"\n"
                           "points = [[1, 2]]\n");
  CHECK(msg.find("target.d: is 2, the initial measure has d = 3") != std::string::npos);
  msg = parse_error(head + "[initial]\nkind = \"dirac\"\nd = 3\npoints = [1, 2]\n"
                           "[target]\nkind = \"dirac\"\n");
  CHECK(msg.find("initial.points") != std::string::npos);
}

TEST_CASE("config: the paper's constraints are checked in one place") {
  FlowConfig c = parse_flow_config(base, "test.toml", {"flow.scheme=forward"});
  c.r = 0.5;
  CHECK_THROWS_WITH_AS(check_paper_constraints(c),
                       doctest::Contains("undefined for r < 1 at a measure with atoms"), Error);
  c.r = 1.0;
  c.estimator = Estimator::sliced;
  CHECK_THROWS_WITH_AS(check_paper_constraints(c), doctest::Contains("functional.estimator"), Error);
  // The sliced estimator is the Riesz pair sums' (interaction, mmd, barycenter) of the particle,
  // backward and forward schemes: elsewhere it would be ignored, so it is refused.
  FlowConfig p = c;  // r = 1, sliced
  p.scheme = SchemeKind::particle;
  p.functional = FunctionalKind::potential;
  CHECK_THROWS_WITH_AS(check_paper_constraints(p),
                       doctest::Contains("functional.estimator: potential has only the exact"),
                       Error);
  FlowConfig v = c;
  v.scheme = SchemeKind::variational;
  CHECK_THROWS_WITH_AS(check_paper_constraints(v),
                       doctest::Contains("the variational scheme has only the exact estimator"),
                       Error);
  CHECK_THROWS_WITH_AS(refuse_forward_at_atoms(0.5, "3 coincident sample pairs"),
                       doctest::Contains("(3 coincident sample pairs)"), Error);
  CHECK_NOTHROW(refuse_forward_at_atoms(1.0, "3 coincident sample pairs"));
}

TEST_CASE("config reference: every key, and the README's table is the generated one") {
  const std::string text = config_reference(ReferenceFormat::text);
  for (const char* k : {"seed", "scheme", "tau", "schedule", "warmup_start", "kind", "estimator",
                        "directions", "hidden", "iterations_first", "rescale_batch", "plot_size",
                        "checkpoint_every", "reference", "points", "background", "box"}) {
    CAPTURE(k);
    CHECK(text.find("  " + std::string(k) + " (") != std::string::npos);
  }
  CHECK(text.find("kind (interaction | mmd | barycenter | energy33 | kl | entropy | potential | sum; required)") != std::string::npos);
  CHECK(text.find("tau (number; default 0.05)") != std::string::npos);
  const std::string md = config_reference(ReferenceFormat::markdown);
  CHECK(md.find("| `[flow] tau` | number | `0.05` |") != std::string::npos);
  // The README holds the markdown between its two markers, byte for byte.
  const std::string readme = test::slurp(std::string(NWGF_SOURCE_DIR) + "/README.md");
  const std::string begin = "<!-- config-reference: begin (generated by nwgf run --help-config=markdown) -->\n";
  const std::string end = "<!-- config-reference: end -->";
  const auto b = readme.find(begin), e = readme.find(end);
  REQUIRE(b != std::string::npos);
  REQUIRE(e != std::string::npos);
  CHECK(readme.substr(b + begin.size(), e - b - begin.size()) == md);
}

TEST_CASE("nwgf run: config errors exit 2 naming the key") {
  const std::string p = write_config("cfg_errors.toml", base);
  auto r = test::run_cli("run '" + p + "' --out '" + test::tmp_path("cfg_err_out") +
                         "' --set train.nonsense=3");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("error: train.nonsense") != std::string::npos);
  r = test::run_cli("run '" + p + "' --set flow.steps=\"many\"");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("flow.steps") != std::string::npos);
  r = test::run_cli("run '" + p + "' --set functional.r=0");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("functional.r") != std::string::npos);
  r = test::run_cli("run '" + p + "' --set flow.scheme=forward --set functional.r=0.5");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("undefined for r < 1") != std::string::npos);
  r = test::run_cli("run '" + test::tmp_path("missing.toml") + "'");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("missing.toml") != std::string::npos);
  r = test::run_cli("run '" + p + "' --backend gpu");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--backend") != std::string::npos);
}

TEST_CASE("config: every experiment config loads, and its resolved TOML loads the same") {
  namespace fs = std::filesystem;
  int loaded = 0;
  for (const auto& e : fs::directory_iterator(std::string(NWGF_SOURCE_DIR) + "/tools/experiments")) {
    if (e.path().extension() != ".toml") continue;
    const std::string text = test::slurp(e.path().string());
    // The MNIST configs need Debian's dataset-fashion-mnist.
    const auto data = text.find("/usr/share/datasets/");
    if (data != std::string::npos &&
        !fs::exists(text.substr(data, text.find('"', data) - data))) {
      continue;
    }
    CAPTURE(e.path().string());
    const FlowConfig c = load_flow_config(e.path().string());
    CHECK(to_toml(parse_flow_config(to_toml(c), "resolved.toml")) == to_toml(c));
    ++loaded;
  }
  CHECK(loaded >= 60);
}

TEST_CASE("config: a sum of functionals ([[functional.terms]]) and fb round-trip; absent, neither is written") {
  const FlowConfig c = parse_flow_config(R"(
[flow]
scheme = "variational"
steps = 1
fb = true
[functional]
kind = "sum"
[[functional.terms]]
kind = "potential"
weight = 0.5
[[functional.terms]]
kind = "interaction"
kernel = "gaussian_attraction"
weight = 2
[[functional.terms]]
kind = "entropy"
m = 3
weight = 0.1
[initial]
kind = "uniform"
d = 2
[target]
kind = "gaussian"
radius = 1.5
)",
                                         "sum.toml");
  REQUIRE(c.terms.size() == 3);
  CHECK(c.fb);
  CHECK(c.terms[0].kind == FunctionalKind::potential);
  CHECK(c.terms[0].weight == 0.5);
  CHECK(c.terms[1].kernel == KernelKind::gaussian_attraction);
  CHECK(c.terms[2].m == 3);
  CHECK(functional_terms(c).size() == 3);
  CHECK(uses_target_density(c));
  const FlowConfig d = parse_flow_config(to_toml(c), "resolved.toml");
  CHECK(to_toml(d) == to_toml(c));
  REQUIRE(d.terms.size() == 3);
  CHECK(d.terms[2].weight == 0.1);
  // One kind is one term of weight 1.
  FlowConfig one;
  one.functional = FunctionalKind::entropy;
  one.m = 2;
  REQUIRE(functional_terms(one).size() == 1);
  CHECK(functional_terms(one)[0].weight == 1);
  CHECK(functional_terms(one)[0].m == 2);
  // Configs without them write neither key (older manifests stay as they were).
  const std::string plain = to_toml(parse_flow_config(R"(
[flow]
scheme = "particle"
steps = 1
[functional]
kind = "interaction"
[initial]
kind = "square"
d = 2
radius = 0.5
)",
                                                      "plain.toml"));
  CHECK(plain.find("terms") == std::string::npos);
  CHECK(plain.find("fb") == std::string::npos);
}

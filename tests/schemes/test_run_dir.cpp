// The run directory (schemes/run/run_dir.hpp): metrics.csv, manifest, snapshots and checkpoint
// round trips; damaged files are bad input naming the file; the run loop's observers.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "nwgf/schemes/flow.hpp"
#include "nwgf/schemes/run/run_dir.hpp"
#include "nwgf/schemes/run/viz/run_plots.hpp"
#include "tests/helpers.hpp"
#include "tests/thread_comm.hpp"

using namespace nwgf;
namespace fs = std::filesystem;

namespace {

RunDirectory fresh(const std::string& name) {
  const std::string dir = test::tmp_path(name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return RunDirectory(dir);
}

// The message of the bad-input Error that f throws ("" when it throws none or another kind).
template <class F>
std::string bad_input_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind() == ErrorKind::bad_input ? e.what() : "";
  }
  return "";
}

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

}  // namespace

TEST_CASE("metrics.csv: rows round-trip exactly, NaN as empty cells, by column name") {
  const RunDirectory run = fresh("rundir_metrics");
  std::vector<StepInfo> rows(3);
  rows[0].functional = -0.123456789012345678;
  rows[0].mmd2_analytic = 1e-300;
  rows[1].step = 1, rows[1].time = 0.1, rows[1].tau = 0.1, rows[1].loss = 3.5;
  rows[1].functional = 1.0 / 3.0, rows[1].wall_seconds = 0.25, rows[1].mmd2_iterate = 7e-12;
  rows[2].step = 2, rows[2].time = 0.30000000000000004, rows[2].tau = 0.2;
  run.write_metrics(rows);
  const std::string text = test::slurp(run.path("metrics.csv"));
  CHECK(text.rfind("step,time,tau,loss,functional,wall_seconds,mmd2_analytic,mmd2_iterate\n", 0) ==
        0);
  CHECK(text.find("\n2,0.30000000000000004,0.20000000000000001,,,0,,\n") != std::string::npos);

  const std::vector<StepInfo> back = run.read_steps(100);
  REQUIRE(back.size() == rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CHECK(back[i].step == rows[i].step);
    CHECK(same(back[i].time, rows[i].time));
    CHECK(same(back[i].tau, rows[i].tau));
    CHECK(same(back[i].loss, rows[i].loss));
    CHECK(same(back[i].functional, rows[i].functional));
    CHECK(same(back[i].wall_seconds, rows[i].wall_seconds));
    CHECK(same(back[i].mmd2_analytic, rows[i].mmd2_analytic));
    CHECK(same(back[i].mmd2_iterate, rows[i].mmd2_iterate));
  }
  CHECK(run.read_steps(1).size() == 2);  // a resumed run keeps the steps up to its checkpoint

  const MetricsTable t = run.read_metrics();
  CHECK(t.columns.size() == 8);
  CHECK(t.column("time") == 1);
  CHECK(t.column("no_such") == t.columns.size());
  REQUIRE(t.rows.size() == 3);
  CHECK(t.rows[1][t.column("loss")] == 3.5);

  // Columns are found by name: another order and a missing column read the same.
  write_text(run.path("metrics.csv"), "time,step\n0.5,4\n");
  const std::vector<StepInfo> other = run.read_steps(10);
  REQUIRE(other.size() == 1);
  CHECK(other[0].step == 4);
  CHECK(other[0].time == 0.5);
  CHECK(std::isnan(other[0].tau));
}

TEST_CASE("metrics.csv: damaged files are bad input naming the file and line") {
  const RunDirectory run = fresh("rundir_bad_metrics");
  CHECK(bad_input_message([&] { run.read_metrics(); }).find("no metrics.csv") != std::string::npos);
  const std::string header = "step,time,tau\n";
  const std::vector<std::pair<std::string, std::string>> damaged = {
      {"", "metrics.csv: empty"},
      {header + "0,0,0.1\n1,0.1\n", "metrics.csv:3"},  // truncated row
      {header + "0,zero,0.1\n", "metrics.csv:2"},
      {header + "0,0,0.1x\n", "metrics.csv:2"},
      {header + "0,0,0.1,5\n", "metrics.csv:2"},
  };
  for (const auto& [text, expected] : damaged) {
    write_text(run.path("metrics.csv"), text);
    INFO("metrics.csv: " << text);
    CHECK(bad_input_message([&] { run.read_metrics(); }).find(expected) != std::string::npos);
    CHECK(bad_input_message([&] { run.read_steps(10); }).find(expected) != std::string::npos);
  }
  write_text(run.path("metrics.csv"), "time,tau\n0,0.1\n");
  CHECK(bad_input_message([&] { run.read_steps(10); }).find("no 'step' column") !=
        std::string::npos);
}

TEST_CASE("manifest.json: the fields as written; the scheme read back") {
  const RunDirectory run = fresh("rundir_manifest");
  CHECK(run.manifest_scheme().empty());
  Manifest m;
  m.status = "running";
  m.backend = "cpu";
  m.dtype = "f32";
  m.threads = 3;
  m.seed = 42, m.step = 7, m.time = 0.75, m.n = 100, m.d = 2;
  m.analytic_reference = true;
  m.config_json = "{\"flow\": {\"scheme\": \"forward\", \"tau\": 0.1}}";
  run.write_manifest(m);
  const std::string text = test::slurp(run.path("manifest.json"));
  for (const char* field : {"\"status\": \"running\"", "\"backend\": \"cpu\"", "\"threads\": 3",
                            "\"dtype\": \"f32\"", "\"seed\": 42", "\"step\": 7", "\"n\": 100",
                            "\"d\": 2", "\"analytic_reference\": true", "\"version\""}) {
    INFO(field);
    CHECK(text.find(field) != std::string::npos);
  }
  CHECK(text.find("latent_dim") == std::string::npos);  // < 0: not written
  CHECK(text.back() == '\n');
  CHECK(run.manifest_scheme() == "forward");
  m.latent_dim = 0;
  run.write_manifest(m);
  CHECK(test::slurp(run.path("manifest.json")).find("\"latent_dim\": 0") != std::string::npos);
}

TEST_CASE("snapshots: written in the run's dtype, listed in step order") {
  const RunDirectory run = fresh("rundir_snapshots");
  CHECK(bad_input_message([&] { run.snapshots(); }).find("no snapshots") != std::string::npos);
  run.prepare("seed = 1\n");
  CHECK(test::slurp(run.path("config.toml")) == "seed = 1\n");
  CHECK(fs::is_directory(run.path("plots")));
  const std::vector<float> x = {1.5f, -2, 3, 4.25f, 5, 6};  // (3, 2)
  for (index_t step : {12, 0, 7, 1000000}) run.write_snapshot<float>(step, x.data(), 3, 2);
  write_text(run.path("snapshots/notes.txt"), "not a snapshot");
  const std::vector<SnapshotFile> s = run.snapshots();
  REQUIRE(s.size() == 4);
  CHECK(s[0].step == 0);
  CHECK(s[1].step == 7);
  CHECK(s[2].step == 12);
  CHECK(s[3].step == 1000000);
  CHECK(s[3].path == run.path("snapshots/step_1000000.npy"));
  const HostMatrix<float> back = read_npy<float>(s[1].path);
  CHECK(back.rows == 3);
  CHECK(back.cols == 2);
  CHECK(back.data == x);
  // prepare() removes what a killed writer left behind (NAME.tmp.PID), nothing else.
  write_text(run.path("metrics.csv.tmp.12345"), "half");
  write_text(run.path("snapshots/step_000001.npy.tmp.99"), "half");
  write_text(run.path("keep.tmp.txt"), "mine");
  run.prepare("seed = 2\n");
  CHECK(!fs::exists(run.path("metrics.csv.tmp.12345")));
  CHECK(!fs::exists(run.path("snapshots/step_000001.npy.tmp.99")));
  CHECK(fs::exists(run.path("keep.tmp.txt")));
  CHECK(bad_input_message([] {
          RunDirectory(test::tmp_path("rundir_none")).snapshots();
        }).find("not a run directory") != std::string::npos);
}

TEST_CASE("checkpoint.bin: round trip; damaged files are bad input naming the file") {
  const RunDirectory run = fresh("rundir_checkpoint");
  CHECK(bad_input_message([&] { run.read_checkpoint(8, 2, 3); }).find("--resume: no checkpoint") !=
        std::string::npos);
  Checkpoint c;
  c.step = 17;
  c.time = 1.7000000000000002;
  c.scalar_bytes = 8;
  c.n = 2;
  c.d = 3;
  const double x[6] = {1, 2, 3, -4, 5e-300, 6};
  c.samples.assign(reinterpret_cast<const char*>(x), sizeof x);
  c.scheme_state = std::string("state\0with nul", 14);
  c.dynamics_key = "seed = 3\n";
  run.write_checkpoint(c);
  const std::string bytes = test::slurp(run.path("checkpoint.bin"));
  CHECK(bytes.size() == 44 + sizeof x + 8 + 14 + 8 + 9);
  CHECK(bytes.substr(0, 8) == "NWGFCKP1");

  const Checkpoint back = run.read_checkpoint(8, 2, 3);
  CHECK(back.step == c.step);
  CHECK(back.time == c.time);
  CHECK(back.scalar_bytes == 8);
  CHECK(back.n == 2);
  CHECK(back.d == 3);
  CHECK(back.samples == c.samples);
  CHECK(back.scheme_state == c.scheme_state);
  CHECK(back.dynamics_key == c.dynamics_key);

  auto patched = [&](std::size_t at, const void* p, std::size_t k) {
    std::string b = bytes;
    b.replace(at, k, static_cast<const char*>(p), k);
    return b;
  };
  const std::int64_t minus_one = -1;
  const double inf = INFINITY;
  const std::uint64_t huge = ~std::uint64_t(0);
  const std::vector<std::pair<std::string, std::string>> damaged = {
      {"", "truncated checkpoint"},
      {bytes.substr(0, 30), "truncated checkpoint"},
      {bytes.substr(0, bytes.size() - 1), "truncated checkpoint"},
      {"NWGFCKP0" + bytes.substr(8), "not a checkpoint"},
      {patched(8, &minus_one, 8), "corrupt checkpoint"},
      {patched(16, &inf, 8), "corrupt checkpoint"},
      {patched(44 + sizeof x, &huge, 8), "truncated checkpoint"},
  };
  for (const auto& [content, expected] : damaged) {
    write_text(run.path("checkpoint.bin"), content);
    const std::string msg = bad_input_message([&] { run.read_checkpoint(8, 2, 3); });
    INFO("message: " << msg);
    CHECK(msg.find(expected) != std::string::npos);
    CHECK(msg.find(run.path("checkpoint.bin")) != std::string::npos);
  }
  write_text(run.path("checkpoint.bin"), bytes);
  for (const auto& [size, n, d] : {std::tuple{4u, 2, 3}, {8u, 3, 3}, {8u, 2, 2}}) {
    CHECK(bad_input_message([&] {
            run.read_checkpoint(size, n, d);
          }).find("different dtype or shape") != std::string::npos);
  }
}

namespace {

// Records the order of the calls it gets.
struct Recorder final : RunObserver {
  std::vector<std::string> calls;
  index_t n = 0, d = 0;
  void start(const RunStart& s) override {
    calls.push_back("start");
    n = s.n, d = s.d;
    CHECK(s.initial.rows == s.n);
  }
  void snapshot(const StepInfo& s, const HostMatrix<double>& x) override {
    calls.push_back("snapshot " + std::to_string(s.step));
    CHECK(x.rows == n);
    CHECK(x.cols == d);
  }
  void finish(const std::vector<StepInfo>& metrics) override {
    calls.push_back("finish " + std::to_string(metrics.size()));
  }
};

FlowConfig small_flow() {
  FlowConfig cfg;
  cfg.scheme = SchemeKind::particle;
  cfg.tau = 0.05;
  cfg.steps = 4;
  cfg.every = 2;
  cfg.functional = FunctionalKind::interaction;
  cfg.r = 1.0;
  cfg.initial.kind = MeasureKind::square;
  cfg.initial.n = 40;
  cfg.initial.d = 2;
  cfg.initial.radius = 1e-9;
  cfg.progress = false;
  return cfg;
}

}  // namespace

TEST_CASE("run_flow: observers see start, each snapshot, finish; the core draws nothing") {
  const FlowConfig cfg = small_flow();
  RunOptions opt;
  opt.threads = 1;
  opt.progress = false;
  opt.out_dir = test::tmp_path("rundir_observer");
  fs::remove_all(opt.out_dir);
  auto rec = std::make_shared<Recorder>();
  opt.observers.push_back(rec);
  run_flow(cfg, opt);
  CHECK(rec->calls ==
        std::vector<std::string>{"start", "snapshot 0", "snapshot 2", "snapshot 4", "finish 5"});
  CHECK(rec->n == 40);
  CHECK(fs::exists(opt.out_dir + "/snapshots/step_000002.npy"));
  CHECK(fs::is_directory(opt.out_dir + "/plots"));
  CHECK(fs::is_empty(opt.out_dir + "/plots"));  // no picture without the plots observer

  // The CLI's observer draws the pictures; the same run otherwise writes the same files.
  const std::string plain_metrics_rows = test::slurp(opt.out_dir + "/snapshots/step_000004.npy");
  opt.out_dir = test::tmp_path("rundir_observer_plots");
  fs::remove_all(opt.out_dir);
  opt.observers = {make_run_plots()};
  run_flow(cfg, opt);
  for (const char* f : {"plots/step_000000.png", "plots/step_000002.png", "plots/step_000004.png",
                        "plots/metrics.png", "plots/flow.gif"}) {
    INFO(f);
    CHECK(fs::exists(opt.out_dir + "/" + f));
  }
  CHECK(test::slurp(opt.out_dir + "/snapshots/step_000004.npy") == plain_metrics_rows);

  // Without a directory the plots observer writes nothing and the run still completes.
  opt.out_dir.clear();
  const RunResult r = run_flow(cfg, opt);
  CHECK(r.steps == 4);
  fs::remove_all(test::tmp_path("rundir_observer"));
  fs::remove_all(test::tmp_path("rundir_observer_plots"));
}

namespace {

// Keeps the weights each snapshot came with.
struct WeightRecorder final : RunObserver {
  std::vector<std::vector<double>> weights;
  std::vector<bool> had;
  void weighted_snapshot(const StepInfo&, const HostMatrix<double>& x,
                         const std::vector<double>* w) override {
    had.push_back(w != nullptr);
    if (w) {
      CHECK(index_t(w->size()) == x.rows);
      weights.push_back(*w);
    }
  }
};

}  // namespace

TEST_CASE("run_flow: observers get the weights of weighted particles, none for equal weights") {
  FlowConfig cfg;
  cfg.scheme = SchemeKind::ift;
  cfg.functional = FunctionalKind::mmd;
  cfg.kernel = KernelKind::gaussian;
  cfg.gamma = 0.05;
  cfg.tau = 1.0;
  cfg.steps = 6;
  cfg.every = 3;
  cfg.initial.kind = MeasureKind::gaussian;
  cfg.initial.points = {{5, 5}};
  cfg.initial.radius = 1;
  cfg.initial.n = 30;
  cfg.target.kind = MeasureKind::gaussian;
  cfg.target.n = 20;
  cfg.progress = false;
  RunOptions opt;
  opt.threads = 1;
  opt.progress = false;
  opt.out_dir = test::tmp_path("rundir_weighted_observer");
  fs::remove_all(opt.out_dir);
  auto rec = std::make_shared<WeightRecorder>();
  opt.observers.push_back(rec);
  run_flow(cfg, opt);
  REQUIRE(rec->weights.size() == 3);  // steps 0, 3, 6
  const RunDirectory run(opt.out_dir);
  for (std::size_t k = 0; k < 3; ++k) CHECK(rec->weights[k] == run.read_weights(index_t(3 * k)));
  CHECK(rec->weights.front() == std::vector<double>(30, 1.0 / 30));
  CHECK(rec->weights.back() != rec->weights.front());  // the pgd steps moved them

  auto plain = std::make_shared<WeightRecorder>();
  opt.observers = {plain};
  const FlowConfig particle = small_flow();
  opt.out_dir.clear();
  run_flow(particle, opt);
  CHECK(plain->had == std::vector<bool>{false, false, false});
  fs::remove_all(test::tmp_path("rundir_weighted_observer"));
}

TEST_CASE("nwgf run --resume: a damaged metrics.csv is exit 2 naming it") {
  const std::string cfg = std::string(NWGF_SOURCE_DIR) + "/tests/bad_inputs/base.toml";
  const std::string out = test::tmp_path("rundir_resume_bad_metrics");
  fs::remove_all(out);
  REQUIRE(test::run_cli("run '" + cfg + "' --out '" + out + "'").exit_code == 0);
  std::string csv = test::slurp(out + "/metrics.csv");
  csv.insert(csv.find('\n') + 1, "0,x,");
  write_text(out + "/metrics.csv", csv);
  const auto r = test::run_cli("run '" + cfg + "' --out '" + out + "' --resume --set flow.steps=4");
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("error: ", 0) == 0);
  CHECK(r.err.find("metrics.csv:2") != std::string::npos);
  fs::remove_all(out);
}

TEST_CASE("nwgf render RUN and nwgf plot RUN read the run through the same reader") {
  const std::string cfg = std::string(NWGF_SOURCE_DIR) + "/tests/bad_inputs/base.toml";
  const std::string out = test::tmp_path("rundir_render_plot");
  fs::remove_all(out);
  REQUIRE(test::run_cli("run '" + cfg + "' --out '" + out + "'").exit_code == 0);
  const std::string gif = out + "/anim.gif", png = out + "/plot.png";
  CHECK(test::run_cli("render '" + out + "' --out '" + gif + "'").exit_code == 0);
  CHECK(test::run_cli("plot '" + out + "' --column functional --out '" + png + "'").exit_code == 0);
  // A damaged metrics.csv: both refuse it with exit 2 naming the file and line.
  write_text(out + "/metrics.csv", "step,time\n0,0\n1,oops\n");
  for (const std::string& args : {"render '" + out + "' --out '" + gif + "'",
                                  "plot '" + out + "' --column time --out '" + png + "'"}) {
    const auto r = test::run_cli(args);
    INFO(args << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("metrics.csv:3") != std::string::npos);
  }
  fs::remove_all(out);
}

namespace {

// Every file under dir whose name holds ".tmp." (what a write left behind).
std::vector<std::string> temporary_files(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().filename().string().find(".tmp.") != std::string::npos) {
      found.push_back(e.path().string());
    }
  }
  return found;
}

// The snapshot, weights and checkpoint of step 5 written by `ranks` ranks (threads,
// tests/thread_comm.hpp) through RunDirectory's Comm overloads; rank q's error message (if any)
// in errors[q]. Only rank 0 is given the scheme state and the key (the others' do not count).
template <class T>
void write_with_ranks(const RunDirectory& run, int ranks, const std::vector<T>& x,
                      const std::vector<double>& w, const Checkpoint& c,
                      std::vector<std::string>& errors) {
  test::World world(ranks);
  errors.assign(std::size_t(ranks), "");
  std::vector<std::thread> pool;
  for (int q = 0; q < ranks; ++q) {
    pool.emplace_back([&, q] {
      const test::ThreadComm comm(world, q);
      Checkpoint mine = c;
      mine.samples.clear();
      if (q != 0) mine.scheme_state = mine.dynamics_key = "";
      try {
        run.write_snapshot<T>(comm, 5, x.data(), c.n, c.d);
        run.write_weights(comm, 5, w);
        run.write_checkpoint(comm, mine, x.data());
      } catch (const Error& e) {
        errors[std::size_t(q)] = e.what();
      }
    });
  }
  for (auto& t : pool) t.join();
}

template <class T>
void check_ranks_write_one_process_bytes() {
  for (const index_t n : {1, 63, 150, 700}) {
    const index_t d = 3;
    std::vector<T> x(std::size_t(n * d));
    for (std::size_t k = 0; k < x.size(); ++k) x[k] = T(0.25) * T(k) - T(1e-3) * T(k * k % 97);
    std::vector<double> w(static_cast<std::size_t>(n));
    for (std::size_t k = 0; k < w.size(); ++k) w[k] = 1.0 / double(k + 3);
    Checkpoint c;
    c.step = 5;
    c.time = 0.1 + 0.2;
    c.scalar_bytes = sizeof(T);
    c.n = n;
    c.d = d;
    c.scheme_state = std::string("state\0of rank 0", 15);
    c.dynamics_key = "seed = 9\n";
    const RunDirectory one = fresh("rundir_ranks_one");
    one.prepare("seed = 9\n");
    one.write_snapshot<T>(5, x.data(), n, d);
    one.write_weights(5, w);
    Checkpoint whole = c;
    whole.samples.assign(reinterpret_cast<const char*>(x.data()), x.size() * sizeof(T));
    one.write_checkpoint(whole);
    for (int ranks = 1; ranks <= 5; ++ranks) {
      CAPTURE(n);
      CAPTURE(ranks);
      const RunDirectory run = fresh("rundir_ranks_" + std::to_string(ranks));
      run.prepare("seed = 9\n");
      std::vector<std::string> errors;
      write_with_ranks<T>(run, ranks, x, w, c, errors);
      for (const std::string& e : errors) CHECK(e.empty());
      for (const char* f : {"snapshots/step_000005.npy", "snapshots/weights_000005.npy",
                            "checkpoint.bin"}) {
        CAPTURE(f);
        CHECK(test::slurp(run.path(f)) == test::slurp(one.path(f)));
      }
      CHECK(temporary_files(run.dir()).empty());
      // The sharded writers of weighted particles: each rank passes only its rows of the samples
      // and of the weights; the checkpoint's scheme state is the n weights.
      const RunDirectory own = fresh("rundir_own_" + std::to_string(ranks));
      own.prepare("seed = 9\n");
      Checkpoint weighted = c;
      weighted.scheme_state.assign(reinterpret_cast<const char*>(w.data()),
                                   w.size() * sizeof(double));
      const RunDirectory one_weighted = fresh("rundir_own_one");
      one_weighted.prepare("seed = 9\n");
      whole.scheme_state = weighted.scheme_state;
      one_weighted.write_checkpoint(whole);
      test::World world(ranks);
      std::vector<std::thread> pool;
      for (int q = 0; q < ranks; ++q) {
        pool.emplace_back([&, q] {
          const test::ThreadComm comm(world, q);
          const auto [r0, r1] = owned_rows(n, q, ranks);
          const std::vector<T> x_own(x.begin() + r0 * d, x.begin() + r1 * d);
          const std::vector<double> w_own(w.begin() + r0, w.begin() + r1);
          Checkpoint mine = c;
          mine.scheme_state = "not used";
          if (q != 0) mine.dynamics_key = "";
          own.write_weights_rows(comm, 5, w_own, n);
          own.write_weighted_checkpoint_rows(comm, mine, x_own.data(), w_own);
        });
      }
      for (auto& t : pool) t.join();
      CHECK(test::slurp(own.path("snapshots/weights_000005.npy")) ==
            test::slurp(one.path("snapshots/weights_000005.npy")));
      CHECK(test::slurp(own.path("checkpoint.bin")) ==
            test::slurp(one_weighted.path("checkpoint.bin")));
      CHECK(temporary_files(own.dir()).empty());
    }
  }
}

}  // namespace

TEST_CASE("across ranks: snapshots, weights and checkpoint written together are one process's") {
  // Each rank writes its rows of the 64-row grid (owned_rows): 150 rows give rank 0 none at 4
  // and 5 ranks, 1 row leaves all but one rank without rows.
  check_ranks_write_one_process_bytes<double>();
  check_ranks_write_one_process_bytes<float>();
  CHECK(owned_rows(150, 0, 4) == std::pair<index_t, index_t>(0, 0));
  CHECK(owned_rows(150, 1, 4) == std::pair<index_t, index_t>(0, 64));
  CHECK(owned_rows(150, 3, 4) == std::pair<index_t, index_t>(128, 150));
}

TEST_CASE("across ranks: a failed write is every rank's error and leaves no file") {
  // No snapshots/ directory: rank 0 cannot create the temporary file.
  const RunDirectory run = fresh("rundir_ranks_fail");
  const std::vector<double> x(12, 1.0), w(4, 0.25);
  Checkpoint c;
  c.scalar_bytes = 8;
  c.n = 4;
  c.d = 3;
  std::vector<std::string> errors;
  write_with_ranks<double>(run, 3, x, w, c, errors);
  for (const std::string& e : errors) {
    CHECK(e == errors[0]);
    CHECK(e.find("cannot write " + run.path("snapshots/step_000005.npy")) != std::string::npos);
  }
  CHECK(!fs::exists(run.path("snapshots")));
  CHECK(temporary_files(run.dir()).empty());
}

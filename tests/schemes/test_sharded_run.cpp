// flow.memory = "sharded" in one process (schemes/run/sharded_loop.hpp): the rows a rank draws or
// reads are those of the whole draw; a checkpoint's rows read alone; the sharded run against the
// replicated one (the same bits for d > 3, where both run the row pass; bounded for d <= 3,
// where one process runs the symmetric self pass); the sliced estimator sharded against
// replicated (samples to rounding, F within the estimator's error); refusals. Across MPI ranks:
// tests/mpi (mpi_sharded_*, label mpi).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fstream>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "nwgf/engine/viz/png.hpp"
#include "nwgf/schemes/config.hpp"
#include "nwgf/schemes/flow.hpp"
#include "nwgf/schemes/measures.hpp"
#include "nwgf/schemes/run/run_dir.hpp"
#include "tests/helpers.hpp"

using namespace nwgf;
namespace fs = std::filesystem;

namespace {

// Rows [first, last) of the whole draw, compared bit for bit with sample_measure_rows.
void check_rows(const MeasureConfig& m, index_t first, index_t last) {
  const HostMatrix<double> all = sample_measure(m, 7, 3, "initial");
  const HostMatrix<double> part = sample_measure_rows(m, 7, 3, "initial", first, last);
  REQUIRE(part.rows == last - first);
  REQUIRE(part.cols == all.cols);
  const std::size_t bytes = std::size_t(part.rows * part.cols) * sizeof(double);
  CHECK((bytes == 0 ||
         std::memcmp(part.data.data(), all.data.data() + first * all.cols, bytes) == 0));
}

MeasureConfig measure(MeasureKind kind, index_t n, index_t d) {
  MeasureConfig m;
  m.kind = kind;
  m.n = n;
  m.d = d;
  m.radius = 0.7;
  return m;
}

const char* mmd_config = R"(
seed = 3
[flow]
scheme = "particle"
tau = 0.2
steps = 3
[functional]
kind = "mmd"
r = 1.0
[initial]
kind = "gaussian"
n = 150
d = 2
radius = 0.5
[target]
kind = "square"
n = 90
d = 2
radius = 1.0
[output]
plots = false
progress = false
)";

// The config `text` (named `name` in errors) with `sets` and flow.memory = memory.
FlowConfig memory_config(const std::string& text, const std::string& name,
                         const std::vector<std::string>& sets, const std::string& memory) {
  std::vector<std::string> all = sets;
  all.push_back("flow.memory=\"" + memory + "\"");
  return parse_flow_config(text, name, all);
}

RunResult run_memory(const std::string& text, const std::vector<std::string>& sets,
                     const std::string& memory) {
  const FlowConfig cfg = memory_config(text, "sharded", sets, memory);
  RunOptions opt;
  opt.threads = 2;
  opt.progress = false;
  return run_flow(cfg, opt);
}

double max_abs_difference(const HostMatrix<double>& a, const HostMatrix<double>& b) {
  REQUIRE(a.data.size() == b.data.size());
  double m = 0;
  for (std::size_t k = 0; k < a.data.size(); ++k) m = std::max(m, std::fabs(a.data[k] - b.data[k]));
  return m;
}

}  // namespace

TEST_CASE("sample_measure_rows: each rank's rows are the whole draw's rows") {
  MeasureConfig cov = measure(MeasureKind::gaussian, 100, 3);
  cov.cov = {2, 0.5, 0, 0.5, 1, 0.2, 0, 0.2, 1};
  MeasureConfig diracs = measure(MeasureKind::diracs, 100, 2);
  diracs.points = {{0, 0}, {1, 1}, {2, -1}};
  diracs.weights = {0.2, 0.5, 0.3};
  MeasureConfig boxes = measure(MeasureKind::square, 100, 2);
  boxes.points = {{0, 0}, {5, 5}};
  // The kinds with a set-up computed whole (every row's component, radius or pixel still from
  // Philox at the row's global index) and the files read by rows.
  MeasureConfig mixture = measure(MeasureKind::mixture, 100, 2);
  mixture.components = {{{0, 0}, {1, 0.3, 0.3, 0.5}, 0.2},
                        {{3, 1}, {0.2, 0, 0, 0.2}, 0.5},
                        {{-2, 2}, {0.5, 0, 0, 0.1}, 0.3}};
  MeasureConfig barenblatt = measure(MeasureKind::barenblatt, 100, 3);
  barenblatt.m = 2;
  barenblatt.t0 = 0.01;
  Image img(9, 7);
  img.set(2, 3, Rgb{0, 0, 0});
  img.set(6, 1, Rgb{90, 90, 90});
  MeasureConfig image = measure(MeasureKind::image, 100, 2);
  image.path = test::tmp_path("sharded_rows.png");
  write_png(image.path, img);
  // IDX: 130 items of 2 x 2 u8 (the first 100 taken), plain and gzip.
  std::string bytes{'\0', '\0', '\x08', '\x03', 0, 0, 0, char(130), 0, 0, 0, 2, 0, 0, 0, 2};
  for (int k = 0; k < 130 * 4; ++k) bytes += char((k * 37 + 11) % 256);
  MeasureConfig idx = measure(MeasureKind::idx, 100, 4);
  idx.path = test::tmp_path("sharded_rows.idx");
  std::ofstream(idx.path, std::ios::binary) << bytes;
  MeasureConfig idx_gz = idx;
  idx_gz.path = test::tmp_path("sharded_rows_idx.gz");
  REQUIRE(std::system(("gzip -c " + idx.path + " > " + idx_gz.path).c_str()) == 0);
  for (const MeasureConfig& m :
       {measure(MeasureKind::square, 100, 2), measure(MeasureKind::square_boundary, 100, 3),
        measure(MeasureKind::circle, 100, 4), measure(MeasureKind::gaussian, 100, 2),
        measure(MeasureKind::uniform, 100, 5), cov, diracs, boxes, mixture, barenblatt, image, idx,
        idx_gz}) {
    CAPTURE(to_text(m.kind));
    check_rows(m, 0, 100);
    check_rows(m, 17, 64);  // across the centres' blocks (diracs: 20 | 50 | 30 rows)
    check_rows(m, 64, 100);
    check_rows(m, 99, 100);
    check_rows(m, 40, 40);  // a rank without rows
  }
  // An IDX file shorter than the n items asked for, truncated within a rank's rows, is bad
  // input on that rank as read_idx's on the whole.
  MeasureConfig longer = idx;
  longer.n = 140;
  CHECK_THROWS_AS(sample_measure_rows(longer, 7, 3, "initial", 0, 10), Error);
  std::ofstream(idx.path, std::ios::binary) << bytes.substr(0, 16 + 60 * 4);
  CHECK(sample_measure_rows(idx, 7, 3, "initial", 0, 60).rows == 60);
  CHECK_THROWS_AS(sample_measure_rows(idx, 7, 3, "initial", 50, 70), Error);
  CHECK_THROWS_AS(sample_measure_rows(idx, 7, 3, "initial", 80, 100), Error);
}

TEST_CASE("read_npy_rows: only the rows asked for, as read_npy reads them") {
  const std::string path = test::tmp_path("sharded_rows.npy");
  std::vector<float> x(37 * 3);
  for (std::size_t k = 0; k < x.size(); ++k) x[k] = 0.125f * float(k) - 3.0f;
  write_npy<float>(path, x.data(), 37, 3);
  const HostMatrix<double> all = read_npy<double>(path);
  const NpyInfo info = read_npy_info(path);
  CHECK(info.rows == 37);
  CHECK(info.cols == 3);
  CHECK(info.dtype == DType::f32);
  for (const auto& [a, b] : {std::pair<index_t, index_t>{0, 37}, {5, 21}, {36, 37}, {9, 9}}) {
    const HostMatrix<double> part = read_npy_rows<double>(path, a, b);
    REQUIRE(part.rows == b - a);
    for (index_t k = 0; k < part.rows * 3; ++k) {
      CHECK(part.data[std::size_t(k)] == all.data[std::size_t(a * 3 + k)]);
    }
  }
  CHECK_THROWS_AS(read_npy_rows<double>(path, 30, 38), Error);
  // A file cut short: the header's shape does not fit its size.
  const std::string bytes = test::slurp(path);
  const std::string cut = test::tmp_path("sharded_rows_cut.npy");
  {
    std::FILE* f = std::fopen(cut.c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size() - 4, f);
    std::fclose(f);
  }
  CHECK_THROWS_AS(read_npy_info(cut), Error);
  MeasureConfig m;
  m.kind = MeasureKind::npy;
  m.path = path;
  check_rows(m, 11, 30);
}

TEST_CASE("read_checkpoint_rows: the rows of the samples and the trailer") {
  const std::string dir = test::tmp_path("sharded_checkpoint");
  fs::remove_all(dir);
  const RunDirectory run(dir);
  run.prepare("seed = 1\n");
  const index_t n = 130, d = 3;
  std::vector<double> x(std::size_t(n * d));
  for (std::size_t k = 0; k < x.size(); ++k) x[k] = 1.0 / double(k + 1);
  Checkpoint c;
  c.step = 7;
  c.time = 0.7;
  c.scalar_bytes = sizeof(double);
  c.n = n;
  c.d = d;
  c.samples.assign(reinterpret_cast<const char*>(x.data()), x.size() * sizeof(double));
  c.scheme_state = std::string("st\0te", 5);
  c.dynamics_key = "seed = 1\n";
  run.write_checkpoint(c);
  for (const auto& [a, b] : {std::pair<index_t, index_t>{0, 130}, {64, 128}, {128, 130}, {5, 5}}) {
    const Checkpoint r = run.read_checkpoint_rows(sizeof(double), n, d, a, b);
    CHECK(r.step == 7);
    CHECK(r.time == 0.7);
    CHECK(r.scheme_state == c.scheme_state);
    CHECK(r.dynamics_key == c.dynamics_key);
    CHECK(r.samples == c.samples.substr(std::size_t(a * d) * sizeof(double),
                                        std::size_t((b - a) * d) * sizeof(double)));
  }
  CHECK_THROWS_AS(run.read_checkpoint_rows(sizeof(float), n, d, 0, 1), Error);
  CHECK_THROWS_AS(run.read_checkpoint_rows(sizeof(double), n + 1, d, 0, 1), Error);
  // A scheme state of n rows (the ift scheme's weights): only the asked rows of it read.
  std::vector<double> w(static_cast<std::size_t>(n));
  for (std::size_t k = 0; k < w.size(); ++k) w[k] = 0.5 / double(k + 2);
  c.scheme_state.assign(reinterpret_cast<const char*>(w.data()), w.size() * sizeof(double));
  run.write_checkpoint(c);
  for (const auto& [a, b] : {std::pair<index_t, index_t>{0, 130}, {64, 128}, {128, 130}, {5, 5}}) {
    const Checkpoint r = run.read_checkpoint_rows(sizeof(double), n, d, a, b, sizeof(double));
    CHECK(r.step == 7);
    CHECK(r.dynamics_key == c.dynamics_key);
    CHECK(r.scheme_state == c.scheme_state.substr(std::size_t(a) * sizeof(double),
                                                  std::size_t(b - a) * sizeof(double)));
    CHECK(r.samples == c.samples.substr(std::size_t(a * d) * sizeof(double),
                                        std::size_t((b - a) * d) * sizeof(double)));
  }
  // A state that is not n rows: bad input naming the file.
  CHECK_THROWS_AS(run.read_checkpoint_rows(sizeof(double), n, d, 0, 1, 3 * sizeof(double)), Error);
}

TEST_CASE("sharded against replicated: the row pass's bits for d > 3") {
  // d = 5: one process runs the row pass for the self term too, so both layouts give the same
  // samples and F, bit for bit (Riesz, and the Gaussian kernel with weighted atoms).
  const std::vector<std::string> d5 = {"initial.d=5", "target.d=5"};
  const RunResult rep = run_memory(mmd_config, d5, "replicated");
  const RunResult sha = run_memory(mmd_config, d5, "sharded");
  REQUIRE(sha.samples.rows == 150);
  CHECK(sha.samples.data == rep.samples.data);
  REQUIRE(sha.metrics.size() == rep.metrics.size());
  for (std::size_t k = 0; k < sha.metrics.size(); ++k) {
    CHECK(sha.metrics[k].functional == rep.metrics[k].functional);
  }
  const std::vector<std::string> gauss = {"initial.d=5",
                                          "target.d=5",
                                          "functional.kernel=\"gaussian\"",
                                          "functional.gamma=0.5",
                                          "target.kind=\"diracs\"",
                                          "target.points=[[1,0,0,0,0],[0,1,0,0,0]]",
                                          "target.weights=[0.25,0.75]",
                                          "flow.dtype=\"f32\""};
  const RunResult grep = run_memory(mmd_config, gauss, "replicated");
  const RunResult gsha = run_memory(mmd_config, gauss, "sharded");
  CHECK(gsha.samples.data == grep.samples.data);
  CHECK(gsha.metrics.back().functional == grep.metrics.back().functional);
}

TEST_CASE("sharded against replicated for d <= 3: the self pass's other rounding, bounded") {
  // d = 2: one process sums the self term over unordered pairs (the self pass), the sharded run
  // over ordered pairs (the row pass): the same sums in another order, so after 3 steps the
  // samples agree to rounding (the samples are O(1): 1e-12 is ~4500 ulps) and so does F.
  const RunResult rep = run_memory(mmd_config, {}, "replicated");
  const RunResult sha = run_memory(mmd_config, {}, "sharded");
  CHECK(max_abs_difference(sha.samples, rep.samples) < 1e-12);
  REQUIRE(sha.metrics.size() == rep.metrics.size());
  for (std::size_t k = 0; k < sha.metrics.size(); ++k) {
    CHECK(std::fabs(sha.metrics[k].functional - rep.metrics[k].functional) <
          1e-12 * std::fabs(rep.metrics[k].functional) + 1e-15);
  }
  // The step moved the samples by far more than the bound (a test that could fail).
  const FlowConfig cfg = parse_flow_config(mmd_config, "sharded");
  const HostMatrix<double> x0 = sample_measure(cfg.initial, cfg.seed, 0, "initial");
  CHECK(max_abs_difference(sha.samples, rep.samples) < 1e-6 * max_abs_difference(x0, rep.samples));
}

TEST_CASE("sharded sliced against replicated: the same step, F from the sliced sums") {
  // The step: the replicated particle scheme's directions and scales; the projections per
  // 64-row block (kernels/sliced_sharded.hpp) against one GEMM, so the samples agree to
  // rounding at least (the same bits where OpenBLAS rounds both alike, as here so far). F: the
  // sliced estimate with fixed directions against the replicated run's exact F.
  // f64, f32, and a target larger than the samples (E_K(nu) in a workspace of its own).
  const std::vector<std::vector<std::string>> variants = {
      {"flow.dtype=\"f64\""}, {"flow.dtype=\"f32\""}, {"flow.dtype=\"f64\"", "target.n=400"}};
  for (const auto& variant : variants) {
    CAPTURE(variant.back());
    std::vector<std::string> sets = {"functional.estimator=\"sliced\"", "functional.directions=64"};
    sets.insert(sets.end(), variant.begin(), variant.end());
    const RunResult rep = run_memory(mmd_config, sets, "replicated");
    const RunResult sha = run_memory(mmd_config, sets, "sharded");
    const double diff = max_abs_difference(sha.samples, rep.samples);
    MESSAGE("sharded sliced vs replicated: max |x difference| = " << diff);
    const FlowConfig cfg = parse_flow_config(mmd_config, "sharded");
    const HostMatrix<double> x0 = sample_measure(cfg.initial, cfg.seed, 0, "initial");
    CHECK(diff <= 1e-6 * max_abs_difference(x0, rep.samples));
    REQUIRE(sha.metrics.size() == rep.metrics.size());
    for (std::size_t k = 0; k < sha.metrics.size(); ++k) {
      CHECK(std::fabs(sha.metrics[k].functional - rep.metrics[k].functional) <
            0.05 * std::fabs(rep.metrics[k].functional));
    }
  }
}

// A sharded run of `config` with `sets` is refused: exit 2, the message starting with "key:".
static void check_refused(const char* config, const char* name, const std::vector<std::string>& sets,
                   const std::string& key) {
  try {
    const FlowConfig cfg = memory_config(config, name, sets, "sharded");
    RunOptions opt;
    opt.progress = false;
    run_flow(cfg, opt);
    FAIL("no error for " << key);
  } catch (const Error& e) {
    CAPTURE(e.what());
    CHECK(e.exit_code() == 2);
    CHECK(std::string(e.what()).rfind(key + ":", 0) == 0);
  }
}

TEST_CASE("sharded refusals name the key") {
  const auto refuse = [](const std::vector<std::string>& sets, const std::string& key) {
    check_refused(mmd_config, "sharded", sets, key);
  };
  // The sliced estimator runs sharded with the Riesz kernel only (r = 1: the general check).
  refuse(
      {"functional.estimator=\"sliced\"", "functional.kernel=\"gaussian\"", "functional.gamma=0.5"},
      "functional.estimator");
  refuse({"functional.estimator=\"sliced\"", "functional.r=1.5"}, "functional.estimator");
  // Sliced sharded runs the particle scheme only (the neural schemes run exact sharded).
  refuse({"functional.estimator=\"sliced\"", "flow.scheme=\"backward\""}, "functional.estimator");
  // The sliced sums are the Riesz MMD's: not a potential's or a sum's terms (the replicated run
  // takes the exact gradient there).
  refuse({"functional.kind=\"potential\"", "target.kind=\"gaussian\"",
          "functional.estimator=\"sliced\""},
         "functional.estimator");
}

TEST_CASE("sharded particle scheme with interaction kernels, sums and the potential: bits, d > 3") {
  // Each interaction term through the sharded pair passes with its family, the potential per
  // row, summed as SumFunctional sums them; F's potential part in the chunks of reduce_rows.
  // d = 5: both layouts run the row pass, so the same samples and F.
  const std::vector<std::vector<std::string>> cases = {
      {"functional.kind=\"interaction\"", "functional.kernel=\"quartic_quadratic\"",
       "initial.d=5"},
      {"functional.kind=\"interaction\"", "functional.kernel=\"gaussian_attraction\"",
       "initial.d=5", "flow.dtype=\"f32\""},
      {"functional.kind=\"potential\"", "target.kind=\"gaussian\"", "initial.d=5",
       "target.d=5", "target.points=[[1,0,0,0,-1]]"},
      {"functional.kind=\"sum\"",
       "functional.terms=[{kind=\"interaction\", kernel=\"riesz\", r=1.5, weight=0.5}, "
       "{kind=\"potential\", weight=0.7}, "
       "{kind=\"interaction\", kernel=\"log_quadratic\", weight=0.2}]",
       "target.kind=\"gaussian\"", "initial.d=5", "target.d=5", "initial.n=9000",
       "flow.steps=1"}};
  for (const auto& sets : cases) {
    CAPTURE(sets.front());
    const RunResult rep = run_memory(mmd_config, sets, "replicated");
    const RunResult sha = run_memory(mmd_config, sets, "sharded");
    CHECK(sha.samples.data == rep.samples.data);
    REQUIRE(sha.metrics.size() == rep.metrics.size());
    for (std::size_t k = 0; k < sha.metrics.size(); ++k) {
      CHECK(std::memcmp(&sha.metrics[k].functional, &rep.metrics[k].functional, sizeof(double)) ==
            0);
      CHECK(std::memcmp(&sha.metrics[k].ring_radius, &rep.metrics[k].ring_radius,
                        sizeof(double)) == 0);
    }
  }
}

namespace {

const char* ift_config = R"(
seed = 13
[flow]
scheme = "ift"
tau = 0.5
steps = 6
[functional]
kind = "mmd"
r = 1.0
[initial]
kind = "gaussian"
n = 300
d = 2
radius = 0.5
[target]
kind = "gaussian"
n = 200
d = 2
radius = 1.0
[ift]
weight_step = "pgd"
eta = 0.1
[output]
every = 3
plots = false
progress = false
)";

// An ift run in one process with its directory (the weights are read back from the last
// snapshot's weights_NNNNNN.npy).
struct IftRun {
  RunResult result;
  std::vector<double> weights;
};

IftRun run_ift(const std::vector<std::string>& sets, const std::string& memory,
               const std::string& name) {
  const FlowConfig cfg = memory_config(ift_config, "ift", sets, memory);
  RunOptions opt;
  opt.threads = 2;
  opt.progress = false;
  opt.out_dir = test::tmp_path("sharded_ift_" + name + "_" + memory);
  fs::remove_all(opt.out_dir);
  IftRun r;
  r.result = run_flow(cfg, opt);
  r.weights = RunDirectory(opt.out_dir).read_weights(r.result.steps);
  REQUIRE(index_t(r.weights.size()) == cfg.initial.n);
  return r;
}

double max_abs_difference(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (std::size_t k = 0; k < a.size(); ++k) m = std::max(m, std::fabs(a[k] - b[k]));
  return m;
}

}  // namespace

TEST_CASE("sharded ift against replicated: bits for the KL step at d > 3, bounded for pgd") {
  // d = 5 (both layouts run the row pass) and the KL step normalised by the sum (in row order
  // in both): the same positions, weights and metrics, bit for bit.
  const std::vector<std::string> kl = {"initial.d=5", "target.d=5", "ift.weight_step=\"kl\""};
  const IftRun rep = run_ift(kl, "replicated", "kl");
  const IftRun sha = run_ift(kl, "sharded", "kl");
  CHECK(sha.result.samples.data == rep.result.samples.data);
  CHECK(sha.weights == rep.weights);
  REQUIRE(sha.result.metrics.size() == rep.result.metrics.size());
  for (std::size_t k = 0; k < sha.result.metrics.size(); ++k) {
    CHECK(sha.result.metrics[k].mmd2_paper == rep.result.metrics[k].mmd2_paper);
    CHECK(sha.result.metrics[k].ess == rep.result.metrics[k].ess);
  }
  // pgd, d = 2: the simplex projection by bisection (sharded) against the sort method
  // (replicated), and the self pass's other rounding: after 6 iterations the weights agree to
  // 1e-12 and the positions to 1e-10 (O(1) values), while the run moved both by far more.
  const IftRun prep = run_ift({}, "replicated", "pgd");
  const IftRun psha = run_ift({}, "sharded", "pgd");
  const double dx = max_abs_difference(psha.result.samples, prep.result.samples);
  const double dw = max_abs_difference(psha.weights, prep.weights);
  MESSAGE("sharded vs replicated ift (pgd, d = 2): max |x diff| = " << dx
                                                                    << ", max |w diff| = " << dw);
  CHECK(dx < 1e-10);
  CHECK(dw < 1e-12);
  const FlowConfig cfg = parse_flow_config(ift_config, "ift");
  const HostMatrix<double> x0 = sample_measure(cfg.initial, cfg.seed, 0, "initial");
  CHECK(max_abs_difference(x0, prep.result.samples) > 0.1);
  const std::vector<double> w0(std::size_t(cfg.initial.n), 1.0 / double(cfg.initial.n));
  CHECK(max_abs_difference(w0, prep.weights) > 0.01);
  REQUIRE(psha.result.metrics.size() == prep.result.metrics.size());
  for (std::size_t k = 0; k < psha.result.metrics.size(); ++k) {
    CHECK(std::fabs(psha.result.metrics[k].mmd2_paper - prep.result.metrics[k].mmd2_paper) <
          1e-10 * std::fabs(prep.result.metrics[k].mmd2_paper));
    CHECK(psha.result.metrics[k].zero_weights == prep.result.metrics[k].zero_weights);
  }
}

TEST_CASE("sharded ift with the exact (qp) weight step: the replicated dense solve to rounding") {
  // The products K v as pair passes against the dense Gram matrix, the projection by bisection
  // against the sort: both references ("half" on the simplex; "previous" with the Gaussian
  // kernel on M+), 20 FISTA iterations.
  const std::vector<std::vector<std::string>> variants = {
      {"ift.weight_step=\"qp\"", "ift.qp_iterations=20"},
      {"ift.weight_step=\"qp\"", "ift.qp_iterations=20", "ift.qp_reference=\"previous\"",
       "functional.kernel=\"gaussian\"", "functional.gamma=0.5", "ift.mass=\"nonnegative\""}};
  for (const auto& sets : variants) {
    CAPTURE(sets.back());
    const IftRun rep = run_ift(sets, "replicated", "qp");
    const IftRun sha = run_ift(sets, "sharded", "qp");
    const double dx = max_abs_difference(sha.result.samples, rep.result.samples);
    const double dw = max_abs_difference(sha.weights, rep.weights);
    MESSAGE("sharded vs replicated ift (qp): max |x diff| = " << dx << ", max |w diff| = " << dw);
    CHECK(dx < 1e-10);
    CHECK(dw < 1e-12);
    const std::vector<double> w0(300, 1.0 / 300);
    CHECK(max_abs_difference(w0, rep.weights) > 1e-3);
  }
}

TEST_CASE("sharded ift with weight_step = none is the sharded particle flow, bit for bit") {
  const IftRun none = run_ift({"ift.weight_step=\"none\""}, "sharded", "none");
  std::vector<std::string> particle = {"flow.scheme=\"particle\"", "flow.memory=\"sharded\""};
  const FlowConfig cfg = parse_flow_config(ift_config, "ift", particle);
  RunOptions opt;
  opt.threads = 2;
  opt.progress = false;
  const RunResult p = run_flow(cfg, opt);
  CHECK(none.result.samples.data == p.samples.data);
  for (double w : none.weights) CHECK(w == 1.0 / 300);
}

namespace {

// The variational scheme (schemes/variational/variational_scheme.hpp): KL to a Gaussian from a
// Gaussian (the OU flow), a small map and critic.
const char* variational_config = R"(
seed = 5
[flow]
scheme = "variational"
tau = 0.1
steps = 3
dtype = "f64"
[functional]
kind = "kl"
[initial]
kind = "gaussian"
n = 300
d = 2
radius = 1.0
[target]
kind = "gaussian"
points = [[0.5, -0.25]]
radius = 0.8
[network]
hidden = [8]
[critic]
hidden = [8]
[train]
iterations = 6
inner = 2
batch = 64
lr = 5e-3
[output]
plots = false
progress = false
)";

// fb: the forward step on an interaction term over all particles, then KL's JKO step.
const std::vector<std::string> variational_fb = {
    "flow.fb=true", "functional.kind=\"sum\"",
    "functional.terms=[{kind=\"interaction\", kernel=\"gaussian_attraction\", weight=1.0}, "
    "{kind=\"interaction\", kernel=\"quartic_quadratic\", weight=0.5}, "
    "{kind=\"kl\", weight=1.0}]"};

}  // namespace

TEST_CASE("sharded variational against replicated: one process's training and push, bit for bit") {
  // The batches gathered in batch order, Gamma's moments summed in row order, the estimate and
  // the push on one process's chunks: the same samples, F and OU metrics as the replicated run.
  // With fb at d = 5 (both layouts run the row pass for the forward step and the value of the
  // interaction terms) too.
  for (const auto& sets : {std::vector<std::string>{},
                           std::vector<std::string>{"initial.n=5000"},  // 2 chunks of the push
                           [] {
                             std::vector<std::string> s = variational_fb;
                             s.insert(s.end(), {"initial.d=5", "target.points=[[0.5,0,0,0,0]]"});
                             return s;
                           }()}) {
    CAPTURE(sets.size());
    const RunResult rep = run_memory(variational_config, sets, "replicated");
    const RunResult sha = run_memory(variational_config, sets, "sharded");
    CHECK(sha.samples.data == rep.samples.data);
    REQUIRE(sha.metrics.size() == rep.metrics.size());
    for (std::size_t k = 0; k < sha.metrics.size(); ++k) {
      CHECK(std::memcmp(&sha.metrics[k].functional, &rep.metrics[k].functional, sizeof(double)) ==
            0);
      CHECK(std::memcmp(&sha.metrics[k].symkl_exact, &rep.metrics[k].symkl_exact, sizeof(double)) ==
            0);
    }
  }
}

TEST_CASE("sharded variational with fb at d <= 3: the self pass's other rounding, bounded") {
  // d = 2: one process sums the forward step's and the value's pairs over unordered pairs, the
  // sharded run over ordered ones; the difference grows through the training but stays at
  // rounding's size.
  const RunResult rep = run_memory(variational_config, variational_fb, "replicated");
  const RunResult sha = run_memory(variational_config, variational_fb, "sharded");
  const double diff = max_abs_difference(sha.samples, rep.samples);
  MESSAGE("sharded fb vs replicated, d = 2: max |x difference| = " << diff);
  CHECK(diff < 1e-12);
  const FlowConfig cfg =
      memory_config(variational_config, "variational", variational_fb, "replicated");
  const HostMatrix<double> x0 = sample_measure(cfg.initial, cfg.seed, 0, "initial");
  CHECK(diff < 1e-6 * max_abs_difference(x0, rep.samples));
  REQUIRE(sha.metrics.size() == rep.metrics.size());
  for (std::size_t k = 1; k < sha.metrics.size(); ++k) {
    CHECK(std::fabs(sha.metrics[k].functional - rep.metrics[k].functional) <
          1e-12 * std::fabs(rep.metrics[k].functional));
  }
}

TEST_CASE("sharded energy33: the replicated run to rounding (its 1-D pair sum is a self pass)") {
  // The rows (potential, mask) per row; the masked Riesz sum of the y column through the
  // sharded row pass, where one process runs the self pass on the 1-D column: the same pairs in
  // another order.
  const std::vector<std::string> e33 = {"functional.kind=\"energy33\"", "initial.kind=\"square\"",
                                        "initial.points=[[-0.2,0.0]]", "flow.tau=0.1"};
  const RunResult rep = run_memory(mmd_config, e33, "replicated");
  const RunResult sha = run_memory(mmd_config, e33, "sharded");
  const double dx = max_abs_difference(sha.samples, rep.samples);
  MESSAGE("sharded vs replicated energy33: max |x difference| = " << dx);
  CHECK(dx < 1e-12);
  REQUIRE(sha.metrics.size() == rep.metrics.size());
  for (std::size_t k = 0; k < sha.metrics.size(); ++k) {
    CHECK(std::fabs(sha.metrics[k].functional - rep.metrics[k].functional) <
          1e-12 * std::fabs(rep.metrics[k].functional) + 1e-15);
  }
}

TEST_CASE("sharded variational from a Barenblatt start: the replicated samples and porous metrics") {
  // The porous medium (entropy, m = 2): the start drawn by rows; w1_radial from the radii
  // gathered (here: one rank's), second_moment summed in row order: one process's values.
  const std::vector<std::string> porous = {"functional.kind=\"entropy\"", "functional.m=2",
                                           "initial.kind=\"barenblatt\"", "initial.t0=0.002",
                                           "flow.tau=0.001"};
  const RunResult rep = run_memory(variational_config, porous, "replicated");
  const RunResult sha = run_memory(variational_config, porous, "sharded");
  CHECK(sha.samples.data == rep.samples.data);
  REQUIRE(sha.metrics.size() == rep.metrics.size());
  for (std::size_t k = 0; k < sha.metrics.size(); ++k) {
    REQUIRE(std::isfinite(rep.metrics[k].w1_radial));
    CHECK(std::memcmp(&sha.metrics[k].w1_radial, &rep.metrics[k].w1_radial, sizeof(double)) == 0);
    CHECK(std::memcmp(&sha.metrics[k].second_moment, &rep.metrics[k].second_moment,
                      sizeof(double)) == 0);
  }
}

TEST_CASE(
    "sharded variational to a mixture: the replicated samples, its metrics from the own rows") {
  // KL to a two-component mixture: the same samples and F; mixture_tv from exact counts (the
  // same value), energy_distance from the sharded pair passes (the same pairs added in another
  // order than one process's threads: rounding).
  std::string text = variational_config;
  const std::string gaussian = "kind = \"gaussian\"\npoints = [[0.5, -0.25]]\nradius = 0.8\n";
  REQUIRE(text.find(gaussian) != std::string::npos);
  text.replace(text.find(gaussian), gaussian.size(),
               "kind = \"mixture\"\n"
               "components = [{mean = [1.0, 0.0], cov = [[0.25, 0.0], [0.0, 0.25]], weight = 1.0},"
               " {mean = [-1.0, 0.5], cov = [[0.3, 0.1], [0.1, 0.2]], weight = 2.0}]\n");
  const std::vector<std::string> sets = {"critic.output=\"sigmoid\""};
  const RunResult rep = run_memory(text, sets, "replicated");
  const RunResult sha = run_memory(text, sets, "sharded");
  CHECK(sha.samples.data == rep.samples.data);
  REQUIRE(sha.metrics.size() == rep.metrics.size());
  for (std::size_t k = 0; k < sha.metrics.size(); ++k) {
    CAPTURE(k);
    CHECK(std::memcmp(&sha.metrics[k].functional, &rep.metrics[k].functional, sizeof(double)) == 0);
    REQUIRE(std::isfinite(rep.metrics[k].mixture_tv));
    CHECK(sha.metrics[k].mixture_tv == rep.metrics[k].mixture_tv);
    REQUIRE(rep.metrics[k].energy_distance > 1e-3);
    CHECK(std::fabs(sha.metrics[k].energy_distance - rep.metrics[k].energy_distance) <
          1e-12 * rep.metrics[k].energy_distance);
  }
}

// The one binary on older x86-64 CPUs, emulated: `nwgf` built here (with AVX-512 code for the
// CPUs that have it) runs under qemu-user with the CPU models of an AMD Zen 3 (EPYC-Milan:
// AVX2 + FMA, no AVX-512), an Intel Haswell (AVX2), a Westmere (SSE4 with AES/CLMUL) and a
// Nehalem (SSE4.2, no AES: Highway's scalar target). QEMU refuses every instruction the model
// lacks (SIGILL), so an AVX-512 instruction reached outside the run-time dispatch fails here even
// on an AVX-512 machine. Checked: `nwgf devices` names the target the dispatch picks on each, a
// forced target the CPU lacks is exit 2, and flows of every scheme on the emulated CPU agree with
// the same flow run here with that target forced (NWGF_SIMD, OPENBLAS_CORETYPE) to 1e-9 relative
// (f64) or 1e-5 (f32). Not bit for bit: the pair rows refine the hardware's approximate
// reciprocal square root (VRSQRTPS), whose bits differ between CPUs, and QEMU's is exact; the
// differences measured were 5e-12 (f64, the IFT flow's QP) and 1.3e-7 (f32); the particle flow
// on the scalar target (Nehalem) is bit for bit. Skipped (exit 77) where qemu-x86_64 is missing
// (Debian: qemu-user, installed by tools/setup.sh on x86-64) or the host is not x86-64. The runs
// take 1 thread: QEMU translates each guest instruction, 10-30x slower than native.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "nwgf/engine/io/npy.hpp"
#include "tests/helpers.hpp"

namespace fs = std::filesystem;

namespace {

using nwgf::test::snapshot_names;

// Exits 77 (skipped, with the reason) when this host cannot run the emulated CPUs.
void require_qemu() {
#if defined(__x86_64__)
  if (std::system("command -v qemu-x86_64 >/dev/null 2>&1") == 0) return;
  std::printf("skipped: qemu-x86_64 not found (Debian package qemu-user)\n");
#else
  std::printf("skipped: the emulated CPUs are x86-64 and this host is not\n");
#endif
  std::fflush(stdout);
  std::_Exit(77);
}

// The command prefix that runs `nwgf` on CPU model `cpu` with NWGF_SIMD=`simd`. No core file:
// QEMU writes the guest's (hundreds of MB) when the run dies of a signal and core files are on.
// QEMU warns once per CPUID feature of the model its TCG lacks (pcid, rdseed, ...: none the
// engine uses); run_cli keeps stderr apart.
std::string on(const std::string& cpu, const std::string& simd = "auto") {
  return "ulimit -c 0; NWGF_SIMD=" + simd + " qemu-x86_64 -cpu " + cpu;
}

// Drops QEMU's "TCG doesn't support requested feature" warnings from a run's stderr.
std::string without_qemu_warnings(const std::string& err) {
  std::string kept, line;
  for (std::size_t i = 0; i < err.size(); ++i) {
    line += err[i];
    if (err[i] == '\n' || i + 1 == err.size()) {
      if (line.rfind("qemu-x86_64: warning: TCG doesn't support", 0) != 0) kept += line;
      line.clear();
    }
  }
  return kept;
}

struct Model {
  std::string cpu;       // QEMU's CPU model
  std::string target;    // the SIMD target the dispatch must pick there
  std::string openblas;  // OPENBLAS_CORETYPE that OpenBLAS picks there (for the native run)
};
const Model zen3{"EPYC-Milan-v1", "avx2", "Zen"};
const Model haswell{"Haswell-noTSX", "avx2", "Haswell"};
const Model westmere{"Westmere", "sse4", "Nehalem"};
const Model nehalem{"Nehalem", "scalar", "Nehalem"};

// Runs tests/mpi/<config>.toml on one thread, natively with the model's target forced and under
// QEMU on the model; every snapshot (positions, weights) agrees to `tol` relative (max |a - b|
// over max |a|, a the native run's).
void compare_run(const Model& m, const std::string& config, double tol) {
  const std::string toml = std::string(NWGF_SOURCE_DIR) + "/tests/mpi/" + config + ".toml";
  const std::string base = nwgf::test::tmp_path("isa_" + m.cpu + "_" + config);
  const std::string here = base + "_native", there = base + "_emulated";
  fs::remove_all(here);
  fs::remove_all(there);
  const std::string args = "--threads 1 run '" + toml + "' --out ";
  const auto a = nwgf::test::run_cli(
      args + "'" + here + "'",
      "NWGF_SIMD=" + m.target + " OPENBLAS_CORETYPE=" + m.openblas);
  if (a.exit_code == 2 && a.err.find("is not a SIMD target") != std::string::npos) {
    MESSAGE("this CPU lacks " << m.target << ": " << config << " on " << m.cpu << " not compared");
    return;
  }
  REQUIRE_MESSAGE(a.exit_code == 0, a.err);
  const auto b = nwgf::test::run_cli(args + "'" + there + "'", on(m.cpu));
  REQUIRE_MESSAGE(b.exit_code == 0, without_qemu_warnings(b.err));
  const auto names = snapshot_names(here);
  REQUIRE(names.size() >= 2);
  CHECK(names == snapshot_names(there));
  double worst = 0;
  for (const auto& n : names) {
    INFO(config << " on " << m.cpu << ": " << n);
    // An IFT run's weights_*.npy are 1-D, its positions and every other run's 2-D.
    const bool weights = n.rfind("weights_", 0) == 0;
    const auto x = weights ? nwgf::read_npy_vector<double>(here + "/snapshots/" + n)
                           : nwgf::read_npy<double>(here + "/snapshots/" + n).data;
    const auto y = weights ? nwgf::read_npy_vector<double>(there + "/snapshots/" + n)
                           : nwgf::read_npy<double>(there + "/snapshots/" + n).data;
    REQUIRE(x.size() == y.size());
    const double rel = nwgf::test::max_relative_difference(y, x);
    CHECK(rel <= tol);
    worst = std::max(worst, rel);
  }
  MESSAGE(config << " on " << m.cpu << " (" << m.target << "): " << names.size()
                 << " snapshots, max relative difference " << worst);
  fs::remove_all(here);
  fs::remove_all(there);
}

}  // namespace

TEST_CASE("the dispatch picks each emulated CPU's best target; a forced target it lacks is exit 2") {
  require_qemu();
  for (const Model& m : {zen3, haswell, westmere, nehalem}) {
    INFO(m.cpu);
    const auto r = nwgf::test::run_cli("devices", on(m.cpu));
    REQUIRE_MESSAGE(r.exit_code == 0, without_qemu_warnings(r.err));
    CHECK(r.out.find("SIMD " + m.target + " (") != std::string::npos);
  }
  // The bench line names the target too.
  const auto bench =
      nwgf::test::run_cli("--threads 1 bench pairwise --n 300 --d 2 --repeats 1", on(zen3.cpu));
  REQUIRE_MESSAGE(bench.exit_code == 0, without_qemu_warnings(bench.err));
  CHECK(bench.out.find("\"simd\": \"avx2\"") != std::string::npos);
  for (const char* lacking : {"avx512", "avx512_dl"}) {
    const auto r = nwgf::test::run_cli("devices", on(zen3.cpu, lacking));
    CHECK(r.exit_code == 2);
    const std::string err = without_qemu_warnings(r.err);
    CHECK(err.find(std::string("'") + lacking + "' is not a SIMD target") != std::string::npos);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  }
}

TEST_CASE("flows on an emulated Zen 3 agree with the AVX2 target here") {
  require_qemu();
  // backward: the MLP's GEMMs (OpenBLAS's Zen kernels), Adam, Riesz r = 1 rows in f64.
  compare_run(zen3, "backward_d2", 1e-9);
  // forward in f32 (d = 3).
  compare_run(zen3, "forward_d3_f32", 1e-5);
  // particle: r = 1.5 rows in f32 (exp/log), d = 5; the Gaussian kernel; energy33.
  compare_run(zen3, "interaction_d5_f32", 1e-5);
  compare_run(zen3, "gaussian_d2", 1e-9);
  compare_run(zen3, "energy33_d2", 1e-9);
  // sliced MMD (vectorised sort), IFT (simplex QP weights), variational (KL, map and critic).
  compare_run(zen3, "sliced_d3", 1e-9);
  compare_run(zen3, "ift_d2", 1e-9);
  compare_run(zen3, "variational_kl_d2", 1e-9);
}

TEST_CASE("flows on an emulated Haswell, Westmere and Nehalem agree with their targets here") {
  require_qemu();
  compare_run(haswell, "backward_d2", 1e-9);
  compare_run(westmere, "interaction_d5_f32", 1e-5);
  compare_run(westmere, "sliced_d3", 1e-9);
  compare_run(westmere, "backward_d2", 1e-9);
  compare_run(nehalem, "interaction_d5_f32", 1e-5);
  compare_run(nehalem, "ift_d2", 1e-9);
}

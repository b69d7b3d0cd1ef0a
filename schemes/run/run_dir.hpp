#pragma once
// The run directory (CONTRACT.md), the one place that knows its layout and file formats; `nwgf
// run`, `--resume`, `nwgf render RUN_DIR` and `nwgf plot` all go through it:
//
//   config.toml                  the resolved config (to_toml)
//   manifest.json                version, status running|done|failed, backend, threads, dtype,
//                                seed, step, time, n, d, [latent_dim], analytic_reference, config,
//                                [phases, counters] (status done: schemes/run/run_trace.hpp)
//   metrics.csv                  header + one row per step (StepInfo), %.17g, empty cell = NaN
//   snapshots/step_NNNNNN.npy    the samples (n, d) in the run's dtype
//   snapshots/weights_NNNNNN.npy the weights (n,) in double, beside each snapshot (weighted
//                                particles: the ift scheme)
//   plots/                       pictures (written by the viz layer's observer, not here)
//   checkpoint.bin               magic "NWGFCKP1" | i64 step | f64 time | u32 sizeof(T) | i64 n |
//                                i64 d | T x[n d] | u64 bytes | scheme state | u64 bytes |
//                                dynamics key   (native byte order, little-endian in practice)
//
// Every write is atomic (NAME.tmp.PID, then rename), so a killed run leaves each file whole.
// Across MPI ranks the snapshots, weights and checkpoint are written by all ranks together (the
// overloads taking a Comm: each rank its rows, write_file_atomic_all), with the same bytes.
// Bad files are bad input (Error, exit 2) naming the file (and line for metrics.csv).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/types.hpp"
#include "nwgf/schemes/run/step_info.hpp"

namespace nwgf {

// %.17g (round-trips a double); "" for NaN and Inf (metrics.csv's empty cell).
std::string csv_number(double v);

struct Manifest {
  std::string status;  // running | done | failed
  std::string backend, dtype;
  int threads = 0;
  int ranks = 0;  // > 0: written as `ranks` (a run under an MPI launcher); 0: not written
  long long seed = 0, step = 0;
  double time = 0;
  long long n = 0, d = 0;
  long long latent_dim = -1;  // < 0: not written (the particle scheme has none)
  bool analytic_reference = false;
  std::string config_json;  // the resolved config as a JSON object
  std::string phases_json;    // a finished run's per-phase times as a JSON object ("": none)
  std::string counters_json;  // and its counters ("": none)
};

// metrics.csv as read: column names from the header, one row of numbers per line.
struct MetricsTable {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;  // each columns.size() long; NaN: empty cell
  // The index of the column `name`; columns.size() when there is none.
  std::size_t column(const std::string& name) const;
};

struct SnapshotFile {
  index_t step = 0;
  std::string path;
};

struct Checkpoint {
  index_t step = 0;
  double time = 0;
  std::uint32_t scalar_bytes = 0;  // sizeof(T) of the samples
  index_t n = 0, d = 0;
  std::string samples;       // n d scalars, row-major, raw bytes
  std::string scheme_state;  // Scheme<T>::state()
  std::string dynamics_key;  // the config settings a resumption must match
};

class RunDirectory {
 public:
  explicit RunDirectory(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }
  std::string path(const std::string& relative) const;
  // "step_NNNNNN" (six digits at least).
  static std::string step_name(index_t step);

  // Creates the directory with snapshots/ and plots/, removes temporary files of a process killed
  // mid-write, writes config.toml. Bad input naming --out when the directory cannot be made.
  void prepare(const std::string& config_toml) const;

  void write_manifest(const Manifest& m) const;
  // The run's `scheme` as recorded in manifest.json; "" when there is no manifest or no scheme.
  std::string manifest_scheme() const;

  void write_metrics(const std::vector<StepInfo>& rows) const;
  bool has_metrics() const;
  // Bad input: no metrics.csv, an empty one, a row whose cell count differs from the header's, a
  // cell that is not a number (FILE:LINE).
  MetricsTable read_metrics() const;
  // The rows with step <= last_step as StepInfo (columns found by name, missing ones NaN).
  std::vector<StepInfo> read_steps(index_t last_step) const;

  template <class T>
  void write_snapshot(index_t step, const T* x, index_t n, index_t d) const;  // x: (n, d)
  // "weights_NNNNNN"; the weights (n) of the snapshot at `step`, and reading them back (empty
  // when the run has no weights file for that step).
  static std::string weights_name(index_t step);
  void write_weights(index_t step, const std::vector<double>& w) const;
  std::vector<double> read_weights(index_t step) const;
  // snapshots/step_NNNNNN.npy sorted by step. Bad input naming the directory when it is not a
  // directory or has no snapshot.
  std::vector<SnapshotFile> snapshots() const;

  void write_checkpoint(const Checkpoint& c) const;

  // The same files written by every rank of comm together (called by every rank; with one rank
  // the writers above): each rank writes the rows it owns on the fixed 64-row grid of
  // kernels/pairwise_ranks.hpp (owned_rows) from its copy of all n rows at x (or w), rank 0 also
  // the header (and the checkpoint's trailer). The bytes are those of the writers above.
  template <class T>
  void write_snapshot(const Comm& comm, index_t step, const T* x, index_t n, index_t d) const;
  void write_weights(const Comm& comm, index_t step, const std::vector<double>& w) const;
  // c.samples is not used: the n d samples are at `samples` (every rank's copy). c.n, c.d and
  // c.scalar_bytes are needed on every rank, the rest on rank 0 only.
  void write_checkpoint(const Comm& comm, const Checkpoint& c, const void* samples) const;
  // The sharded runs' writers (flow.memory = "sharded"): the same files and bytes, each rank
  // passing only its own rows (owned_rows of n on the 64-row grid) at `own`; with one rank the
  // one-process writers.
  template <class T>
  void write_snapshot_rows(const Comm& comm, index_t step, const T* own, index_t n,
                           index_t d) const;
  void write_checkpoint_rows(const Comm& comm, const Checkpoint& c, const void* own) const;
  // The weighted particles' files (the ift scheme sharded): snapshots/weights_NNNNNN.npy from
  // each rank's own weights, and the checkpoint whose scheme state is the n weights in double
  // (the ift scheme's state()), each rank writing its rows of the samples and of the weights
  // (c.scheme_state is not used). The bytes are those of the one-process writers.
  void write_weights_rows(const Comm& comm, index_t step, const std::vector<double>& own,
                          index_t n) const;
  void write_weighted_checkpoint_rows(const Comm& comm, const Checkpoint& c, const void* own,
                                      const std::vector<double>& own_weights) const;
  // read_checkpoint reading only rows [first, last) of the samples (c.samples holds those),
  // with the same checks: any rank count resumes any checkpoint.
  Checkpoint read_checkpoint_rows(std::uint32_t scalar_bytes, index_t n, index_t d,
                                  index_t first, index_t last) const;
  // The same for a checkpoint whose scheme state is n rows of state_row_bytes (the ift
  // scheme's weights: 8): c.scheme_state holds only rows [first, last) of it; bad input naming
  // the file when the state is not n such rows.
  Checkpoint read_checkpoint_rows(std::uint32_t scalar_bytes, index_t n, index_t d,
                                  index_t first, index_t last,
                                  std::size_t state_row_bytes) const;
  // Bad input naming the file: none (names --resume), not a checkpoint, truncated, a negative
  // step or a time that is not finite and >= 0, a dtype or shape other than the expected one.
  Checkpoint read_checkpoint(std::uint32_t scalar_bytes, index_t n, index_t d) const;

 private:
  std::string dir_;
};

}  // namespace nwgf

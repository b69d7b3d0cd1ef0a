#include "nwgf/schemes/run/run_dir.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string_view>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/file_io.hpp"
#include "nwgf/engine/io/json.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "nwgf/engine/parse_number.hpp"
#include "nwgf/engine/trace.hpp"
#include "nwgf/engine/version.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"

namespace nwgf {
namespace {

namespace fs = std::filesystem;

constexpr char checkpoint_magic[8] = {'N', 'W', 'G', 'F', 'C', 'K', 'P', '1'};

const char* const metrics_columns[] = {
    "step", "time", "tau", "loss", "functional", "wall_seconds", "mmd2_analytic", "mmd2_iterate"};
// Columns written only when some row has a value in them (so the runs without them keep their
// metrics.csv as it was).
struct OptionalColumn {
  const char* name;
  double StepInfo::*member;
};
const OptionalColumn optional_columns[] = {
    // Weighted particles (the ift scheme).
    {"paper_step", &StepInfo::paper_step},
    {"mmd2_paper", &StepInfo::mmd2_paper},
    {"mass", &StepInfo::mass},
    {"zero_weights", &StepInfo::zero_weights},
    {"ess", &StepInfo::ess},
    {"max_weight", &StepInfo::max_weight},
    // The variational scheme's analytic references.
    {"symkl_jko", &StepInfo::symkl_jko},
    {"symkl_exact", &StepInfo::symkl_exact},
    {"w1_radial", &StepInfo::w1_radial},
    {"second_moment", &StepInfo::second_moment},
    {"second_moment_exact", &StepInfo::second_moment_exact},
    // The aggregation flows' steady states.
    {"ring_radius", &StepInfo::ring_radius},
    {"w1_semicircle", &StepInfo::w1_semicircle},
    // Gaussian-mixture sampling (the variational scheme, kl to a mixture).
    {"energy_distance", &StepInfo::energy_distance},
    {"mixture_tv", &StepInfo::mixture_tv}};

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::istringstream ls(line);
  std::string cell;
  while (std::getline(ls, cell, ',')) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

// A cell of metrics.csv: empty is NaN (not evaluated); anything else must be a number.
double parse_cell(const std::string& s, const std::string& file, std::size_t line) {
  if (s.empty()) return std::nan("");
  const std::optional<double> v = parse_whole_number(s);
  if (!v) throw_bad_input(file + ":" + std::to_string(line) + ": '" + s + "' is not a number");
  return *v;
}

// The step number of snapshots/step_NNNNNN.npy; -1 for other names.
index_t snapshot_step(const fs::path& p) {
  const std::string name = p.filename().string();
  if (name.size() < 10 || name.rfind("step_", 0) != 0 || p.extension() != ".npy") return -1;
  const std::string digits = name.substr(5, name.size() - 9);
  if (digits.empty() || digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return -1;
  }
  return index_t(std::stoll(digits));
}

// Every file of the run directory is written through these (the trace's bytes_written counter).
void write_counted(const std::string& file, std::string_view text) {
  write_file_atomic(file, text);
  trace_count(Counter::bytes_written, double(text.size()));
}

// The checkpoint's fields before the samples (a fixed length) and after them.
std::string checkpoint_head(const Checkpoint& c) {
  std::string b(checkpoint_magic, 8);
  auto put = [&b](const void* p, std::size_t k) { b.append(static_cast<const char*>(p), k); };
  const std::int64_t step = c.step, n = c.n, d = c.d;
  put(&step, 8), put(&c.time, 8), put(&c.scalar_bytes, 4), put(&n, 8), put(&d, 8);
  return b;
}

std::string checkpoint_tail(const Checkpoint& c) {
  std::string b;
  for (const std::string* s : {&c.scheme_state, &c.dynamics_key}) {
    const std::uint64_t len = s->size();
    b.append(reinterpret_cast<const char*>(&len), 8);
    b += *s;
  }
  return b;
}

// A checkpoint's bytes read in order from b (all of `file` or a part of it): bad input naming
// `file` when they run out.
struct CheckpointReader {
  const std::string& file;
  const std::string& b;
  std::size_t at = 0;

  void get(void* p, std::size_t k) {
    if (at + k > b.size()) throw_bad_input(file + ": truncated checkpoint");
    std::memcpy(p, b.data() + at, k);
    at += k;
  }

  std::string take(std::size_t len) {
    if (len > b.size() - at) throw_bad_input(file + ": truncated checkpoint");
    std::string s = b.substr(at, len);
    at += len;
    return s;
  }

  // The fields before the samples (checkpoint_head's), checked against the config's dtype and
  // shape.
  Checkpoint head(std::uint32_t scalar_bytes, index_t n, index_t d) {
    char magic[8];
    get(magic, 8);
    if (std::memcmp(magic, checkpoint_magic, 8) != 0) throw_bad_input(file + ": not a checkpoint");
    std::int64_t step, rows, cols;
    Checkpoint c;
    get(&step, 8), get(&c.time, 8), get(&c.scalar_bytes, 4), get(&rows, 8), get(&cols, 8);
    if (step < 0 || !std::isfinite(c.time) || c.time < 0) {
      throw_bad_input(file + ": corrupt checkpoint (step " + std::to_string(step) + ", time " +
                      csv_number(c.time) + ")");
    }
    if (c.scalar_bytes != scalar_bytes || rows != n || cols != d) {
      throw_bad_input(file + ": checkpoint has a different dtype or shape than the config");
    }
    c.step = index_t(step);
    c.n = n;
    c.d = d;
    return c;
  }

  // The fields after the samples (checkpoint_tail's).
  void tail(Checkpoint& c) {
    for (std::string* s : {&c.scheme_state, &c.dynamics_key}) {
      std::uint64_t len;
      get(&len, 8);
      *s = take(std::size_t(len));
    }
  }
};

// A file of `head`, then rows x row_bytes bytes of which each rank writes the rows it owns from
// `rows_data` (all rows), then `tail`, written by every rank of comm. Rank 0 writes head and
// tail; every rank passes a head of the same length (where the rows start), the tail only
// matters on rank 0.
// own_data: this rank's rows only (rows [r0, r1) of the grid), as the sharded runs hold them.
void write_own_rows_all(const Comm& comm, const std::string& file, const std::string& head,
                        const void* own_data, index_t rows, std::size_t row_bytes,
                        const std::string& tail) {
  const auto [r0, r1] = owned_rows(rows, comm.rank(), comm.size());
  const std::uint64_t body = std::uint64_t(head.size());  // the same on every rank
  std::vector<FilePart> parts;
  if (comm.root()) parts.push_back({0, head.data(), head.size()});
  parts.push_back(
      {body + std::uint64_t(r0) * row_bytes, own_data, std::size_t(r1 - r0) * row_bytes});
  if (comm.root()) {
    parts.push_back({body + std::uint64_t(rows) * row_bytes, tail.data(), tail.size()});
  }
  write_file_atomic_all(comm, file, parts);
  if (comm.root()) {
    trace_count(Counter::bytes_written,
                double(head.size()) + double(rows) * double(row_bytes) + double(tail.size()));
  }
}

void write_rows_all(const Comm& comm, const std::string& file, const std::string& head,
                    const void* rows_data, index_t rows, std::size_t row_bytes,
                    const std::string& tail) {
  const index_t r0 = owned_rows(rows, comm.rank(), comm.size()).first;
  write_own_rows_all(comm, file, head,
                     static_cast<const char*>(rows_data) + std::size_t(r0) * row_bytes, rows,
                     row_bytes, tail);
}

}  // namespace

std::string csv_number(double v) {
  if (!std::isfinite(v)) return "";
  char b[32];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

std::size_t MetricsTable::column(const std::string& name) const {
  return std::size_t(std::find(columns.begin(), columns.end(), name) - columns.begin());
}

std::string RunDirectory::path(const std::string& relative) const {
  return (fs::path(dir_) / relative).string();
}

std::string RunDirectory::step_name(index_t step) {
  char b[32];
  std::snprintf(b, sizeof b, "step_%06lld", (long long)step);
  return b;
}

void RunDirectory::prepare(const std::string& config_toml) const {
  const fs::path dir(dir_);
  std::error_code ec;
  fs::create_directories(dir / "snapshots", ec);
  if (ec) throw_bad_input("--out " + dir_ + ": " + ec.message());
  fs::create_directories(dir / "plots", ec);
  if (ec) throw_bad_input("--out " + dir_ + ": " + ec.message());
  // Temporary files of an earlier process killed in the middle of a write (NAME.tmp.PID).
  for (const fs::path& sub : {dir, dir / "snapshots", dir / "plots"}) {
    for (const auto& e : fs::directory_iterator(sub, ec)) {
      const std::string name = e.path().filename().string();
      const auto at = name.rfind(".tmp.");
      if (at != std::string::npos && at + 5 < name.size() &&
          name.find_first_not_of("0123456789", at + 5) == std::string::npos) {
        fs::remove(e.path(), ec);
      }
    }
  }
  write_counted(path("config.toml"), config_toml);
}

void RunDirectory::write_manifest(const Manifest& m) const {
  JsonObject o;
  o.add("version", NWGF_VERSION_STRING);
  o.add("status", m.status);
  o.add("backend", m.backend);
  o.add("threads", m.threads);
  if (m.ranks > 0) o.add("ranks", m.ranks);
  o.add("dtype", m.dtype);
  o.add("seed", m.seed);
  o.add("step", m.step);
  o.add("time", m.time);
  o.add("n", m.n);
  o.add("d", m.d);
  if (m.latent_dim >= 0) o.add("latent_dim", m.latent_dim);
  o.add("analytic_reference", m.analytic_reference);
  o.raw("config", m.config_json);
  if (!m.phases_json.empty()) o.raw("phases", m.phases_json);
  if (!m.counters_json.empty()) o.raw("counters", m.counters_json);
  write_counted(path("manifest.json"), o.str() + "\n");
}

std::string RunDirectory::manifest_scheme() const {
  const std::string p = path("manifest.json");
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return "";
  const std::string text = read_file(p);
  const std::size_t key = text.find("\"scheme\"");
  if (key == std::string::npos) return "";
  const std::size_t colon = text.find(':', key);
  const std::size_t open = colon == std::string::npos ? colon : text.find('"', colon);
  const std::size_t close = open == std::string::npos ? open : text.find('"', open + 1);
  if (close == std::string::npos) return "";
  return text.substr(open + 1, close - open - 1);
}

void RunDirectory::write_metrics(const std::vector<StepInfo>& rows) const {
  std::string csv;
  for (const char* c : metrics_columns) csv += std::string(csv.empty() ? "" : ",") + c;
  std::vector<const OptionalColumn*> extra;
  for (const OptionalColumn& c : optional_columns) {
    if (std::any_of(rows.begin(), rows.end(),
                    [&](const StepInfo& s) { return !std::isnan(s.*c.member); })) {
      extra.push_back(&c);
      csv += ',';
      csv += c.name;
    }
  }
  csv += "\n";
  for (const StepInfo& s : rows) {
    csv += std::to_string(s.step) + "," + csv_number(s.time) + "," + csv_number(s.tau) + "," +
           csv_number(s.loss) + "," + csv_number(s.functional) + "," + csv_number(s.wall_seconds) +
           "," + csv_number(s.mmd2_analytic) + "," + csv_number(s.mmd2_iterate);
    for (const OptionalColumn* c : extra) {
      csv += ',';
      csv += csv_number(s.*c->member);
    }
    csv += "\n";
  }
  write_counted(path("metrics.csv"), csv);
}

bool RunDirectory::has_metrics() const {
  std::error_code ec;
  return fs::is_regular_file(path("metrics.csv"), ec);
}

MetricsTable RunDirectory::read_metrics() const {
  const std::string file = path("metrics.csv");
  if (!has_metrics()) throw_bad_input("no metrics.csv in " + dir_);
  std::istringstream in(read_file(file));
  std::string line;
  if (!std::getline(in, line)) throw_bad_input(file + ": empty, expected a header line");
  MetricsTable t;
  t.columns = split_csv_line(line);
  std::size_t number = 1;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    const std::vector<std::string> cells = split_csv_line(line);
    if (cells.size() != t.columns.size()) {
      throw_bad_input(file + ":" + std::to_string(number) + ": " + std::to_string(cells.size()) +
                      " cells, the header has " + std::to_string(t.columns.size()));
    }
    std::vector<double> row;
    for (const std::string& c : cells) row.push_back(parse_cell(c, file, number));
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::vector<StepInfo> RunDirectory::read_steps(index_t last_step) const {
  const MetricsTable t = read_metrics();
  std::size_t at[std::size(metrics_columns)];
  for (std::size_t k = 0; k < std::size(metrics_columns); ++k) at[k] = t.column(metrics_columns[k]);
  if (at[0] == t.columns.size()) throw_bad_input(path("metrics.csv") + ": no 'step' column");
  std::vector<StepInfo> rows;
  for (const auto& r : t.rows) {
    double f[std::size(metrics_columns)];
    for (std::size_t k = 0; k < std::size(metrics_columns); ++k) {
      f[k] = at[k] < r.size() ? r[at[k]] : StepInfo::none;
    }
    StepInfo s{index_t(f[0]), f[1], f[2], f[3], f[4], f[5], f[6], f[7]};
    for (const OptionalColumn& c : optional_columns) {
      const std::size_t k = t.column(c.name);
      if (k < r.size()) s.*c.member = r[k];
    }
    if (s.step <= last_step) rows.push_back(s);
  }
  return rows;
}

template <class T>
void RunDirectory::write_snapshot(index_t step, const T* x, index_t n, index_t d) const {
  write_npy<T>(path("snapshots/" + step_name(step) + ".npy"), x, n, d);
  trace_count(Counter::bytes_written, double(n) * double(d) * double(sizeof(T)));
}

std::string RunDirectory::weights_name(index_t step) {
  return "weights_" + step_name(step).substr(5);
}

void RunDirectory::write_weights(index_t step, const std::vector<double>& w) const {
  write_npy_vector<double>(path("snapshots/" + weights_name(step) + ".npy"), w.data(),
                           index_t(w.size()));
  trace_count(Counter::bytes_written, double(w.size()) * double(sizeof(double)));
}

std::vector<double> RunDirectory::read_weights(index_t step) const {
  const std::string p = path("snapshots/" + weights_name(step) + ".npy");
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return {};
  return read_npy_vector<double>(p);
}
template void RunDirectory::write_snapshot<float>(index_t, const float*, index_t, index_t) const;
template void RunDirectory::write_snapshot<double>(index_t, const double*, index_t, index_t) const;

std::vector<SnapshotFile> RunDirectory::snapshots() const {
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) throw_bad_input(dir_ + ": not a run directory");
  std::vector<SnapshotFile> found;
  const fs::path dir = fs::path(dir_) / "snapshots";
  if (fs::is_directory(dir, ec)) {
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const index_t step = snapshot_step(e.path());
      if (step >= 0 && e.is_regular_file(ec)) found.push_back({step, e.path().string()});
    }
  }
  if (found.empty()) {
    throw_bad_input(dir_ + ": no snapshots (expected " + dir.string() + "/step_NNNNNN.npy)");
  }
  std::sort(found.begin(), found.end(), [](const SnapshotFile& a, const SnapshotFile& b) {
    return a.step != b.step ? a.step < b.step : a.path < b.path;
  });
  return found;
}

void RunDirectory::write_checkpoint(const Checkpoint& c) const {
  std::string b = checkpoint_head(c);
  b += c.samples;
  b += checkpoint_tail(c);
  write_counted(path("checkpoint.bin"), b);
}

template <class T>
void RunDirectory::write_snapshot(const Comm& comm, index_t step, const T* x, index_t n,
                                  index_t d) const {
  if (comm.size() == 1) return write_snapshot<T>(step, x, n, d);
  write_rows_all(comm, path("snapshots/" + step_name(step) + ".npy"), npy_header<T>(n, d), x, n,
                 std::size_t(d) * sizeof(T), std::string());
}

void RunDirectory::write_weights(const Comm& comm, index_t step,
                                 const std::vector<double>& w) const {
  if (comm.size() == 1) return write_weights(step, w);
  const index_t n = index_t(w.size());
  write_rows_all(comm, path("snapshots/" + weights_name(step) + ".npy"),
                 npy_vector_header<double>(n), w.data(), n, sizeof(double), std::string());
}

void RunDirectory::write_checkpoint(const Comm& comm, const Checkpoint& c,
                                    const void* samples) const {
  if (comm.size() == 1) {
    Checkpoint whole = c;
    whole.samples.assign(static_cast<const char*>(samples),
                         std::size_t(c.n * c.d) * c.scalar_bytes);
    return write_checkpoint(whole);
  }
  write_rows_all(comm, path("checkpoint.bin"), checkpoint_head(c), samples, c.n,
                 std::size_t(c.d) * c.scalar_bytes,
                 comm.root() ? checkpoint_tail(c) : std::string());
}

template void RunDirectory::write_snapshot<float>(const Comm&, index_t, const float*, index_t,
                                                  index_t) const;
template void RunDirectory::write_snapshot<double>(const Comm&, index_t, const double*, index_t,
                                                   index_t) const;

template <class T>
void RunDirectory::write_snapshot_rows(const Comm& comm, index_t step, const T* own, index_t n,
                                       index_t d) const {
  if (comm.size() == 1) return write_snapshot<T>(step, own, n, d);
  write_own_rows_all(comm, path("snapshots/" + step_name(step) + ".npy"), npy_header<T>(n, d), own,
                     n, std::size_t(d) * sizeof(T), std::string());
}
template void RunDirectory::write_snapshot_rows<float>(const Comm&, index_t, const float*, index_t,
                                                       index_t) const;
template void RunDirectory::write_snapshot_rows<double>(const Comm&, index_t, const double*,
                                                        index_t, index_t) const;

void RunDirectory::write_checkpoint_rows(const Comm& comm, const Checkpoint& c,
                                         const void* own) const {
  if (comm.size() == 1) return write_checkpoint(comm, c, own);
  write_own_rows_all(comm, path("checkpoint.bin"), checkpoint_head(c), own, c.n,
                     std::size_t(c.d) * c.scalar_bytes,
                     comm.root() ? checkpoint_tail(c) : std::string());
}

void RunDirectory::write_weights_rows(const Comm& comm, index_t step,
                                      const std::vector<double>& own, index_t n) const {
  if (comm.size() == 1) return write_weights(step, own);
  write_own_rows_all(comm, path("snapshots/" + weights_name(step) + ".npy"),
                     npy_vector_header<double>(n), own.data(), n, sizeof(double), std::string());
}

void RunDirectory::write_weighted_checkpoint_rows(const Comm& comm, const Checkpoint& c,
                                                  const void* own,
                                                  const std::vector<double>& own_weights) const {
  if (comm.size() == 1) {
    Checkpoint whole = c;
    whole.scheme_state.assign(reinterpret_cast<const char*>(own_weights.data()),
                              own_weights.size() * sizeof(double));
    return write_checkpoint(comm, whole, own);
  }
  // head | samples (n rows) | u64 8 n | weights (n rows) | u64 bytes | dynamics key
  const auto [r0, r1] = owned_rows(c.n, comm.rank(), comm.size());
  const std::string head = checkpoint_head(c);
  const std::uint64_t row_bytes = std::uint64_t(c.d) * c.scalar_bytes;
  const std::uint64_t state_at = head.size() + std::uint64_t(c.n) * row_bytes;
  const std::uint64_t state_bytes = std::uint64_t(c.n) * sizeof(double);
  std::string len(reinterpret_cast<const char*>(&state_bytes), 8);
  Checkpoint keyed;
  keyed.dynamics_key = c.dynamics_key;
  const std::string key_tail = checkpoint_tail(keyed).substr(8);  // the empty state's length out
  std::vector<FilePart> parts;
  if (comm.root()) parts.push_back({0, head.data(), head.size()});
  parts.push_back({head.size() + std::uint64_t(r0) * row_bytes, own,
                   std::size_t(std::uint64_t(r1 - r0) * row_bytes)});
  if (comm.root()) parts.push_back({state_at, len.data(), len.size()});
  parts.push_back({state_at + 8 + std::uint64_t(r0) * sizeof(double), own_weights.data(),
                   std::size_t(r1 - r0) * sizeof(double)});
  if (comm.root()) parts.push_back({state_at + 8 + state_bytes, key_tail.data(), key_tail.size()});
  write_file_atomic_all(comm, path("checkpoint.bin"), parts);
  if (comm.root()) {
    trace_count(Counter::bytes_written,
                double(state_at + 8 + state_bytes) + double(key_tail.size()));
  }
}

Checkpoint RunDirectory::read_checkpoint_rows(std::uint32_t scalar_bytes, index_t n, index_t d,
                                              index_t first, index_t last) const {
  return read_checkpoint_rows(scalar_bytes, n, d, first, last, 0);
}

// state_row_bytes 0: the whole scheme state.
Checkpoint RunDirectory::read_checkpoint_rows(std::uint32_t scalar_bytes, index_t n, index_t d,
                                              index_t first, index_t last,
                                              std::size_t state_row_bytes) const {
  const std::string file = path("checkpoint.bin");
  if (!fs::exists(file)) throw_bad_input("--resume: no checkpoint in " + dir_);
  const std::uint64_t size = file_size(file);
  constexpr std::size_t head_bytes = 8 + 8 + 8 + 4 + 8 + 8;
  if (size < head_bytes) throw_bad_input(file + ": truncated checkpoint");
  const std::string head = read_file_range(file, 0, head_bytes);
  Checkpoint c = CheckpointReader{file, head}.head(scalar_bytes, n, d);
  const std::uint64_t row_bytes = std::uint64_t(d) * scalar_bytes;
  const std::uint64_t tail_at = head_bytes + std::uint64_t(n) * row_bytes;
  if (size < tail_at) throw_bad_input(file + ": truncated checkpoint");
  if (last > first) {
    c.samples = read_file_range(file, head_bytes + std::uint64_t(first) * row_bytes,
                                std::size_t(std::uint64_t(last - first) * row_bytes));
  }
  if (state_row_bytes == 0) {
    const std::string tail = read_file_range(file, tail_at, std::size_t(size - tail_at));
    CheckpointReader{file, tail}.tail(c);
    return c;
  }
  // The state's length, then only this rank's rows of it, then the dynamics key.
  if (size < tail_at + 8) throw_bad_input(file + ": truncated checkpoint");
  std::uint64_t state_bytes = 0;
  const std::string len = read_file_range(file, tail_at, 8);
  std::memcpy(&state_bytes, len.data(), 8);
  const std::uint64_t state_at = tail_at + 8;
  if (state_bytes != std::uint64_t(n) * state_row_bytes || size < state_at + state_bytes) {
    throw_bad_input(file + ": the scheme state in the checkpoint does not match n = " +
                    std::to_string(n));
  }
  if (last > first) {
    c.scheme_state = read_file_range(file, state_at + std::uint64_t(first) * state_row_bytes,
                                     std::size_t(last - first) * state_row_bytes);
  }
  const std::uint64_t key_at = state_at + state_bytes;
  const std::string key = read_file_range(file, key_at, std::size_t(size - key_at));
  CheckpointReader r{file, key};
  std::uint64_t key_len = 0;
  r.get(&key_len, 8);
  c.dynamics_key = r.take(std::size_t(key_len));
  return c;
}

Checkpoint RunDirectory::read_checkpoint(std::uint32_t scalar_bytes, index_t n, index_t d) const {
  const std::string file = path("checkpoint.bin");
  if (!fs::exists(file)) throw_bad_input("--resume: no checkpoint in " + dir_);
  const std::string b = read_file(file);
  CheckpointReader r{file, b};
  Checkpoint c = r.head(scalar_bytes, n, d);
  c.samples = r.take(std::size_t(n * d) * scalar_bytes);
  r.tail(c);
  return c;
}

}  // namespace nwgf

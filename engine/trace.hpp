#pragma once
// Phase spans: one RAII type, TraceSpan, that is both the NVTX range of a phase (Nsight Systems,
// engine/nvtx.hpp) and, while a TraceSession records, a span in the run's trace (Chrome Trace
// Event / Perfetto JSON, `nwgf run --trace FILE`) and in its per-phase time summary
// (manifest.json `phases`). The phase names are defined once, in the table below.
//
//   { TraceSpan s(Phase::adam); adam.step(...); }       // a phase (any thread)
//   trace_count(Counter::pairs, double(n) * m);         // a counter (running total)
//
// Spans belong at phase granularity (a GEMM call, a pair pass, an Adam step), never per element
// or inside OpenMP loops. With no session recording a span costs one relaxed atomic load (and
// the NVTX push/pop of CUDA builds); recording, two clock reads and a per-thread buffer update.
// On the CUDA backend a span measures host time (launches and the synchronisations inside it);
// while a session keeps events, the span is also timed on the device, by a pair of pooled CUDA
// events on the context's stream (engine/trace_device.hpp): the trace's "stream N" tracks.
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "nwgf/engine/nvtx.hpp"

namespace nwgf {

// Every phase with a span. The names are the NVTX range names and the trace's span names.
enum class Phase : std::uint8_t {
  run,
  setup,
  step,
  batch,
  network_forward,
  network_backward,
  functional,
  pairwise,
  sliced_project,
  sliced_sort_rank,
  sliced_sort,
  sliced_rank,
  sliced_back_project,
  adam,
  push,
  critic,
  weight_step,
  evaluation,
  metrics_write,
  snapshot_write,
  checkpoint_write,
  manifest_write,
  plots,
  count
};

inline constexpr const char* phase_names[] = {
    "run",           "setup",         "step",          "batch sampling",
    "network forward", "network backward", "functional", "pairwise terms",
    "sliced project", "sliced sort and rank", "sliced sort", "sliced rank",
    "sliced back-project", "adam",   "push",          "critic",
    "weight step",   "evaluation",    "metrics write", "snapshot write",
    "checkpoint write", "manifest write", "plots"};
static_assert(sizeof(phase_names) / sizeof(phase_names[0]) == std::size_t(Phase::count),
              "one name per phase");

constexpr const char* phase_name(Phase p) { return phase_names[std::size_t(p)]; }

// Counters (running totals over a session): pairs evaluated by the pair kernels, GEMM FLOPs
// (2 m n k per call), bytes written to the run directory.
enum class Counter : std::uint8_t { pairs, gemm_flops, bytes_written, count };
inline constexpr const char* counter_names[] = {"pairs", "gemm_flops", "bytes_written"};
static_assert(sizeof(counter_names) / sizeof(counter_names[0]) == std::size_t(Counter::count),
              "one name per counter");

namespace trace_detail {
// 0: no session; 1: phase totals; 2: phase totals and every span (the trace file).
extern std::atomic<int> mode;
inline bool active() { return mode.load(std::memory_order_relaxed) != 0; }
std::int64_t begin(Phase p);  // the span's start (ns since the session started)
void end(Phase p, std::int64_t start);
void count(Counter c, double amount);
}  // namespace trace_detail

inline void trace_count(Counter c, double amount) {
  if (trace_detail::active()) trace_detail::count(c, amount);
}

// The span ends at close() or at the end of its scope, whichever comes first.
class TraceSpan {
 public:
  explicit TraceSpan(Phase p) : phase_(p) {
    nvtx_push(phase_name(p));
    if (trace_detail::active()) start_ = trace_detail::begin(p);
  }
  ~TraceSpan() { close(); }
  void close() {
    if (closed_) return;
    closed_ = true;
    if (start_ >= 0) trace_detail::end(phase_, start_);
    nvtx_pop();
  }
  TraceSpan(const TraceSpan&) = delete;
  TraceSpan& operator=(const TraceSpan&) = delete;

 private:
  Phase phase_;
  bool closed_ = false;
  std::int64_t start_ = -1;
};

// The time of one phase, exclusive of the phases nested in it, summed over threads.
struct PhaseTime {
  Phase phase = Phase::run;
  double seconds = 0;
  double share = 0;  // seconds / the session's wall time
};

// Records spans and counters from construction to destruction (or stop()). One session at a
// time per process: a session made while another records is inert (records nothing, reports
// nothing). `events`: keep every span for chrome_json(); else only the per-phase totals.
class TraceSession {
 public:
  explicit TraceSession(bool events);
  ~TraceSession();
  TraceSession(const TraceSession&) = delete;
  TraceSession& operator=(const TraceSession&) = delete;

  bool recording() const { return owner_; }
  // Stops recording (idempotent); the results below stay readable.
  void stop();
  // The calling thread's counter sample (the running totals) for the trace's counter tracks.
  void sample_counters();

  double wall_seconds() const;
  // Phases with time, longest first.
  std::vector<PhaseTime> phases() const;
  double counter(Counter c) const;
  // {"traceEvents": [...]}: process and thread names, one complete ("X") event per span in
  // microseconds, counter ("C") events; one track per thread that recorded.
  std::string chrome_json(const std::string& process_name) const;

 private:
  bool owner_ = false;
  bool stopped_ = false;
  std::int64_t stop_ns_ = 0;
};

}  // namespace nwgf

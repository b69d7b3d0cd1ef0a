#pragma once
// A run's profile (engine/trace.hpp): where its trace file goes (`nwgf run --trace FILE`, or
// `[output] trace = true`: trace.json in the run directory), the per-phase time summary of
// manifest.json and RunResult, and writing the trace.
#include <string>
#include <vector>

#include "nwgf/engine/trace.hpp"
#include "nwgf/schemes/config.hpp"
#include "nwgf/schemes/flow.hpp"

namespace nwgf {

// The trace file of this run: opt.trace_path, else out_dir/trace.json with [output] trace, else
// "" (no trace file). Bad input naming --trace when the path is a directory or its nearest
// existing parent is not a writable directory (checked before the run starts).
std::string run_trace_file(const FlowConfig& cfg, const RunOptions& opt);

// The session's phases, longest first (exclusive times; shares of the session's wall time).
std::vector<PhaseSeconds> phase_summary(const TraceSession& session);
// The session's counters (pairs, gemm_flops, bytes_written), in that order.
std::vector<std::pair<std::string, double>> counter_summary(const TraceSession& session);

// {"name": {"seconds": s, "share": f}, ...} in the given order.
std::string phases_json(const std::vector<PhaseSeconds>& phases);
// {"pairs": p, "gemm_flops": f, "bytes_written": b}
std::string counters_json(const std::vector<std::pair<std::string, double>>& counters);
// "network backward 35%, pairwise terms 30%, adam 10%": the `top` longest phases.
std::string top_phases(const std::vector<PhaseSeconds>& phases, std::size_t top = 3);

// The Chrome Trace Event JSON of the session, written atomically (parent directories made).
void write_run_trace(const TraceSession& session, const std::string& path);

}  // namespace nwgf

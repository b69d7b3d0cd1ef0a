// engine/trace.hpp: spans and counters of a TraceSession, their per-phase totals and the Chrome
// Trace Event JSON (valid, nested per thread, one track per thread).
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <set>
#include <string>
#include <thread>

#include "engine/trace.hpp"
#include "tests/json_reader.hpp"
#include "tests/trace_check.hpp"

using namespace nwgf;

namespace {

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

double seconds_of(const std::vector<PhaseTime>& phases, Phase p) {
  for (const PhaseTime& t : phases) {
    if (t.phase == p) return t.seconds;
  }
  return 0;
}

}  // namespace

TEST_CASE("phase names: one per phase, distinct") {
  std::set<std::string> names;
  for (std::size_t p = 0; p < std::size_t(Phase::count); ++p) {
    CHECK(std::strlen(phase_name(Phase(p))) > 0);
    names.insert(phase_name(Phase(p)));
  }
  CHECK(names.size() == std::size_t(Phase::count));
  CHECK(std::string(phase_name(Phase::adam)) == "adam");
  CHECK(std::string(phase_name(Phase::sliced_back_project)) == "sliced back-project");
}

TEST_CASE("without a session spans and counters record nothing") {
  { TraceSpan s(Phase::step); }
  trace_count(Counter::pairs, 5);
  TraceSession session(true);
  REQUIRE(session.recording());
  session.stop();
  CHECK(session.phases().empty());
  CHECK(session.counter(Counter::pairs) == 0);
  const test::TraceSummary t = test::summarise_trace(test::parse_json(session.chrome_json("x")));
  CHECK(t.problem.empty());
  CHECK(t.spans == 0);
}

TEST_CASE("exclusive phase times, nesting and threads in the trace") {
  TraceSession session(true);
  REQUIRE(session.recording());
  {
    TraceSpan run(Phase::run);
    {
      TraceSpan outer(Phase::step);
      sleep_ms(40);
      {
        TraceSpan inner(Phase::adam);
        sleep_ms(40);
        trace_count(Counter::gemm_flops, 1000);
      }
      session.sample_counters();
    }
    std::thread worker([] {
      TraceSpan a(Phase::evaluation);
      TraceSpan b(Phase::pairwise);
      trace_count(Counter::pairs, 42);
      sleep_ms(30);
    });
    worker.join();
    session.sample_counters();
  }
  session.stop();
  const auto phases = session.phases();
  const double wall = session.wall_seconds();
  const double adam = seconds_of(phases, Phase::adam), step = seconds_of(phases, Phase::step);
  CHECK(adam >= 0.039);
  CHECK(step >= 0.039);
  // Exclusive: the step's own time excludes the nested adam span.
  CHECK(step + adam <= wall + 1e-9);
  CHECK(seconds_of(phases, Phase::pairwise) >= 0.029);
  double total = 0;
  for (const PhaseTime& p : phases) {
    total += p.seconds;
    CHECK(p.share == doctest::Approx(p.seconds / wall));
  }
  // The worker's spans overlap the main thread's (which waits in join, inside the run span):
  // each thread's own exclusive times add up to at most the wall time, and the worker's 30 ms
  // count on both tracks, so the total exceeds the main thread's run span by them. (Not
  // `total > wall`: a preemption of more than 30 ms between the session's start and the run
  // span, or the run span's end and stop(), made that fail under load.)
  const double worker = seconds_of(phases, Phase::evaluation) + seconds_of(phases, Phase::pairwise);
  const double main_thread = seconds_of(phases, Phase::run) + step + adam;  // the run span
  CHECK(main_thread <= wall + 1e-9);
  CHECK(total - worker == doctest::Approx(main_thread));
  CHECK(seconds_of(phases, Phase::run) >= 0.029);  // the join, while the worker's spans ran
  CHECK(total >= main_thread + 0.029);
  for (std::size_t i = 1; i < phases.size(); ++i) CHECK(phases[i - 1].seconds >= phases[i].seconds);
  CHECK(session.counter(Counter::pairs) == 42);
  CHECK(session.counter(Counter::gemm_flops) == 1000);

  const test::JsonValue doc = test::parse_json(session.chrome_json("test \"process\""));
  const test::TraceSummary t = test::summarise_trace(doc);
  CHECK_MESSAGE(t.problem.empty(), t.problem);
  CHECK(t.spans == 5);
  CHECK(t.tids.size() == 2);
  CHECK(t.names == std::set<std::string>{"run", "step", "adam", "evaluation", "pairwise terms"});
  CHECK(t.counter_names ==
        std::set<std::string>{"pairs", "gemm_flops", "bytes_written"});
  CHECK(t.last_counter.at("pairs") == 42);
  CHECK(t.root_us >= 110000);
  CHECK(t.coverage > 0.5);
}

TEST_CASE("phase totals only: no spans kept; a second session is inert") {
  TraceSession session(false);
  REQUIRE(session.recording());
  TraceSession second(true);
  CHECK_FALSE(second.recording());
  { TraceSpan s(Phase::plots); }
  session.stop();
  CHECK(seconds_of(session.phases(), Phase::plots) > 0);
  CHECK(second.phases().empty());
  const test::TraceSummary t = test::summarise_trace(test::parse_json(session.chrome_json("p")));
  CHECK(t.problem.empty());
  CHECK(t.spans == 0);
  // After the first stopped a new session records again.
  TraceSession third(true);
  CHECK(third.recording());
}

TEST_CASE("a span begun before the session started is ignored") {
  TraceSpan early(Phase::run);
  TraceSession session(true);
  { TraceSpan s(Phase::step); }
  session.stop();
  const auto phases = session.phases();
  CHECK(phases.size() == 1);
  CHECK(seconds_of(phases, Phase::run) == 0);
}

TEST_CASE("the trace checker finds overlapping spans") {
  const std::string bad =
      R"({"traceEvents": [{"name": "a", "ph": "X", "ts": 0, "dur": 10, "pid": 1, "tid": 0},
                          {"name": "b", "ph": "X", "ts": 5, "dur": 10, "pid": 1, "tid": 0}]})";
  CHECK_FALSE(test::summarise_trace(test::parse_json(bad)).problem.empty());
  CHECK_THROWS(test::parse_json("{\"traceEvents\": [1, 2,]}"));
  CHECK_THROWS(test::parse_json("{\"a\": 1} x"));
}

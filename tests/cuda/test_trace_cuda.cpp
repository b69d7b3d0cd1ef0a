// The device tracks of a trace session (engine/trace_device.hpp, engine/trace_device.cu): with a
// CUDA context, each span of the context's thread is also timed on its stream by a pair of pooled
// events, and the trace gains process "GPU 0" with a "stream N" track whose spans nest and lie
// inside the session. Skipped (exit 77) where no CUDA device is usable.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/cuda_graph.hpp"
#include "nwgf/engine/trace.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "tests/json_reader.hpp"
#include "tests/trace_check.hpp"

using namespace nwgf;

namespace {

// A few pair passes on the device, each inside a step span (the pass has its own span).
double pair_steps(const Context& ctx, int steps) {
  const index_t n = 200, d = 3;
  std::vector<float> h(std::size_t(n * d));
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = float(i % 17) * 0.1f - float(i % 5);
  Points<float> x(ctx, n, d);
  copy_from_host(ctx, x.buffer(), h.data(), index_t(h.size()));
  double e = 0;
  for (int s = 0; s < steps; ++s) {
    TraceSpan step(Phase::step);
    e += riesz_energy_value<float>(ctx, x.view(), nullptr, x.view(), nullptr, 1.0);
  }
  return e;
}

test::TraceSummary summary_of(const TraceSession& session) {
  return test::summarise_trace(test::parse_json(session.chrome_json("test")));
}

int count_of(const test::TraceSummary& t, const std::string& thread) {
  for (const auto& d : t.device_tracks) {
    if (d.thread == thread) return d.spans;
  }
  return -1;
}

}  // namespace

TEST_CASE("a CUDA context's stream is a device track: nested spans inside the session") {
  Context ctx(Device::cuda, 1);  // made before the session, as `nwgf run` does
  TraceSession session(true);
  REQUIRE(session.recording());
  {
    TraceSpan run(Phase::run);
    CHECK(pair_steps(ctx, 3) > 0);
  }
  session.stop();
  const test::TraceSummary t = summary_of(session);
  REQUIRE(t.problem.empty());
  REQUIRE(t.device_tracks.size() == 1);
  const test::DeviceTrackSummary& d = t.device_tracks[0];
  CHECK(d.process == "GPU 0");
  CHECK(d.thread == "stream 0");
  CHECK(d.names.count("run") == 1);
  CHECK(d.names.count("step") == 1);
  CHECK(d.names.count("pairwise terms") == 1);
  CHECK(d.spans == 1 + 3 + 3);
  CHECK(d.first_us >= 0);
  CHECK(d.last_end_us <= session.wall_seconds() * 1e6 + 1e-3);
  // The host spans are unchanged: "run" stays the root.
  CHECK(t.root_us >= d.last_end_us - d.first_us - 1e-3);
}

TEST_CASE("more spans than the event pool holds, other threads' spans and no session") {
  Context ctx(Device::cuda, 1);
  { TraceSpan before(Phase::step); }  // no session: nothing recorded
  TraceSession session(true);
  {
    TraceSpan run(Phase::run);
    for (int i = 0; i < 700; ++i) {
      TraceSpan s(Phase::adam);
    }
    std::thread other([] { TraceSpan s(Phase::evaluation); });
    other.join();
  }
  session.stop();
  const test::TraceSummary t = summary_of(session);
  REQUIRE(t.problem.empty());
  CHECK(count_of(t, "stream 0") == 701);
  REQUIRE(t.device_tracks.size() == 1);
  CHECK(t.device_tracks[0].names.count("evaluation") == 0);
  CHECK(t.names.count("evaluation") == 1);  // on the other thread's host track
}

TEST_CASE("a context made and destroyed inside the session hands over its own track") {
  TraceSession session(true);
  TraceSpan run(Phase::run);
  {
    Context a(Device::cuda, 1);
    CHECK(pair_steps(a, 1) > 0);
  }
  Context b(Device::cuda, 1);
  CHECK(pair_steps(b, 2) > 0);
  run.close();  // begun before either context: on no device track
  session.stop();
  const test::TraceSummary t = summary_of(session);
  REQUIRE(t.problem.empty());
  CHECK(t.device_tracks.size() == 2);
  CHECK(count_of(t, "stream 0") == 2);
  CHECK(count_of(t, "stream 1") == 4);
  for (const auto& d : t.device_tracks) CHECK(d.names.count("run") == 0);
}

TEST_CASE("a session without a trace file records no device events") {
  Context ctx(Device::cuda, 1);
  TraceSession session(false);
  CHECK(pair_steps(ctx, 2) > 0);
  session.stop();
  CHECK(summary_of(session).device_tracks.empty());
}

TEST_CASE("one context in two traced sessions: a fresh stream 0 track each time") {
  Context ctx(Device::cuda, 1);
  for (int k = 0; k < 2; ++k) {
    TraceSession session(true);
    CHECK(pair_steps(ctx, 1 + k) > 0);
    session.stop();
    const test::TraceSummary t = summary_of(session);
    REQUIRE(t.problem.empty());
    CHECK(t.device_tracks.size() == 1);
    CHECK(count_of(t, "stream 0") == 2 * (1 + k));
  }
}

TEST_CASE("spans inside a CUDA graph capture get no device marks; the capture and replay work") {
  Context ctx(Device::cuda, 1);
  const index_t n = 64;
  Buffer<float> b(ctx, n);
  std::vector<float> ones(std::size_t(n), 1.0f);
  copy_from_host(ctx, b, ones.data(), n);
  TraceSession session(true);
  std::vector<float> h(static_cast<std::size_t>(n));
  {
    TraceSpan run(Phase::run);
    // A span that begins and ends inside the capture: it may not record on the stream.
    CudaGraph graph(ctx, [&] {
      TraceSpan inner(Phase::adam);
      fill_zero(ctx, b);
    });
    copy_to_host(ctx, h.data(), b);
    CHECK(h[0] == 1.0f);  // captured, not run
    {
      TraceSpan replay(Phase::step);
      graph.replay(ctx);
    }
  }
  session.stop();
  copy_to_host(ctx, h.data(), b);
  CHECK(h[0] == 0.0f);
  CHECK(h[std::size_t(n) - 1] == 0.0f);
  const test::TraceSummary t = summary_of(session);
  REQUIRE(t.problem.empty());
  REQUIRE(t.device_tracks.size() == 1);
  CHECK(t.device_tracks[0].names.count("adam") == 0);
  CHECK(t.device_tracks[0].names.count("step") == 1);
  CHECK(t.device_tracks[0].spans == 2);  // run and step
  CHECK(t.names.count("adam") == 1);    // still on the host track
}

#include "nwgf/engine/trace.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>

#include "nwgf/engine/trace_device.hpp"

namespace nwgf {
namespace trace_detail {

std::atomic<int> mode{0};

namespace {

struct Event {
  std::int64_t start, dur;  // ns since the session started
  Phase phase;
};

struct CounterSample {
  std::int64_t at;
  std::array<double, std::size_t(Counter::count)> values;
};

// One thread's record of one session. Only its thread writes it while the session records;
// it is read after the session stopped.
struct ThreadBuffer {
  int tid = 0;
  std::vector<Event> events;
  std::vector<CounterSample> samples;
  std::array<std::int64_t, std::size_t(Phase::count)> exclusive{};  // ns
  std::vector<std::int64_t> children;  // per open span: time of the spans nested in it
};

std::int64_t clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct DeviceTrack {
  int device = 0, stream = 0;
  std::vector<DeviceSpan> spans;
};

struct Registry {
  std::mutex mutex;
  std::atomic<std::uint64_t> generation{0};
  std::atomic<bool> owned{false};
  std::int64_t origin = 0;  // clock_ns() at the session's start
  bool events = false;
  std::vector<std::unique_ptr<ThreadBuffer>> threads;
  std::vector<DeviceTrack> device_tracks;
  std::array<std::atomic<double>, std::size_t(Counter::count)> counters{};
};

Registry& registry() {
  static Registry r;
  return r;
}

struct ThreadSlot {
  std::uint64_t generation = 0;
  ThreadBuffer* buffer = nullptr;
};
thread_local ThreadSlot slot;

// The calling thread's buffer of the current session (registered on first use).
ThreadBuffer* local() {
  Registry& r = registry();
  const std::uint64_t g = r.generation.load(std::memory_order_acquire);
  if (slot.generation != g || !slot.buffer) {
    std::lock_guard<std::mutex> lock(r.mutex);
    r.threads.push_back(std::make_unique<ThreadBuffer>());
    r.threads.back()->tid = int(r.threads.size()) - 1;
    slot.buffer = r.threads.back().get();
    slot.generation = g;
  }
  return slot.buffer;
}

std::int64_t now() { return clock_ns() - registry().origin; }

// The registered device timelines. `mode` changes to and from 2 (events) only under `mutex`, so
// a timeline is started and finished once per session.
struct Timelines {
  std::mutex mutex;
  std::vector<DeviceTimeline*> all;
  std::atomic<int> count{0};
  int next_stream = 0;
};

Timelines& timelines() {
  static Timelines t;
  return t;
}

// Marks every timeline (each keeps the marks of its own thread only).
template <class F>
void mark_timelines(F&& f) {
  if (mode.load(std::memory_order_relaxed) != 2) return;
  if (timelines().count.load(std::memory_order_relaxed) == 0) return;
  Timelines& t = timelines();
  std::lock_guard<std::mutex> lock(t.mutex);
  if (mode.load(std::memory_order_relaxed) != 2) return;
  for (DeviceTimeline* d : t.all) f(*d);
}

}  // namespace

std::int64_t session_now() { return now(); }

void add_timeline(DeviceTimeline* d) {
  Timelines& t = timelines();
  std::lock_guard<std::mutex> lock(t.mutex);
  t.all.push_back(d);
  t.count.fetch_add(1, std::memory_order_relaxed);
  if (mode.load(std::memory_order_relaxed) == 2) d->start(t.next_stream++);
}

void remove_timeline(DeviceTimeline* d) {
  Timelines& t = timelines();
  std::lock_guard<std::mutex> lock(t.mutex);
  const auto it = std::find(t.all.begin(), t.all.end(), d);
  if (it == t.all.end()) return;
  t.all.erase(it);
  t.count.fetch_sub(1, std::memory_order_relaxed);
  if (mode.load(std::memory_order_relaxed) == 2) d->finish();
}

void device_track(int device, int stream, std::vector<DeviceSpan> spans) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.device_tracks.push_back({device, stream, std::move(spans)});
}

std::int64_t begin(Phase p) {
  local()->children.push_back(0);
  const std::int64_t start = now();
  mark_timelines([p](DeviceTimeline& d) { d.begin(p); });
  return start;
}

void end(Phase p, std::int64_t start) {
  const int m = mode.load(std::memory_order_relaxed);
  if (m == 0) return;
  ThreadBuffer* b = local();
  if (b->children.empty()) return;  // begun in an earlier session
  mark_timelines([p](DeviceTimeline& d) { d.end(p); });
  const std::int64_t dur = now() - start;
  const std::int64_t inner = b->children.back();
  b->children.pop_back();
  b->exclusive[std::size_t(p)] += std::max<std::int64_t>(0, dur - inner);
  if (!b->children.empty()) b->children.back() += dur;
  if (m == 2) b->events.push_back({start, dur, p});
}

void count(Counter c, double amount) {
  registry().counters[std::size_t(c)].fetch_add(amount, std::memory_order_relaxed);
}

}  // namespace trace_detail

using namespace trace_detail;

TraceSession::TraceSession(bool events) {
  Registry& r = registry();
  bool expected = false;
  if (!r.owned.compare_exchange_strong(expected, true)) return;
  owner_ = true;
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    r.threads.clear();
    r.device_tracks.clear();
    for (auto& c : r.counters) c.store(0, std::memory_order_relaxed);
    r.events = events;
    r.origin = clock_ns();
  }
  r.generation.fetch_add(1, std::memory_order_acq_rel);
  Timelines& t = timelines();
  std::lock_guard<std::mutex> lock(t.mutex);
  mode.store(events ? 2 : 1, std::memory_order_release);
  if (!events) return;
  t.next_stream = 0;
  for (DeviceTimeline* d : t.all) d->start(t.next_stream++);
}

TraceSession::~TraceSession() { stop(); }

void TraceSession::stop() {
  if (!owner_ || stopped_) return;
  stopped_ = true;
  {
    // The device tracks first: their spans end before the session does.
    Timelines& t = timelines();
    std::lock_guard<std::mutex> lock(t.mutex);
    if (mode.load(std::memory_order_relaxed) == 2) {
      for (DeviceTimeline* d : t.all) d->finish();
    }
    stop_ns_ = now();
    mode.store(0, std::memory_order_release);
  }
  registry().owned.store(false, std::memory_order_release);
}

void TraceSession::sample_counters() {
  if (!owner_ || stopped_ || !registry().events) return;
  CounterSample s;
  s.at = now();
  for (std::size_t c = 0; c < s.values.size(); ++c) {
    s.values[c] = registry().counters[c].load(std::memory_order_relaxed);
  }
  local()->samples.push_back(s);
}

double TraceSession::wall_seconds() const {
  if (!owner_) return 0;
  return double(stopped_ ? stop_ns_ : now()) * 1e-9;
}

std::vector<PhaseTime> TraceSession::phases() const {
  std::vector<PhaseTime> out;
  if (!owner_) return out;
  std::array<std::int64_t, std::size_t(Phase::count)> total{};
  {
    std::lock_guard<std::mutex> lock(registry().mutex);
    for (const auto& t : registry().threads) {
      for (std::size_t p = 0; p < total.size(); ++p) total[p] += t->exclusive[p];
    }
  }
  const double wall = wall_seconds();
  for (std::size_t p = 0; p < total.size(); ++p) {
    if (total[p] <= 0) continue;
    PhaseTime pt;
    pt.phase = Phase(p);
    pt.seconds = double(total[p]) * 1e-9;
    pt.share = wall > 0 ? pt.seconds / wall : 0;
    out.push_back(pt);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const PhaseTime& a, const PhaseTime& b) { return a.seconds > b.seconds; });
  return out;
}

double TraceSession::counter(Counter c) const {
  return owner_ ? registry().counters[std::size_t(c)].load(std::memory_order_relaxed) : 0.0;
}

namespace {

// ns as microseconds with three decimals, exactly (so nesting survives the conversion).
std::string micros(std::int64_t ns) {
  char b[40];
  std::snprintf(b, sizeof b, "%lld.%03lld", (long long)(ns / 1000), (long long)(ns % 1000));
  return b;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out + "\"";
}

}  // namespace

std::string TraceSession::chrome_json(const std::string& process_name) const {
  const std::string pid = std::to_string(long(::getpid()));
  std::string out = "{\"traceEvents\": [\n";
  out += "{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": " + pid +
         ", \"tid\": 0, \"args\": {\"name\": " + quoted(process_name) + "}}";
  if (!owner_) return out + "\n], \"displayTimeUnit\": \"ms\"}\n";
  std::lock_guard<std::mutex> lock(registry().mutex);
  for (const auto& t : registry().threads) {
    const std::string tid = std::to_string(t->tid);
    const std::string name = t->tid == 0 ? "main" : "thread " + tid;
    out += ",\n{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": " + pid + ", \"tid\": " + tid +
           ", \"args\": {\"name\": " + quoted(name) + "}}";
    // Ends are recorded in order of completion; sort by start (enclosing spans first).
    std::vector<Event> events = t->events;
    std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
      return a.start != b.start ? a.start < b.start : a.dur > b.dur;
    });
    for (const Event& e : events) {
      out += ",\n{\"name\": " + quoted(phase_name(e.phase)) +
             ", \"cat\": \"nwgf\", \"ph\": \"X\", \"ts\": " + micros(e.start) +
             ", \"dur\": " + micros(e.dur) + ", \"pid\": " + pid + ", \"tid\": " + tid + "}";
    }
    for (const CounterSample& s : t->samples) {
      for (std::size_t c = 0; c < s.values.size(); ++c) {
        char v[40];
        std::snprintf(v, sizeof v, "%.17g", s.values[c]);
        out += ",\n{\"name\": " + quoted(counter_names[c]) +
               ", \"cat\": \"nwgf\", \"ph\": \"C\", \"ts\": " + micros(s.at) +
               ", \"pid\": " + pid + ", \"tid\": " + tid + ", \"args\": {\"value\": " + v + "}}";
      }
    }
  }
  // The device tracks: one process per device, one thread per stream (tids apart from the host's).
  std::vector<int> named;
  for (const DeviceTrack& d : registry().device_tracks) {
    const std::string dpid = std::to_string(long(::getpid()) + 1 + d.device);
    const std::string tid = std::to_string(1000 * (d.device + 1) + d.stream);
    if (std::find(named.begin(), named.end(), d.device) == named.end()) {
      named.push_back(d.device);
      out += ",\n{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": " + dpid +
             ", \"tid\": 0, \"args\": {\"name\": " + quoted("GPU " + std::to_string(d.device)) +
             "}}";
    }
    out += ",\n{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": " + dpid + ", \"tid\": " + tid +
           ", \"args\": {\"name\": " + quoted("stream " + std::to_string(d.stream)) + "}}";
    std::vector<DeviceSpan> spans = d.spans;
    std::stable_sort(spans.begin(), spans.end(), [](const DeviceSpan& a, const DeviceSpan& b) {
      return a.start != b.start ? a.start < b.start : a.dur > b.dur;
    });
    for (const DeviceSpan& e : spans) {
      out += ",\n{\"name\": " + quoted(phase_name(e.phase)) +
             ", \"cat\": \"gpu\", \"ph\": \"X\", \"ts\": " + micros(e.start) +
             ", \"dur\": " + micros(e.dur) + ", \"pid\": " + dpid + ", \"tid\": " + tid + "}";
    }
  }
  return out + "\n], \"displayTimeUnit\": \"ms\"}\n";
}

}  // namespace nwgf

#pragma once
// Checks of a Chrome Trace Event JSON (engine/trace.hpp, `nwgf run --trace`): the document's
// shape, per-track nesting of the complete ("X") spans (a track is a pid and tid), how much of the
// root span (the longest host span) the spans directly inside it cover, and the device tracks
// (threads named "stream N" of processes named "GPU k").
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/json_reader.hpp"

namespace nwgf::test {

// One device track: its names, spans and extent (microseconds since the session started).
struct DeviceTrackSummary {
  std::string process, thread;
  int spans = 0;
  double first_us = 0, last_end_us = 0;
  std::set<std::string> names;
};

struct TraceSummary {
  std::string problem;  // "": well formed and properly nested on every track
  int spans = 0;
  int counters = 0;
  std::set<std::string> names;          // of the X spans
  std::set<std::string> counter_names;  // of the C events
  std::map<std::string, double> last_counter;
  std::set<long long> tids;
  double root_us = 0;  // the longest host span ("run")
  double root_end_us = 0;
  double coverage = 0;  // union of the spans directly inside the root / the root's duration
  std::vector<DeviceTrackSummary> device_tracks;
};

inline TraceSummary summarise_trace(const JsonValue& doc) {
  TraceSummary t;
  if (doc.kind != JsonValue::Kind::object || !doc.has("traceEvents") ||
      doc["traceEvents"].kind != JsonValue::Kind::array) {
    t.problem = "no traceEvents array";
    return t;
  }
  struct Span {
    double ts, dur;
  };
  using Track = std::pair<long long, long long>;  // pid, tid
  std::map<Track, std::vector<Span>> tracks;
  std::map<Track, std::set<std::string>> track_names;
  std::map<long long, std::string> process_names;
  std::map<Track, std::string> thread_names;
  for (const JsonValue& e : doc["traceEvents"].array) {
    if (!e.has("ph") || !e.has("pid") || !e.has("tid") || !e.has("name")) {
      t.problem = "an event without ph, pid, tid or name";
      return t;
    }
    const std::string ph = e["ph"].string;
    const long long tid = (long long)e["tid"].number;
    const Track track{(long long)e["pid"].number, tid};
    if (ph == "X") {
      if (!e.has("ts") || !e.has("dur") || e["dur"].number < 0) {
        t.problem = "an X event without ts or with a negative dur";
        return t;
      }
      tracks[track].push_back({e["ts"].number, e["dur"].number});
      track_names[track].insert(e["name"].string);
      t.names.insert(e["name"].string);
      t.tids.insert(tid);
      ++t.spans;
    } else if (ph == "C") {
      t.counter_names.insert(e["name"].string);
      t.last_counter[e["name"].string] = e["args"]["value"].number;
      ++t.counters;
    } else if (ph == "M") {
      if (!e.has("args") || !e["args"].has("name")) {
        t.problem = "a metadata event without args.name";
        return t;
      }
      if (e["name"].string == "process_name") process_names[track.first] = e["args"]["name"].string;
      if (e["name"].string == "thread_name") thread_names[track] = e["args"]["name"].string;
    } else {
      t.problem = "an event of phase " + ph;
      return t;
    }
  }
  // Nesting: sorted by start (longer first on ties), every span lies inside the innermost open
  // span that has not ended before it starts. 1 ns of slack for the microsecond decimals.
  const double eps = 1e-3;
  const auto is_device = [&](const Track& k) {
    return thread_names[k].rfind("stream ", 0) == 0 && process_names[k.first].rfind("GPU ", 0) == 0;
  };
  const Span* root = nullptr;
  Track root_track{0, 0};
  for (auto& [track, spans] : tracks) {
    const long long tid = track.second;
    std::stable_sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
      return a.ts != b.ts ? a.ts < b.ts : a.dur > b.dur;
    });
    std::vector<const Span*> open;
    for (const Span& s : spans) {
      while (!open.empty() && s.ts >= open.back()->ts + open.back()->dur - eps) open.pop_back();
      if (!open.empty() && s.ts + s.dur > open.back()->ts + open.back()->dur + eps) {
        t.problem = "span at ts " + std::to_string(s.ts) + " on tid " + std::to_string(tid) +
                    " overlaps the end of its enclosing span";
        return t;
      }
      open.push_back(&s);
      if (!is_device(track) && (!root || s.dur > root->dur)) {
        root = &s;
        root_track = track;
      }
    }
    if (is_device(track) && !spans.empty()) {
      DeviceTrackSummary d;
      d.process = process_names[track.first];
      d.thread = thread_names[track];
      d.spans = int(spans.size());
      d.first_us = spans.front().ts;
      for (const Span& s : spans) d.last_end_us = std::max(d.last_end_us, s.ts + s.dur);
      d.names = track_names[track];
      t.device_tracks.push_back(d);
    }
  }
  if (!root) return t;
  t.root_us = root->dur;
  t.root_end_us = root->ts + root->dur;
  // The spans directly inside the root are disjoint (nested ones lie inside them).
  double covered = 0, end = root->ts;
  for (const Span& s : tracks[root_track]) {
    if (&s == root || s.ts < root->ts || s.ts + s.dur > root->ts + root->dur + eps) continue;
    if (s.ts >= end - eps) {
      covered += s.dur;
      end = s.ts + s.dur;
    }
  }
  t.coverage = root->dur > 0 ? covered / root->dur : 0;
  return t;
}

}  // namespace nwgf::test

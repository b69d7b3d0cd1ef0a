#pragma once
// The device side of a trace session (engine/trace.hpp), internal to the engine. A backend's
// stream registers a DeviceTimeline for as long as it exists (the CUDA one: engine/trace_device.cu,
// one per Context). While a session keeps events (a trace file), the spans of the thread that
// made the timeline also mark it, begin after the host's start and end before the host's end, so
// the device spans nest as the host's do; the timeline reads its marks back on the device clock,
// aligned to the session's, and hands them over as one track ("stream N") when it finishes: at
// the session's end, or when it is destroyed first. No CUDA types here.
#include <cstdint>
#include <vector>

#include "nwgf/engine/trace.hpp"

namespace nwgf::trace_detail {

struct DeviceSpan {
  std::int64_t start, dur;  // ns since the session started, device clock aligned to the host's
  Phase phase;
};

// Called with the timelines' lock held, by the session and the spans; never throws (a device
// error ends the timeline's recording, not the run).
class DeviceTimeline {
 public:
  virtual ~DeviceTimeline() = default;
  // The session started keeping events; `stream` numbers this timeline's track in it.
  virtual void start(int stream) = 0;
  virtual void begin(Phase p) = 0;
  virtual void end(Phase p) = 0;
  // Waits for the stream, reads the marks back and hands the spans over (device_track).
  virtual void finish() = 0;
};

// Registration; adding one while a session keeps events starts it, removing one finishes it.
void add_timeline(DeviceTimeline* t);
void remove_timeline(DeviceTimeline* t);

// A finished timeline's spans, for the session's trace: process "GPU <device>", thread
// "stream <stream>".
void device_track(int device, int stream, std::vector<DeviceSpan> spans);

// ns since the current session started (the clock of every span).
std::int64_t session_now();

}  // namespace nwgf::trace_detail

#pragma once
// P ranks as P threads of one process, for tests of the code that runs across ranks
// (engine/comm/comm.hpp) without MPI: it runs in every build, the sanitizer one too. Collectives
// meet at a barrier; send/recv go through mailboxes (a send never blocks); alltoallv is Comm's
// default (pairs of ranks over send/recv).
#include <doctest/doctest.h>

#include <barrier>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "nwgf/engine/comm/comm.hpp"

namespace nwgf::test {

struct World {
  explicit World(int p) : size(p), bar(p), ptrs(std::size_t(p)), status(std::size_t(p)) {}
  int size;
  std::barrier<> bar;
  std::vector<void*> ptrs;
  std::vector<CommStatus> status;
  std::mutex m;
  std::condition_variable cv;
  std::map<std::pair<int, int>, std::deque<std::vector<char>>> mail;
};

class ThreadComm final : public Comm {
 public:
  ThreadComm(World& w, int rank) : w_(w), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return w_.size; }
  const char* kind() const override { return "threads"; }
  CommStatus agree(const CommStatus& local) const override {
    w_.status[std::size_t(rank_)] = local;
    w_.bar.arrive_and_wait();
    CommStatus s;
    for (const auto& st : w_.status) {
      if (st.code != 0) {
        s = st;
        break;
      }
    }
    w_.bar.arrive_and_wait();
    return s;
  }
  void broadcast(void* data, std::size_t bytes, int root) const override {
    w_.ptrs[std::size_t(rank_)] = data;
    w_.bar.arrive_and_wait();
    if (rank_ != root) std::memcpy(data, w_.ptrs[std::size_t(root)], bytes);
    w_.bar.arrive_and_wait();
  }
  void allgather(void* data, const std::vector<std::size_t>& counts,
                 const std::vector<std::size_t>& offsets) const override {
    w_.ptrs[std::size_t(rank_)] = data;
    w_.bar.arrive_and_wait();
    for (int q = 0; q < w_.size; ++q) {
      if (q == rank_ || counts[std::size_t(q)] == 0) continue;
      std::memcpy(static_cast<char*>(data) + offsets[std::size_t(q)],
                  static_cast<const char*>(w_.ptrs[std::size_t(q)]) + offsets[std::size_t(q)],
                  counts[std::size_t(q)]);
    }
    w_.bar.arrive_and_wait();
  }
  void send(const void* data, std::size_t bytes, int dest) const override {
    std::vector<char> msg(static_cast<const char*>(data), static_cast<const char*>(data) + bytes);
    {
      std::lock_guard<std::mutex> lock(w_.m);
      w_.mail[{rank_, dest}].push_back(std::move(msg));
    }
    w_.cv.notify_all();
  }
  void recv(void* data, std::size_t bytes, int source) const override {
    std::unique_lock<std::mutex> lock(w_.m);
    auto& q = w_.mail[{source, rank_}];
    w_.cv.wait(lock, [&] { return !q.empty(); });
    REQUIRE(q.front().size() == bytes);
    std::memcpy(data, q.front().data(), bytes);
    q.pop_front();
  }

 private:
  World& w_;
  int rank_;
};

}  // namespace nwgf::test

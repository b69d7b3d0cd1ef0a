// Comm::ibroadcast's request (engine/comm/comm.hpp): test() polls until the operation says it is
// complete and never waits then; wait() and the destructor complete a pending request once; a
// moved-from request is empty; the default ibroadcast (one process; ranks as threads) has
// broadcast already and returns a completed request.
#include <doctest/doctest.h>

#include <thread>
#include <utility>
#include <vector>

#include "nwgf/engine/comm/comm.hpp"
#include "tests/thread_comm.hpp"

namespace nwgf {
namespace {

TEST_CASE("a request polls, waits once, and waits when destroyed pending") {
  int polls = 0, waits = 0;
  {
    CommRequest r([&] { return ++polls >= 3; }, [&] { ++waits; });
    CHECK_FALSE(r.test());
    CHECK_FALSE(r.test());
    CHECK(r.test());  // complete: no wait needed
    CHECK(r.test());  // and no more polls
    r.wait();
  }
  CHECK(polls == 3);
  CHECK(waits == 0);
  {
    CommRequest a([] { return false; }, [&] { ++waits; });
    CommRequest b = std::move(a);
    CHECK(a.test());  // moved from: empty, complete
    a.wait();
    CHECK(waits == 0);
    b = CommRequest([] { return false; }, [&] { waits += 10; });  // the pending one is waited
    CHECK(waits == 1);
  }
  CHECK(waits == 11);  // destroyed pending
  CommRequest no_poll(nullptr, [&] { ++waits; });
  CHECK(no_poll.test());  // nothing to poll with: completed by waiting
  CHECK(waits == 12);
}

TEST_CASE("the default ibroadcast has broadcast when it returns") {
  std::vector<double> v = {1, 2, 3};
  CommRequest r = single_process_comm().ibroadcast(v.data(), v.size() * sizeof(double), 0);
  CHECK(r.test());
  test::World world(3);
  std::vector<std::vector<int>> got(3, std::vector<int>(4, -1));
  std::vector<char> done(3, 0);
  std::vector<std::thread> pool;
  for (int q = 0; q < 3; ++q) {
    pool.emplace_back([&, q] {
      const test::ThreadComm comm(world, q);
      auto& mine = got[std::size_t(q)];
      if (q == 1) mine = {4, 5, 6, 7};
      CommRequest req = comm.ibroadcast(mine.data(), mine.size() * sizeof(int), 1);
      done[std::size_t(q)] = req.test() ? 1 : 0;
    });
  }
  for (auto& t : pool) t.join();
  for (char c : done) CHECK(c == 1);
  for (const auto& g : got) CHECK(g == std::vector<int>({4, 5, 6, 7}));
}

}  // namespace
}  // namespace nwgf

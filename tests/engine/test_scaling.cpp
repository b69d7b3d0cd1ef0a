// engine/scaling.hpp: the sweep's size grids and the log-log slope fit with its interval.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/error.hpp"
#include "engine/scaling.hpp"

using namespace nwgf;

TEST_CASE("size grids: geometric A:B:xF and lists") {
  CHECK(parse_size_grid("1e3:1e6:x10", "--n") == std::vector<long long>{1000, 10000, 100000, 1000000});
  CHECK(parse_size_grid("100:1000:x2", "--n") == std::vector<long long>{100, 200, 400, 800});
  CHECK(parse_size_grid("10:10:x3", "--n") == std::vector<long long>{10});
  CHECK(parse_size_grid("1:4:x1.5", "--n") == std::vector<long long>{1, 2, 3});  // 1, 1.5, 2.25, 3.375
  CHECK(parse_size_grid("5,7,1e2", "--n") == std::vector<long long>{5, 7, 100});
  CHECK(parse_int_list("2,10,784", "--d") == std::vector<long long>{2, 10, 784});
}

TEST_CASE("bad grids are bad input naming the flag") {
  for (const char* bad : {"", "0:10:x2", "10:1:x2", "1:10:x1", "1:10:x0.5", "1:10:2", "1:10",
                          "a:10:x2", "1.5:10:x2", "1:10:x", "1:10:xabc", "1,,2", "1,2,", "-3",
                          "1:1e20:x2"}) {
    INFO("spec '" << bad << "'");
    try {
      parse_size_grid(bad, "--n");
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::bad_input);
      CHECK(std::string(e.what()).find("--n") != std::string::npos);
    }
  }
}

TEST_CASE("log-log fit: exact power laws, noise inside the interval, degenerate input") {
  std::vector<double> x, y;
  for (double n = 1000; n <= 64000; n *= 2) {
    x.push_back(n);
    y.push_back(3e-9 * n * n);
  }
  LogLogFit f = fit_loglog(x, y);
  CHECK(f.points == 7);
  CHECK(f.slope == doctest::Approx(2).epsilon(1e-12));
  CHECK(f.intercept == doctest::Approx(std::log10(3e-9)).epsilon(1e-9));
  CHECK(f.r2 == doctest::Approx(1));
  CHECK(f.slope_high - f.slope_low < 1e-9);
  // Multiplicative noise of +-10%: the interval widens and still holds the true slope 1.
  std::vector<double> yn;
  for (std::size_t i = 0; i < x.size(); ++i) yn.push_back(x[i] * (i % 2 ? 1.1 : 0.9));
  f = fit_loglog(x, yn);
  CHECK(f.slope_low < 1);
  CHECK(f.slope_high > 1);
  CHECK(f.slope_high - f.slope_low > 0.01);
  CHECK(f.slope_high - f.slope_low < 0.5);
  // The 95% interval is wider than the 50% one.
  const LogLogFit h = fit_loglog(x, yn, 0.5);
  CHECK(h.slope_high - h.slope_low < f.slope_high - f.slope_low);
  // Non-positive values are left out; one point is no fit.
  f = fit_loglog({1, 2, 4, -1}, {1, 4, 16, 5});
  CHECK(f.points == 3);
  CHECK(f.slope == doctest::Approx(2));
  f = fit_loglog({10}, {1});
  CHECK(f.points == 1);
  CHECK(std::isnan(f.slope));
}

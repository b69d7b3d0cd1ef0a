#include "nwgf/engine/scaling.hpp"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>
#include <sstream>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/parse_number.hpp"

namespace nwgf {
namespace {

// A positive integer, possibly written as a double ("1e3"); bad input naming flag otherwise.
long long positive_integer(const std::string& s, const std::string& flag,
                           const std::string& spec) {
  const double v = parse_whole_number(s).value_or(0.0);
  if (!(v >= 1) || v > 1e15 || v != std::floor(v)) {
    throw_bad_input(flag + ": '" + s + "' in '" + spec + "' is not an integer in [1, 1e15]");
  }
  return (long long)v;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(s);
  while (std::getline(in, cell, sep)) out.push_back(cell);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

}  // namespace

std::vector<long long> parse_int_list(const std::string& spec, const std::string& flag) {
  if (spec.empty()) throw_bad_input(flag + ": an empty list");
  std::vector<long long> out;
  for (const std::string& cell : split(spec, ',')) out.push_back(positive_integer(cell, flag, spec));
  return out;
}

std::vector<long long> parse_size_grid(const std::string& spec, const std::string& flag) {
  if (spec.find(':') == std::string::npos) return parse_int_list(spec, flag);
  const std::vector<std::string> parts = split(spec, ':');
  if (parts.size() != 3 || parts[2].size() < 2 || parts[2][0] != 'x') {
    throw_bad_input(flag + ": '" + spec + "' is not A:B:xF (e.g. 1e3:1e6:x10)");
  }
  const long long a = positive_integer(parts[0], flag, spec);
  const long long b = positive_integer(parts[1], flag, spec);
  if (b < a) throw_bad_input(flag + ": '" + spec + "': the end is below the start");
  const std::string fs = parts[2].substr(1);
  const double f = parse_whole_number(fs).value_or(0.0);
  if (!(f > 1) || !std::isfinite(f)) {
    throw_bad_input(flag + ": '" + spec + "': the factor must be a number > 1");
  }
  std::vector<long long> out;
  // A relative tolerance so that 1e3:1e6:x10 ends at 1e6 despite rounding.
  for (double v = double(a); v <= double(b) * (1 + 1e-9); v *= f) {
    const long long k = std::llround(v);
    if (out.empty() || k != out.back()) out.push_back(k);
    if (out.size() > 10000) throw_bad_input(flag + ": '" + spec + "' has over 10000 points");
  }
  return out;
}

LogLogFit fit_loglog(const std::vector<double>& x, const std::vector<double>& y, double level) {
  std::vector<double> lx, ly;
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (x[i] > 0 && y[i] > 0 && std::isfinite(x[i]) && std::isfinite(y[i])) {
      lx.push_back(std::log10(x[i]));
      ly.push_back(std::log10(y[i]));
    }
  }
  LogLogFit f;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  f.points = int(lx.size());
  f.slope = f.intercept = f.slope_low = f.slope_high = f.r2 = nan;
  if (f.points < 2) return f;
  const double k = double(f.points);
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < lx.size(); ++i) mx += lx[i], my += ly[i];
  mx /= k;
  my /= k;
  double sxx = 0, sxy = 0, syy = 0;
  for (std::size_t i = 0; i < lx.size(); ++i) {
    sxx += (lx[i] - mx) * (lx[i] - mx);
    sxy += (lx[i] - mx) * (ly[i] - my);
    syy += (ly[i] - my) * (ly[i] - my);
  }
  if (!(sxx > 0)) return f;
  f.slope = sxy / sxx;
  f.intercept = my - f.slope * mx;
  double sse = 0;
  for (std::size_t i = 0; i < lx.size(); ++i) {
    const double e = ly[i] - f.intercept - f.slope * lx[i];
    sse += e * e;
  }
  f.r2 = syy > 0 ? 1 - sse / syy : 1;
  if (f.points < 3) {
    f.slope_low = -std::numeric_limits<double>::infinity();
    f.slope_high = std::numeric_limits<double>::infinity();
    return f;
  }
  const double se = std::sqrt(sse / (k - 2) / sxx);
  const boost::math::students_t t(k - 2);
  const double q = boost::math::quantile(t, 0.5 + level / 2);
  f.slope_low = f.slope - q * se;
  f.slope_high = f.slope + q * se;
  return f;
}

}  // namespace nwgf

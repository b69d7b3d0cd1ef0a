#pragma once
// Scaling studies (`nwgf bench sweep`): geometric grids of problem sizes and the least-squares
// fit of log(time) against log(N), whose slope is the empirical complexity exponent.
#include <string>
#include <vector>

namespace nwgf {

// "A:B:xF" (a geometric grid: A, A F, A F^2, ... up to B, rounded to integers, duplicates
// dropped), or a comma-separated list "A,B,C"; numbers may be written 1e3. Bad input naming
// `flag` for anything else: A or B not a positive integer, B < A, F <= 1, an empty list.
std::vector<long long> parse_size_grid(const std::string& spec, const std::string& flag);
// A comma-separated list of positive integers ("2,10,784"); bad input naming `flag` otherwise.
std::vector<long long> parse_int_list(const std::string& spec, const std::string& flag);

struct LogLogFit {
  double slope = 0, intercept = 0;  // log10 y = intercept + slope log10 x
  double slope_low = 0, slope_high = 0;  // the slope's confidence interval (t distribution)
  double r2 = 0;
  int points = 0;
};

// Ordinary least squares of log10 y on log10 x over the points with x, y > 0 and finite; the
// interval is slope +- t_{(1+level)/2, k-2} se(slope) (infinite for k = 2; with fewer points
// than 2 the fit has points < 2 and NaN values).
LogLogFit fit_loglog(const std::vector<double>& x, const std::vector<double>& y,
                     double level = 0.95);

}  // namespace nwgf

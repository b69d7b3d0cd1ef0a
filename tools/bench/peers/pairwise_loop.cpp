// Peer for `nwgf bench pairwise`: the Riesz self gradient of N points in R^d written as the plain
// loop a careful user writes, with no nwgf code:
//
//   grad_i = sum_j r |x_i - x_j|^(r-2) (x_i - x_j)      (0 for coincident pairs, j = i included)
//
// Points are stored transposed (one array per coordinate), the rows i are split over OpenMP
// threads (schedule(static)) and the columns j are an `omp simd` reduction. For r = 1 the factor
// is 1/sqrt(s), otherwise r * pow(s, (r-2)/2), s = |x_i - x_j|^2, guarded by s > 0. d = 1, 2, 3
// are template specialisations; other d use a generic tiled loop.
//
// Build: g++ -O3 -march=native -ffast-math -fopenmp -std=c++17 pairwise_loop.cpp -o pairwise_loop
// Usage: pairwise_loop [--n N] [--d D] [--r R] [--dtype f32|f64] [--repeats K] [--threads T]
// Points: uniform in [0,1]^d from std::mt19937_64 with a fixed seed. One warm-up call, then K timed
// calls; prints one JSON line with `seconds` (median), `gpairs_per_s` = N^2 / seconds / 1e9,
// `checksum` (the sum of all gradient entries; ~0 since the self gradient is antisymmetric in the
// pairs) and `checksum_abs` (the sum of their absolute values, a usable cross-check).
#include <omp.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

// Fixed dimension D (1, 2, 3): one accumulator per coordinate, everything in registers.
template <class T, int D, bool R1>
void gradient_fixed(const std::vector<std::vector<T>>& x, std::vector<std::vector<T>>& g, long n,
                    T r) {
  const T* xs[3] = {};
  T* gs[3] = {};
  for (int k = 0; k < D; ++k) {
    xs[k] = x[k].data();
    gs[k] = g[k].data();
  }
  const T e = (r - T(2)) / T(2);
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; ++i) {
    T xi[3] = {}, acc[3] = {};
    for (int k = 0; k < D; ++k) xi[k] = xs[k][i];
    T a0 = 0, a1 = 0, a2 = 0;
    const T* x0 = xs[0];
    const T* x1 = xs[D > 1 ? 1 : 0];
    const T* x2 = xs[D > 2 ? 2 : 0];
#pragma omp simd reduction(+ : a0, a1, a2)
    for (long j = 0; j < n; ++j) {
      const T d0 = xi[0] - x0[j];
      const T d1 = D > 1 ? xi[1] - x1[j] : T(0);
      const T d2 = D > 2 ? xi[2] - x2[j] : T(0);
      T s = d0 * d0;
      if (D > 1) s += d1 * d1;
      if (D > 2) s += d2 * d2;
      T f;
      if (R1)
        f = s > T(0) ? T(1) / std::sqrt(s) : T(0);
      else
        f = s > T(0) ? r * std::pow(s, e) : T(0);
      a0 += f * d0;
      if (D > 1) a1 += f * d1;
      if (D > 2) a2 += f * d2;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    for (int k = 0; k < D; ++k) gs[k][i] = acc[k];
  }
}

// Any d: per row, tiles of columns; pass 1 forms s_j, pass 2 the factor f_j, then one simd
// reduction per coordinate.
template <class T, bool R1>
void gradient_generic(const std::vector<std::vector<T>>& x, std::vector<std::vector<T>>& g, long n,
                      int d, T r) {
  constexpr long kTile = 1024;
  const T e = (r - T(2)) / T(2);
#pragma omp parallel
  {
    std::vector<T> xi(d), acc(d), f(kTile);
    T* fb = f.data();
#pragma omp for schedule(static)
    for (long i = 0; i < n; ++i) {
      for (int k = 0; k < d; ++k) {
        xi[k] = x[k][i];
        acc[k] = 0;
      }
      for (long j0 = 0; j0 < n; j0 += kTile) {
        const long m = std::min(kTile, n - j0);
        {
          const T* xk = x[0].data() + j0;
          const T c = xi[0];
#pragma omp simd
          for (long j = 0; j < m; ++j) fb[j] = (c - xk[j]) * (c - xk[j]);
        }
        for (int k = 1; k < d; ++k) {
          const T* xk = x[k].data() + j0;
          const T c = xi[k];
#pragma omp simd
          for (long j = 0; j < m; ++j) fb[j] += (c - xk[j]) * (c - xk[j]);
        }
#pragma omp simd
        for (long j = 0; j < m; ++j) {
          const T s = fb[j];
          if (R1)
            fb[j] = s > T(0) ? T(1) / std::sqrt(s) : T(0);
          else
            fb[j] = s > T(0) ? r * std::pow(s, e) : T(0);
        }
        for (int k = 0; k < d; ++k) {
          const T* xk = x[k].data() + j0;
          const T c = xi[k];
          T a = 0;
#pragma omp simd reduction(+ : a)
          for (long j = 0; j < m; ++j) a += fb[j] * (c - xk[j]);
          acc[k] += a;
        }
      }
      for (int k = 0; k < d; ++k) g[k][i] = acc[k];
    }
  }
}

template <class T, bool R1>
void gradient_r(const std::vector<std::vector<T>>& x, std::vector<std::vector<T>>& g, long n,
                int d, T r) {
  switch (d) {
    case 1: gradient_fixed<T, 1, R1>(x, g, n, r); break;
    case 2: gradient_fixed<T, 2, R1>(x, g, n, r); break;
    case 3: gradient_fixed<T, 3, R1>(x, g, n, r); break;
    default: gradient_generic<T, R1>(x, g, n, d, r); break;
  }
}

template <class T>
void gradient(const std::vector<std::vector<T>>& x, std::vector<std::vector<T>>& g, long n, int d,
              double r) {
  if (r == 1.0)
    gradient_r<T, true>(x, g, n, d, T(1));
  else
    gradient_r<T, false>(x, g, n, d, T(r));
}

struct Options {
  long n = 20000;
  int d = 2;
  double r = 1.0;
  std::string dtype = "f32";
  int repeats = 5;
  int threads = 0;  // 0: OpenMP default
};

[[noreturn]] void usage_error(const std::string& msg) {
  std::fprintf(stderr, "pairwise_loop: error: %s\n", msg.c_str());
  std::fprintf(stderr,
               "usage: pairwise_loop [--n N] [--d D] [--r R] [--dtype f32|f64] [--repeats K] "
               "[--threads T]\n");
  std::exit(2);
}

long parse_long(const char* opt, const char* s) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s, &end, 10);
  if (end == s || *end != '\0' || errno != 0) usage_error(std::string(opt) + ": not an integer: " + s);
  return long(v);
}

double parse_double(const char* opt, const char* s) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s, &end);
  if (end == s || *end != '\0' || errno != 0 || !std::isfinite(v))
    usage_error(std::string(opt) + ": not a number: " + s);
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int a = 1; a < argc; a += 2) {
    const std::string opt = argv[a];
    if (opt == "-h" || opt == "--help") {
      std::printf(
          "usage: pairwise_loop [--n N] [--d D] [--r R] [--dtype f32|f64] [--repeats K] "
          "[--threads T]\n");
      std::exit(0);
    }
    if (a + 1 >= argc) usage_error(opt + ": missing value");
    const char* v = argv[a + 1];
    if (opt == "--n") {
      o.n = parse_long("--n", v);
    } else if (opt == "--d") {
      const long d = parse_long("--d", v);
      if (d < 1 || d > 1000000) usage_error("--d: must be positive");
      o.d = int(d);
    } else if (opt == "--r") {
      o.r = parse_double("--r", v);
    } else if (opt == "--dtype") {
      o.dtype = v;
    } else if (opt == "--repeats") {
      const long k = parse_long("--repeats", v);
      if (k < 1 || k > 1000000) usage_error("--repeats: must be positive");
      o.repeats = int(k);
    } else if (opt == "--threads") {
      const long t = parse_long("--threads", v);
      if (t < 1 || t > 4096) usage_error("--threads: must be positive");
      o.threads = int(t);
    } else {
      usage_error("unknown option " + opt);
    }
  }
  if (o.n < 1) usage_error("--n: must be positive");
  if (!(o.r > 0 && o.r < 2)) usage_error("--r: must lie in (0, 2)");
  if (o.dtype != "f32" && o.dtype != "f64") usage_error("--dtype: must be f32 or f64");
  return o;
}

void print_number(const char* key, double v, int digits = 10) {
  if (std::isfinite(v))
    std::printf(", \"%s\": %.*g", key, digits, v);
  else
    std::printf(", \"%s\": null", key);
}

template <class T>
int run(const Options& o) {
  const long n = o.n;
  const int d = o.d;
  std::vector<std::vector<T>> x(d, std::vector<T>(n)), g(d, std::vector<T>(n));
  std::mt19937_64 gen(20240601);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (long i = 0; i < n; ++i)  // point by point, like reading an (N, d) array
    for (int k = 0; k < d; ++k) x[k][i] = T(u(gen));

  gradient<T>(x, g, n, d, o.r);  // warm-up
  std::vector<double> times(o.repeats);
  for (int k = 0; k < o.repeats; ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    gradient<T>(x, g, n, d, o.r);
    const auto t1 = std::chrono::steady_clock::now();
    times[k] = std::chrono::duration<double>(t1 - t0).count();
  }
  double checksum = 0, checksum_abs = 0;
  for (int k = 0; k < d; ++k)
    for (long i = 0; i < n; ++i) {
      checksum += double(g[k][i]);
      checksum_abs += std::fabs(double(g[k][i]));
    }
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  const int m = int(sorted.size());
  const double median = m % 2 ? sorted[m / 2] : 0.5 * (sorted[m / 2 - 1] + sorted[m / 2]);
  const double pairs = double(n) * double(n);
  int threads = 0;
#pragma omp parallel
  {
#pragma omp single
    threads = omp_get_num_threads();
  }
  std::printf("{\"bench\": \"pairwise_peer\", \"dtype\": \"%s\", \"n\": %ld, \"d\": %d",
              o.dtype.c_str(), n, d);
  print_number("r", o.r);
  std::printf(", \"threads\": %d", threads);
  print_number("seconds", median);
  print_number("gpairs_per_s", pairs / median * 1e-9);
  print_number("seconds_min", sorted.front());
  print_number("seconds_max", sorted.back());
  std::printf(", \"repeats\": %d", o.repeats);
  print_number("checksum", checksum, 17);
  print_number("checksum_abs", checksum_abs, 17);
  std::printf("}\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (o.threads > 0) omp_set_num_threads(o.threads);
  return o.dtype == "f32" ? run<float>(o) : run<double>(o);
}

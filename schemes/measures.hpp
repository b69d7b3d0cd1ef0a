#pragma once
// Point clouds of the initial and target measures (MeasureConfig), drawn on the host from Philox
// streams, so a (seed, stream) gives the same points on every backend and thread count.
#include <cstdint>
#include <string>
#include <vector>

#include "nwgf/analytic/gaussian_mixture.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "nwgf/schemes/config.hpp"

namespace nwgf {

// n x d points (n and d from the file for kinds "npy" and "idx"). `key` names the config table in
// messages.
HostMatrix<double> sample_measure(const MeasureConfig& m, std::uint64_t seed, std::uint64_t stream,
                                  const std::string& key);

// Rows [first, last) of sample_measure's n x d points, the same values, drawn (Philox by global
// row index: every kind, a mixture's component and a Barenblatt radius included) or read (npy,
// idx: only those rows of the file) without the others: for the sharded runs, each rank its own
// rows. The set-up a kind needs (an image's density, a mixture's factors) is computed whole.
index_t measure_size(const MeasureConfig& m, const std::string& key);  // n (npy: the file's rows)
HostMatrix<double> sample_measure_rows(const MeasureConfig& m, std::uint64_t seed,
                                       std::uint64_t stream, const std::string& key,
                                       index_t first, index_t last);

// A target measure as weighted points: atoms (kinds dirac and diracs) are kept as the atoms with
// their masses when `atoms` is true (the exact estimators take weights); otherwise the n samples
// of sample_measure with equal weights (w empty).
struct WeightedPoints {
  HostMatrix<double> x;   // (M, d)
  std::vector<double> w;  // (M) summing to 1, or empty: equal weights
};
WeightedPoints target_measure(const MeasureConfig& m, std::uint64_t seed, std::uint64_t stream,
                              const std::string& key, bool atoms);

// The image measure's density (README, "Image targets") on the picture's pixel grid, normalised
// to sum 1: (height, width), row 0 at the top.
std::vector<double> image_density(const std::string& path, double blur, double background,
                                  int* width, int* height);

// The Gaussian mixture of a measure of kind "mixture" (its components; `key` names the table in
// messages).
GaussianMixture mixture_of(const MeasureConfig& m, const std::string& key);

// The measure's listed points, or the origin of R^d when none are listed.
std::vector<std::vector<double>> measure_points(const MeasureConfig& m);

// Rows per centre: n split in proportion to the weights (largest remainder; equal weights give
// consecutive blocks of (almost) equal size). Returns the first row of each centre, plus n.
std::vector<index_t> split_rows(index_t n, index_t k, const std::vector<double>& weights);

// True when some two rows coincide exactly (the empirical measure has an atom of mass > 1/n).
bool has_atoms(const HostMatrix<double>& x);

}  // namespace nwgf

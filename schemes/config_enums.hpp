#pragma once
// The closed sets of a flow config (CONTRACT.md, "Config"), each with its one text <-> enum
// table. Text is what a TOML config and the CLI spell; `enum_from_text` throws bad input naming
// the key and listing the allowed words.
#include <string>
#include <string_view>

#include "nwgf/nn/activation.hpp"
#include "nwgf/nn/output_transform.hpp"

namespace nwgf {

enum class SchemeKind { backward, forward, particle, ift, variational };
// [network] kind: the variational scheme's map T, an MLP (nn/mlp.hpp) or the gradient of an
// input-convex network (nn/icnn.hpp).
enum class MapKind { mlp, icnn };
// potential: F = int V dP with V = -ln Q of the [target] density; sum: sum_i w_i F_i over
// [[functional.terms]].
enum class FunctionalKind { interaction, mmd, barycenter, energy33, kl, entropy, potential, sum };
enum class Estimator { exact, sliced };
enum class Warmup { automatic, on, off };     // automatic: on when r < 1
enum class DTypeChoice { automatic, f32, f64 };  // automatic: f64 for particle, f32 otherwise
// [flow] memory: every rank holds all N samples (replicated), or only its own rows (sharded:
// every scheme, O(N/P) memory per rank, schemes/run/sharded_loop.cpp).
enum class MemoryLayout { replicated, sharded };
// [functional] kernel: K(x, y) = -|x - y|^r (riesz) or exp(-gamma |x - y|^2) (gaussian); the
// interaction kernels W of kind = "interaction", F = 1/2 ∫∫ W(x - y) dmu dmu (kernels/family/):
// |z|^4/4 - |z|^2/2, |z|^2/2 - ln|z|, -exp(-|z|^2)/pi.
enum class KernelKind { riesz, gaussian, quartic_quadratic, log_quadratic, gaussian_attraction };
// [ift]: the IFT scheme's choices (schemes/ift/ift_scheme.hpp).
enum class PositionStep { weighted, unweighted };
enum class WeightStep { pgd, qp, kl, none };
enum class QpReference { half, previous };
enum class MassConstraint { simplex, nonnegative };
enum class KlNormalise { sum, project };
enum class NoiseWitness { noisy, clean };
enum class MeasureKind {
  dirac, diracs, square, square_boundary, circle, gaussian, uniform, npy, idx, image, mixture,
  barenblatt
};

// One word of an enum: the canonical spelling first; later entries with the same value are
// accepted aliases (read, never written).
template <class E>
struct EnumWord {
  E value;
  std::string_view text;
};

template <class E>
struct EnumWords;  // specialised below: static constexpr EnumWord<E> words[]

template <>
struct EnumWords<SchemeKind> {
  static constexpr EnumWord<SchemeKind> words[] = {
      {SchemeKind::backward, "backward"}, {SchemeKind::forward, "forward"},
      {SchemeKind::particle, "particle"}, {SchemeKind::ift, "ift"},
      {SchemeKind::variational, "variational"}};
};
template <>
struct EnumWords<KernelKind> {
  static constexpr EnumWord<KernelKind> words[] = {
      {KernelKind::riesz, "riesz"},
      {KernelKind::gaussian, "gaussian"},
      {KernelKind::quartic_quadratic, "quartic_quadratic"},
      {KernelKind::log_quadratic, "log_quadratic"},
      {KernelKind::gaussian_attraction, "gaussian_attraction"}};
};
template <>
struct EnumWords<PositionStep> {
  static constexpr EnumWord<PositionStep> words[] = {{PositionStep::weighted, "weighted"},
                                                     {PositionStep::unweighted, "unweighted"}};
};
template <>
struct EnumWords<WeightStep> {
  static constexpr EnumWord<WeightStep> words[] = {{WeightStep::pgd, "pgd"},
                                                   {WeightStep::qp, "qp"},
                                                   {WeightStep::kl, "kl"},
                                                   {WeightStep::none, "none"}};
};
template <>
struct EnumWords<QpReference> {
  static constexpr EnumWord<QpReference> words[] = {{QpReference::half, "half"},
                                                    {QpReference::previous, "previous"}};
};
template <>
struct EnumWords<MassConstraint> {
  static constexpr EnumWord<MassConstraint> words[] = {{MassConstraint::simplex, "simplex"},
                                                       {MassConstraint::nonnegative, "nonnegative"}};
};
template <>
struct EnumWords<KlNormalise> {
  static constexpr EnumWord<KlNormalise> words[] = {{KlNormalise::sum, "sum"},
                                                    {KlNormalise::project, "project"}};
};
template <>
struct EnumWords<NoiseWitness> {
  static constexpr EnumWord<NoiseWitness> words[] = {{NoiseWitness::noisy, "noisy"},
                                                     {NoiseWitness::clean, "clean"}};
};
template <>
struct EnumWords<FunctionalKind> {
  static constexpr EnumWord<FunctionalKind> words[] = {{FunctionalKind::interaction, "interaction"},
                                                       {FunctionalKind::mmd, "mmd"},
                                                       {FunctionalKind::barycenter, "barycenter"},
                                                       {FunctionalKind::energy33, "energy33"},
                                                       {FunctionalKind::kl, "kl"},
                                                       {FunctionalKind::entropy, "entropy"},
                                                       {FunctionalKind::potential, "potential"},
                                                       {FunctionalKind::sum, "sum"}};
};
template <>
struct EnumWords<Activation> {
  static constexpr EnumWord<Activation> words[] = {
      {Activation::relu, "relu"}, {Activation::prelu, "prelu"}, {Activation::linear, "linear"}};
};
template <>
struct EnumWords<MapKind> {
  static constexpr EnumWord<MapKind> words[] = {{MapKind::mlp, "mlp"}, {MapKind::icnn, "icnn"}};
};
template <>
struct EnumWords<OutputTransform> {
  static constexpr EnumWord<OutputTransform> words[] = {{OutputTransform::none, "none"},
                                                        {OutputTransform::square, "square"},
                                                        {OutputTransform::sigmoid, "sigmoid"}};
};
template <>
struct EnumWords<Estimator> {
  static constexpr EnumWord<Estimator> words[] = {{Estimator::exact, "exact"},
                                                  {Estimator::sliced, "sliced"}};
};
template <>
struct EnumWords<Warmup> {
  static constexpr EnumWord<Warmup> words[] = {
      {Warmup::automatic, "auto"}, {Warmup::on, "on"}, {Warmup::off, "off"}};
};
template <>
struct EnumWords<MemoryLayout> {
  static constexpr EnumWord<MemoryLayout> words[] = {{MemoryLayout::replicated, "replicated"},
                                                     {MemoryLayout::sharded, "sharded"}};
};
template <>
struct EnumWords<DTypeChoice> {
  static constexpr EnumWord<DTypeChoice> words[] = {{DTypeChoice::automatic, "auto"},
                                                    {DTypeChoice::f32, "f32"},
                                                    {DTypeChoice::f64, "f64"},
                                                    {DTypeChoice::f32, "float32"},
                                                    {DTypeChoice::f64, "float64"}};
};
template <>
struct EnumWords<MeasureKind> {
  static constexpr EnumWord<MeasureKind> words[] = {
      {MeasureKind::dirac, "dirac"},
      {MeasureKind::diracs, "diracs"},
      {MeasureKind::square, "square"},
      {MeasureKind::square_boundary, "square_boundary"},
      {MeasureKind::circle, "circle"},
      {MeasureKind::gaussian, "gaussian"},
      {MeasureKind::mixture, "mixture"},
      {MeasureKind::uniform, "uniform"},
      {MeasureKind::npy, "npy"},
      {MeasureKind::idx, "idx"},
      {MeasureKind::image, "image"},
      {MeasureKind::barenblatt, "barenblatt"}};
};

// The canonical word of v.
template <class E>
constexpr std::string_view to_text(E v) {
  for (const auto& w : EnumWords<E>::words) {
    if (w.value == v) return w.text;
  }
  return "?";
}

// The allowed words, canonical ones only: "a | b | c".
template <class E>
std::string enum_choices(std::string_view sep = " | ") {
  std::string s;
  bool first = true;
  for (const auto& w : EnumWords<E>::words) {
    if (to_text(w.value) != w.text) continue;  // an alias
    s += (first ? "" : std::string(sep)) + std::string(w.text);
    first = false;
  }
  return s;
}

// Parses text; bad input "key: 'text' is not one of a, b, c" otherwise.
[[noreturn]] void throw_not_one_of(const std::string& key, std::string_view text,
                                   const std::string& choices);
template <class E>
E enum_from_text(std::string_view text, const std::string& key) {
  for (const auto& w : EnumWords<E>::words) {
    if (w.text == text) return w.value;
  }
  throw_not_one_of(key, text, enum_choices<E>(", "));
}

// Whether a measure of this kind is read from a file (its d is the file's).
constexpr bool from_file(MeasureKind k) {
  return k == MeasureKind::npy || k == MeasureKind::idx || k == MeasureKind::image;
}

}  // namespace nwgf

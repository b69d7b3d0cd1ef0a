#pragma once
// The three time-stepping schemes of the paper on samples x (N, d) living on ctx's device:
//   backward  neural JKO step (Alg. 1): train T_theta(x, z) on
//             L = 1/(2 tau) mean |x - T(x, z)|^2 + F^(T#(mu x P_Z)), then x <- T(x, z), fresh z
//   forward   neural Euler step (Alg. 2): train on (14) L = D_v F / (||v|| + eps), rescale by
//             (D_v F / ||v||^2)^- on a separate batch (15), then x <- x + tau T_-(x, z)
//   particle  App. D: x <- x - tau M ∇F_M(x)
// The network and its Adam state carry over from step to step (warm start). All randomness is
// Philox with (seed, stream, counter) derived from (purpose, step, iteration), so a step depends
// only on the samples, the network state and the step number: --resume is bit-exact.
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/schemes/config.hpp"
#include "nwgf/schemes/functional.hpp"
#include "nwgf/schemes/run/step_info.hpp"

namespace nwgf {

// The safeguard of the forward loss (14): L = D / (||v|| + forward_norm_eps), as in the paper's
// code, so that a network with v = 0 (e.g. at initialisation) has a finite loss and gradient.
inline constexpr double forward_norm_eps = 1e-2;

struct StepResult {
  double loss = std::numeric_limits<double>::quiet_NaN();  // last training loss (neural schemes)
  index_t iterations = 0;
  double rescale = std::numeric_limits<double>::quiet_NaN();  // forward: (D/||v||^2)^-
  // variational: the estimate of F(P_{k+1}) from the trained critic (the value of the inner sup
  // with its constants, e.g. Prop. 1's +1 and log Z); NaN otherwise.
  double functional = std::numeric_limits<double>::quiet_NaN();
};

// Called during training: (iteration, iterations of this step, loss).
using IterationCallback = std::function<void(index_t, index_t, double)>;

template <class T>
class Scheme {
 public:
  virtual ~Scheme() = default;
  // One step of size tau; n is the step number (1-based).
  virtual StepResult step(const Context& ctx, Points<T>& x, index_t n, double tau,
                          const IterationCallback& progress) = 0;
  // One training iteration of step n (what `nwgf bench step` times); returns the loss. The
  // particle scheme has no training: it does one whole step.
  virtual double iterate(const Context& ctx, Points<T>& x, index_t n, index_t it, double tau) = 0;
  // iterate() with the loss left on the device, read on demand by loss() (after the work ran:
  // a CUDA graph's replay included). Where a scheme overrides it (backward, forward and
  // variational; README "CUDA graphs" lists the functionals), nothing in it allocates, downloads
  // or synchronises, so a CUDA graph can capture it; the default runs iterate() (capturable for
  // the particle and ift schemes, whose loss is NaN).
  virtual void iterate_on_device(const Context& ctx, Points<T>& x, index_t n, index_t it,
                                 double tau) {
    last_loss_ = iterate(ctx, x, n, it, tau);
  }
  // The loss of the last iterate_on_device().
  virtual double loss(const Context& ctx) {
    (void)ctx;
    return last_loss_;
  }
  // The ranks of the run (engine/comm/comm.hpp; nullptr: this process alone): every rank runs
  // the same step on the same samples and gets the same bits as one process. Returns false when
  // this scheme does not run across ranks (more than one rank).
  virtual bool set_comm(const Comm* comm) { return comm == nullptr || comm->size() == 1; }
  // flow.memory = "sharded" (schemes/run/sharded_loop.hpp): from now on x holds only this rank's
  // rows owned_rows(N, rank, P) of the N samples (kernels/pairwise_ranks.hpp), and step() gives
  // each rank its rows of what one process's step gives (the backward and forward schemes, on
  // the CPU and CUDA backends: on CUDA comm may be the DeviceComm, whose host collectives move
  // the rows; README, "MPI runs"). Returns false when this scheme does not run so.
  virtual bool set_sharded(const Context& ctx, const Comm& comm) {
    (void)ctx, (void)comm;
    return false;
  }
  // Network + optimizer state (empty for the particle flow) and its restore.
  virtual std::string state(const Context& ctx) const = 0;
  virtual void restore(const Context& ctx, const std::string& bytes, const std::string& what) = 0;
  // Training iterations step n uses.
  virtual index_t iterations(index_t n) const = 0;
  // Weighted particles (the ift scheme): the weights (n, host; brought from the device when a
  // step left them there), null for equal weights.
  virtual const std::vector<double>* weights(const Context& ctx) const {
    (void)ctx;
    return nullptr;
  }
  // Weighted particles: the metrics of the weighted measure after `step` into s (functional,
  // paper_step, mmd2_paper, mass, zero_weights, ess, max_weight); nothing otherwise.
  virtual void weighted_metrics(const Context& ctx, const Points<T>& x, index_t step,
                                StepInfo& s) {
    (void)ctx, (void)x, (void)step, (void)s;
  }

 private:
  double last_loss_ = std::numeric_limits<double>::quiet_NaN();
};

// F must outlive the scheme. n, d: the sample count and dimension.
template <class T>
std::unique_ptr<Scheme<T>> make_scheme(const Context& ctx, const FlowConfig& cfg, Functional<T>& f,
                                       index_t n, index_t d);

// Philox stream of a purpose at a step: (purpose << 48) | step.
enum class RandomPurpose : std::uint64_t {
  initial = 1, target = 2, network = 3, batch = 4, latent = 5, sliced = 6, push = 7,
  rescale_batch = 8, rescale_latent = 9, reference = 10, noise = 11, dropout = 12
};
inline std::uint64_t random_stream(RandomPurpose p, std::uint64_t step) {
  return (std::uint64_t(p) << 48) | step;
}

}  // namespace nwgf

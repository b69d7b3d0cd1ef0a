#pragma once
// The hidden-layer activations of Mlp (nn/mlp.hpp):
//   relu    h = max(z, 0)
//   prelu   h = z (z > 0), a z (z <= 0), one learnable slope a per hidden layer (PyTorch's
//           nn.PReLU() with its default a = 0.25)
//   linear  h = z (the network is affine: the "linear residual network" of the variational
//           JKO paper's OU experiment)
namespace nwgf {

enum class Activation { relu, prelu, linear };

}  // namespace nwgf

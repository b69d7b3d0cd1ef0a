#pragma once
// A double left where a kernel computed it (ctx's device; host memory on the CPU backend), read
// by a later kernel of the same stream instead of on the host, so that the work around it stays
// capturable into a CUDA graph: sum_k coef_k s_k (or s_k / div_k) over up to two terms, added in
// order, each s_k one double or the in-order sum of a row sum's partials (kernels/reduce.hpp). The
// forward scheme's directional derivative D (Functional::batch_directional_deferred) is one.
#include "nwgf/engine/types.hpp"

namespace nwgf {

struct DeviceTerm {
  const double* p = nullptr;  // null: the term is 0
  index_t partials = 0;       // 0: the one double *p; > 0: p[0] + ... + p[partials - 1]
  double coef = 1;
  double div = 0;  // nonzero: the term is s / div instead (the host's division: s / n is not
                   // always s * (1 / n))
};

struct DeviceSum {
  DeviceTerm terms[2];
  int count = 0;  // terms used
};

}  // namespace nwgf

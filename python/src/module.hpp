#pragma once
// The parts of the Python module nwgf._nwgf (python/src/module.cpp defines it).
#include <nanobind/nanobind.h>

namespace nwgf::py {

void bind_kernels(nanobind::module_& m);
void bind_analytic(nanobind::module_& m);
void bind_flow(nanobind::module_& m);

}  // namespace nwgf::py

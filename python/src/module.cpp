// nwgf._nwgf: the compiled part of the Python package `nwgf` (python/nwgf wraps it). Errors of
// the library map to Python exceptions: bad input -> ValueError (the message names the argument,
// config key or file), numerical failure -> FloatingPointError, anything else -> RuntimeError.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/simd.hpp"
#include "nwgf/engine/threads.hpp"
#include "nwgf/engine/version.hpp"
#include "python/src/module.hpp"

namespace nwgf::py {
namespace {

namespace nb = nanobind;

void translate(const std::exception_ptr& p, void*) {
  try {
    std::rethrow_exception(p);
  } catch (const Error& e) {
    PyObject* type = e.kind() == ErrorKind::bad_input   ? PyExc_ValueError
                     : e.kind() == ErrorKind::numerical ? PyExc_FloatingPointError
                                                        : PyExc_RuntimeError;
    PyErr_SetString(type, e.what());
  }
}

// What `nwgf devices --json` reports.
nb::dict devices() {
  const CudaStatus cuda = cuda_status();
  nb::dict o;
  o["version"] = NWGF_VERSION_STRING;
  o["cpu_threads"] = default_threads();
  o["simd"] = simd_target();
  o["simd_width_bytes"] = simd_width_bytes();
  o["cuda_built"] = cuda.built;
  o["cuda_usable"] = cuda.usable;
  o["cuda_reason"] = cuda.reason;
  nb::list devs;
  for (const CudaDeviceInfo& d : cuda.devices) {
    nb::dict dj;
    dj["index"] = d.index;
    dj["name"] = d.name;
    dj["sm"] = d.major * 10 + d.minor;
    dj["memory_bytes"] = d.memory_bytes;
    dj["multiprocessors"] = d.multiprocessors;
    devs.append(dj);
  }
  o["cuda_devices"] = devs;
  return o;
}

}  // namespace
}  // namespace nwgf::py

NB_MODULE(_nwgf, m) {
  namespace nb = nanobind;
  m.doc() = "nwgf's compiled core (use the package nwgf)";
  m.attr("__version__") = NWGF_VERSION_STRING;
  nb::register_exception_translator(&nwgf::py::translate);
  m.def("devices", &nwgf::py::devices);
  nwgf::py::bind_kernels(m);
  nwgf::py::bind_analytic(m);
  nwgf::py::bind_flow(m);
}

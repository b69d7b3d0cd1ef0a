// nwgf._nwgf.Flow: a flow run from Python through run_flow (schemes/flow.hpp), the API behind
// `nwgf run`. The config comes from TOML text (nwgf.Flow serialises a dict) or a file, through
// the CLI's loader; the run releases the GIL and, between steps, takes it back to check for
// Ctrl-C (KeyboardInterrupt) and to call the Python callback, whose False stops the run as
// RunOptions::on_step does.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "nwgf/schemes/flow.hpp"
#include "nwgf/schemes/run/viz/run_plots.hpp"
#include "python/src/arrays.hpp"
#include "python/src/module.hpp"

namespace nwgf::py {
namespace {

nb::dict step_dict(const StepInfo& s) {
  nb::dict d;
  d["step"] = s.step;
  d["time"] = s.time;
  d["tau"] = s.tau;
  d["loss"] = s.loss;
  d["functional"] = s.functional;
  d["wall_seconds"] = s.wall_seconds;
  d["mmd2_analytic"] = s.mmd2_analytic;
  d["mmd2_iterate"] = s.mmd2_iterate;
  d["paper_step"] = s.paper_step;
  d["mmd2_paper"] = s.mmd2_paper;
  d["mass"] = s.mass;
  d["zero_weights"] = s.zero_weights;
  d["ess"] = s.ess;
  d["max_weight"] = s.max_weight;
  d["symkl_jko"] = s.symkl_jko;
  d["symkl_exact"] = s.symkl_exact;
  d["w1_radial"] = s.w1_radial;
  d["second_moment"] = s.second_moment;
  d["second_moment_exact"] = s.second_moment_exact;
  d["ring_radius"] = s.ring_radius;
  d["w1_semicircle"] = s.w1_semicircle;
  d["energy_distance"] = s.energy_distance;
  d["mixture_tv"] = s.mixture_tv;
  return d;
}

nb::object samples_array(const HostMatrix<double>& x) {
  std::vector<double> copy(x.data);
  return numpy_owning(std::move(copy), x.rows, x.cols);
}

class Flow {
 public:
  Flow(FlowConfig cfg, const std::string& backend, int threads)
      : cfg_(std::move(cfg)), backend_(parse_backend(backend, "backend")), threads_(threads) {
    if (threads < 0) throw nb::value_error("threads: must be >= 0 (0: all cores)");
  }

  static Flow from_toml(const std::string& text, const std::string& name,
                        const std::vector<std::string>& overrides, const std::string& backend,
                        int threads) {
    return Flow(parse_flow_config(text, name, overrides), backend, threads);
  }
  static Flow from_file(const std::string& path, const std::vector<std::string>& overrides,
                        const std::string& backend, int threads) {
    return Flow(load_flow_config(path, overrides), backend, threads);
  }

  // Runs the flow; returns whether on_step (or Ctrl-C) stopped it early.
  bool run(nb::handle on_step, const std::string& out_dir, bool resume, bool progress,
           bool plots) {
    if (!on_step.is_none() && !PyCallable_Check(on_step.ptr()))
      throw nb::type_error("on_step: expected a callable (step info, samples) -> bool");
    if (resume && out_dir.empty()) throw nb::value_error("resume: needs an output directory (out)");
    RunOptions opt;
    opt.backend = backend_;
    opt.threads = threads_;
    opt.out_dir = out_dir;
    opt.resume = resume;
    opt.progress = progress;
    if (plots && !out_dir.empty()) opt.observers.push_back(make_run_plots());
    std::exception_ptr error;
    nb::object callback = nb::borrow(on_step);
    opt.on_step = [&](const StepInfo& s, const HostMatrix<double>& x) -> bool {
      nb::gil_scoped_acquire acquire;
      try {
        if (PyErr_CheckSignals() != 0) throw nb::python_error();
        if (callback.is_none()) return true;
        nb::object r = callback(step_dict(s), samples_array(x));
        if (r.is_none()) return true;
        const int truth = PyObject_IsTrue(r.ptr());
        if (truth < 0) throw nb::python_error();
        return truth != 0;
      } catch (...) {
        error = std::current_exception();
        return false;
      }
    };
    RunResult result;
    {
      nb::gil_scoped_release release;
      result = run_flow(cfg_, opt);
    }
    if (error) std::rethrow_exception(error);
    result_ = std::move(result);
    ran_ = true;
    return result_.stopped;
  }

  nb::object samples() const {
    if (!ran_) return nb::none();
    return samples_array(result_.samples);
  }
  nb::list metrics() const {
    nb::list l;
    for (const StepInfo& s : result_.metrics) l.append(step_dict(s));
    return l;
  }
  index_t steps() const { return result_.steps; }
  double time() const { return result_.time; }
  std::string device() const { return ran_ ? to_string(result_.device) : ""; }
  std::string config_toml() const { return to_toml(cfg_); }

 private:
  FlowConfig cfg_;
  BackendChoice backend_;
  int threads_;
  RunResult result_;
  bool ran_ = false;
};

}  // namespace

void bind_flow(nb::module_& m) {
  using namespace nb::literals;
  nb::class_<Flow>(m, "_Flow")
      .def_static("from_toml", &Flow::from_toml, "text"_a, "name"_a, "overrides"_a, "backend"_a,
                  "threads"_a)
      .def_static("from_file", &Flow::from_file, "path"_a, "overrides"_a, "backend"_a,
                  "threads"_a)
      .def("run", &Flow::run, "on_step"_a.none(), "out"_a, "resume"_a, "progress"_a, "plots"_a)
      .def_prop_ro("samples", &Flow::samples)
      .def_prop_ro("metrics", &Flow::metrics)
      .def_prop_ro("steps", &Flow::steps)
      .def_prop_ro("time", &Flow::time)
      .def_prop_ro("device", &Flow::device)
      .def_prop_ro("config_toml", &Flow::config_toml);
}

}  // namespace nwgf::py

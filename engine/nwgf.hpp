#pragma once
// The public surface of nwgf in one include, installed as <nwgf/nwgf.hpp>: the core (contexts,
// buffers, BLAS, random numbers, threads, SIMD dispatch), the Riesz kernels (pairwise sums, sliced
// estimates), the networks (MLP, Adam, serialization), the flows (configuration, functionals,
// measures, schemes, time steps, run_flow, the run directory), the closed forms of analytic/, file
// formats (engine/io) and pictures (engine/viz; link nwgf::viz; a run's pictures,
// schemes/run/viz: link nwgf::run_viz). CPU-only consumers need no CUDA header.
#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/blas.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/hd.hpp"
#include "nwgf/engine/philox.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/engine/simd.hpp"
#include "nwgf/engine/threads.hpp"
#include "nwgf/engine/types.hpp"
#include "nwgf/engine/version.hpp"

#include "nwgf/engine/io/file_io.hpp"
#include "nwgf/engine/io/idx.hpp"
#include "nwgf/engine/io/image_io.hpp"
#include "nwgf/engine/io/json.hpp"
#include "nwgf/engine/io/npy.hpp"

#include "nwgf/engine/viz/gif.hpp"
#include "nwgf/engine/viz/html.hpp"
#include "nwgf/engine/viz/kde.hpp"
#include "nwgf/engine/viz/picture.hpp"
#include "nwgf/engine/viz/plot.hpp"
#include "nwgf/engine/viz/png.hpp"
#include "nwgf/engine/viz/render.hpp"

#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/kernels/sliced.hpp"

#include "nwgf/nn/activation.hpp"
#include "nwgf/nn/adam.hpp"
#include "nwgf/nn/mlp.hpp"
#include "nwgf/nn/output_transform.hpp"
#include "nwgf/nn/serialize.hpp"

#include "nwgf/schemes/config.hpp"
#include "nwgf/schemes/flow.hpp"
#include "nwgf/schemes/functional.hpp"
#include "nwgf/schemes/measures.hpp"
#include "nwgf/schemes/schemes.hpp"
#include "nwgf/schemes/time_steps.hpp"

#include "nwgf/schemes/run/observer.hpp"
#include "nwgf/schemes/run/reference.hpp"
#include "nwgf/schemes/run/run_dir.hpp"
#include "nwgf/schemes/run/step_info.hpp"
#include "nwgf/schemes/run/viz/run_plots.hpp"
#include "nwgf/schemes/run/viz/run_report.hpp"

#include "nwgf/analytic/barenblatt.hpp"
#include "nwgf/analytic/barycenter.hpp"
#include "nwgf/analytic/gaussian_moments.hpp"
#include "nwgf/analytic/line_flow.hpp"
#include "nwgf/analytic/ou_flow.hpp"
#include "nwgf/analytic/references.hpp"
#include "nwgf/analytic/riesz_flow.hpp"

#pragma once
// The public surface of nwgf in one include, installed as <nwgf/nwgf.hpp>: the core (contexts,
// buffers, BLAS, random numbers, threads, SIMD dispatch), the Riesz kernels (pairwise sums, sliced
// estimates), the networks (MLP, Adam, serialization), the flows (configuration, functionals,
// measures, schemes, time steps, run_flow), the closed forms of analytic/, file formats
// (engine/io) and pictures (engine/viz; link nwgf::viz). CPU-only consumers need no CUDA header.
#include "engine/backend.hpp"
#include "engine/blas.hpp"
#include "engine/buffer.hpp"
#include "engine/error.hpp"
#include "engine/hd.hpp"
#include "engine/philox.hpp"
#include "engine/rng.hpp"
#include "engine/simd.hpp"
#include "engine/threads.hpp"
#include "engine/types.hpp"
#include "engine/version.hpp"

#include "engine/io/file_io.hpp"
#include "engine/io/idx.hpp"
#include "engine/io/image_io.hpp"
#include "engine/io/json.hpp"
#include "engine/io/npy.hpp"

#include "engine/viz/gif.hpp"
#include "engine/viz/plot.hpp"
#include "engine/viz/png.hpp"
#include "engine/viz/render.hpp"

#include "kernels/pairwise.hpp"
#include "kernels/sliced.hpp"

#include "nn/adam.hpp"
#include "nn/mlp.hpp"
#include "nn/serialize.hpp"

#include "schemes/config.hpp"
#include "schemes/flow.hpp"
#include "schemes/functional.hpp"
#include "schemes/measures.hpp"
#include "schemes/schemes.hpp"
#include "schemes/time_steps.hpp"

#include "analytic/barycenter.hpp"
#include "analytic/line_flow.hpp"
#include "analytic/riesz_flow.hpp"

# The library, defined once for every build mode (the real build and the CUDA emulation build):
#   nwgf      (nwgf::nwgf) the core: engine/ without engine/io and engine/viz, kernels/, nn/,
#             schemes/ without schemes/run/viz, analytic/ (every subfolder included);
#   nwgf_io   (nwgf::io)   file formats: engine/io/ (atomic files, .npy, IDX, JSON, reading images);
#   nwgf_viz  (nwgf::viz)  pictures: engine/viz/ (drawn with cairo: PNG, SVG, PDF; GIFs with
#                          giflib; plots, `nwgf render`); the only library that links cairo;
#   nwgf_run_viz (nwgf::run_viz) a run's pictures: schemes/run/viz/ (on nwgf and nwgf_viz).
# Sources are collected recursively per library, so a new subfolder needs no edit here. CUDA
# sources (.cu) are compiled by nvcc when the CUDA backend is on, rewritten and compiled as C++
# against the emulator in the emulation build (cmake/NwgfEmulate.cmake), and left out otherwise.

# Headers of the public surface, installed as <nwgf/...> and included by <nwgf/nwgf.hpp>. They
# include only each other (tests: public_headers_alone). Everything else under the library
# folders is internal: the math kernels' *_math/*_rows headers, CUDA declarations, raw memory.
set(NWGF_PUBLIC_HEADERS
  engine/nwgf.hpp
  engine/types.hpp engine/error.hpp engine/hd.hpp engine/backend.hpp engine/buffer.hpp
  engine/comm/comm.hpp
  engine/blas.hpp engine/rng.hpp engine/philox.hpp engine/threads.hpp engine/simd.hpp
  engine/io/file_io.hpp engine/io/npy.hpp engine/io/idx.hpp engine/io/json.hpp engine/io/image_io.hpp
  engine/viz/png.hpp engine/viz/picture.hpp engine/viz/gif.hpp engine/viz/plot.hpp engine/viz/render.hpp
  engine/viz/kde.hpp engine/viz/html.hpp
  kernels/pairwise.hpp kernels/sliced.hpp
  nn/mlp.hpp nn/icnn.hpp nn/icnn_density.hpp nn/adam.hpp nn/serialize.hpp nn/activation.hpp nn/output_transform.hpp
  schemes/config.hpp schemes/config_enums.hpp schemes/flow.hpp schemes/functional.hpp
  schemes/device_sum.hpp
  schemes/measures.hpp
  schemes/schemes.hpp schemes/time_steps.hpp
  schemes/run/step_info.hpp schemes/run/observer.hpp schemes/run/run_dir.hpp
  schemes/run/reference.hpp schemes/run/viz/run_plots.hpp schemes/run/viz/run_report.hpp
  analytic/riesz_flow.hpp analytic/line_flow.hpp analytic/barycenter.hpp analytic/references.hpp
  analytic/gaussian_mixture.hpp
  analytic/gaussian_moments.hpp analytic/ou_flow.hpp analytic/barenblatt.hpp)

# Sources (paths relative to the source root) under DIRS, recursively, minus those under EXCLUDE.
function(nwgf_collect_sources out_cpp out_cu)
  cmake_parse_arguments(A "" "" "DIRS;EXCLUDE" ${ARGN})
  set(cpp)
  set(cu)
  foreach(dir ${A_DIRS})
    file(GLOB_RECURSE _cpp CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR} ${dir}/*.cpp)
    file(GLOB_RECURSE _cu CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR} ${dir}/*.cu)
    list(APPEND cpp ${_cpp})
    list(APPEND cu ${_cu})
  endforeach()
  foreach(ex ${A_EXCLUDE})
    list(FILTER cpp EXCLUDE REGEX "^${ex}/")
    list(FILTER cu EXCLUDE REGEX "^${ex}/")
  endforeach()
  set(${out_cpp} ${cpp} PARENT_SCOPE)
  set(${out_cu} ${cu} PARENT_SCOPE)
endfunction()

# One library target NAME (STATIC) from the sources under DIRS (minus EXCLUDE), with the include
# paths, definitions and links every nwgf library shares, plus PUBLIC_LINKS / PRIVATE_LINKS.
function(nwgf_add_library name export_name)
  cmake_parse_arguments(A "" "" "DIRS;EXCLUDE;PUBLIC_LINKS;PRIVATE_LINKS" ${ARGN})
  nwgf_collect_sources(cpp cu DIRS ${A_DIRS} EXCLUDE ${A_EXCLUDE})
  set(srcs)
  foreach(rel ${cpp})
    list(APPEND srcs ${PROJECT_SOURCE_DIR}/${rel})
  endforeach()
  if(NWGF_CUDA_EMULATE)
    foreach(rel ${cu})
      nwgf_emu_rewrite(${rel} srcs)
    endforeach()
  elseif(NWGF_WITH_CUDA)
    foreach(rel ${cu})
      list(APPEND srcs ${PROJECT_SOURCE_DIR}/${rel})
    endforeach()
  endif()
  add_library(${name} STATIC ${srcs})
  add_library(nwgf::${export_name} ALIAS ${name})
  set_target_properties(${name} PROPERTIES EXPORT_NAME ${export_name})
  # Build tree: "engine/x.hpp" (source root) and "nwgf/engine/x.hpp" (${binary}/include/nwgf is
  # a link to the source root) both resolve. Installed: <nwgf/engine/x.hpp> under include/.
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
    $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/generated>
    $<INSTALL_INTERFACE:include>)
  if(NWGF_CUDA_EMULATE)
    target_compile_definitions(${name} PUBLIC NWGF_HAVE_CUDA=1 NWGF_CUDA_EMULATE=1)
    target_link_libraries(${name} PUBLIC nwgf_emu)
  elseif(NWGF_WITH_CUDA)
    target_compile_definitions(${name} PUBLIC NWGF_HAVE_CUDA=1)
    if(cu)
      # cuBLAS is not linked: engine/cublas_lib.cu loads it on first use (dlopen), so a process
      # that never creates a CUDA context does not map and relocate it at start-up.
      target_link_libraries(${name} PUBLIC CUDA::cudart_static ${CMAKE_DL_LIBS})
      set_property(SOURCE ${PROJECT_SOURCE_DIR}/engine/cublas_lib.cu APPEND PROPERTY
        COMPILE_DEFINITIONS NWGF_CUBLAS_LIBRARY_DIR="${CUDAToolkit_LIBRARY_DIR}")
      if(TARGET CUDA::nvtx3)
        target_link_libraries(${name} PUBLIC CUDA::nvtx3)
      endif()
      set_target_properties(${name} PROPERTIES CUDA_SEPARABLE_COMPILATION OFF)
      # Every CUDA source prints its register and spill use (-Xptxas=-v); tools/nvcc_log.sh, the
      # targets' CUDA compiler launcher (before any launcher of the build's, e.g. ccache), keeps
      # each object's output in OBJECT.ptxas, which tools/check_ptxas.sh checks for spills.
      target_compile_options(${name} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Xptxas=-v --expt-relaxed-constexpr>)
      set(_launcher ${PROJECT_SOURCE_DIR}/tools/nvcc_log.sh ${CMAKE_CUDA_COMPILER_LAUNCHER})
      set_target_properties(${name} PROPERTIES CUDA_COMPILER_LAUNCHER "${_launcher}")
    endif()
  endif()
  target_link_libraries(${name} PUBLIC ${A_PUBLIC_LINKS} PRIVATE ${A_PRIVATE_LINKS})
  nwgf_warnings(${name})
endfunction()

# All three libraries. The generated version header is reachable as "engine/version.hpp" and as
# "nwgf/engine/version.hpp"; ${binary}/include/nwgf links to the source root.
function(nwgf_define_libraries)
  foreach(gen engine/version.hpp nwgf/engine/version.hpp)
    configure_file(${PROJECT_SOURCE_DIR}/engine/version.hpp.in ${PROJECT_BINARY_DIR}/generated/${gen} @ONLY)
  endforeach()
  file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/include)
  if(NOT EXISTS ${PROJECT_BINARY_DIR}/include/nwgf)
    file(CREATE_LINK ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/include/nwgf SYMBOLIC)
  endif()

  nwgf_add_library(nwgf_io io DIRS engine/io
    PUBLIC_LINKS ZLIB::ZLIB PRIVATE_LINKS nwgf_stb)
  nwgf_add_library(nwgf_viz viz DIRS engine/viz
    PUBLIC_LINKS nwgf_io GIF::GIF PRIVATE_LINKS nwgf_cairo)
  nwgf_add_library(nwgf nwgf DIRS engine kernels nn schemes analytic
    EXCLUDE engine/io engine/viz schemes/run/viz
    PUBLIC_LINKS nwgf_io OpenMP::OpenMP_CXX nwgf_openblas Boost::headers ZLIB::ZLIB
    PRIVATE_LINKS tomlplusplus::tomlplusplus)
  nwgf_use_hwy(nwgf)
  # The MLP's elementwise CPU loops (nn/mlp.cpp: the PReLU layer and its reverse) select one of
  # two products by a float comparison; under -ftrapping-math, GCC's default, GCC 12 keeps the
  # comparison a branch and the loops scalar (4x slower at 64 columns). nwgf never reads the
  # floating-point exception flags, and the flag changes no value.
  set_source_files_properties(${PROJECT_SOURCE_DIR}/nn/mlp.cpp TARGET_DIRECTORY nwgf PROPERTIES
    COMPILE_OPTIONS -fno-trapping-math)
  # The MPI communicator (engine/comm/mpi_comm.cpp): mpi.h, its include path and definitions
  # stay on that file; the library links MPI (LINK_ONLY: no usage requirements elsewhere).
  if(NWGF_WITH_MPI)
    set(_mpi_flags)
    foreach(dir ${MPI_CXX_INCLUDE_DIRS})
      list(APPEND _mpi_flags -isystem ${dir})
    endforeach()
    set_source_files_properties(${PROJECT_SOURCE_DIR}/engine/comm/mpi_comm.cpp
      TARGET_DIRECTORY nwgf PROPERTIES
      COMPILE_DEFINITIONS "NWGF_HAVE_MPI=1;${MPI_CXX_COMPILE_DEFINITIONS}"
      COMPILE_OPTIONS "${_mpi_flags};${MPI_CXX_COMPILE_OPTIONS}")
    target_link_libraries(nwgf PRIVATE $<LINK_ONLY:MPI::MPI_CXX>)
  endif()
  # The NCCL device communicator (engine/comm/nccl_comm.cu; engine/comm/nccl_off.cpp without).
  if(NWGF_WITH_NCCL)
    target_compile_definitions(nwgf PRIVATE NWGF_HAVE_NCCL=1)
    if(NOT NWGF_CUDA_EMULATE)
      # libnccl.so.2 is loaded when a run first needs it (dlopen), not linked: see nccl_comm.cu.
      target_include_directories(nwgf SYSTEM PRIVATE ${NWGF_NCCL_INCLUDE_DIR})
      target_link_libraries(nwgf PRIVATE $<LINK_ONLY:${CMAKE_DL_LIBS}>)
    endif()
  endif()
  # The run's pictures (plots/*.png, flow.gif): an observer of the run loop that `nwgf run`
  # installs; the core draws nothing and links no picture library.
  nwgf_add_library(nwgf_run_viz run_viz DIRS schemes/run/viz PUBLIC_LINKS nwgf nwgf_viz)
endfunction()

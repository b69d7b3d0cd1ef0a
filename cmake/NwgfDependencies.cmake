# Dependencies, all from Debian's packages (tools/setup.sh installs them).
find_package(OpenMP REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(GIF 5 REQUIRED)  # giflib: animated GIFs of a run
find_package(CLI11 REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(hwy REQUIRED)  # Google Highway: the CPU kernels' SIMD, dispatched at run time
# Highway's contrib library (libhwy-contrib, in Debian's libhwy-dev): the sliced estimator's
# vectorised quicksort (kernels/vq_sort.cpp, hwy/contrib/sort/vqsort.h).
if(NOT TARGET hwy::hwy_contrib)
  message(FATAL_ERROR "nwgf: Highway's contrib library (target hwy::hwy_contrib, "
                      "libhwy_contrib) was not found; install libhwy-dev (tools/setup.sh)")
endif()
find_package(PkgConfig REQUIRED)

# The library's Highway settings: every target this compiler can build (AVX-512 with the Ice
# Lake / Zen 4 extensions included, and the portable fallback), chosen at run time by the CPU
# (engine/simd.hpp). All library sources see the same set.
# The sanitizer and CUDA-emulation builds compile the portable scalar target only: under ASan +
# UBSan the pair rows take over ten minutes per x86 target on 2 cores, and every target shares
# the same source (the Release build's tests run each target the CPU has).
# Even so GCC 12 spends over a quarter of an hour instrumenting that one file, so the sanitizer
# build leaves the pair rows (kernels/pairwise_rows_*.cpp, the translation units of
# kernels/pairwise_rows-inl.h) uninstrumented (their callers, buffers and tests are).
function(nwgf_use_hwy target)
  if(NWGF_SANITIZE)
    file(GLOB _rows ${PROJECT_SOURCE_DIR}/kernels/pairwise_rows_*.cpp)
    set_source_files_properties(${_rows} PROPERTIES COMPILE_OPTIONS "-fno-sanitize=all")
  endif()
  if(NWGF_SANITIZE OR NWGF_CUDA_EMULATE)
    target_compile_definitions(${target} PRIVATE HWY_COMPILE_ONLY_STATIC)
  else()
    target_compile_definitions(${target} PRIVATE HWY_COMPILE_ALL_ATTAINABLE HWY_WANT_AVX3_DL)
  endif()
  target_link_libraries(${target} PUBLIC hwy::hwy hwy::hwy_contrib)
endfunction()
if(NWGF_BUILD_TESTS)
  find_package(doctest REQUIRED)
endif()

# OpenBLAS: prefer the OpenMP build, so BLAS threads and our OpenMP threads are one pool.
find_path(NWGF_CBLAS_INCLUDE cblas.h
  PATHS /usr/include/x86_64-linux-gnu/openblas-openmp /usr/include/openblas
        /usr/include/x86_64-linux-gnu/openblas-pthread
  NO_DEFAULT_PATH)
find_library(NWGF_OPENBLAS_LIB NAMES openblas
  PATHS /usr/lib/x86_64-linux-gnu/openblas-openmp /usr/lib/x86_64-linux-gnu/openblas-pthread
  NO_DEFAULT_PATH)
if(NOT NWGF_CBLAS_INCLUDE OR NOT NWGF_OPENBLAS_LIB)
  find_path(NWGF_CBLAS_INCLUDE cblas.h REQUIRED)
  find_library(NWGF_OPENBLAS_LIB NAMES openblas REQUIRED)
endif()
add_library(nwgf_openblas INTERFACE)
target_include_directories(nwgf_openblas SYSTEM INTERFACE
  $<BUILD_INTERFACE:${NWGF_CBLAS_INCLUDE}> $<INSTALL_INTERFACE:${NWGF_CBLAS_INCLUDE}>)
target_link_libraries(nwgf_openblas INTERFACE ${NWGF_OPENBLAS_LIB})
message(STATUS "nwgf: OpenBLAS ${NWGF_OPENBLAS_LIB}")

# stb (image read/write): Debian ships the implementations in libstb.
find_path(NWGF_STB_INCLUDE stb_image.h PATH_SUFFIXES stb REQUIRED)
find_library(NWGF_STB_LIB NAMES stb REQUIRED)
add_library(nwgf_stb INTERFACE)
target_include_directories(nwgf_stb SYSTEM INTERFACE
  $<BUILD_INTERFACE:${NWGF_STB_INCLUDE}> $<INSTALL_INTERFACE:${NWGF_STB_INCLUDE}>)
target_link_libraries(nwgf_stb INTERFACE ${NWGF_STB_LIB})

# cairo (pictures: PNG, SVG, PDF; fonts through fontconfig, DejaVu Sans from fonts-dejavu-core).
# Only the pictures library (nwgf_viz) links it, privately: the core library, its public headers
# and a consumer of nwgf::nwgf need no cairo. The interface target carries the library's full
# path, so the installed package needs no pkg-config at the consumer's configure time.
pkg_check_modules(NWGF_CAIRO_PC REQUIRED cairo)
add_library(nwgf_cairo INTERFACE)
target_include_directories(nwgf_cairo SYSTEM INTERFACE "$<BUILD_INTERFACE:${NWGF_CAIRO_PC_INCLUDE_DIRS}>")
target_link_libraries(nwgf_cairo INTERFACE ${NWGF_CAIRO_PC_LINK_LIBRARIES})
message(STATUS "nwgf: cairo ${NWGF_CAIRO_PC_VERSION} ${NWGF_CAIRO_PC_LINK_LIBRARIES}")

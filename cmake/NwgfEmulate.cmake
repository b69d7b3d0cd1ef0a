# NWGF_CUDA_EMULATE=ON: a test-only build in which our hand-written CUDA sources run on the CPU
# under the emulator of the CUDA execution model (tools/emulate/: the library nwgf_emu from
# runtime/, its headers in include/). Every .cu file is rewritten by tools/emulate/rewrite_cu.py
# (launch syntax, __shared__ storage) and compiled as C++ with tools/emulate/include first on the
# include path (fake cuda_runtime.h, cublas_v2.h, cub, nvtx). The libraries themselves are those
# of every build (nwgf_define_libraries, cmake/NwgfLibrary.cmake); nwgf_add_library calls
# nwgf_emu_rewrite below for each .cu source.
# The library defines NWGF_HAVE_CUDA=1 and NWGF_CUDA_EMULATE=1, so Context(Device::cuda) runs the
# emulated kernels while the CPU backend stays in the same binary for comparison.
#
# Scratch mutations (never committed): -DNWGF_EMU_SOURCE_OVERRIDES="kernels/pairwise.cu=/tmp/x.cu"
# compiles /tmp/x.cu in place of kernels/pairwise.cu (a list of REL=PATH).
if(NWGF_SANITIZE)
  message(FATAL_ERROR "NWGF_CUDA_EMULATE switches stacks by hand (fibers); build it without NWGF_SANITIZE")
endif()
find_package(Python3 REQUIRED COMPONENTS Interpreter)
set(NWGF_EMU_SOURCE_OVERRIDES "" CACHE STRING "REL=PATH pairs: compile PATH in place of source REL (mutation tests)")
set(NWGF_EMU_SCHEDULES "forward;reverse;7" CACHE STRING "Schedules each tests/cuda and tests/kernels/family test runs under (forward, reverse or a seed)")
message(STATUS "nwgf: CUDA EMULATION build (test-only): kernels run on the CPU emulator")

set(_emu_root ${CMAKE_CURRENT_SOURCE_DIR})
set(_emu_gen ${CMAKE_CURRENT_BINARY_DIR}/emu_src)
set(_emu_rewrite ${_emu_root}/tools/emulate/rewrite_cu.py)

# The source to compile for REL (an override when given).
function(nwgf_emu_source rel out_var)
  set(path ${_emu_root}/${rel})
  foreach(pair ${NWGF_EMU_SOURCE_OVERRIDES})
    string(REPLACE "=" ";" kv "${pair}")
    list(GET kv 0 k)
    list(GET kv 1 v)
    if(k STREQUAL rel)
      set(path ${v})
      message(STATUS "nwgf: emulation compiles ${v} in place of ${rel}")
    endif()
  endforeach()
  set(${out_var} ${path} PARENT_SCOPE)
endfunction()

# Rewrites CUDA source REL into the build tree; appends the generated .cpp to out_list.
function(nwgf_emu_rewrite rel out_list)
  nwgf_emu_source(${rel} src)
  set(gen ${_emu_gen}/${rel}.cpp)
  get_filename_component(gen_dir ${gen} DIRECTORY)
  get_filename_component(rel_dir ${_emu_root}/${rel} DIRECTORY)
  file(MAKE_DIRECTORY ${gen_dir})
  add_custom_command(OUTPUT ${gen}
    COMMAND ${Python3_EXECUTABLE} ${_emu_rewrite} ${src} ${gen} ${src}
    DEPENDS ${src} ${_emu_rewrite}
    COMMENT "emulate: rewriting ${rel}" VERBATIM)
  # The rewritten copy sees the emulator's device model first, and includes like the original.
  set_source_files_properties(${gen} PROPERTIES COMPILE_OPTIONS
    "-include;nwgf_emu/device.hpp;-iquote;${rel_dir};-Wno-unknown-pragmas")
  set(${out_list} ${${out_list}} ${gen} PARENT_SCOPE)
endfunction()

# ---- the emulator: fibers, scheduler, device memory, the CUDA runtime API, cuBLAS/CUB fakes ----
file(GLOB_RECURSE _emu_runtime CONFIGURE_DEPENDS ${_emu_root}/tools/emulate/runtime/*.cpp)
add_library(nwgf_emu STATIC ${_emu_runtime})
target_include_directories(nwgf_emu BEFORE PUBLIC ${_emu_root}/tools/emulate/include)
target_link_libraries(nwgf_emu PUBLIC nwgf_openblas)  # the cuBLAS fake multiplies with CBLAS
# The NCCL stand-in (include/nccl.h) runs over MPI: built when the build has MPI.
if(NWGF_WITH_NCCL)
  target_sources(nwgf_emu PRIVATE ${_emu_root}/tools/emulate/nccl/nccl_mpi.cpp)
  target_link_libraries(nwgf_emu PRIVATE MPI::MPI_CXX)
endif()
nwgf_warnings(nwgf_emu)

# ---- tests (called by CMakeLists.txt) ---------------------------------------------------------
# tests/cuda/*: the cuda-vs-cpu tests, here on the emulated device, each under every schedule of
# NWGF_EMU_SCHEDULES; so are tests/kernels/family/* (CPU and CUDA halves). tests/emulate/*: the emulator's own semantics (.cu tests are rewritten).
# Each test process writes the kernels it launched to emu_launches/; emu_kernel_coverage then
# checks that every __global__ kernel of the sources was launched by some test.
# Call after enable_testing() (a directory-scope setting).
function(nwgf_emu_tests)
  set(_emu_log ${CMAKE_CURRENT_BINARY_DIR}/emu_launches)
  set(_emu_tmp ${CMAKE_CURRENT_BINARY_DIR}/tests/tmp)
  file(MAKE_DIRECTORY ${_emu_tmp})
  add_library(nwgf_emu_cuda_main OBJECT tests/cuda/cuda_main.cpp)
  target_link_libraries(nwgf_emu_cuda_main PUBLIC doctest::doctest nwgf::nwgf)
  add_library(nwgf_emu_doctest_main OBJECT tests/doctest_main.cpp)
  target_link_libraries(nwgf_emu_doctest_main PUBLIC doctest::doctest nwgf::nwgf)

  function(nwgf_emu_test name main)
    add_executable(${name} ${ARGN} $<TARGET_OBJECTS:${main}>)
    target_link_libraries(${name} PRIVATE nwgf::nwgf doctest::doctest)
    target_include_directories(${name} PRIVATE ${_emu_root})
    target_compile_definitions(${name} PRIVATE
      NWGF_CLI_PATH="$<TARGET_FILE:nwgf_cli>"
      NWGF_SOURCE_DIR="${_emu_root}"
      NWGF_TEST_TMP="${_emu_tmp}")
    nwgf_warnings(${name})
    add_dependencies(${name} nwgf_cli)
  endfunction()

  set(_emu_all_tests)
  file(GLOB _cuda_tests CONFIGURE_DEPENDS tests/cuda/test_*.cpp)
  foreach(src ${_cuda_tests})
    get_filename_component(base ${src} NAME_WE)
    set(name emu_cuda_${base})
    nwgf_emu_test(${name} nwgf_emu_cuda_main ${src})
    foreach(sched ${NWGF_EMU_SCHEDULES})
      add_test(NAME ${name}/${sched} COMMAND ${name})
      # 77 (no usable device) must not pass silently here: the emulated device is always usable.
      set_tests_properties(${name}/${sched} PROPERTIES TIMEOUT 600
        ENVIRONMENT "NWGF_EMU_SCHEDULE=${sched};NWGF_EMU_LAUNCH_LOG=${_emu_log}")
      list(APPEND _emu_all_tests ${name}/${sched})
    endforeach()
  endforeach()

  # tests/kernels/family/*: the kernel families' tests, whose CUDA half runs here on the emulated
  # device (NWGF_TEST_REQUIRE_CUDA=1: a missing CUDA half fails), under the same schedules.
  file(GLOB _family_tests CONFIGURE_DEPENDS tests/kernels/family/test_*.cpp)
  foreach(src ${_family_tests})
    get_filename_component(base ${src} NAME_WE)
    set(name emu_family_${base})
    nwgf_emu_test(${name} nwgf_emu_doctest_main ${src})
    foreach(sched ${NWGF_EMU_SCHEDULES})
      add_test(NAME ${name}/${sched} COMMAND ${name})
      set_tests_properties(${name}/${sched} PROPERTIES TIMEOUT 600 ENVIRONMENT
        "NWGF_EMU_SCHEDULE=${sched};NWGF_EMU_LAUNCH_LOG=${_emu_log};NWGF_TEST_REQUIRE_CUDA=1")
      list(APPEND _emu_all_tests ${name}/${sched})
    endforeach()
  endforeach()

  file(GLOB _emu_tests CONFIGURE_DEPENDS RELATIVE ${_emu_root} tests/emulate/test_*.cpp tests/emulate/test_*.cu)
  foreach(rel ${_emu_tests})
    get_filename_component(base ${rel} NAME_WE)
    set(name emu_${base})
    get_filename_component(ext ${rel} LAST_EXT)
    set(srcs)
    if(ext STREQUAL ".cu")
      nwgf_emu_rewrite(${rel} srcs)
    else()
      set(srcs ${_emu_root}/${rel})
    endif()
    nwgf_emu_test(${name} nwgf_emu_doctest_main ${srcs})
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES TIMEOUT 600 ENVIRONMENT "NWGF_EMU_LAUNCH_LOG=${_emu_log}")
    list(APPEND _emu_all_tests ${name})
  endforeach()

  # NCCL across ranks (the stand-in over MPI, tools/emulate/include/nccl.h), label mpi: the device
  # communicator's collectives and error agreement at 2 and 3 ranks (tests/mpi/emu_nccl_comm.cpp),
  # and `mpirun -np P nwgf run --backend cuda` writing the one-process run's snapshots, bit for
  # bit (tests/mpi/mpi_run.sh same): the Riesz MMD and interaction energy (d2, d5_f32), the
  # Gaussian kernel, energy33, the ift scheme (Riesz pgd; Gaussian kl, f32), the backward
  # (f64) and forward (f32, d = 3) schemes, the variational scheme (fb, f32; KL), the sliced
  # estimator.
  if(NWGF_WITH_NCCL AND MPIEXEC_EXECUTABLE)
    # odls_base_sigkill_timeout=0: once a rank has exited non-zero, mpirun kills the rest at once
    # instead of after 1 s (each rank of a failing run has printed and finalized by then; the
    # runs that must fail, the out-of-memory tests' 2 x 55 among them, paid 1 s each).
    set(_mpi_env "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_rmaps_base_oversubscribe=1;OMPI_MCA_odls_base_sigkill_timeout=0")
    # A test of the CUDA sharded stream and its twin NAME_lazy with lazy streams
    # (NWGF_EMU_LAZY_STREAMS=1, tools/emulate/runtime/lazy.cpp: a stream's work waits until
    # something forces it, so a missing event wait between the kernels' stream and the
    # broadcasts' stream reads old bytes and fails the bit-for-bit checks). The twin writes under
    # ${_emu_tmp}/lazy_*. Twins only at a run's largest rank count (NAME_np3; the runs that have
    # only a 2-rank form, _emu_lazy_np2): 3 ranks need both waits (a kernel's read of a staging
    # slot before the next broadcast into it, the broadcast before the kernel), which the 1- and
    # 2-rank twins checked a subset of.
    set(_emu_lazy_np2 emu_sharded_cuda_same_ift_qp_np2 emu_sharded_cuda_same_log_d5_np2)
    function(nwgf_emu_test_and_lazy name)
      add_test(NAME ${name} COMMAND ${ARGN})
      if(NOT (name MATCHES "_np3$" OR name IN_LIST _emu_lazy_np2))
        return()
      endif()
      string(REPLACE "${_emu_tmp}/" "${_emu_tmp}/lazy_" lazy_args "${ARGN}")
      add_test(NAME ${name}_lazy COMMAND ${lazy_args})
      set_tests_properties(${name}_lazy PROPERTIES
        ENVIRONMENT "${_mpi_env};NWGF_EMU_LAZY_STREAMS=1" LABELS mpi TIMEOUT 300)
    endfunction()
    add_executable(emu_nccl_comm tests/mpi/emu_nccl_comm.cpp)  # its own main: one per rank
    target_link_libraries(emu_nccl_comm PRIVATE nwgf::nwgf)
    nwgf_warnings(emu_nccl_comm)
    foreach(np 2 3)
      add_test(NAME emu_nccl_comm_np${np} COMMAND ${MPIEXEC_EXECUTABLE} --oversubscribe -q -np ${np}
               $<TARGET_FILE:emu_nccl_comm>)
      foreach(cfg d2 d5_f32 gaussian energy33 ift gaussian_ift backward forward variational)
        add_test(NAME emu_nccl_same_${cfg}_np${np} COMMAND bash ${_emu_root}/tests/mpi/mpi_run.sh
                 same $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} ${np}
                 ${_emu_root}/tests/mpi/emu_cuda_${cfg}.toml ${_emu_tmp}/nccl_${cfg}_np${np} 2
                 --backend cuda)
      endforeach()
      # Configs of the CPU tests: the variational KL run (9000 particles, 3 chunks of the push and
      # of the estimate of F split by the ranks, the pushed rows gathered over NCCL) and the sliced
      # estimator (f32 with a target, f64 d = 3: the sorts split by directions).
      foreach(cfg variational_kl_d2 sliced_d2_f32 sliced_d3)
        add_test(NAME emu_nccl_same_${cfg}_np${np} COMMAND bash ${_emu_root}/tests/mpi/mpi_run.sh
                 same $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} ${np}
                 ${_emu_root}/tests/mpi/${cfg}.toml ${_emu_tmp}/nccl_${cfg}_np${np} 2 --backend cuda)
      endforeach()
      set_tests_properties(emu_nccl_comm_np${np} emu_nccl_same_d2_np${np} emu_nccl_same_d5_f32_np${np}
        emu_nccl_same_gaussian_np${np} emu_nccl_same_energy33_np${np} emu_nccl_same_ift_np${np}
        emu_nccl_same_gaussian_ift_np${np} emu_nccl_same_backward_np${np} emu_nccl_same_forward_np${np}
        emu_nccl_same_variational_np${np} emu_nccl_same_variational_kl_d2_np${np}
        emu_nccl_same_sliced_d2_f32_np${np} emu_nccl_same_sliced_d3_np${np}
        PROPERTIES ENVIRONMENT "${_mpi_env}" LABELS mpi TIMEOUT 300)
    endforeach()
    # The sharded pairwise passes on device buffers (kernels/pairwise_sharded.hpp, CUDA: own rows
    # on the device, Y broadcast in chunks over NCCL, rows carried chunk to chunk): each rank's
    # rows bit for bit one process's CUDA row pass, the energy the same at 1, 2 and 3 ranks.
    add_executable(emu_pairwise_sharded tests/mpi/emu_pairwise_sharded.cpp)  # one main per rank
    target_link_libraries(emu_pairwise_sharded PRIVATE nwgf::nwgf)
    nwgf_warnings(emu_pairwise_sharded)
    foreach(np 1 2 3)
      nwgf_emu_test_and_lazy(emu_pairwise_sharded_np${np} ${MPIEXEC_EXECUTABLE} --oversubscribe -q
               -np ${np} $<TARGET_FILE:emu_pairwise_sharded>)
      # Its launches count for emu_kernel_coverage (the energy's row_block_sums runs only here).
      set_tests_properties(emu_pairwise_sharded_np${np} PROPERTIES ENVIRONMENT
        "${_mpi_env};NWGF_EMU_LAUNCH_LOG=${_emu_log}" LABELS mpi TIMEOUT 300)
      list(APPEND _emu_all_tests emu_pairwise_sharded_np${np})
    endforeach()
    # The sharded sliced pass on device buffers (kernels/sliced_sharded.hpp, CUDA: own rows
    # projected on the device, the transposes over NCCL): each rank's rows and the sums bit for
    # bit one process's CUDA sharded pass at 1, 2 and 3 ranks, within a tolerance of the CPU's.
    add_executable(emu_sliced_sharded tests/mpi/emu_sliced_sharded.cpp)  # one main per rank
    target_link_libraries(emu_sliced_sharded PRIVATE nwgf::nwgf)
    nwgf_warnings(emu_sliced_sharded)
    foreach(np 1 2 3)
      add_test(NAME emu_sliced_sharded_np${np} COMMAND ${MPIEXEC_EXECUTABLE} --oversubscribe -q
               -np ${np} $<TARGET_FILE:emu_sliced_sharded>)
      set_tests_properties(emu_sliced_sharded_np${np} PROPERTIES ENVIRONMENT
        "${_mpi_env};NWGF_EMU_LAUNCH_LOG=${_emu_log}" LABELS mpi TIMEOUT 300)
      list(APPEND _emu_all_tests emu_sliced_sharded_np${np})
    endforeach()
    # flow.memory = "sharded" with --backend cuda (the particle scheme's exact estimator and the
    # ift scheme: the pair passes on each rank's GPU, kernels/pairwise_sharded.hpp): `mpirun -np
    # P` writes one process's sharded CUDA run byte for byte (snapshots, checkpoint, metrics;
    # mpi_run.sh sharded) for the Riesz MMD (f64, d = 2), the Gaussian MMD, the interaction
    # energy (f32, d = 5: the general-d kernel), the ift scheme (pgd, d = 2; kl with noise,
    # target resampling and the Gaussian kernel, d = 5; qp); and stays within a stated tolerance
    # of the CPU sharded run (other tiles: 1e-10 relative in f64, 1e-5 in f32;
    # mpi_run.sh sharded_cuda_cpu).
    set(_gauss --set functional.kernel=\"gaussian\" --set functional.gamma=0.5)
    foreach(np 2 3)
      nwgf_emu_test_and_lazy(emu_sharded_cuda_same_mmd_np${np} bash ${_emu_root}/tests/mpi/mpi_run.sh
               sharded $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} ${np}
               ${_emu_root}/tests/mpi/sharded_mmd_d2.toml ${_emu_tmp}/sharded_cuda_mmd_np${np} 2
               --backend cuda)
      nwgf_emu_test_and_lazy(emu_sharded_cuda_same_gaussian_np${np} bash
               ${_emu_root}/tests/mpi/mpi_run.sh sharded $<TARGET_FILE:nwgf_cli>
               ${MPIEXEC_EXECUTABLE} ${np} ${_emu_root}/tests/mpi/sharded_mmd_d2.toml
               ${_emu_tmp}/sharded_cuda_gaussian_np${np} 2 --backend cuda ${_gauss})
      nwgf_emu_test_and_lazy(emu_sharded_cuda_same_interaction_d5_f32_np${np} bash
               ${_emu_root}/tests/mpi/mpi_run.sh sharded $<TARGET_FILE:nwgf_cli>
               ${MPIEXEC_EXECUTABLE} ${np} ${_emu_root}/tests/mpi/interaction_d5_f32.toml
               ${_emu_tmp}/sharded_cuda_interaction_np${np} 2 --backend cuda)
      nwgf_emu_test_and_lazy(emu_sharded_cuda_same_ift_np${np} bash ${_emu_root}/tests/mpi/mpi_run.sh
               sharded $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} ${np}
               ${_emu_root}/tests/mpi/sharded_ift_d2.toml ${_emu_tmp}/sharded_cuda_ift_np${np} 2
               --backend cuda)
      set_tests_properties(emu_sharded_cuda_same_mmd_np${np} emu_sharded_cuda_same_gaussian_np${np}
        emu_sharded_cuda_same_interaction_d5_f32_np${np} emu_sharded_cuda_same_ift_np${np}
        PROPERTIES ENVIRONMENT "${_mpi_env}" LABELS mpi TIMEOUT 300)
    endforeach()
    nwgf_emu_test_and_lazy(emu_sharded_cuda_same_ift_kl_d5_np3 bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 3 ${_emu_root}/tests/mpi/sharded_ift_kl_d5.toml
             ${_emu_tmp}/sharded_cuda_ift_kl_d5 2 --backend cuda --set ift.noise=0.1
             --set ift.target_resample=true ${_gauss})
    nwgf_emu_test_and_lazy(emu_sharded_cuda_same_ift_qp_np2 bash ${_emu_root}/tests/mpi/mpi_run.sh
             sharded $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} 2
             ${_emu_root}/tests/mpi/sharded_ift_d2.toml ${_emu_tmp}/sharded_cuda_ift_qp 2
             --backend cuda --set ift.weight_step=\"qp\" --set ift.qp_iterations=10)
    add_test(NAME emu_sharded_cuda_cpu_ift_np3 COMMAND bash ${_emu_root}/tests/mpi/mpi_run.sh
             sharded_cuda_cpu $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} 3
             ${_emu_root}/tests/mpi/sharded_ift_d2.toml ${_emu_tmp}/sharded_cuda_cpu_ift 1e-10)
    add_test(NAME emu_sharded_cuda_cpu_ift_kl_d5_np2 COMMAND bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded_cuda_cpu $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 2 ${_emu_root}/tests/mpi/sharded_ift_kl_d5.toml
             ${_emu_tmp}/sharded_cuda_cpu_ift_kl_d5 1e-10 --set ift.noise=0.1)
    set_tests_properties(emu_sharded_cuda_same_ift_kl_d5_np3 emu_sharded_cuda_same_ift_qp_np2
      emu_sharded_cuda_cpu_ift_np3 emu_sharded_cuda_cpu_ift_kl_d5_np2
      PROPERTIES ENVIRONMENT "${_mpi_env}" LABELS mpi TIMEOUT 300)
    add_test(NAME emu_sharded_cuda_cpu_mmd_np3 COMMAND bash ${_emu_root}/tests/mpi/mpi_run.sh
             sharded_cuda_cpu $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} 3
             ${_emu_root}/tests/mpi/sharded_mmd_d2.toml ${_emu_tmp}/sharded_cuda_cpu_mmd 1e-10)
    add_test(NAME emu_sharded_cuda_cpu_gaussian_np2 COMMAND bash ${_emu_root}/tests/mpi/mpi_run.sh
             sharded_cuda_cpu $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} 2
             ${_emu_root}/tests/mpi/sharded_mmd_d2.toml ${_emu_tmp}/sharded_cuda_cpu_gaussian 1e-10
             ${_gauss})
    add_test(NAME emu_sharded_cuda_cpu_interaction_np2 COMMAND bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded_cuda_cpu $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 2 ${_emu_root}/tests/mpi/interaction_d5_f32.toml
             ${_emu_tmp}/sharded_cuda_cpu_interaction 1e-5)
    set_tests_properties(emu_sharded_cuda_cpu_mmd_np3 emu_sharded_cuda_cpu_gaussian_np2
      emu_sharded_cuda_cpu_interaction_np2
      PROPERTIES ENVIRONMENT "${_mpi_env}" LABELS mpi TIMEOUT 300)
    # The sliced estimator sharded on the GPUs (sliced_gradient_sharded's CUDA path: own rows
    # projected on the device, the transposes over NCCL): one process's sharded CUDA run byte
    # for byte at 1, 2 and 3 ranks (f32 MMD, d = 2), a target larger than the samples and the
    # f64 interaction at d = 3 at 3 ranks, a run checkpointed at 3 ranks resumed at 2; within
    # 1e-5 (f32) and 1e-10 (f64) of the CPU sharded run.
    # The byte-for-byte runs take 2 of the config's 6 steps (snapshots 0 and 2; 96 directions a
    # step, one sort launch each, are most of an emulated run's time); the resumed run all 6.
    set(_sliced_short --set flow.steps=2)
    foreach(np 1 2 3)
      nwgf_emu_test_and_lazy(emu_sharded_cuda_same_sliced_np${np} bash
               ${_emu_root}/tests/mpi/mpi_run.sh sharded $<TARGET_FILE:nwgf_cli>
               ${MPIEXEC_EXECUTABLE} ${np} ${_emu_root}/tests/mpi/sliced_d2_f32.toml
               ${_emu_tmp}/sharded_cuda_sliced_np${np} 2 --backend cuda ${_sliced_short})
      set_tests_properties(emu_sharded_cuda_same_sliced_np${np}
        PROPERTIES ENVIRONMENT "${_mpi_env}" LABELS mpi TIMEOUT 300)
    endforeach()
    add_test(NAME emu_sharded_cuda_same_sliced_big_target_np3 COMMAND bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 3 ${_emu_root}/tests/mpi/sliced_d2_f32.toml
             ${_emu_tmp}/sharded_cuda_sliced_big_target 2 --backend cuda --set target.n=1500
             ${_sliced_short})
    add_test(NAME emu_sharded_cuda_same_sliced_d3_np3 COMMAND bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 3 ${_emu_root}/tests/mpi/sliced_d3.toml
             ${_emu_tmp}/sharded_cuda_sliced_d3 1 --backend cuda)
    add_test(NAME emu_sharded_cuda_sliced_resume_np3_to_np2 COMMAND bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded_resume $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 3 ${_emu_root}/tests/mpi/sliced_d2_f32.toml
             ${_emu_tmp}/sharded_cuda_sliced_resume 2 --backend cuda)
    add_test(NAME emu_sharded_cuda_cpu_sliced_np2 COMMAND bash ${_emu_root}/tests/mpi/mpi_run.sh
             sharded_cuda_cpu $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} 2
             ${_emu_root}/tests/mpi/sliced_d2_f32.toml ${_emu_tmp}/sharded_cuda_cpu_sliced 1e-5)
    add_test(NAME emu_sharded_cuda_cpu_sliced_d3_np3 COMMAND bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded_cuda_cpu $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 3 ${_emu_root}/tests/mpi/sliced_d3.toml
             ${_emu_tmp}/sharded_cuda_cpu_sliced_d3 1e-10)
    set_tests_properties(emu_sharded_cuda_same_sliced_big_target_np3
      emu_sharded_cuda_same_sliced_d3_np3 emu_sharded_cuda_sliced_resume_np3_to_np2
      emu_sharded_cuda_cpu_sliced_np2 emu_sharded_cuda_cpu_sliced_d3_np3
      PROPERTIES ENVIRONMENT "${_mpi_env}" LABELS mpi TIMEOUT 300)
    # The term-by-term functionals on the CUDA backend (the particle scheme's interaction kernels
    # W, the potential, sums, energy33: every term on each rank's GPU, the pair passes streamed
    # over NCCL, the rows by row_values): one process's sharded CUDA run byte for byte at 2 and 3
    # ranks (the potential at 1 and 3: 9000 rows, reduce chunks of 8192 cut by the rank blocks;
    # its runs launch row_values for emu_kernel_coverage), a run checkpointed at 2 ranks and
    # resumed at 3; and the CPU sharded run within 1e-10 relative (f64) / 1e-5 (f32).
    set(_e33 --set initial.n=300)
    set(_log --set functional.kernel=\"log_quadratic\")
    foreach(np 2 3)
      nwgf_emu_test_and_lazy(emu_sharded_cuda_same_kernel_d5_np${np} bash
               ${_emu_root}/tests/mpi/mpi_run.sh sharded $<TARGET_FILE:nwgf_cli>
               ${MPIEXEC_EXECUTABLE} ${np} ${_emu_root}/tests/mpi/sharded_kernel_d5.toml
               ${_emu_tmp}/sharded_cuda_kernel_d5_np${np} 2 --backend cuda)
      nwgf_emu_test_and_lazy(emu_sharded_cuda_same_sum_d4_np${np} bash
               ${_emu_root}/tests/mpi/mpi_run.sh sharded $<TARGET_FILE:nwgf_cli>
               ${MPIEXEC_EXECUTABLE} ${np} ${_emu_root}/tests/mpi/sharded_sum_d4.toml
               ${_emu_tmp}/sharded_cuda_sum_d4_np${np} 2 --backend cuda)
      nwgf_emu_test_and_lazy(emu_sharded_cuda_same_energy33_np${np} bash
               ${_emu_root}/tests/mpi/mpi_run.sh sharded $<TARGET_FILE:nwgf_cli>
               ${MPIEXEC_EXECUTABLE} ${np} ${_emu_root}/tests/mpi/energy33_d2.toml
               ${_emu_tmp}/sharded_cuda_energy33_np${np} 2 --backend cuda ${_e33})
      set_tests_properties(emu_sharded_cuda_same_kernel_d5_np${np}
        emu_sharded_cuda_same_sum_d4_np${np} emu_sharded_cuda_same_energy33_np${np}
        PROPERTIES ENVIRONMENT "${_mpi_env}" LABELS mpi TIMEOUT 300)
    endforeach()
    foreach(np 1 3)
      nwgf_emu_test_and_lazy(emu_sharded_cuda_same_potential_np${np} bash
               ${_emu_root}/tests/mpi/mpi_run.sh sharded $<TARGET_FILE:nwgf_cli>
               ${MPIEXEC_EXECUTABLE} ${np} ${_emu_root}/tests/mpi/sharded_potential_d3.toml
               ${_emu_tmp}/sharded_cuda_potential_np${np} 2 --backend cuda)
      set_tests_properties(emu_sharded_cuda_same_potential_np${np} PROPERTIES ENVIRONMENT
        "${_mpi_env};NWGF_EMU_LAUNCH_LOG=${_emu_log}" LABELS mpi TIMEOUT 300)
      list(APPEND _emu_all_tests emu_sharded_cuda_same_potential_np${np})
    endforeach()
    # A GPU out of memory on one rank (the emulator's NWGF_EMU_MALLOC_FAIL): each device
    # allocation of rank 1 failing in turn ends every rank with one error line, no hang (the
    # sharded runner's staging and the passes' buffers are allocated inside collectives): the
    # pair passes of the MMD flow, and the term-by-term sum (kernels W, the potential).
    foreach(cfg mmd_d2 sum_d4)
      add_test(NAME emu_sharded_cuda_oom_${cfg}_np2 COMMAND bash ${_emu_root}/tests/mpi/mpi_run.sh
               oom $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} 2
               ${_emu_root}/tests/mpi/sharded_${cfg}.toml ${_emu_tmp}/sharded_cuda_oom_${cfg} 1
               --backend cuda --set flow.memory=\"sharded\" --set flow.steps=1)
      set_tests_properties(emu_sharded_cuda_oom_${cfg}_np2 PROPERTIES ENVIRONMENT "${_mpi_env}"
        LABELS mpi TIMEOUT 900)
    endforeach()
    nwgf_emu_test_and_lazy(emu_sharded_cuda_same_log_d5_np2 bash ${_emu_root}/tests/mpi/mpi_run.sh
             sharded $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} 2
             ${_emu_root}/tests/mpi/sharded_kernel_d5.toml ${_emu_tmp}/sharded_cuda_log_d5 2
             --backend cuda ${_log})
    add_test(NAME emu_sharded_cuda_resume_sum_d4 COMMAND bash ${_emu_root}/tests/mpi/mpi_run.sh
             sharded_resume $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} 2
             ${_emu_root}/tests/mpi/sharded_sum_d4.toml ${_emu_tmp}/sharded_cuda_resume_sum_d4 3
             --backend cuda)
    add_test(NAME emu_sharded_cuda_cpu_kernel_d5_np2 COMMAND bash ${_emu_root}/tests/mpi/mpi_run.sh
             sharded_cuda_cpu $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} 2
             ${_emu_root}/tests/mpi/sharded_kernel_d5.toml ${_emu_tmp}/sharded_cuda_cpu_kernel_d5
             1e-10)
    add_test(NAME emu_sharded_cuda_cpu_log_d5_np3 COMMAND bash ${_emu_root}/tests/mpi/mpi_run.sh
             sharded_cuda_cpu $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} 3
             ${_emu_root}/tests/mpi/sharded_kernel_d5.toml ${_emu_tmp}/sharded_cuda_cpu_log_d5
             1e-10 ${_log})
    add_test(NAME emu_sharded_cuda_cpu_sum_d4_np3 COMMAND bash ${_emu_root}/tests/mpi/mpi_run.sh
             sharded_cuda_cpu $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} 3
             ${_emu_root}/tests/mpi/sharded_sum_d4.toml ${_emu_tmp}/sharded_cuda_cpu_sum_d4 1e-5)
    add_test(NAME emu_sharded_cuda_cpu_energy33_np2 COMMAND bash ${_emu_root}/tests/mpi/mpi_run.sh
             sharded_cuda_cpu $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} 2
             ${_emu_root}/tests/mpi/energy33_d2.toml ${_emu_tmp}/sharded_cuda_cpu_energy33 1e-10
             ${_e33})
    add_test(NAME emu_sharded_cuda_cpu_potential_np2 COMMAND bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded_cuda_cpu $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 2 ${_emu_root}/tests/mpi/sharded_potential_d3.toml
             ${_emu_tmp}/sharded_cuda_cpu_potential 1e-10)
    set_tests_properties(emu_sharded_cuda_same_log_d5_np2 emu_sharded_cuda_resume_sum_d4
      emu_sharded_cuda_cpu_kernel_d5_np2 emu_sharded_cuda_cpu_log_d5_np3
      emu_sharded_cuda_cpu_sum_d4_np3 emu_sharded_cuda_cpu_energy33_np2
      emu_sharded_cuda_cpu_potential_np2
      PROPERTIES ENVIRONMENT "${_mpi_env}" LABELS mpi TIMEOUT 300)
    # The backward and forward schemes sharded on CUDA (the network, its batches, the batch terms
    # against each rank's target rows and the push on each rank's GPU; the batch and chunk rows
    # moved through host copies): one process's sharded CUDA run byte for byte at 1, 2 and 3
    # ranks (snapshots, checkpoint, metrics: backward f64 d = 2, forward f32 d = 3; energy33
    # backward at 3, forward at 2), a backward run checkpointed at 2 ranks and resumed at 3,
    # one replicated GPU process's snapshots and checkpoint byte for byte (the sharded target
    # gradient rows are the CUDA row pass's; F, in metrics.csv only, is summed on the 64-row
    # grid), and the CPU sharded run within 1e-10 relative (f64) / 1e-5 (f32).
    foreach(np 1 2 3)
      foreach(scheme backward forward)
        nwgf_emu_test_and_lazy(emu_sharded_cuda_same_${scheme}_np${np} bash
                 ${_emu_root}/tests/mpi/mpi_run.sh sharded $<TARGET_FILE:nwgf_cli>
                 ${MPIEXEC_EXECUTABLE} ${np} ${_emu_root}/tests/mpi/emu_cuda_${scheme}.toml
                 ${_emu_tmp}/sharded_cuda_${scheme}_np${np} 2 --backend cuda)
        set_tests_properties(emu_sharded_cuda_same_${scheme}_np${np} PROPERTIES ENVIRONMENT
          "${_mpi_env}" LABELS mpi TIMEOUT 300)
      endforeach()
    endforeach()
    add_test(NAME emu_sharded_cuda_same_energy33_backward_np3 COMMAND bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 3 ${_emu_root}/tests/mpi/energy33_backward_d2.toml
             ${_emu_tmp}/sharded_cuda_energy33_backward 2 --backend cuda)
    add_test(NAME emu_sharded_cuda_same_energy33_forward_np2 COMMAND bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 2 ${_emu_root}/tests/mpi/energy33_forward_d2.toml
             ${_emu_tmp}/sharded_cuda_energy33_forward 2 --backend cuda)
    # 100 samples at 3 ranks: two blocks of the 64-row grid, so one rank holds no rows; batch = N:
    # every row gathered for both halves of the batch.
    add_test(NAME emu_sharded_cuda_same_backward_rows_np3 COMMAND bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 3 ${_emu_root}/tests/mpi/emu_cuda_backward.toml
             ${_emu_tmp}/sharded_cuda_backward_rows 2 --backend cuda --set initial.n=100)
    add_test(NAME emu_sharded_cuda_resume_backward COMMAND bash ${_emu_root}/tests/mpi/mpi_run.sh
             sharded_resume $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} 2
             ${_emu_root}/tests/mpi/emu_cuda_backward.toml ${_emu_tmp}/sharded_cuda_resume_backward
             3 --backend cuda)
    add_test(NAME emu_sharded_cuda_as_replicated_backward_np2 COMMAND bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded_as_replicated $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 2 ${_emu_root}/tests/mpi/emu_cuda_backward.toml
             ${_emu_tmp}/sharded_cuda_as_replicated_backward 2 --backend cuda)
    add_test(NAME emu_sharded_cuda_cpu_backward_np3 COMMAND bash ${_emu_root}/tests/mpi/mpi_run.sh
             sharded_cuda_cpu $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} 3
             ${_emu_root}/tests/mpi/emu_cuda_backward.toml ${_emu_tmp}/sharded_cuda_cpu_backward
             1e-10)
    add_test(NAME emu_sharded_cuda_cpu_forward_np2 COMMAND bash ${_emu_root}/tests/mpi/mpi_run.sh
             sharded_cuda_cpu $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} 2
             ${_emu_root}/tests/mpi/emu_cuda_forward.toml ${_emu_tmp}/sharded_cuda_cpu_forward 1e-5)
    set_tests_properties(emu_sharded_cuda_same_backward_rows_np3
      emu_sharded_cuda_same_energy33_backward_np3
      emu_sharded_cuda_same_energy33_forward_np2 emu_sharded_cuda_resume_backward
      emu_sharded_cuda_as_replicated_backward_np2 emu_sharded_cuda_cpu_backward_np3
      emu_sharded_cuda_cpu_forward_np2
      PROPERTIES ENVIRONMENT "${_mpi_env}" LABELS mpi TIMEOUT 300)
    # eval.mmd of a sharded CUDA run (the closed form's reference sample, each rank its rows, the
    # three sums through the CUDA sharded passes on the ranks' GPUs): mmd2_analytic byte for byte
    # at 2 and 3 ranks, and within 1e-10 relative of the CPU sharded run's.
    foreach(np 2 3)
      nwgf_emu_test_and_lazy(emu_sharded_cuda_same_reference_np${np} bash
               ${_emu_root}/tests/mpi/mpi_run.sh sharded $<TARGET_FILE:nwgf_cli>
               ${MPIEXEC_EXECUTABLE} ${np} ${_emu_root}/tests/mpi/sharded_reference_d2.toml
               ${_emu_tmp}/sharded_cuda_reference_np${np} 2 --backend cuda)
      set_tests_properties(emu_sharded_cuda_same_reference_np${np} PROPERTIES ENVIRONMENT
        "${_mpi_env}" LABELS mpi TIMEOUT 300)
    endforeach()
    add_test(NAME emu_sharded_cuda_cpu_reference_np3 COMMAND bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded_cuda_cpu $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 3 ${_emu_root}/tests/mpi/sharded_reference_d2.toml
             ${_emu_tmp}/sharded_cuda_cpu_reference 1e-10)
    set_tests_properties(emu_sharded_cuda_cpu_reference_np3 PROPERTIES ENVIRONMENT "${_mpi_env}"
      LABELS mpi TIMEOUT 300)
    # The variational scheme sharded on the CUDA backend (the networks, batches, push and estimate
    # of F on each rank's GPU; the batch rows and the chunks' rows moved through the host; fb's
    # pair passes over NCCL): one process's sharded CUDA run byte for byte (snapshots, checkpoint,
    # metrics) for KL to a Gaussian (f64, d = 2, N = 9000: 3 chunks of the push and the estimate
    # split by the ranks; 2 steps of 3 iterations) at 1, 2 and 3 ranks and fb with the Gaussian
    # attraction and the entropy's box (f32, N = 600) at 2 and 3; the fb run checkpointed at 2
    # ranks and resumed at 3, the KL run (4 steps) checkpointed at 3 ranks and resumed in one
    # process; the CPU sharded run within 1e-10 (f64) and 1e-5 (f32) relative.
    # And the configs of the CPU tests, byte for byte against one process: KL to a mixture (the
    # mixture ratio on the device; energy_distance, mixture_tv), an ICNN map pretrained on
    # gathered batches with KL, a potential and a Riesz interaction's batch U-statistic (against
    # the CPU too), the 1-D log-quadratic aggregation without a critic (w1_semicircle gathered on
    # rank 0) and the porous medium from a Barenblatt start (w1_radial, second_moment).
    set(_var_kl ${_emu_root}/tests/mpi/variational_kl_d2.toml)
    set(_var_fb ${_emu_root}/tests/mpi/emu_cuda_variational.toml)
    set(_var_short --set flow.steps=2 --set train.iterations=3)
    foreach(np 1 2 3)
      nwgf_emu_test_and_lazy(emu_sharded_cuda_same_variational_kl_np${np} bash
               ${_emu_root}/tests/mpi/mpi_run.sh sharded $<TARGET_FILE:nwgf_cli>
               ${MPIEXEC_EXECUTABLE} ${np} ${_var_kl} ${_emu_tmp}/sharded_cuda_variational_kl_np${np}
               2 --backend cuda ${_var_short})
      set_tests_properties(emu_sharded_cuda_same_variational_kl_np${np} PROPERTIES ENVIRONMENT
        "${_mpi_env}" LABELS mpi TIMEOUT 300)
    endforeach()
    foreach(np 2 3)
      nwgf_emu_test_and_lazy(emu_sharded_cuda_same_variational_fb_np${np} bash
               ${_emu_root}/tests/mpi/mpi_run.sh sharded $<TARGET_FILE:nwgf_cli>
               ${MPIEXEC_EXECUTABLE} ${np} ${_var_fb} ${_emu_tmp}/sharded_cuda_variational_fb_np${np}
               2 --backend cuda)
      set_tests_properties(emu_sharded_cuda_same_variational_fb_np${np} PROPERTIES ENVIRONMENT
        "${_mpi_env}" LABELS mpi TIMEOUT 300)
    endforeach()
    add_test(NAME emu_sharded_cuda_resume_variational_fb COMMAND bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded_resume $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 2 ${_var_fb} ${_emu_tmp}/sharded_cuda_resume_variational_fb 3
             --backend cuda)
    add_test(NAME emu_sharded_cuda_resume_variational_kl_np3_to_np1 COMMAND bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded_resume $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 3 ${_var_kl} ${_emu_tmp}/sharded_cuda_resume_variational_kl 1
             --backend cuda --set train.iterations=3)
    add_test(NAME emu_sharded_cuda_cpu_variational_kl_np2 COMMAND bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded_cuda_cpu $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 2 ${_var_kl} ${_emu_tmp}/sharded_cuda_cpu_variational_kl 1e-10
             ${_var_short})
    add_test(NAME emu_sharded_cuda_cpu_variational_fb_np3 COMMAND bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded_cuda_cpu $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 3 ${_var_fb} ${_emu_tmp}/sharded_cuda_cpu_variational_fb 1e-5)
    foreach(cfg variational_gmm_d2 variational_icnn_d3 variational_log_d1 porous_d2)
      set(np 3)
      if(cfg MATCHES "log|porous")
        set(np 2)
      endif()
      add_test(NAME emu_sharded_cuda_same_${cfg}_np${np} COMMAND bash
               ${_emu_root}/tests/mpi/mpi_run.sh sharded $<TARGET_FILE:nwgf_cli>
               ${MPIEXEC_EXECUTABLE} ${np} ${_emu_root}/tests/mpi/sharded_${cfg}.toml
               ${_emu_tmp}/sharded_cuda_${cfg}_np${np} 2 --backend cuda)
      set_tests_properties(emu_sharded_cuda_same_${cfg}_np${np} PROPERTIES ENVIRONMENT
        "${_mpi_env}" LABELS mpi TIMEOUT 300)
    endforeach()
    add_test(NAME emu_sharded_cuda_cpu_variational_icnn_np2 COMMAND bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded_cuda_cpu $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 2 ${_emu_root}/tests/mpi/sharded_variational_icnn_d3.toml
             ${_emu_tmp}/sharded_cuda_cpu_variational_icnn 1e-10)
    add_test(NAME emu_sharded_cuda_cpu_variational_gmm_np3 COMMAND bash
             ${_emu_root}/tests/mpi/mpi_run.sh sharded_cuda_cpu $<TARGET_FILE:nwgf_cli>
             ${MPIEXEC_EXECUTABLE} 3 ${_emu_root}/tests/mpi/sharded_variational_gmm_d2.toml
             ${_emu_tmp}/sharded_cuda_cpu_variational_gmm 1e-5)
    set_tests_properties(emu_sharded_cuda_resume_variational_fb
      emu_sharded_cuda_resume_variational_kl_np3_to_np1
      emu_sharded_cuda_cpu_variational_kl_np2 emu_sharded_cuda_cpu_variational_fb_np3
      emu_sharded_cuda_cpu_variational_icnn_np2 emu_sharded_cuda_cpu_variational_gmm_np3
      PROPERTIES ENVIRONMENT "${_mpi_env}" LABELS mpi TIMEOUT 300)
    # `nwgf bench pairwise --sharded --backend cuda` at 2 ranks: rank 0's JSON line, device cuda.
    add_test(NAME emu_bench_pairwise_sharded_cuda_np2 COMMAND ${MPIEXEC_EXECUTABLE} --oversubscribe
             -q -np 2 $<TARGET_FILE:nwgf_cli> --threads 1 bench pairwise --sharded --backend cuda
             --n 700 --d 3 --chunk 128 --repeats 1)
    set_tests_properties(emu_bench_pairwise_sharded_cuda_np2 PROPERTIES ENVIRONMENT "${_mpi_env}"
      LABELS mpi TIMEOUT 300
      PASS_REGULAR_EXPRESSION "\"sharded\": true, \"ranks\": 2, \"device\": \"cuda\".*\"chunks\": [0-9]+")
    # `nwgf bench sliced --sharded --backend cuda` at 2 ranks: rank 0's JSON line, device cuda.
    add_test(NAME emu_bench_sliced_sharded_cuda_np2 COMMAND ${MPIEXEC_EXECUTABLE} --oversubscribe
             -q -np 2 $<TARGET_FILE:nwgf_cli> --threads 1 bench sliced --sharded --backend cuda
             --n 700 --d 3 --directions 16 --repeats 1)
    set_tests_properties(emu_bench_sliced_sharded_cuda_np2 PROPERTIES ENVIRONMENT "${_mpi_env}"
      LABELS mpi TIMEOUT 300
      PASS_REGULAR_EXPRESSION "\"sharded\": true, \"ranks\": 2, \"one_gemm\": false, \"device\": \"cuda\"")
    # A backward run on the CUDA backend checkpointed at 2 ranks and resumed at 3 (the network
    # and Adam state sent from rank 0 to the other ranks' devices): the one-process snapshot.
    add_test(NAME emu_nccl_resume_backward COMMAND bash ${_emu_root}/tests/mpi/mpi_run.sh
             resume $<TARGET_FILE:nwgf_cli> ${MPIEXEC_EXECUTABLE} 2
             ${_emu_root}/tests/mpi/emu_cuda_backward.toml ${_emu_tmp}/nccl_resume_backward 3
             --backend cuda)
    set_tests_properties(emu_nccl_resume_backward
      PROPERTIES ENVIRONMENT "${_mpi_env}" LABELS mpi TIMEOUT 300)
  endif()

  # Every __global__ kernel of the library's .cu files was launched by some test above.
  add_test(NAME emu_clean_launch_log COMMAND ${CMAKE_COMMAND} -E rm -rf ${_emu_log})
  set_tests_properties(emu_clean_launch_log PROPERTIES FIXTURES_SETUP emu_log)
  set_tests_properties(${_emu_all_tests} PROPERTIES FIXTURES_REQUIRED emu_log)
  add_test(NAME emu_kernel_coverage
    COMMAND ${Python3_EXECUTABLE} ${_emu_root}/tools/emulate/kernel_coverage.py ${_emu_log}
            ${_emu_root} engine kernels nn schemes analytic)
  set_tests_properties(emu_kernel_coverage PROPERTIES DEPENDS "${_emu_all_tests}")
endfunction()

# The Python package `nwgf` (python/): the compiled module _nwgf (nanobind) over the same
# library targets as the CLI, and the pure-Python package around it.
#   NWGF_PYTHON = AUTO (default): built when a Python interpreter with development files and
#                 nanobind is found, else skipped with a message (the C++ build is unchanged);
#                 off in the sanitizer and CUDA-emulation builds.
#                 ON: fail when they are missing. OFF: never.
# In the build tree the package is assembled in ${CMAKE_BINARY_DIR}/python/nwgf (the .py files
# copied, the module next to them), so the pytest suite (ctest label python) runs against it
# without installing; `pip install .` (pyproject.toml, scikit-build-core) installs the
# component `python` only.
function(nwgf_python_package)
  if(NWGF_PYTHON STREQUAL "OFF")
    message(STATUS "nwgf: Python package OFF")
    return()
  endif()
  if(NWGF_SANITIZE OR NWGF_CUDA_EMULATE)
    message(STATUS "nwgf: Python package OFF (not built in the sanitizer or emulation build)")
    return()
  endif()
  set(required "")
  if(NWGF_PYTHON STREQUAL "ON")
    set(required REQUIRED)
  endif()
  find_package(Python 3.8 COMPONENTS Interpreter Development.Module ${required})
  if(NOT Python_FOUND)
    message(STATUS "nwgf: Python package OFF (no Python interpreter with development files)")
    return()
  endif()
  if(NOT nanobind_DIR)
    execute_process(COMMAND "${Python_EXECUTABLE}" -m nanobind --cmake_dir
                    OUTPUT_VARIABLE nb_dir OUTPUT_STRIP_TRAILING_WHITESPACE
                    RESULT_VARIABLE nb_rc ERROR_QUIET)
    if(nb_rc EQUAL 0)
      set(nanobind_DIR "${nb_dir}" CACHE PATH "nanobind's CMake directory" FORCE)
    endif()
  endif()
  find_package(nanobind CONFIG QUIET)
  if(NOT nanobind_FOUND)
    if(NWGF_PYTHON STREQUAL "ON")
      message(FATAL_ERROR "NWGF_PYTHON=ON but nanobind was not found for ${Python_EXECUTABLE}")
    endif()
    message(STATUS "nwgf: Python package OFF (nanobind not found for ${Python_EXECUTABLE})")
    return()
  endif()
  message(STATUS "nwgf: Python package ON (${Python_EXECUTABLE}, nanobind ${nanobind_VERSION})")

  set(pkg_dir ${CMAKE_BINARY_DIR}/python/nwgf)
  file(GLOB py_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/python/nwgf/*.py)
  foreach(f ${py_sources})
    get_filename_component(name ${f} NAME)
    configure_file(${f} ${pkg_dir}/${name} COPYONLY)
  endforeach()

  # NB_STATIC: nanobind's own library is a separate target compiled with its flags (no -Werror);
  # our binding sources get the project's warnings.
  file(GLOB binding_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/python/src/*.cpp)
  nanobind_add_module(_nwgf NB_STATIC ${binding_sources})
  target_link_libraries(_nwgf PRIVATE nwgf::run_viz nwgf::nwgf nwgf::io nwgf::viz)
  target_include_directories(_nwgf PRIVATE ${PROJECT_SOURCE_DIR})
  set_target_properties(_nwgf PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${pkg_dir})
  nwgf_warnings(_nwgf)
  # Only `cmake --install --component python` (pip) installs the module, not a full install.
  install(TARGETS _nwgf LIBRARY DESTINATION nwgf COMPONENT python EXCLUDE_FROM_ALL)

  if(NWGF_BUILD_TESTS)
    execute_process(COMMAND "${Python_EXECUTABLE}" -c "import pytest, numpy"
                    RESULT_VARIABLE have_pytest OUTPUT_QUIET ERROR_QUIET)
    if(NOT have_pytest EQUAL 0)
      message(STATUS "nwgf: Python tests OFF (pytest or numpy missing for ${Python_EXECUTABLE}; "
                     "tools/setup.sh installs them)")
      return()
    endif()
    add_test(NAME python_pytest
             COMMAND "${Python_EXECUTABLE}" -m pytest -q -p no:cacheprovider
                     ${PROJECT_SOURCE_DIR}/python/tests)
    set_tests_properties(python_pytest PROPERTIES LABELS python TIMEOUT 1200 PROCESSORS 2
      ENVIRONMENT "NWGF_CLI=$<TARGET_FILE:nwgf_cli>;NWGF_THREADS=2"
      ENVIRONMENT_MODIFICATION "PYTHONPATH=path_list_prepend:${CMAKE_BINARY_DIR}/python")
  endif()
endfunction()

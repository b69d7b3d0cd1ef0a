# ctest public_headers_alone: each public header (NWGF_PUBLIC_HEADERS) compiles on its own from a
# copy of the public headers only, as they are installed (<nwgf/...>), with no CUDA header and no
# other project folder on the include path: a public header that includes an internal one, or
# needs an include it does not make, fails here. The umbrella <nwgf/nwgf.hpp> is compiled once
# more as a CUDA build's consumer sees it (NWGF_HAVE_CUDA=1).
# usage: cmake -DCXX=... -DSOURCE_DIR=... -DVERSION_HPP=... -DSTAGE=... -DHEADERS="a|b|..." -P
string(REPLACE "|" ";" headers "${HEADERS}")
file(REMOVE_RECURSE ${STAGE})
foreach(h ${headers})
  if(h STREQUAL "engine/nwgf.hpp")
    set(dest nwgf)
  else()
    get_filename_component(dir ${h} DIRECTORY)
    set(dest nwgf/${dir})
  endif()
  file(COPY ${SOURCE_DIR}/${h} DESTINATION ${STAGE}/include/${dest})
endforeach()
file(COPY ${VERSION_HPP} DESTINATION ${STAGE}/include/nwgf/engine)

set(failed 0)
function(check name header)
  file(WRITE ${STAGE}/${name}.cpp "#include <${header}>\n#include <${header}>\n")
  execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only -Wall -Wextra -Werror ${ARGN}
                          -I${STAGE}/include ${STAGE}/${name}.cpp
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message("FAILED: <${header}> ${ARGN}\n${out}")
    set(failed 1 PARENT_SCOPE)
  endif()
endfunction()
set(n 0)
foreach(h ${headers})
  math(EXPR n "${n} + 1")
  if(h STREQUAL "engine/nwgf.hpp")
    check(tu${n} nwgf/nwgf.hpp)
    check(tu${n}_cuda nwgf/nwgf.hpp -DNWGF_HAVE_CUDA=1)
  else()
    check(tu${n} nwgf/${h})
  endif()
endforeach()
if(failed)
  message(FATAL_ERROR "public headers that do not compile alone (see above)")
endif()
message("${n} public headers compile alone, without CUDA headers")

# Target `headers`: one translation unit per header of src/ and lib/ that
# includes only that header, so a header that does not compile on its own
# (a missing include, a missing declaration) fails the build. Not part of
# `all`; scripts/test.sh builds it.
file(GLOB_RECURSE emporium_headers CONFIGURE_DEPENDS RELATIVE ${CMAKE_SOURCE_DIR}
  ${CMAKE_SOURCE_DIR}/src/*.hpp ${CMAKE_SOURCE_DIR}/lib/*.hpp)
set(header_sources)
foreach(header ${emporium_headers})
  string(REGEX REPLACE "^(src|lib)/" "" included ${header})
  string(MAKE_C_IDENTIFIER ${header} stem)
  set(tu ${CMAKE_BINARY_DIR}/headers/${stem}.cpp)
  file(CONFIGURE OUTPUT ${tu} CONTENT "#include \"${included}\"\n")
  list(APPEND header_sources ${tu})
endforeach()
add_library(headers OBJECT EXCLUDE_FROM_ALL ${header_sources})
target_compile_options(headers PRIVATE ${EMPORIUM_WARNINGS})
target_link_libraries(headers PRIVATE emporium_app)

# Install: headers, the library, an exported CMake package and a pkg-config file.
include(CMakePackageConfigHelpers)

# A static libhtevents.a also needs the C++ runtime when a C program is linked by the C compiler
# (pkg-config with `cc`, a C-only CMake project): a C++ driver adds it by itself, and the shared
# library names it as a dependency. The C++ compiler's own implicit libraries, less those
# every C link has anyway.
set(htevents_cxx_runtime "")
if(NOT BUILD_SHARED_LIBS)
  foreach(lib IN LISTS CMAKE_CXX_IMPLICIT_LINK_LIBRARIES)
    if(NOT lib MATCHES "^(c|gcc|gcc_s|gcc_eh)$" AND NOT lib IN_LIST htevents_cxx_runtime)
      list(APPEND htevents_cxx_runtime ${lib})
    endif()
  endforeach()
  # Only where the C linker links: with a C++ linker it would be there twice.
  target_link_libraries(htevents INTERFACE "$<$<LINK_LANGUAGE:C>:${htevents_cxx_runtime}>")
endif()
list(TRANSFORM htevents_cxx_runtime PREPEND "-l" OUTPUT_VARIABLE HTEVENTS_PC_LIBS_RUNTIME)
list(JOIN HTEVENTS_PC_LIBS_RUNTIME " " HTEVENTS_PC_LIBS_RUNTIME)

install(DIRECTORY include/htevents DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS htevents EXPORT htevents-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT htevents-targets NAMESPACE htevents:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/htevents)

configure_package_config_file(cmake/htevents-config.cmake.in
  ${PROJECT_BINARY_DIR}/htevents-config.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/htevents)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/htevents-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/htevents-config.cmake ${PROJECT_BINARY_DIR}/htevents-config-version.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/htevents)

# pkg-config: a static library needs its private dependencies on the link line too.
if(BUILD_SHARED_LIBS)
  set(HTEVENTS_PC_REQUIRES_PRIVATE "libcurl libzstd zlib simdjson")
  set(HTEVENTS_PC_REQUIRES "")
else()
  set(HTEVENTS_PC_REQUIRES_PRIVATE "")
  set(HTEVENTS_PC_REQUIRES "libcurl libzstd zlib simdjson")
endif()
configure_file(cmake/htevents.pc.in ${PROJECT_BINARY_DIR}/htevents.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/htevents.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# Debian package: `cpack -G DEB` in a build configured with CMAKE_INSTALL_PREFIX=/usr (the
# paths in htevents.pc and the CMake package are fixed at configure time). It holds what
# `cmake --install` installs: the library, headers, CMake config, pkg-config file and, when
# tools are built, the htevents-cpp CLI. Checked by tests/package/deb_test.sh.
set(CPACK_PACKAGE_NAME htevents-cpp)  # not "htevents": Hightouch's own CLI has that name
set(CPACK_PACKAGE_VENDOR "htevents")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "C++20 client for Segment-compatible batch event APIs (Hightouch Events)")
set(CPACK_PACKAGE_CONTACT "htevents maintainers <htevents@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # htevents-cpp_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
# The CLI's shared libraries, found by dpkg-shlibdeps; and what a program built against the
# package needs: the static library's dependencies (htevents.pc Requires, find_dependency in
# htevents-config.cmake) as -dev packages.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
if(BUILD_SHARED_LIBS)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "")
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libcurl4-openssl-dev | libcurl-dev, libzstd-dev, zlib1g-dev, libsimdjson-dev, pkg-config")
endif()
include(CPack)

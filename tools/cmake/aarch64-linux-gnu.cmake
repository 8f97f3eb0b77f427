# Cross-compiling for 64-bit Arm Linux (aarch64) with Debian's cross toolchain
# (g++-aarch64-linux-gnu) against arm64 multiarch packages (libfoo-dev:arm64 in
# /usr/lib/aarch64-linux-gnu). tools/cross-test.sh installs all of it and uses this file:
#   cmake -S . -B build-aarch64 --toolchain tools/cmake/aarch64-linux-gnu.cmake
# ctest then runs the test binaries under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Multiarch, not a sysroot: the arm64 libraries and their CMake packages live under
# /usr/lib/aarch64-linux-gnu beside the host's /usr/lib/x86_64-linux-gnu, and the headers in
# /usr/include are shared. Naming the architecture makes find_library and find_package look in
# the arm64 directory and never in the host's.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# pkg-config would otherwise answer with the host's .pc files (and -L paths to x86-64 libs).
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# ARMv8.0 with the CRC32 extension: every aarch64 server core has it (Graviton 1-4, Ampere,
# Neoverse, Apple M), and it is the baseline src/spool/crc32c.cpp needs to build its ARMv8
# crc32c path (__ARM_FEATURE_CRC32) instead of the portable table, so that path gets tested.
set(CMAKE_C_FLAGS_INIT "-march=armv8-a+crc")
set(CMAKE_CXX_FLAGS_INIT "-march=armv8-a+crc")

# Test binaries (and gtest_discover_tests' listing step) run through qemu-user. No -L
# /usr/aarch64-linux-gnu: that prefix holds the cross toolchain's own glibc build, while every
# other arm64 library (libcurl:arm64 and the rest) was built against the multiarch libc6:arm64
# they pulled in; with -L the guest would mix the cross ld.so with the multiarch libc.so.6. The
# binaries' interpreter, /lib/ld-linux-aarch64.so.1, is libc6:arm64's, so everything at run
# time comes from one glibc.
find_program(HTEVENTS_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static REQUIRED)
# -E tells the guest the emulator's path: a test that re-executes its own binary cannot exec an
# arm64 file on this host (no binfmt_misc entry), so it goes through the emulator instead
# (tests/unit/common/process_barrier_test.cpp).
set(CMAKE_CROSSCOMPILING_EMULATOR
  "${HTEVENTS_QEMU_AARCH64};-E;HTEVENTS_TEST_EMULATOR=${HTEVENTS_QEMU_AARCH64}")

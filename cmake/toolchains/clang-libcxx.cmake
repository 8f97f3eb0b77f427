# clang++ with LLVM's libc++ instead of libstdc++ (the `libcxx` preset; docs/platforms.md).
# Debian: apt-get install clang libc++-dev libc++abi-dev (tools/setup.sh does).
#
# Every C++ library linked into such a build must be built against libc++ too: Debian's
# GoogleTest and Google Benchmark are not, so the preset builds GoogleTest from Debian's sources
# (/usr/src/googletest, HTEVENTS_GTEST_SOURCE_DIR) and leaves the benchmarks out. simdjson is
# linked from Debian's libsimdjson.so across the boundary; tests/CMakeLists.txt checks that
# nothing that crosses it names a std:: type (docs/platforms.md says why that is enough).
set(CMAKE_C_COMPILER clang)
set(CMAKE_CXX_COMPILER clang++)
set(CMAKE_CXX_FLAGS_INIT "-stdlib=libc++")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-stdlib=libc++")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-stdlib=libc++")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-stdlib=libc++")

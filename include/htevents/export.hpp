#pragma once
/// HTEVENTS_EXPORT marks what the shared library exports; everything else is compiled with
/// hidden visibility (CMake: CXX_VISIBILITY_PRESET hidden, VISIBILITY_INLINES_HIDDEN ON).
/// Exported: the public API, and of `detail` only what the inline fast path in writer.hpp
/// calls (WriterCore's out-of-line members and the JSON writers of detail/json_write.hpp).
///
/// As in fmt: on ELF and Mach-O the same attribute serves the library and its users, and a
/// static library needs nothing. On Windows a DLL build defines HTEVENTS_LIB_EXPORT while the
/// library is compiled and HTEVENTS_SHARED (set by the CMake package) for its users.

#if defined(_WIN32)
#if defined(HTEVENTS_LIB_EXPORT)
#define HTEVENTS_EXPORT __declspec(dllexport)
#elif defined(HTEVENTS_SHARED)
#define HTEVENTS_EXPORT __declspec(dllimport)
#else
#define HTEVENTS_EXPORT
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define HTEVENTS_EXPORT __attribute__((visibility("default")))
#else
#define HTEVENTS_EXPORT
#endif

#pragma once
// SSE2 where the target has it (every x86-64): the string scanner and the UUID writer use it,
// with portable fallbacks when HTEVENTS_JSON_SSE2 is 0: other targets, and the HTEVENTS_PORTABLE
// build (CMake option), which builds and tests those fallbacks here.

#if !defined(HTEVENTS_PORTABLE) && (defined(__SSE2__) || defined(_M_X64))
#include <emmintrin.h>
#define HTEVENTS_JSON_SSE2 1
#else
#define HTEVENTS_JSON_SSE2 0
#endif

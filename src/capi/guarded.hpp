#pragma once
// The C boundary: no exception may cross it. Every C entry point that can throw runs its body
// through guarded(), which turns what escapes into a status.

#include <new>

#include "htevents/htevents.h"

namespace htevents::inline v0::detail {

// Runs `body` (returning an int status) and answers HTEVENTS_OUT_OF_MEMORY for std::bad_alloc,
// HTEVENTS_INTERNAL_ERROR for anything else. Nothing else of the library throws after a
// client's construction, so the latter is a bug to report, not an expected answer.
template <class Body>
int guarded(Body&& body) noexcept {
  try {
    return body();
  } catch (std::bad_alloc const&) {
    return HTEVENTS_OUT_OF_MEMORY;
  } catch (...) {
    return HTEVENTS_INTERNAL_ERROR;
  }
}

}  // namespace htevents::inline v0::detail

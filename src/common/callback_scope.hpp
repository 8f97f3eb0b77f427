#pragma once
// Marks a thread as running one of the user's functions (callbacks, the logger sink): from
// there, flush() and close() cannot wait for the pipeline threads (one of them is this thread),
// and enqueue never waits for room.

namespace htevents::inline v0::detail {

inline thread_local bool tl_in_callback = false;

// True on a thread that is running one of the user's callbacks right now.
inline bool in_callback() noexcept { return tl_in_callback; }

class CallbackScope {
 public:
  CallbackScope() noexcept : outer_(tl_in_callback) { tl_in_callback = true; }
  ~CallbackScope() { tl_in_callback = outer_; }
  CallbackScope(CallbackScope const&) = delete;
  CallbackScope& operator=(CallbackScope const&) = delete;

 private:
  bool outer_;  // a logger line from inside a callback keeps the callback's mark
};

}  // namespace htevents::inline v0::detail

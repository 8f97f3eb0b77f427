#pragma once
// Names the calling thread (debuggers, top -H, /proc/<pid>/task/<tid>/comm). Each platform spells
// it differently, and macOS can only name the calling thread, so threads name themselves first
// thing. Where no call is known the thread stays unnamed: names are a convenience, never needed.

#include <pthread.h>
#if defined(__FreeBSD__) || defined(__OpenBSD__)
#include <pthread_np.h>
#endif

namespace htevents::inline v0::detail {

// At most 15 characters (Linux's limit; longer names are refused there). Never allocates.
inline void set_this_thread_name(char const* name) noexcept {
#if defined(__APPLE__)
  pthread_setname_np(name);
#elif defined(__NetBSD__)
  pthread_setname_np(pthread_self(), "%s", const_cast<char*>(name));
#elif defined(__FreeBSD__) || defined(__OpenBSD__)
  pthread_set_name_np(pthread_self(), name);
#elif defined(__linux__)
  pthread_setname_np(pthread_self(), name);
#else
  (void)name;
#endif
}

}  // namespace htevents::inline v0::detail

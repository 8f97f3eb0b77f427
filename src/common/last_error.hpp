#pragma once
// The last answer or transport error the sender had, for the detail of failures that never
// reached it (the serializer's close() deadline). Written by the sender, read by anyone.

#include <mutex>
#include <string>

namespace htevents::inline v0::detail {

class LastError {
 public:
  // May throw std::bad_alloc (the caller keeps the old text then).
  void set(std::string text) {
    std::lock_guard lock(mutex_);
    text_ = std::move(text);
  }
  // "" before the first error. May throw std::bad_alloc.
  std::string get() const {
    std::lock_guard lock(mutex_);
    return text_;
  }

 private:
  mutable std::mutex mutex_;
  std::string text_;  // guarded by mutex_
};

}  // namespace htevents::inline v0::detail

#include "htevents/value.hpp"

#include <algorithm>

namespace htevents {
inline namespace v0 {

Object& Object::set(std::string key, Value value) {
  auto it = std::find_if(members_.begin(), members_.end(), [&](Member const& m) { return m.key == key; });
  if (it != members_.end()) {
    it->value = std::move(value);
  } else {
    members_.push_back(Member{std::move(key), std::move(value)});
  }
  return *this;
}

Value const* Object::find(std::string_view key) const noexcept {
  auto it = std::find_if(members_.begin(), members_.end(), [&](Member const& m) { return m.key == key; });
  return it == members_.end() ? nullptr : &it->value;
}

Value* Object::find(std::string_view key) noexcept {
  return const_cast<Value*>(static_cast<Object const&>(*this).find(key));  // the same search, on a non-const object
}

bool Object::erase(std::string_view key) {
  auto it = std::find_if(members_.begin(), members_.end(), [&](Member const& m) { return m.key == key; });
  if (it == members_.end()) return false;
  members_.erase(it);
  return true;
}

}  // namespace v0
}  // namespace htevents

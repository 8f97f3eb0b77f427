#pragma once
/// JSON values for properties, traits, context and integrations.
///
/// Building values allocates (strings, vectors); encoding them does not. A Value is an ordinary
/// value type: copyable, movable, not thread-safe for concurrent mutation.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "htevents/export.hpp"

namespace htevents {
inline namespace v0 {

/// A point in time; encoded as RFC 3339 in UTC (`2009-11-10T23:00:00Z`).
using Timestamp = std::chrono::system_clock::time_point;

class Value;
struct Member;

/// JSON text passed through as given, after a simdjson check at enqueue
/// (malformed text makes enqueue return Status::invalid_json).
struct RawJson {
  std::string text{};
  RawJson() = default;
  explicit RawJson(std::string json) : text(std::move(json)) {}
  friend bool operator==(RawJson const&, RawJson const&) = default;
};

/// A JSON array: a sequence of Value.
class HTEVENTS_EXPORT Array {
 public:
  Array() = default;
  Array(std::initializer_list<Value> items);
  explicit Array(std::vector<Value> items);

  void push_back(Value value);
  [[nodiscard]] std::size_t size() const noexcept;
  [[nodiscard]] bool empty() const noexcept;
  [[nodiscard]] std::vector<Value> const& items() const noexcept { return items_; }
  [[nodiscard]] std::vector<Value>& items() noexcept { return items_; }
  friend bool operator==(Array const&, Array const&);

 private:
  std::vector<Value> items_;
};

/// A JSON object: string keys to Value, insertion order kept (that is the order on the wire).
/// Keys are not deduplicated by the constructor; `set` inserts or replaces.
class HTEVENTS_EXPORT Object {
 public:
  Object() = default;
  Object(std::initializer_list<Member> members);
  // Declared here, defined after Member is complete: clang instantiates them eagerly.
  Object(Object const& other);
  Object(Object&& other) noexcept;
  Object& operator=(Object const& other);
  Object& operator=(Object&& other) noexcept;
  ~Object();

  /// Inserts `key` at the end, or replaces its value where it already exists. Linear in size().
  Object& set(std::string key, Value value);
  /// The value under `key`, or nullptr. Linear in size().
  [[nodiscard]] Value const* find(std::string_view key) const noexcept;
  /// The same, to change in place: an event struct reused from one enqueue to the next keeps
  /// its keys and its strings' storage (`*props.find("sku")->get_if<std::string>() = id`)
  /// where `set` would build a key and a Value for each call.
  [[nodiscard]] Value* find(std::string_view key) noexcept;
  /// Removes `key`; true if it was there.
  bool erase(std::string_view key);
  [[nodiscard]] std::size_t size() const noexcept;
  [[nodiscard]] bool empty() const noexcept;
  void reserve(std::size_t n);
  [[nodiscard]] std::vector<Member> const& members() const noexcept { return members_; }
  friend bool operator==(Object const&, Object const&);

 private:
  std::vector<Member> members_;
};

using Properties = Object;
using Traits = Object;
using Integrations = Object;
using Context = Object;

/// One JSON value. Implicitly constructible from nullptr, bool, every integer type, float and
/// double, const char*, std::string, std::string_view, Timestamp, Array, Object and RawJson.
/// A const char* never turns into a bool. NaN and infinities are representable here but
/// rejected at enqueue (Status::invalid_number): JSON has no form for them.
class Value {
 public:
  using Storage = std::variant<std::nullptr_t, bool, std::int64_t, std::uint64_t, double, std::string, Timestamp, Array,
                               Object, RawJson>;

  Value() noexcept : v_(nullptr) {}
  Value(std::nullptr_t) noexcept : v_(nullptr) {}
  // clang-format 14 breaks requires-clauses on constructors apart:
  // clang-format off
  template <class T>
    requires std::same_as<T, bool>
  Value(T b) noexcept : v_(b) {}
  template <std::signed_integral T>
    requires(!std::same_as<T, bool>)
  Value(T i) noexcept : v_(static_cast<std::int64_t>(i)) {}
  template <std::unsigned_integral T>
    requires(!std::same_as<T, bool>)
  Value(T u) noexcept : v_(static_cast<std::uint64_t>(u)) {}
  // clang-format on
  template <std::floating_point T>
  Value(T d) noexcept : v_(static_cast<double>(d)) {}
  Value(char const* s) : v_(std::string(s)) {}
  Value(std::string s) noexcept : v_(std::move(s)) {}
  Value(std::string_view s) : v_(std::string(s)) {}
  Value(Timestamp t) noexcept : v_(t) {}
  Value(Array a) noexcept : v_(std::move(a)) {}
  Value(Object o) noexcept : v_(std::move(o)) {}
  Value(RawJson r) noexcept : v_(std::move(r)) {}

  [[nodiscard]] Storage const& storage() const noexcept { return v_; }
  template <class T>
  [[nodiscard]] bool is() const noexcept {
    return std::holds_alternative<T>(v_);
  }
  template <class T>
  [[nodiscard]] T const* get_if() const noexcept {
    return std::get_if<T>(&v_);
  }
  /// The alternative T to change in place, or nullptr when the value holds another.
  template <class T>
  [[nodiscard]] T* get_if() noexcept {
    return std::get_if<T>(&v_);
  }
  friend bool operator==(Value const&, Value const&) = default;

 private:
  Storage v_;
};

/// One key/value pair of an Object; `{"key", value}` in an initializer list.
struct Member {
  std::string key{};
  Value value{};
  friend bool operator==(Member const&, Member const&) = default;
};

inline Array::Array(std::initializer_list<Value> items) : items_(items) {}
inline Array::Array(std::vector<Value> items) : items_(std::move(items)) {}
inline void Array::push_back(Value value) { items_.push_back(std::move(value)); }
inline std::size_t Array::size() const noexcept { return items_.size(); }
inline bool Array::empty() const noexcept { return items_.empty(); }
inline bool operator==(Array const& a, Array const& b) { return a.items_ == b.items_; }

inline Object::Object(std::initializer_list<Member> members) : members_(members) {}
inline Object::Object(Object const& other) = default;
inline Object::Object(Object&& other) noexcept = default;
inline Object& Object::operator=(Object const& other) = default;
inline Object& Object::operator=(Object&& other) noexcept = default;
inline Object::~Object() = default;
inline std::size_t Object::size() const noexcept { return members_.size(); }
inline bool Object::empty() const noexcept { return members_.empty(); }
inline void Object::reserve(std::size_t n) { members_.reserve(n); }
inline bool operator==(Object const& a, Object const& b) { return a.members_ == b.members_; }

}  // namespace v0
}  // namespace htevents

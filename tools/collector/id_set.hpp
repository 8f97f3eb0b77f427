// Compact storage of the messageIds a collector has seen: 16 bytes per id, open addressing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace htevents::collector {

/// A messageId reduced to 128 bits. Plain value type.
struct MessageId {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  friend bool operator==(MessageId const&, MessageId const&) = default;
};

/// A 36-character lowercase UUID ("8-4-4-4-12" hex) gives its own 128 bits, so such ids can
/// never collide; any other string gives a 128-bit hash of its bytes (two independent 64-bit
/// hashes). Pure, thread-safe, never allocates.
[[nodiscard]] MessageId message_id_key(std::string_view id) noexcept;

/// Set of MessageId with linear probing, 16 bytes per slot, at most 3/4 full: tens of millions
/// of ids fit in well under a gigabyte. Not thread-safe: callers lock if they share it.
class MessageIdSet {
 public:
  /// Allocates room for at least `expected` ids without rehashing. Throws std::bad_alloc.
  explicit MessageIdSet(std::size_t expected = 1 << 16);

  /// True when `id` was not in the set (and is now). May rehash: allocates, throws bad_alloc.
  bool insert(MessageId id);
  /// Inserts every id of `ids` (in order) and returns how many were new. Faster than insert() one
  /// by one on big sets: it prefetches the slots ahead. May rehash: allocates, throws bad_alloc.
  std::size_t insert_all(std::span<MessageId const> ids);
  /// True when `id` is in the set. Never allocates.
  [[nodiscard]] bool contains(MessageId id) const noexcept;
  /// Number of distinct ids inserted.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// How many times the set has doubled its slots (and rehashed every id) since it was made.
  [[nodiscard]] std::size_t growths() const noexcept { return growths_; }
  /// Forgets every id; keeps the capacity.
  void clear() noexcept;

 private:
  [[nodiscard]] std::size_t slot_of(MessageId id) const noexcept;
  void grow();
  bool insert_at(std::size_t start, MessageId id) noexcept;  ///< probe from `start`; room is ensured

  std::vector<MessageId> slots_;  // {0,0} marks an empty slot; the zero id lives in has_zero_
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
  bool has_zero_ = false;
  std::size_t growths_ = 0;
};

}  // namespace htevents::collector

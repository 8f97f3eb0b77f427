#include "collector/id_set.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

namespace htevents::collector {
namespace {

constexpr std::uint64_t fmix64(std::uint64_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

std::uint64_t hash64(std::string_view s, std::uint64_t seed) noexcept {
  std::uint64_t h = seed ^ (s.size() * 0x9E3779B97F4A7C15ULL);
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + i, 8);
    h = std::rotl(h ^ (w * 0x87c37b91114253d5ULL), 31) * 0x4cf5ad432745937fULL;
  }
  std::uint64_t tail = 0;
  if (i < s.size()) std::memcpy(&tail, s.data() + i, s.size() - i);
  h = std::rotl(h ^ (tail * 0x87c37b91114253d5ULL), 31) * 0x4cf5ad432745937fULL;
  return fmix64(h);
}

constexpr std::array<std::int8_t, 256> hex_table = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'a' + 10);
  return t;
}();

bool parse_uuid(std::string_view s, MessageId& out) noexcept {
  if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
  std::uint64_t words[2] = {0, 0};
  int nibbles = 0;
  for (std::size_t i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    int const v = hex_table[static_cast<unsigned char>(s[i])];
    if (v < 0) return false;
    std::uint64_t& w = words[nibbles >> 4];
    w = (w << 4) | static_cast<std::uint64_t>(v);
    ++nibbles;
  }
  out = {words[0], words[1]};
  return true;
}

}  // namespace

MessageId message_id_key(std::string_view id) noexcept {
  MessageId key;
  if (parse_uuid(id, key)) return key;
  return {hash64(id, 0x243f6a8885a308d3ULL), hash64(id, 0x13198a2e03707344ULL)};
}

MessageIdSet::MessageIdSet(std::size_t expected) {
  std::size_t capacity = 16;
  while (capacity / 4 * 3 < expected) capacity *= 2;
  slots_.assign(capacity, MessageId{});
  mask_ = capacity - 1;
}

std::size_t MessageIdSet::slot_of(MessageId id) const noexcept {
  return static_cast<std::size_t>(fmix64(id.hi ^ std::rotl(id.lo, 23) ^ (id.lo * 0x9E3779B97F4A7C15ULL))) & mask_;
}

bool MessageIdSet::insert(MessageId id) {
  if (id == MessageId{}) {
    if (has_zero_) return false;
    has_zero_ = true;
    ++size_;
    return true;
  }
  if ((size_ + 1) * 4 > slots_.size() * 3) grow();
  return insert_at(slot_of(id), id);
}

bool MessageIdSet::insert_at(std::size_t start, MessageId id) noexcept {
  if (id == MessageId{}) {
    if (has_zero_) return false;
    has_zero_ = true;
    ++size_;
    return true;
  }
  for (std::size_t i = start;; i = (i + 1) & mask_) {
    MessageId& slot = slots_[i];
    if (slot == id) return false;
    if (slot == MessageId{}) {
      slot = id;
      ++size_;
      return true;
    }
  }
}

std::size_t MessageIdSet::insert_all(std::span<MessageId const> ids) {
  while ((size_ + ids.size()) * 4 > slots_.size() * 3) grow();
  // On a set far bigger than the caches every probe is a miss; issuing the loads a few ids
  // ahead lets them overlap instead of paying one full memory latency per id.
  constexpr std::size_t ahead = 16;
  std::size_t fresh = 0;
  std::size_t const n = ids.size();
  for (std::size_t i = 0; i < n && i < ahead; ++i) __builtin_prefetch(&slots_[slot_of(ids[i])], 1);
  for (std::size_t i = 0; i < n; ++i) {
    if (i + ahead < n) __builtin_prefetch(&slots_[slot_of(ids[i + ahead])], 1);
    fresh += insert_at(slot_of(ids[i]), ids[i]) ? 1 : 0;
  }
  return fresh;
}

bool MessageIdSet::contains(MessageId id) const noexcept {
  if (id == MessageId{}) return has_zero_;
  for (std::size_t i = slot_of(id);; i = (i + 1) & mask_) {
    MessageId const& slot = slots_[i];
    if (slot == id) return true;
    if (slot == MessageId{}) return false;
  }
}

void MessageIdSet::clear() noexcept {
  std::fill(slots_.begin(), slots_.end(), MessageId{});
  size_ = 0;
  has_zero_ = false;
}

void MessageIdSet::grow() {
  std::vector<MessageId> old(slots_.size() * 2, MessageId{});
  old.swap(slots_);
  mask_ = slots_.size() - 1;
  ++growths_;
  constexpr std::size_t ahead = 16;
  for (std::size_t k = 0; k < old.size(); ++k) {
    if (k + ahead < old.size() && !(old[k + ahead] == MessageId{}))
      __builtin_prefetch(&slots_[slot_of(old[k + ahead])], 1);
    MessageId const& id = old[k];
    if (id == MessageId{}) continue;
    std::size_t i = slot_of(id);
    while (!(slots_[i] == MessageId{})) i = (i + 1) & mask_;
    slots_[i] = id;
  }
}

}  // namespace htevents::collector

// The spool's file format (format.hpp): the writers' helpers and the recovery readers.
//
// The readers take whatever is on disk. Every offset is checked against the bytes left before
// it is added to (so no sum can wrap), nothing is allocated from a length field (the vectors
// grow by what verified, at least 9 bytes of input per record), and a damaged file yields what
// still verifies plus a count of what did not.
#include "spool/format.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <type_traits>

namespace htevents::inline v0::detail::spool {
namespace {

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big,
              "mixed-endian hosts are not supported");

// Little-endian on disk whatever the host; memcpy, never a cast to a possibly unaligned T*.
template <class T>
T load(char const* p) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    T v{};
    std::memcpy(&v, p, sizeof v);
    return v;
  } else {
    std::make_unsigned_t<T> v = 0;
    for (std::size_t i = sizeof v; i-- > 0;) v = static_cast<decltype(v)>((v << 8) | static_cast<unsigned char>(p[i]));
    return static_cast<T>(v);
  }
}

template <class T>
void store(char* p, T v) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, sizeof v);
  } else {
    auto const u = static_cast<std::make_unsigned_t<T>>(v);
    for (std::size_t i = 0; i < sizeof u; ++i) p[i] = static_cast<char>(static_cast<unsigned char>(u >> (8 * i)));
  }
}

bool has_magic(std::string_view file, std::array<char, 8> const& magic) noexcept {
  return file.size() >= magic.size() && std::memcmp(file.data(), magic.data(), magic.size()) == 0;
}

// Header verdicts shared by both file kinds.
enum class Version : std::uint8_t { readable, newer, invalid };
Version check_version(std::uint32_t version, std::uint32_t current) noexcept {
  if (version > current) return Version::newer;
  return version == current ? Version::readable : Version::invalid;
}

// --- arena ---

// Larger than any block the queue makes (block capacity is a few MiB at most), small enough
// that slot arithmetic stays far from overflow even on 32-bit size_t.
constexpr std::uint32_t max_slot_bytes = std::uint32_t{1} << 30;
// A block smaller than this cannot hold a useful record; the header is probably damaged.
constexpr std::uint32_t min_slot_bytes = block_header_bytes + 16;

enum class Frame : std::uint8_t {
  end,        // a zero length or one that runs past the block: nothing more was written here
  record,     // length fits and the checksum matches
  unchecked,  // an unchecked record of this generation in a live arena
  settled,    // length fits and the crc field holds the checksum's (or the seed's) complement
  damaged,    // length fits, the frame does not verify (torn, stale or overwritten)
};

// Reads the frame at data offset `off`; `length` is set whenever the length fits.
Frame read_frame(std::string_view data, std::size_t off, std::uint32_t seed, bool live,
                 std::uint32_t& length) noexcept {
  if (off > data.size() || data.size() - off < record_frame_bytes) return Frame::end;
  char const* const frame = data.data() + off;
  std::uint32_t const field = load<std::uint32_t>(frame);
  length = field_length(field);
  if (length == 0 || length > data.size() - off - record_frame_bytes) return Frame::end;
  std::uint32_t const stored = load<std::uint32_t>(frame + 4);
  if ((field & record_unchecked) != 0) {
    if (stored == ~seed) return Frame::settled;
    return stored == seed && live ? Frame::unchecked : Frame::damaged;
  }
  std::uint32_t const crc = crc32c(frame + record_frame_bytes, length, seed);
  if (crc == stored) return Frame::record;
  return crc == ~stored ? Frame::settled : Frame::damaged;
}

// The next frame's offset (`off` and `length` are within a block: under 1 GiB).
std::size_t after_record(std::size_t off, std::uint32_t length) noexcept {
  return align_record(static_cast<std::uint32_t>(off + record_frame_bytes + length));
}

// The unconsumed records of one block, from `from`. A damaged record is skipped (and counted)
// only when a verified one follows it directly: otherwise what follows the last good record is
// taken for the unwritten tail, where leftovers of an older generation fail the seed.
std::size_t scan_block(std::string_view data, std::size_t from, std::uint32_t seed, bool live, PayloadCheck check,
                       ArenaScan& scan) {
  std::size_t off = align_record(static_cast<std::uint32_t>(from));
  for (;;) {
    std::uint32_t length = 0;
    Frame frame = read_frame(data, off, seed, live, length);
    if (frame == Frame::end) break;
    if (frame == Frame::damaged) {
      std::size_t const next = after_record(off, length);
      std::uint32_t next_length = 0;
      Frame const after = read_frame(data, next, seed, live, next_length);
      if (after == Frame::end || after == Frame::damaged) break;
      ++scan.corrupt;
      off = next;
      length = next_length;
      frame = after;
    }
    std::string_view const payload = data.substr(off + record_frame_bytes, length);
    off = after_record(off, length);
    if (frame == Frame::settled) continue;  // delivered (or safe in a segment): not sent again
    if (frame == Frame::unchecked && check != nullptr && !check(payload)) {
      ++scan.corrupt;  // its frame was stored whole, so its length holds: the next one is read
      continue;
    }
    scan.records.push_back(payload);
  }
  return off;
}

// --- segments ---

bool all_zero(std::string_view bytes) noexcept {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

// The record at `off` if it is whole and verifies.
bool read_batch(std::string_view file, std::size_t off, SegmentEntry& entry) noexcept {
  if (off > file.size() || file.size() - off < batch_header_bytes) return false;
  char const* const h = file.data() + off;
  if (load<std::uint32_t>(h + batch_off_magic) != batch_magic) return false;
  std::uint32_t const body = load<std::uint32_t>(h + batch_off_body_bytes);
  if (body > file.size() - off - batch_header_bytes) return false;
  std::size_t const covered = batch_header_bytes - batch_off_serial + body;
  if (crc32c(h + batch_off_serial, covered) != load<std::uint32_t>(h + batch_off_crc)) return false;
  entry.offset = off;
  entry.body_bytes = body;
  // Anything but the mark counts as pending: sending a batch twice is the safe mistake.
  entry.settled = static_cast<std::uint8_t>(h[batch_off_settled]) == batch_settled_mark;
  entry.meta.serial = load<std::uint64_t>(h + batch_off_serial);
  entry.meta.messages = load<std::uint32_t>(h + batch_off_messages);
  entry.meta.envelope_at = load<std::uint32_t>(h + batch_off_envelope_at);
  entry.meta.raw_bytes = load<std::uint32_t>(h + batch_off_raw_bytes);
  entry.meta.encoding = static_cast<std::uint8_t>(h[batch_off_encoding]);
  std::memcpy(entry.meta.id.data(), h + batch_off_id, entry.meta.id.size());
  entry.meta.oldest_ms = load<std::int64_t>(h + batch_off_oldest_ms);
  return true;
}

// The next offset after `from` where a record starts and verifies, or file.size().
std::size_t resynchronise(std::string_view file, std::size_t from, SegmentEntry& entry) noexcept {
  char const magic[4] = {static_cast<char>(batch_magic & 0xFFU), static_cast<char>((batch_magic >> 8) & 0xFFU),
                         static_cast<char>((batch_magic >> 16) & 0xFFU), static_cast<char>(batch_magic >> 24)};
  std::string_view const needle(magic, sizeof magic);
  for (std::size_t at = file.find(needle, from); at != std::string_view::npos; at = file.find(needle, at + 1)) {
    if (read_batch(file, at, entry)) return at;
  }
  return file.size();
}

}  // namespace

std::uint32_t record_seed(std::uint64_t generation) noexcept {
  char bytes[8];
  store(bytes, generation);
  return crc32c(bytes, sizeof bytes);
}

void settle_record_frame(char* frame) noexcept {
  auto* const word = reinterpret_cast<std::uint64_t*>(frame);
  std::uint64_t const w = __atomic_load_n(word, __ATOMIC_RELAXED);
  __atomic_store_n(word, frame_word(frame_length_field(w), ~frame_crc_field(w)), __ATOMIC_RELAXED);
}

void write_record_frame(char* frame, std::uint32_t length, std::uint32_t seed) noexcept {
  std::uint32_t const crc = length == 0 ? 0 : crc32c(frame + record_frame_bytes, length, seed);
  __atomic_store_n(reinterpret_cast<std::uint64_t*>(frame), frame_word(length, crc), __ATOMIC_RELEASE);
}

void write_arena_header(char* out, std::uint32_t slot_bytes, std::uint32_t slot_count, std::int64_t created_ms,
                        std::uint32_t flags) noexcept {
  std::memset(out, 0, arena_header_bytes);
  std::memcpy(out, arena_magic.data(), arena_magic.size());
  store(out + arena_off_version, arena_format_version);
  store(out + arena_off_slot_bytes, slot_bytes);
  store(out + arena_off_slot_count, slot_count);
  store(out + arena_off_flags, flags);
  store(out + arena_off_created_ms, created_ms);
}

void write_block_header(char* out, std::uint64_t generation, std::uint32_t consumed_end) noexcept {
  std::memset(out, 0, block_header_bytes);
  store(out + slot_off_generation, generation);
  store(out + slot_off_consumed_end, consumed_end);
  store(out + slot_off_seed, generation == 0 ? std::uint32_t{0} : record_seed(generation));
}

void clear_live_flag(char* header) noexcept {
  store(header + arena_off_flags, load<std::uint32_t>(header + arena_off_flags) & ~arena_flag_live);
}

ArenaScan scan_arena(std::string_view file, PayloadCheck check) noexcept {
  ArenaScan scan;
  if (!has_magic(file, arena_magic)) return scan;  // not an arena (or never written): nothing lost
  if (file.size() < arena_header_bytes) {
    ++scan.corrupt;  // an arena cut inside its header
    return scan;
  }
  char const* const header = file.data();
  switch (check_version(load<std::uint32_t>(header + arena_off_version), arena_format_version)) {
    case Version::newer: scan.newer_version = true; return scan;
    case Version::invalid: ++scan.corrupt; return scan;
    case Version::readable: break;
  }
  std::uint32_t const slot_bytes = load<std::uint32_t>(header + arena_off_slot_bytes);
  std::uint32_t const slot_count = load<std::uint32_t>(header + arena_off_slot_count);
  bool const live = (load<std::uint32_t>(header + arena_off_flags) & arena_flag_live) != 0;
  if (slot_bytes < min_slot_bytes || slot_bytes > max_slot_bytes) {
    ++scan.corrupt;
    return scan;
  }
  scan.usable = true;
  std::size_t const whole_slots = (file.size() - arena_header_bytes) / slot_bytes;
  std::size_t const slots = std::min<std::size_t>(slot_count, whole_slots);
  if (slot_count > whole_slots) ++scan.corrupt;  // truncated: the cut slot is not read

  for (std::size_t i = 0; i < slots; ++i) {
    std::string_view const slot = file.substr(arena_header_bytes + i * slot_bytes, slot_bytes);
    std::uint64_t const generation = load<std::uint64_t>(slot.data() + slot_off_generation);
    if (generation == 0) continue;  // never used
    std::uint32_t const consumed_end = load<std::uint32_t>(slot.data() + slot_off_consumed_end);
    std::uint32_t const seed = load<std::uint32_t>(slot.data() + slot_off_seed);
    std::string_view const data = slot.substr(block_header_bytes);
    if (consumed_end > data.size() || seed != record_seed(generation)) {
      ++scan.corrupt;  // a damaged block header: its records cannot be told from stale ones
      continue;
    }
    std::size_t const first = scan.records.size();
    std::size_t const end = scan_block(data, consumed_end, seed, live, check, scan);
    if (scan.records.size() > first)
      scan.slots.push_back({i, first, scan.records.size() - first, static_cast<std::uint32_t>(end)});
  }
  return scan;
}

void write_segment_header(char* out, std::uint64_t sequence, std::int64_t created_ms) noexcept {
  std::memset(out, 0, segment_header_bytes);
  std::memcpy(out, segment_magic.data(), segment_magic.size());
  store(out + segment_off_version, segment_format_version);
  store(out + segment_off_sequence, sequence);
  store(out + segment_off_created_ms, created_ms);
}

void write_batch_header(char* out, BatchMeta const& meta, std::string_view body) noexcept {
  std::memset(out, 0, batch_header_bytes);
  store(out + batch_off_magic, batch_magic);
  store(out + batch_off_body_bytes, static_cast<std::uint32_t>(body.size()));
  store(out + batch_off_serial, meta.serial);
  store(out + batch_off_messages, meta.messages);
  store(out + batch_off_envelope_at, meta.envelope_at);
  store(out + batch_off_raw_bytes, meta.raw_bytes);
  out[batch_off_encoding] = static_cast<char>(meta.encoding);
  std::memcpy(out + batch_off_id, meta.id.data(), meta.id.size());
  store(out + batch_off_oldest_ms, meta.oldest_ms);
  std::uint32_t const crc = crc32c(out + batch_off_serial, batch_header_bytes - batch_off_serial);
  store(out + batch_off_crc, crc32c(body.data(), body.size(), crc));
}

SegmentScan scan_segment(std::string_view file) noexcept {
  SegmentScan scan;
  if (!has_magic(file, segment_magic)) return scan;
  if (file.size() < segment_header_bytes) {
    ++scan.corrupt;
    return scan;
  }
  switch (check_version(load<std::uint32_t>(file.data() + segment_off_version), segment_format_version)) {
    case Version::newer: scan.newer_version = true; return scan;
    case Version::invalid: ++scan.corrupt; return scan;
    case Version::readable: break;
  }
  scan.usable = true;
  scan.sequence = load<std::uint64_t>(file.data() + segment_off_sequence);

  std::size_t off = segment_header_bytes;
  SegmentEntry entry;
  while (off < file.size()) {
    if (!read_batch(file, off, entry)) {
      // Zeros to the end are room the file system gave but nobody wrote; anything else is one
      // damaged stretch, however many records it spans.
      if (all_zero(file.substr(off))) break;
      ++scan.corrupt;
      off = resynchronise(file, off + 1, entry);
      if (off == file.size()) break;
    }
    scan.entries.push_back(entry);
    off += batch_header_bytes + entry.body_bytes;
  }
  return scan;
}

bool verify_batch_record(std::string_view record) noexcept {
  SegmentEntry entry;
  return read_batch(record, 0, entry) && record.size() == batch_header_bytes + entry.body_bytes;
}

}  // namespace htevents::inline v0::detail::spool

#pragma once
// The spool's on-disk format (docs/durability.md, "File format"): the layouts, the writers'
// framing helpers, and the recovery readers. All integers little-endian; every reader takes
// untrusted bytes (a damaged, truncated or foreign file) and never reads outside them
// (tests/fuzz/spool_reader_fuzz.cpp). Arenas are at version 2, segments at version 1.
//
// A client's directory holds `lock`, one `arena` file and `seg-<16 hex digits>` segments.
//
// arena: the producers' arena blocks, file-backed (MAP_SHARED), so that a record is on its way
//   to the disk the moment enqueue returns, with no syscall.
//   [file header, arena_header_bytes][slot 0][slot 1]...; slot i at arena_header_bytes + i * slot_bytes.
//   A slot is a 64-byte block header (the in-memory Block; the persistent fields at the offsets
//   below) then block_capacity bytes of records. A record: [u32 length][u32 crc][payload], its
//   frame at a data offset that is a multiple of record_align (so that the frame is one 8-byte
//   word, stored at once), records one after another from data offset 0.
//   Checked records: crc = crc32c(payload, seed = record_seed(generation)); the frame is
//   written after its payload, so a record whose frame verifies is complete.
//   Unchecked records (the length's record_unchecked bit set): the crc field holds the seed
//   itself. Producers write these into an arena in memory (arena_flag_live in its header):
//   there a process death cannot tear a record whose frame was stored, and the copy to disk
//   checksums the records it copies (ArenaFile::sync). A reader takes an unchecked record
//   only from a live arena, and only when the payload passes the caller's check (valid JSON).
//   A record whose batch settled (or went to a segment) has its crc field complemented
//   (settle_record_frame) and is skipped; records before the block's consumed_end are skipped
//   too: the settled prefix of the block (batches that settled in order move it past their
//   records instead of marking each), and an adopted arena's re-batched records.
//
// seg-N: compressed request bodies, appended one write() per batch.
//   [file header, segment_header_bytes][batch record]...; a batch record is a
//   batch_header_bytes header then body_bytes of the request body as it was encoded.
//   After a 2xx (or a permanent failure handed to on_failure) its `settled` byte is set.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace htevents::inline v0::detail::spool {

// Version 2 arenas align frames and may hold unchecked records; version 1 arenas (development
// builds only, never released) are not read.
inline constexpr std::uint32_t arena_format_version = 2;
inline constexpr std::uint32_t segment_format_version = 1;

// --- CRC-32C (Castagnoli): hardware where the CPU has it, a table otherwise ---
std::uint32_t crc32c(void const* data, std::size_t size, std::uint32_t seed = 0) noexcept;

// --- arena ---
inline constexpr std::array<char, 8> arena_magic = {'H', 'T', 'E', 'V', 'A', 'R', 'N', '1'};
inline constexpr std::size_t arena_header_bytes = 4096;
// File header fields (offsets in the file).
inline constexpr std::size_t arena_off_version = 8;      // u32
inline constexpr std::size_t arena_off_slot_bytes = 12;  // u32: 64 + block capacity
inline constexpr std::size_t arena_off_slot_count = 16;  // u32
inline constexpr std::size_t arena_off_flags = 20;       // u32
inline constexpr std::size_t arena_off_created_ms = 24;  // i64, unix milliseconds
// The arena is the live copy in memory: its unchecked records are records. Without it they
// are damage, unless settled (a copy on disk holds only checked or settled records).
inline constexpr std::uint32_t arena_flag_live = 1;
// Block header fields (offsets in a slot). The rest of the 64 bytes is the runtime state.
inline constexpr std::size_t block_header_bytes = 64;
inline constexpr std::size_t slot_off_generation = 40;    // u64, 0: never used
inline constexpr std::size_t slot_off_consumed_end = 48;  // u32, data offset
inline constexpr std::size_t slot_off_seed = 52;          // u32, record_seed(generation)
inline constexpr std::size_t record_frame_bytes = 8;
inline constexpr std::uint32_t record_align = 8;
// An unchecked frame's length field: the flag, two bits of the sync epoch the record was
// written in (ArenaFile::sync copies a record once it is two epochs old), the length.
inline constexpr std::uint32_t record_unchecked = 0x8000'0000U;
inline constexpr std::uint32_t record_epoch_shift = 29;
inline constexpr std::uint32_t record_length_mask = (std::uint32_t{1} << record_epoch_shift) - 1;
// Records longer than this cannot be framed (Config validation keeps max_message_bytes below).
inline constexpr std::uint32_t max_record_bytes = record_length_mask;
// The data offset of the frame that follows a record (or a settled prefix) ending at `end`.
constexpr std::uint32_t align_record(std::uint32_t end) noexcept {
  return (end + record_align - 1) & ~(record_align - 1);
}

// A frame as the one 8-byte word it is in memory: [u32 length][u32 crc], little-endian.
constexpr std::uint64_t frame_word(std::uint32_t length, std::uint32_t crc) noexcept {
  std::uint64_t const le = length | std::uint64_t{crc} << 32;
  if constexpr (std::endian::native == std::endian::little) {
    return le;
  } else {
    return __builtin_bswap64(le);
  }
}
constexpr std::uint32_t frame_length_field(std::uint64_t word) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    return static_cast<std::uint32_t>(word);
  } else {
    return static_cast<std::uint32_t>(__builtin_bswap64(word));
  }
}
// The payload length of a frame (either kind) in a length field.
constexpr std::uint32_t field_length(std::uint32_t field) noexcept {
  return (field & record_unchecked) != 0 ? field & record_length_mask : field;
}
// The payload length of a frame written by this process (either kind).
inline std::uint32_t frame_payload_length(char const* frame) noexcept {
  return field_length(
      frame_length_field(__atomic_load_n(reinterpret_cast<std::uint64_t const*>(frame), __ATOMIC_RELAXED)));
}

std::uint32_t record_seed(std::uint64_t generation) noexcept;
// Marks a record settled (delivered, failed, or safe in a segment): its crc field is
// complemented, which recovery skips. Once per record: a second call would undo the first.
// Atomic on the aligned frame word: the spool's sync reads frames while records settle.
void settle_record_frame(char* frame) noexcept;
// Writes the checked frame of the `length` payload bytes at frame + record_frame_bytes: one
// 8-byte store, with release (the sync thread reads the payload once it sees the frame).
void write_record_frame(char* frame, std::uint32_t length, std::uint32_t seed) noexcept;
// The producers' frame in a live arena: no checksum, the sync `epoch` it is written in, one
// 8-byte store with release.
inline void write_unchecked_record_frame(char* frame, std::uint32_t length, std::uint32_t seed,
                                         std::uint32_t epoch = 0) noexcept {
  std::uint32_t const field = record_unchecked | (epoch & 3U) << record_epoch_shift | length;
  __atomic_store_n(reinterpret_cast<std::uint64_t*>(frame), frame_word(field, seed), __ATOMIC_RELEASE);
}
constexpr std::uint32_t frame_crc_field(std::uint64_t word) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    return static_cast<std::uint32_t>(word >> 32);
  } else {
    return static_cast<std::uint32_t>(__builtin_bswap64(word) >> 32);
  }
}
enum class FrameKind : std::uint8_t { none, record, settled };
// What the frame word `word` of a block of `seed` is, with `length` its payload length and
// `epoch` its two epoch bits: none for anything not an unchecked frame written in this
// generation (zeros, an older generation's leftovers). `room`: data bytes from the frame to
// the end of the block (>= 8). Inline: the sync's walk reads every frame it copies.
inline FrameKind frame_kind(std::uint64_t word, std::uint32_t seed, std::size_t room, std::uint32_t& length,
                            std::uint32_t& epoch) noexcept {
  std::uint32_t const field = frame_length_field(word);
  length = field & record_length_mask;
  epoch = (field >> record_epoch_shift) & 3U;
  if ((field & record_unchecked) == 0 || length == 0 || length > room - record_frame_bytes) return FrameKind::none;
  std::uint32_t const crc = frame_crc_field(word);
  if (crc == seed) return FrameKind::record;
  return crc == ~seed ? FrameKind::settled : FrameKind::none;
}
// The checked frame of an unsettled unchecked record of `length` bytes at `payload` (what the
// sync writes to the disk copy).
inline std::uint64_t checked_frame_word(std::uint32_t length, char const* payload, std::uint32_t seed) noexcept {
  return frame_word(length, crc32c(payload, length, seed));
}

// The file header of a new arena (arena_header_bytes at `out`); `flags`: arena_flag_live or 0.
void write_arena_header(char* out, std::uint32_t slot_bytes, std::uint32_t slot_count, std::int64_t created_ms,
                        std::uint32_t flags = 0) noexcept;
// A slot's persistent header as the disk copy holds it (block_header_bytes at `out`): the
// generation (0: free), its settled prefix, and its seed; the rest zero.
void write_block_header(char* out, std::uint64_t generation, std::uint32_t consumed_end) noexcept;
// The header of a live arena as its copy on disk has it (arena_flag_live cleared).
void clear_live_flag(char* header) noexcept;

struct ArenaScan {
  bool usable = false;                    // false: not an arena, or one this version cannot read
  bool newer_version = false;             // a version above arena_format_version (left alone, counted)
  std::vector<std::string_view> records;  // unconsumed, verified payloads, block by block in order
  struct Slot {
    std::size_t index;
    std::size_t first_record;  // index into records
    std::size_t record_count;
    std::uint32_t end;  // data offset after its last verified record
  };
  std::vector<Slot> slots;    // slots with unconsumed records
  std::uint64_t corrupt = 0;  // damaged records (and damaged slot headers) skipped
};
// Judges an unchecked record's payload (the spool passes is_valid_json).
using PayloadCheck = bool (*)(std::string_view payload) noexcept;
// Reads a whole arena file's bytes. Records whose frame does not verify end their block,
// unless a verified record follows (then the damaged one is counted in `corrupt`). Unchecked
// records of a live arena are taken when `check` passes them (when it is null, all are) and
// counted in `corrupt` otherwise. A truncated file yields the slots that are whole.
ArenaScan scan_arena(std::string_view file, PayloadCheck check = nullptr) noexcept;

// --- segments ---
inline constexpr std::array<char, 8> segment_magic = {'H', 'T', 'E', 'V', 'S', 'E', 'G', '1'};
inline constexpr std::size_t segment_header_bytes = 64;
inline constexpr std::size_t segment_off_version = 8;      // u32
inline constexpr std::size_t segment_off_sequence = 16;    // u64
inline constexpr std::size_t segment_off_created_ms = 24;  // i64

inline constexpr std::uint32_t batch_magic = 0x31524248;  // "HBR1"
inline constexpr std::size_t batch_header_bytes = 96;
inline constexpr std::uint8_t batch_settled_mark = 0xAC;
// Batch record header fields (offsets in the record). crc covers [batch_off_serial, end of body).
inline constexpr std::size_t batch_off_magic = 0;         // u32
inline constexpr std::size_t batch_off_body_bytes = 4;    // u32
inline constexpr std::size_t batch_off_crc = 8;           // u32
inline constexpr std::size_t batch_off_settled = 12;      // u8: 0 pending, batch_settled_mark settled
inline constexpr std::size_t batch_off_serial = 16;       // u64 (informational)
inline constexpr std::size_t batch_off_messages = 24;     // u32
inline constexpr std::size_t batch_off_envelope_at = 28;  // u32: where `],"sentAt":` starts, uncompressed
inline constexpr std::size_t batch_off_raw_bytes = 32;    // u32: uncompressed body size
inline constexpr std::size_t batch_off_encoding = 36;     // u8: htevents::Compression value
inline constexpr std::size_t batch_off_id = 40;           // 36 chars: the batch messageId
inline constexpr std::size_t batch_off_oldest_ms = 80;    // i64: unix ms the batch opened (inspect)

struct BatchMeta {
  std::uint64_t serial = 0;
  std::uint32_t messages = 0;
  std::uint32_t envelope_at = 0;
  std::uint32_t raw_bytes = 0;
  std::uint8_t encoding = 0;
  std::array<char, 36> id{};
  std::int64_t oldest_ms = 0;
};

void write_segment_header(char* out, std::uint64_t sequence, std::int64_t created_ms) noexcept;
// The header of a batch record for `body` (batch_header_bytes at `out`), settled byte clear.
void write_batch_header(char* out, BatchMeta const& meta, std::string_view body) noexcept;

struct SegmentEntry {
  std::size_t offset = 0;  // of the batch record in the file
  std::size_t body_bytes = 0;
  bool settled = false;
  BatchMeta meta;
};
struct SegmentScan {
  bool usable = false;
  bool newer_version = false;
  std::uint64_t sequence = 0;
  std::vector<SegmentEntry> entries;  // verified records, settled or not, in file order
  std::uint64_t corrupt = 0;          // damaged or torn records skipped (the reader resynchronises on the next magic)
};
SegmentScan scan_segment(std::string_view file) noexcept;
// Verifies one record read back at `entry.offset` (header and body): the sender checks what it
// reads from disk again before sending it.
bool verify_batch_record(std::string_view record) noexcept;

}  // namespace htevents::inline v0::detail::spool

#pragma once
// The spool's on-disk format, version 1 (docs/durability.md, "File format"): the layouts, the
// writers' framing helpers, and the recovery readers. All integers little-endian; every
// reader takes untrusted bytes (a damaged, truncated or foreign file) and never reads outside
// them (tests/fuzz/spool_reader_fuzz.cpp).
//
// A client's directory holds `lock`, one `arena` file and `seg-<16 hex digits>` segments.
//
// arena: the producers' arena blocks, file-backed (MAP_SHARED), so that a record is on its way
//   to the disk the moment enqueue returns, with no syscall.
//   [file header, arena_header_bytes][slot 0][slot 1]...; slot i at arena_header_bytes + i * slot_bytes.
//   A slot is a 64-byte block header (the in-memory Block; the persistent fields at the offsets
//   below) then block_capacity bytes of records. A record: [u32 length][u32 crc][payload],
//   crc = crc32c(payload, seed = record_seed(generation)); the frame is written after its
//   payload, so a record whose frame verifies is complete. Records of a block follow each
//   other from data offset 0. A record whose batch settled (or went to a segment) has its
//   checksum field complemented (settle_record_frame) and is skipped; records before the
//   block's consumed_end are skipped too: the settled prefix of the block (batches that
//   settled in order move it past their records instead of marking each), and an adopted
//   arena's re-batched records.
//
// seg-N: compressed request bodies, appended one write() per batch.
//   [file header, segment_header_bytes][batch record]...; a batch record is a
//   batch_header_bytes header then body_bytes of the request body as it was encoded.
//   After a 2xx (or a permanent failure handed to on_failure) its `settled` byte is set.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace htevents::inline v0::detail::spool {

inline constexpr std::uint32_t format_version = 1;

// --- CRC-32C (Castagnoli): hardware where the CPU has it, a table otherwise ---
std::uint32_t crc32c(void const* data, std::size_t size, std::uint32_t seed = 0) noexcept;

// --- arena ---
inline constexpr std::array<char, 8> arena_magic = {'H', 'T', 'E', 'V', 'A', 'R', 'N', '1'};
inline constexpr std::size_t arena_header_bytes = 4096;
// File header fields (offsets in the file).
inline constexpr std::size_t arena_off_version = 8;      // u32
inline constexpr std::size_t arena_off_slot_bytes = 12;  // u32: 64 + block capacity
inline constexpr std::size_t arena_off_slot_count = 16;  // u32
inline constexpr std::size_t arena_off_created_ms = 24;  // i64, unix milliseconds
// Block header fields (offsets in a slot). The rest of the 64 bytes is the runtime state.
inline constexpr std::size_t block_header_bytes = 64;
inline constexpr std::size_t slot_off_generation = 40;    // u64, 0: never used
inline constexpr std::size_t slot_off_consumed_end = 48;  // u32, data offset
inline constexpr std::size_t slot_off_seed = 52;          // u32, record_seed(generation)
inline constexpr std::size_t slot_off_filled_end = 56;    // u32, data offset; 0: being written (not read by recovery)
inline constexpr std::size_t record_frame_bytes = 8;

std::uint32_t record_seed(std::uint64_t generation) noexcept;
// Marks a verified record settled (delivered, failed, or safe in a segment): its checksum
// field becomes the checksum's complement, which recovery skips. Once per record: a second
// call would undo the first.
void settle_record_frame(char* frame) noexcept;
// Writes the frame of the `length` payload bytes at frame + record_frame_bytes.
void write_record_frame(char* frame, std::uint32_t length, std::uint32_t seed) noexcept;

// The file header of a new arena (arena_header_bytes at `out`).
void write_arena_header(char* out, std::uint32_t slot_bytes, std::uint32_t slot_count,
                        std::int64_t created_ms) noexcept;

struct ArenaScan {
  bool usable = false;                    // false: not an arena, or one this version cannot read
  bool newer_version = false;             // a version above format_version (left alone, counted)
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
// Reads a whole arena file's bytes. Records whose frame does not verify end their block,
// unless a verified record follows (then the damaged one is counted in `corrupt`). A truncated
// file yields the slots that are whole.
ArenaScan scan_arena(std::string_view file) noexcept;

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

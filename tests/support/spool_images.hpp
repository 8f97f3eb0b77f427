#pragma once
// Spool files built in memory with the format's own writer helpers (src/spool/format.hpp), for
// the reader's tests, the inspect command's test and the fuzzer's seeds. They lay bytes out as
// the spool writer does: records back to back from data offset 0, one batch record after another.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "spool/format.hpp"

namespace htevents::testing {

namespace spool = htevents::detail::spool;

/// An arena file: header, then `slot_count` slots of `slot_bytes`, all zero until written.
class ArenaImage {
 public:
  /// `flags`: spool::arena_flag_live for a live arena (whose unchecked records are records).
  ArenaImage(std::uint32_t slot_bytes, std::uint32_t slot_count, std::int64_t created_ms = 1'700'000'000'000,
             std::uint32_t flags = 0)
      : bytes_(spool::arena_header_bytes + std::size_t{slot_bytes} * slot_count, '\0'),
        slot_bytes_(slot_bytes),
        write_at_(slot_count, 0) {
    spool::write_arena_header(bytes_.data(), slot_bytes, slot_count, created_ms, flags);
  }

  /// (Re)starts a slot as a block of `generation`: consumed_end and the write position go to 0,
  /// and the data area keeps whatever an earlier generation left in it.
  void open_slot(std::size_t slot, std::uint64_t generation) {
    char* const h = header(slot);
    put(h + spool::slot_off_generation, generation);
    put(h + spool::slot_off_consumed_end, std::uint32_t{0});
    put(h + spool::slot_off_seed, spool::record_seed(generation));
    write_at_[slot] = 0;
  }

  /// Appends a checked record (as producers do in an arena mapped from the disk); returns its
  /// data offset (that of its frame). The next frame goes at the next aligned offset.
  std::uint32_t append(std::size_t slot, std::string_view payload) { return append(slot, payload, true); }
  /// Appends an unchecked record (as producers do in a live arena), tagged with sync `epoch`.
  std::uint32_t append_unchecked(std::size_t slot, std::string_view payload, std::uint32_t epoch = 0) {
    return append(slot, payload, false, epoch);
  }

  void set_consumed_end(std::size_t slot, std::uint32_t end) { put(header(slot) + spool::slot_off_consumed_end, end); }
  void set_seed(std::size_t slot, std::uint32_t seed) { put(header(slot) + spool::slot_off_seed, seed); }

  /// Data offset after the last appended record.
  [[nodiscard]] std::uint32_t write_position(std::size_t slot) const { return write_at_[slot]; }
  /// File offset of a slot's data area.
  [[nodiscard]] std::size_t data_offset(std::size_t slot) const {
    return spool::arena_header_bytes + slot * slot_bytes_ + spool::block_header_bytes;
  }
  char* data(std::size_t slot) { return bytes_.data() + data_offset(slot); }
  std::string& bytes() { return bytes_; }

 private:
  char* header(std::size_t slot) { return bytes_.data() + spool::arena_header_bytes + slot * slot_bytes_; }
  std::uint32_t append(std::size_t slot, std::string_view payload, bool checked, std::uint32_t epoch = 0) {
    std::uint32_t const at = write_at_[slot];
    char* const frame = data(slot) + at;
    std::memcpy(frame + spool::record_frame_bytes, payload.data(), payload.size());
    std::uint32_t seed = 0;
    std::memcpy(&seed, header(slot) + spool::slot_off_seed, sizeof seed);
    auto const length = static_cast<std::uint32_t>(payload.size());
    if (checked) {
      spool::write_record_frame(frame, length, seed);
    } else {
      spool::write_unchecked_record_frame(frame, length, seed, epoch);
    }
    write_at_[slot] = spool::align_record(at + static_cast<std::uint32_t>(spool::record_frame_bytes) + length);
    return at;
  }
  template <class T>
  static void put(char* at, T v) {
    std::memcpy(at, &v, sizeof v);  // the test hosts are little-endian, as the format
  }

  std::string bytes_;
  std::size_t slot_bytes_;
  std::vector<std::uint32_t> write_at_;
};

/// A segment file: header, then batch records appended one after another.
class SegmentImage {
 public:
  explicit SegmentImage(std::uint64_t sequence, std::int64_t created_ms = 1'700'000'000'000)
      : bytes_(spool::segment_header_bytes, '\0') {
    spool::write_segment_header(bytes_.data(), sequence, created_ms);
  }

  /// Appends a pending batch record; returns its offset.
  std::size_t append(spool::BatchMeta const& meta, std::string_view body) {
    std::size_t const at = bytes_.size();
    bytes_.resize(at + spool::batch_header_bytes);
    spool::write_batch_header(bytes_.data() + at, meta, body);
    bytes_.append(body);
    return at;
  }

  /// What the sender does after a 2xx: one byte, outside the checksum.
  void settle(std::size_t record_offset) {
    bytes_[record_offset + spool::batch_off_settled] = static_cast<char>(spool::batch_settled_mark);
  }

  std::string& bytes() { return bytes_; }

 private:
  std::string bytes_;
};

/// A BatchMeta with every field set from `serial`.
inline spool::BatchMeta batch_meta(std::uint64_t serial, std::uint32_t messages, std::int64_t oldest_ms) {
  spool::BatchMeta meta;
  meta.serial = serial;
  meta.messages = messages;
  meta.envelope_at = 100 + static_cast<std::uint32_t>(serial);
  meta.raw_bytes = 1000 + static_cast<std::uint32_t>(serial);
  meta.encoding = 2;
  std::string const id =
      "00000000-0000-4000-8000-" + std::string(12 - std::to_string(serial).size(), '0') + std::to_string(serial);
  std::memcpy(meta.id.data(), id.data(), meta.id.size());
  meta.oldest_ms = oldest_ms;
  return meta;
}

}  // namespace htevents::testing

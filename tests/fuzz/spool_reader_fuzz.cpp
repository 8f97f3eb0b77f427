// libFuzzer target for the spool's recovery readers (src/spool/format.hpp): scan_arena,
// scan_segment and verify_batch_record on any bytes.
//
// Build and run (from the repository root):
//   cmake --preset fuzz && cmake --build build-fuzz -j2 --target spool_reader_fuzz
//   mkdir -p /tmp/spool_corpus && build-fuzz/tests/fuzz/spool_reader_fuzz -max_total_time=60 /tmp/spool_corpus
//
// The first input byte picks what the rest is:
//   0  the file itself, given to both readers;
//   1  a script that builds an arena with the writer helpers (slots opened, records appended,
//      consumed_end moved), then damages it (bytes flipped, the file cut);
//   2  the same for a segment (batches appended and settled).
// Random bytes alone almost never carry a valid checksum, so the scripts are what take the
// fuzzer into the record walks and the resynchronisation.
//
// Checks, for any input: every returned view lies inside the file; at most one record per
// 9 bytes (8-byte frame and a non-empty payload) and one entry per batch header; the slot
// table partitions the records in order; every segment entry verifies on its own. For a
// script that damaged nothing: exactly the records written (past consumed_end) and the
// batches appended come back, settled as they were, with nothing counted corrupt.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "spool/format.hpp"
#include "support/spool_images.hpp"

namespace {

namespace spool = htevents::detail::spool;

[[noreturn]] void fail(char const* what) {
  std::fprintf(stderr, "spool_reader_fuzz: %s\n", what);
  std::abort();
}

bool inside(std::string_view part, std::string_view file) {
  return part.data() >= file.data() && part.size() <= file.size() &&
         static_cast<std::size_t>(part.data() - file.data()) <= file.size() - part.size();
}

void check_arena(std::string_view file, spool::ArenaScan const& scan) {
  if (scan.newer_version && (scan.usable || !scan.records.empty())) fail("arena: newer version but records");
  if (!scan.usable && !scan.records.empty()) fail("arena: records from an unusable file");
  if (scan.records.size() > file.size() / (spool::record_frame_bytes + 1)) fail("arena: more records than bytes allow");
  for (std::string_view r : scan.records) {
    if (r.empty()) fail("arena: empty record");
    if (!inside(r, file)) fail("arena: record outside the file");
  }
  std::size_t next = 0;
  for (std::size_t i = 0; i < scan.slots.size(); ++i) {
    auto const& slot = scan.slots[i];
    if (i > 0 && slot.index <= scan.slots[i - 1].index) fail("arena: slots out of order");
    if (slot.first_record != next || slot.record_count == 0) fail("arena: slot table does not partition");
    next += slot.record_count;
  }
  if (next != scan.records.size()) fail("arena: records outside any slot");
  // A damaged record counts only when a verified one follows, a refused unchecked one once; a
  // slot header at most once each: every count but the truncation's and the headers' takes at
  // least a frame and a payload byte, aligned (16 bytes), of its own.
  std::size_t const max_slots = file.size() / (spool::block_header_bytes + 16);
  if (scan.corrupt > 2 * (file.size() / 16) + max_slots + 1) fail("arena: more damage than frames and slots");
}

void check_segment(std::string_view file, spool::SegmentScan const& scan) {
  if (scan.newer_version && (scan.usable || !scan.entries.empty())) fail("segment: newer version but entries");
  if (!scan.usable && !scan.entries.empty()) fail("segment: entries from an unusable file");
  if (scan.entries.size() > file.size() / spool::batch_header_bytes) fail("segment: more entries than bytes allow");
  std::size_t end = spool::segment_header_bytes;
  for (auto const& e : scan.entries) {
    if (e.offset < end) fail("segment: entries overlap or go backwards");
    if (e.offset > file.size() || file.size() - e.offset < spool::batch_header_bytes ||
        file.size() - e.offset - spool::batch_header_bytes < e.body_bytes)
      fail("segment: entry outside the file");
    std::string_view const record = file.substr(e.offset, spool::batch_header_bytes + e.body_bytes);
    if (!spool::verify_batch_record(record)) fail("segment: an entry does not verify alone");
    end = e.offset + spool::batch_header_bytes + e.body_bytes;
  }
  // Each damaged stretch ends at the next verified record or at the end of the file.
  if (scan.corrupt > scan.entries.size() + 1) fail("segment: more damage than stretches between records");
}

// The payload check the spool passes is is_valid_json; this one refuses what starts with '!'.
bool passes_check(std::string_view payload) noexcept { return payload.empty() || payload[0] != '!'; }

void scan_both(std::string_view file) {
  check_arena(file, spool::scan_arena(file, passes_check));
  check_segment(file, spool::scan_segment(file));
  (void)spool::verify_batch_record(file);
}

// Reads the script's bytes; zeros once they run out.
class Script {
 public:
  explicit Script(std::string_view bytes) : bytes_(bytes) {}
  [[nodiscard]] bool done() const { return at_ >= bytes_.size(); }
  std::uint8_t byte() { return done() ? 0 : static_cast<std::uint8_t>(bytes_[at_++]); }
  std::uint32_t u16() { return byte() | std::uint32_t{byte()} << 8; }
  std::string_view take(std::size_t n) {
    n = std::min(n, bytes_.size() - std::min(at_, bytes_.size()));
    std::string_view const out = bytes_.substr(std::min(at_, bytes_.size()), n);
    at_ += n;
    return out;
  }

 private:
  std::string_view bytes_;
  std::size_t at_ = 0;
};

// Flips bytes or cuts the file, as the script says; true if it did.
bool damage(Script& s, std::string& file, std::uint8_t op) {
  if (file.empty()) return false;
  if (op == 0) {
    std::size_t const at = (s.u16() | std::size_t{s.byte()} << 16) % file.size();
    std::uint8_t const mask = s.byte();
    file[at] = static_cast<char>(file[at] ^ static_cast<char>(mask == 0 ? 1 : mask));
    return true;
  }
  file.resize((s.u16() | std::size_t{s.byte()} << 16) % file.size());
  return true;
}

void arena_script(Script& s) {
  std::uint32_t const slots = 1 + s.byte() % 4;
  std::uint32_t const capacity = 16 + (s.u16() % 1024) / spool::record_align * spool::record_align;
  bool const live = (s.byte() & 1U) != 0;  // a live arena: its unchecked records are records
  htevents::testing::ArenaImage arena(spool::block_header_bytes + capacity, slots, 1'700'000'000'000,
                                      live ? spool::arena_flag_live : 0);
  std::vector<std::uint64_t> rejected(slots, 0);  // unchecked records the check refuses, per slot: counted corrupt
  std::vector<std::vector<std::string>> expected(slots);  // unconsumed records per slot
  std::vector<std::uint64_t> generation(slots, 0);
  bool damaged = false;
  while (!s.done()) {
    std::uint8_t const op = s.byte();
    std::size_t const slot = (op >> 3) % slots;
    switch (op & 7U) {
      case 0:
      case 1: {  // open the slot anew (a later generation, the old bytes left in place)
        generation[slot] += 1 + (op >> 5);
        arena.open_slot(slot, generation[slot]);
        expected[slot].clear();
        rejected[slot] = 0;
        break;
      }
      case 2:
      case 3:
      case 4: {  // append a record that fits: checked, or (4, in a live arena) unchecked
        if (generation[slot] == 0) break;
        std::size_t const room = capacity - arena.write_position(slot);
        if (room <= spool::record_frame_bytes) break;
        std::size_t const length = 1 + s.byte() % (room - spool::record_frame_bytes);
        std::string payload(s.take(length));
        if (payload.empty()) payload = "x";
        if ((op & 7U) == 4 && live) {
          arena.append_unchecked(slot, payload);
          if (!passes_check(payload)) {
            ++rejected[slot];
            break;
          }
        } else {
          arena.append(slot, payload);
        }
        expected[slot].push_back(payload);
        break;
      }
      case 5: {  // everything written so far is consumed
        if (generation[slot] == 0) break;
        arena.set_consumed_end(slot, arena.write_position(slot));
        expected[slot].clear();
        rejected[slot] = 0;
        break;
      }
      default: damaged |= damage(s, arena.bytes(), op & 1U); break;
    }
  }
  std::string_view const file = arena.bytes();
  spool::ArenaScan const scan = spool::scan_arena(file, passes_check);
  check_arena(file, scan);
  if (damaged) return;
  std::uint64_t refused = 0;
  for (std::uint64_t n : rejected) refused += n;
  if (!scan.usable || scan.corrupt != refused) fail("arena: undamaged image not read cleanly");
  std::vector<std::string> want;
  for (auto const& records : expected) want.insert(want.end(), records.begin(), records.end());
  if (want != std::vector<std::string>(scan.records.begin(), scan.records.end()))
    fail("arena: undamaged image read back differently");
}

void segment_script(Script& s) {
  htevents::testing::SegmentImage segment(s.u16());
  std::vector<std::size_t> offsets;
  std::vector<bool> settled;
  bool damaged = false;
  while (!s.done()) {
    std::uint8_t const op = s.byte();
    switch (op & 3U) {
      case 0:
      case 1: {
        std::string_view const body = s.take(s.u16() % 2048);
        offsets.push_back(segment.append(htevents::testing::batch_meta(offsets.size(), op, 0), body));
        settled.push_back(false);
        break;
      }
      case 2:
        if (!offsets.empty()) {
          std::size_t const i = s.byte() % offsets.size();
          segment.settle(offsets[i]);
          settled[i] = true;
        }
        break;
      default: damaged |= damage(s, segment.bytes(), (op >> 2) & 1U); break;
    }
  }
  std::string_view const file = segment.bytes();
  spool::SegmentScan const scan = spool::scan_segment(file);
  check_segment(file, scan);
  if (damaged) return;
  if (!scan.usable || scan.corrupt != 0 || scan.entries.size() != offsets.size())
    fail("segment: undamaged image not read cleanly");
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    if (scan.entries[i].offset != offsets[i] || scan.entries[i].settled != settled[i] ||
        scan.entries[i].meta.serial != i)
      fail("segment: undamaged image read back differently");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view const rest(reinterpret_cast<char const*>(data) + 1, size - 1);
  Script script(rest);
  switch (data[0] % 3) {
    case 0: scan_both(rest); break;
    case 1: arena_script(script); break;
    default: segment_script(script); break;
  }
  return 0;
}

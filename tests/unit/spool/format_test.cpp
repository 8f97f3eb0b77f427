// The spool's file format: arena and segment images built with the writer helpers and read
// back, then the damage recovery has to survive: overwritten bytes, truncation, empty and zeroed
// files, a newer version, leftovers of an earlier generation, records already consumed.

#include "spool/format.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "support/spool_images.hpp"

namespace htevents::inline v0::detail::spool {
namespace {

using ::htevents::testing::ArenaImage;
using ::htevents::testing::batch_meta;
using ::htevents::testing::SegmentImage;

constexpr std::uint32_t slot_bytes = 64 + 1024;

std::vector<std::string> payloads(ArenaScan const& scan) { return {scan.records.begin(), scan.records.end()}; }

std::string event(int i) { return R"({"type":"track","event":"e)" + std::to_string(i) + R"(","userId":"u"})"; }

std::uint32_t read_u32(std::string_view bytes, std::size_t at) {
  std::uint32_t v = 0;
  std::memcpy(&v, bytes.data() + at, sizeof v);
  return v;
}

// --- headers and seeds ---

TEST(SpoolFormat, WritesHeadersLittleEndian) {
  std::string arena(arena_header_bytes, 'x');
  write_arena_header(arena.data(), 0x01020304U, 7, 0x1122334455667788, arena_flag_live);
  EXPECT_EQ(arena.substr(0, 8), "HTEVARN1");
  EXPECT_EQ(arena.substr(arena_off_version, 4), std::string("\x02\0\0\0", 4));
  EXPECT_EQ(arena.substr(arena_off_slot_bytes, 4), "\x04\x03\x02\x01");
  EXPECT_EQ(arena.substr(arena_off_flags, 4), std::string("\x01\0\0\0", 4));
  EXPECT_EQ(arena.substr(arena_off_created_ms, 8), "\x88\x77\x66\x55\x44\x33\x22\x11");
  EXPECT_EQ(arena.find('x'), std::string::npos) << "the whole header is written";
  clear_live_flag(arena.data());
  EXPECT_EQ(arena.substr(arena_off_flags, 4), std::string(4, '\0')) << "the disk copy's header";

  std::string segment(segment_header_bytes, 'x');
  write_segment_header(segment.data(), 0x0102, 5);
  EXPECT_EQ(segment.substr(0, 8), "HTEVSEG1");
  EXPECT_EQ(segment.substr(segment_off_version, 4), std::string("\x01\0\0\0", 4));
  EXPECT_EQ(segment.substr(segment_off_sequence, 8), std::string("\x02\x01\0\0\0\0\0\0", 8));
  EXPECT_EQ(segment.find('x'), std::string::npos);

  std::string record(batch_header_bytes, 'x');
  write_batch_header(record.data(), batch_meta(1, 2, 3), "body");
  EXPECT_EQ(record.substr(0, 4), "HBR1");
  EXPECT_EQ(read_u32(record, batch_off_body_bytes), 4U);
  EXPECT_EQ(record[batch_off_settled], '\0');
  EXPECT_EQ(record.find('x'), std::string::npos);
}

TEST(SpoolFormat, RecordSeedIsTheCrcOfTheGeneration) {
  char const one[8] = {1, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(record_seed(1), crc32c(one, sizeof one));
  EXPECT_NE(record_seed(1), record_seed(2));
}

TEST(SpoolFormat, RecordFrameHoldsLengthAndSeededCrc) {
  std::string frame(record_frame_bytes, '\0');
  frame += "payload";
  write_record_frame(frame.data(), 7, record_seed(3));
  EXPECT_EQ(read_u32(frame, 0), 7U);
  EXPECT_EQ(read_u32(frame, 4), crc32c("payload", 7, record_seed(3)));
}

TEST(SpoolFormat, UncheckedFrameHoldsTheFlaggedLengthAndTheSeedAsOneWord) {
  alignas(8) char frame[16] = {};
  write_unchecked_record_frame(frame, 7, 0xA1B2C3D4U);
  EXPECT_EQ(read_u32(std::string_view(frame, 8), 0), 7U | record_unchecked);
  EXPECT_EQ(read_u32(std::string_view(frame, 8), 4), 0xA1B2C3D4U);
  EXPECT_EQ(frame_payload_length(frame), 7U);
  settle_record_frame(frame);
  EXPECT_EQ(read_u32(std::string_view(frame, 8), 4), ~0xA1B2C3D4U) << "settled: the seed's complement";
  EXPECT_EQ(frame_payload_length(frame), 7U);
  // The sync epoch's two low bits go between the flag and the length; the length is unchanged.
  write_unchecked_record_frame(frame, max_record_bytes, 0xA1B2C3D4U, 6);
  EXPECT_EQ(read_u32(std::string_view(frame, 8), 0), record_unchecked | 2U << record_epoch_shift | max_record_bytes);
  EXPECT_EQ(frame_payload_length(frame), max_record_bytes);
}

TEST(SpoolFormat, RecordsFollowEachOtherAtAlignedOffsets) {
  EXPECT_EQ(align_record(0), 0U);
  EXPECT_EQ(align_record(1), 8U);
  EXPECT_EQ(align_record(8), 8U);
  EXPECT_EQ(align_record(17), 24U);
  ArenaImage arena(slot_bytes, 1);
  arena.open_slot(0, 1);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(arena.append(0, event(i) + std::string(i, 'x')) % record_align, 0U) << i;
  ArenaScan const scan = scan_arena(arena.bytes());
  EXPECT_EQ(scan.records.size(), 12U);
  EXPECT_EQ(scan.corrupt, 0U);
}

// --- arena ---

TEST(ArenaScan, ReadsBackEveryRecordBlockByBlock) {
  ArenaImage arena(slot_bytes, 4);
  arena.open_slot(0, 1);
  for (int i = 0; i < 3; ++i) arena.append(0, event(i));
  arena.open_slot(2, 7);  // slots 1 and 3 never used
  for (int i = 3; i < 5; ++i) arena.append(2, event(i));

  ArenaScan const scan = scan_arena(arena.bytes());
  ASSERT_TRUE(scan.usable);
  EXPECT_FALSE(scan.newer_version);
  EXPECT_EQ(scan.corrupt, 0U);
  EXPECT_EQ(payloads(scan), (std::vector<std::string>{event(0), event(1), event(2), event(3), event(4)}));
  ASSERT_EQ(scan.slots.size(), 2U);
  EXPECT_EQ(scan.slots[0].index, 0U);
  EXPECT_EQ(scan.slots[0].first_record, 0U);
  EXPECT_EQ(scan.slots[0].record_count, 3U);
  EXPECT_EQ(scan.slots[0].end, arena.write_position(0));
  EXPECT_EQ(scan.slots[1].index, 2U);
  EXPECT_EQ(scan.slots[1].first_record, 3U);
  EXPECT_EQ(scan.slots[1].record_count, 2U);
  EXPECT_EQ(scan.slots[1].end, arena.write_position(2));
  for (std::string_view r : scan.records) {
    EXPECT_GE(r.data(), arena.bytes().data());
    EXPECT_LE(r.data() + r.size(), arena.bytes().data() + arena.bytes().size()) << "views into the file";
  }
}

TEST(ArenaScan, RecordsBeforeConsumedEndAreNotReturned) {
  ArenaImage arena(slot_bytes, 1);
  arena.open_slot(0, 1);
  arena.append(0, event(0));
  std::uint32_t const second = arena.append(0, event(1));
  std::uint32_t const third = arena.append(0, event(2));
  arena.set_consumed_end(0, third);
  EXPECT_EQ(payloads(scan_arena(arena.bytes())), std::vector<std::string>{event(2)});
  arena.set_consumed_end(0, second);
  EXPECT_EQ(payloads(scan_arena(arena.bytes())), (std::vector<std::string>{event(1), event(2)}));
  arena.set_consumed_end(0, arena.write_position(0));
  ArenaScan const all_consumed = scan_arena(arena.bytes());
  EXPECT_TRUE(all_consumed.records.empty());
  EXPECT_TRUE(all_consumed.slots.empty()) << "only slots with unconsumed records";
  EXPECT_EQ(all_consumed.corrupt, 0U);
}

// Records of settled batches are marked in place (settle_record_frame), in any order: they are
// neither returned nor damage, and the records between them still are returned.
TEST(ArenaScan, SettledRecordsAreSkippedInAnyOrder) {
  ArenaImage arena(slot_bytes, 1);
  arena.open_slot(0, 1);
  std::vector<std::uint32_t> at(5);
  for (int i = 0; i < 5; ++i) at[i] = arena.append(0, event(i));
  settle_record_frame(arena.data(0) + at[3]);
  settle_record_frame(arena.data(0) + at[0]);
  ArenaScan scan = scan_arena(arena.bytes());
  EXPECT_EQ(scan.corrupt, 0U);
  EXPECT_EQ(payloads(scan), (std::vector<std::string>{event(1), event(2), event(4)}));
  // A damaged record followed by a settled one: counted, and the scan goes on past both.
  arena.data(0)[at[2] + record_frame_bytes + 3] ^= 0x01;
  scan = scan_arena(arena.bytes());
  EXPECT_EQ(scan.corrupt, 1U);
  EXPECT_EQ(payloads(scan), (std::vector<std::string>{event(1), event(4)}));
  for (int i : {1, 4}) settle_record_frame(arena.data(0) + at[i]);
  scan = scan_arena(arena.bytes());
  EXPECT_EQ(payloads(scan), std::vector<std::string>{});
}

TEST(ArenaScan, OverwrittenRecordIsCountedAndTheRestDelivered) {
  ArenaImage arena(slot_bytes, 2);
  arena.open_slot(0, 1);
  std::vector<std::uint32_t> at(4);
  for (int i = 0; i < 4; ++i) at[i] = arena.append(0, event(i));
  arena.open_slot(1, 2);
  arena.append(1, event(9));
  arena.data(0)[at[1] + record_frame_bytes + 5] ^= 0x20;  // a bit flipped inside record 1's payload

  ArenaScan const scan = scan_arena(arena.bytes());
  EXPECT_EQ(scan.corrupt, 1U);
  EXPECT_EQ(payloads(scan), (std::vector<std::string>{event(0), event(2), event(3), event(9)}));
  ASSERT_EQ(scan.slots.size(), 2U);
  EXPECT_EQ(scan.slots[0].record_count, 3U);
  EXPECT_EQ(scan.slots[0].end, arena.write_position(0));
}

TEST(ArenaScan, TornLastRecordIsAnUnwrittenTailNotDamage) {
  ArenaImage arena(slot_bytes, 1);
  arena.open_slot(0, 1);
  arena.append(0, event(0));
  std::uint32_t const last = arena.append(0, event(1));
  arena.data(0)[last + record_frame_bytes] ^= 1;  // its payload changed after the frame was computed
  ArenaScan const scan = scan_arena(arena.bytes());
  EXPECT_EQ(scan.corrupt, 0U);
  EXPECT_EQ(payloads(scan), std::vector<std::string>{event(0)});
  ASSERT_EQ(scan.slots.size(), 1U);
  EXPECT_EQ(scan.slots[0].end, last);
}

TEST(ArenaScan, StaleRecordsOfAnEarlierGenerationAreNeitherReturnedNorDamage) {
  ArenaImage arena(slot_bytes, 2);
  for (std::size_t slot : {0U, 1U}) {
    arena.open_slot(slot, 5);
    for (int i = 0; i < 6; ++i) arena.append(slot, event(100 + i));
  }
  // Slot 0 reused with records of the same sizes: the first stale record starts right after
  // the new ones. Slot 1 with a longer record: the stale bytes after it start mid-record.
  arena.open_slot(0, 6);
  arena.append(0, event(200));
  arena.append(0, event(201));
  arena.open_slot(1, 6);
  arena.append(1, event(202) + "-longer");

  ArenaScan const scan = scan_arena(arena.bytes());
  EXPECT_EQ(scan.corrupt, 0U);
  EXPECT_EQ(payloads(scan), (std::vector<std::string>{event(200), event(201), event(202) + "-longer"}));
}

TEST(ArenaScan, DamagedSlotHeaderSkipsThatSlotOnly) {
  ArenaImage arena(slot_bytes, 3);
  for (std::size_t slot = 0; slot < 3; ++slot) {
    arena.open_slot(slot, slot + 1);
    arena.append(slot, event(static_cast<int>(slot)));
  }
  arena.set_seed(0, record_seed(1) ^ 1);
  arena.set_consumed_end(2, slot_bytes);  // past the data area
  ArenaScan const scan = scan_arena(arena.bytes());
  EXPECT_EQ(scan.corrupt, 2U);
  EXPECT_EQ(payloads(scan), std::vector<std::string>{event(1)});
}

TEST(ArenaScan, TruncatedFileYieldsTheWholeSlots) {
  ArenaImage arena(slot_bytes, 3);
  for (std::size_t slot = 0; slot < 3; ++slot) {
    arena.open_slot(slot, slot + 1);
    arena.append(slot, event(static_cast<int>(slot)));
  }
  std::string const whole = arena.bytes();
  ArenaScan const cut = scan_arena(std::string_view(whole).substr(0, arena.data_offset(2) + 10));
  EXPECT_TRUE(cut.usable);
  EXPECT_EQ(cut.corrupt, 1U) << "the truncation is damage";
  EXPECT_EQ(payloads(cut), (std::vector<std::string>{event(0), event(1)}));

  for (std::size_t size = 0; size < whole.size(); size += 97) {
    ArenaScan const any = scan_arena(std::string_view(whole).substr(0, size));
    EXPECT_LE(any.records.size(), 3U);
  }
  ArenaScan const in_header = scan_arena(std::string_view(whole).substr(0, 100));
  EXPECT_FALSE(in_header.usable);
  EXPECT_EQ(in_header.corrupt, 1U);
}

TEST(ArenaScan, EmptyOrZeroFileIsNotAnArenaAndNotDamage) {
  for (std::string const& file : {std::string(), std::string(1 << 16, '\0')}) {
    ArenaScan const scan = scan_arena(file);
    EXPECT_FALSE(scan.usable);
    EXPECT_FALSE(scan.newer_version);
    EXPECT_TRUE(scan.records.empty());
    EXPECT_EQ(scan.corrupt, 0U);
  }
}

TEST(ArenaScan, NewerVersionIsLeftAlone) {
  ArenaImage arena(slot_bytes, 1);
  arena.open_slot(0, 1);
  arena.append(0, event(0));
  arena.bytes()[arena_off_version] = static_cast<char>(arena_format_version + 1);
  ArenaScan const scan = scan_arena(arena.bytes());
  EXPECT_TRUE(scan.newer_version);
  EXPECT_FALSE(scan.usable);
  EXPECT_TRUE(scan.records.empty());
  EXPECT_EQ(scan.corrupt, 0U);
}

TEST(ArenaScan, ImplausibleSlotSizeIsADamagedHeader) {
  for (std::uint32_t bad : {0U, 64U, 79U, 0xFFFFFFFFU}) {
    ArenaImage arena(slot_bytes, 1);
    std::memcpy(arena.bytes().data() + arena_off_slot_bytes, &bad, sizeof bad);
    ArenaScan const scan = scan_arena(arena.bytes());
    EXPECT_FALSE(scan.usable) << bad;
    EXPECT_EQ(scan.corrupt, 1U) << bad;
  }
}

TEST(ArenaScan, HugeSlotCountDoesNotReadPastTheFile) {
  ArenaImage arena(slot_bytes, 2);
  arena.open_slot(1, 1);
  arena.append(1, event(0));
  std::uint32_t const huge = 0xFFFFFFFFU;
  std::memcpy(arena.bytes().data() + arena_off_slot_count, &huge, sizeof huge);
  ArenaScan const scan = scan_arena(arena.bytes());
  EXPECT_EQ(payloads(scan), std::vector<std::string>{event(0)});
  EXPECT_EQ(scan.corrupt, 1U);
}

TEST(ArenaScan, AVersion1ArenaIsNotRead) {
  ArenaImage arena(slot_bytes, 1);
  arena.open_slot(0, 1);
  arena.append(0, event(0));
  arena.bytes()[arena_off_version] = 1;
  ArenaScan const scan = scan_arena(arena.bytes());
  EXPECT_FALSE(scan.usable);
  EXPECT_FALSE(scan.newer_version);
  EXPECT_EQ(scan.corrupt, 1U);
}

// --- unchecked records (a live arena in memory, and the disk copy the sync makes of it) ---

bool is_object(std::string_view payload) noexcept { return payload.starts_with('{') && payload.ends_with('}'); }

constexpr std::uint32_t live = arena_flag_live;

TEST(ArenaScan, UncheckedRecordsAreRecordsInALiveArenaAndSettledOnesAreSkipped) {
  ArenaImage arena(slot_bytes, 1, 0, live);
  arena.open_slot(0, 3);
  std::vector<std::uint32_t> at;
  for (int i = 0; i < 4; ++i) at.push_back(arena.append_unchecked(0, event(i), static_cast<std::uint32_t>(i)));
  settle_record_frame(arena.data(0) + at[1]);
  arena.append(0, event(4));  // a checked record among them reads as well
  ArenaScan const scan = scan_arena(arena.bytes(), is_object);
  EXPECT_EQ(scan.corrupt, 0U);
  EXPECT_EQ(payloads(scan), (std::vector<std::string>{event(0), event(2), event(3), event(4)}));
  arena.set_consumed_end(0, at[3]);
  EXPECT_EQ(payloads(scan_arena(arena.bytes(), is_object)), (std::vector<std::string>{event(3), event(4)}));
}

// Without the live flag (a disk copy, or an arena mapped from the disk) an unchecked record
// that is not settled cannot be told from damage: it is not sent. A settled one is skipped by
// its length, so that the checked records after it are read.
TEST(ArenaScan, OutsideALiveArenaOnlySettledUncheckedRecordsAreRead) {
  ArenaImage arena(slot_bytes, 1);
  arena.open_slot(0, 3);
  std::uint32_t const settled = arena.append_unchecked(0, event(0));
  settle_record_frame(arena.data(0) + settled);
  arena.append(0, event(1));
  arena.append_unchecked(0, event(2));
  arena.append(0, event(3));
  ArenaScan const scan = scan_arena(arena.bytes(), is_object);
  EXPECT_EQ(payloads(scan), (std::vector<std::string>{event(1), event(3)}));
  EXPECT_EQ(scan.corrupt, 1U) << "the unsettled unchecked record, followed by a verified one";
}

TEST(ArenaScan, UncheckedRecordsOfAnEarlierGenerationAreNeitherReturnedNorDamage) {
  ArenaImage arena(slot_bytes, 1, 0, live);
  arena.open_slot(0, 5);
  for (int i = 0; i < 6; ++i) arena.append_unchecked(0, event(100 + i));
  arena.open_slot(0, 6);
  arena.append_unchecked(0, event(200));
  ArenaScan const scan = scan_arena(arena.bytes(), is_object);
  EXPECT_EQ(scan.corrupt, 0U);
  EXPECT_EQ(payloads(scan), std::vector<std::string>{event(200)});
}

TEST(ArenaScan, AnUncheckedRecordThePayloadCheckRefusesIsCountedAndTheNextOneRead) {
  ArenaImage arena(slot_bytes, 1, 0, live);
  arena.open_slot(0, 1);
  arena.append_unchecked(0, event(0));
  std::uint32_t const bad = arena.append_unchecked(0, event(1));
  arena.append_unchecked(0, event(2));
  arena.data(0)[bad + record_frame_bytes] = 'X';  // no longer an object
  ArenaScan const scan = scan_arena(arena.bytes(), is_object);
  EXPECT_EQ(scan.corrupt, 1U);
  EXPECT_EQ(payloads(scan), (std::vector<std::string>{event(0), event(2)}));
}

// What the sync does on the way to the disk (ArenaFile::sync): each whole unsettled record's
// frame (frame_kind) becomes a checked one (checked_frame_word), a settled one stays as it is;
// the copy, without the live flag, reads back as the live arena did.
TEST(ArenaScan, TheSyncsCheckedFramesReadBackWithoutTheLiveFlag) {
  ArenaImage arena(slot_bytes, 1, 0, live);
  arena.open_slot(0, 9);
  std::uint32_t const seed = record_seed(9);
  std::vector<std::uint32_t> at;
  for (int i = 0; i < 5; ++i) {
    at.push_back(arena.append_unchecked(0, event(i * 1000 + i), static_cast<std::uint32_t>(i)));
  }
  settle_record_frame(arena.data(0) + at[2]);
  std::string const live_bytes = arena.bytes();

  char* const data = arena.data(0);
  std::size_t const data_bytes = slot_bytes - block_header_bytes;
  std::size_t off = 0;
  int records = 0, settled = 0;
  for (;;) {
    std::uint64_t word = 0;
    std::memcpy(&word, data + off, sizeof word);
    std::uint32_t length = 0, epoch = 0;
    FrameKind const kind = frame_kind(word, seed, data_bytes - off, length, epoch);
    if (kind == FrameKind::none) break;
    EXPECT_EQ(epoch, static_cast<std::uint32_t>(records + settled) % 4) << "the epoch it was written in";
    EXPECT_EQ(frame_payload_length(data + off), length);
    (kind == FrameKind::record ? records : settled) += 1;
    if (kind == FrameKind::record) {
      word = checked_frame_word(length, data + off + record_frame_bytes, seed);
      std::memcpy(data + off, &word, sizeof word);
    }
    off = align_record(static_cast<std::uint32_t>(off + record_frame_bytes + length));
  }
  EXPECT_EQ(records, 4);
  EXPECT_EQ(settled, 1);
  EXPECT_EQ(off, arena.write_position(0)) << "the walk stops at the first frame not written";
  clear_live_flag(arena.bytes().data());
  ArenaScan const disk = scan_arena(arena.bytes(), is_object);
  EXPECT_EQ(disk.corrupt, 0U);
  EXPECT_EQ(payloads(disk), payloads(scan_arena(live_bytes, is_object)));
  EXPECT_EQ(disk.records.size(), 4U);
  std::uint32_t length = 0, epoch = 0;
  std::uint64_t stale = frame_word(7U | record_unchecked, record_seed(8));
  EXPECT_EQ(frame_kind(stale, seed, data_bytes, length, epoch), FrameKind::none) << "another generation's";
  EXPECT_EQ(frame_kind(frame_word(7, seed), seed, data_bytes, length, epoch), FrameKind::none) << "a checked frame";
  EXPECT_EQ(frame_kind(frame_word(7U | record_unchecked, seed), seed, 14, length, epoch), FrameKind::none)
      << "longer than the block's rest";
}

// --- segments ---

class SegmentScanTest : public ::testing::Test {
 protected:
  SegmentScanTest() : segment_(42) {
    for (std::uint64_t i = 0; i < 4; ++i) {
      std::string body = "compressed-body-" + std::to_string(i) + std::string(40 * i, 'z');
      offsets_.push_back(segment_.append(batch_meta(i, 10 + static_cast<std::uint32_t>(i), 1000 + i), body));
      bodies_.push_back(std::move(body));
    }
  }
  std::vector<std::uint64_t> serials(SegmentScan const& scan) const {
    std::vector<std::uint64_t> out;
    for (auto const& e : scan.entries) out.push_back(e.meta.serial);
    return out;
  }

  SegmentImage segment_;
  std::vector<std::size_t> offsets_;
  std::vector<std::string> bodies_;
};

TEST_F(SegmentScanTest, ReadsBackEveryBatchWithItsMeta) {
  segment_.settle(offsets_[1]);
  std::string_view const file = segment_.bytes();
  SegmentScan const scan = scan_segment(file);
  ASSERT_TRUE(scan.usable);
  EXPECT_EQ(scan.sequence, 42U);
  EXPECT_EQ(scan.corrupt, 0U);
  ASSERT_EQ(scan.entries.size(), 4U);
  for (std::size_t i = 0; i < 4; ++i) {
    SegmentEntry const& e = scan.entries[i];
    BatchMeta const want = batch_meta(i, 10 + static_cast<std::uint32_t>(i), 1000 + static_cast<std::int64_t>(i));
    EXPECT_EQ(e.offset, offsets_[i]);
    EXPECT_EQ(e.body_bytes, bodies_[i].size());
    EXPECT_EQ(e.settled, i == 1);
    EXPECT_EQ(e.meta.serial, want.serial);
    EXPECT_EQ(e.meta.messages, want.messages);
    EXPECT_EQ(e.meta.envelope_at, want.envelope_at);
    EXPECT_EQ(e.meta.raw_bytes, want.raw_bytes);
    EXPECT_EQ(e.meta.encoding, want.encoding);
    EXPECT_EQ(e.meta.id, want.id);
    EXPECT_EQ(e.meta.oldest_ms, want.oldest_ms);
    std::string_view const record = file.substr(e.offset, batch_header_bytes + e.body_bytes);
    EXPECT_EQ(record.substr(batch_header_bytes), bodies_[i]);
    EXPECT_TRUE(verify_batch_record(record));
  }
}

TEST_F(SegmentScanTest, DamagedBodyIsCountedAndTheNextRecordFound) {
  segment_.bytes()[offsets_[1] + batch_header_bytes + 3] ^= 0x40;
  SegmentScan const scan = scan_segment(segment_.bytes());
  EXPECT_EQ(scan.corrupt, 1U);
  EXPECT_EQ(serials(scan), (std::vector<std::uint64_t>{0, 2, 3}));
}

TEST_F(SegmentScanTest, DamagedMagicOrLengthIsCountedAndTheNextRecordFound) {
  segment_.bytes()[offsets_[2]] = 'X';
  std::uint32_t const huge = 0x7FFFFFF0U;
  std::memcpy(segment_.bytes().data() + offsets_[0] + batch_off_body_bytes, &huge, sizeof huge);
  SegmentScan const scan = scan_segment(segment_.bytes());
  EXPECT_EQ(scan.corrupt, 2U);
  EXPECT_EQ(serials(scan), (std::vector<std::uint64_t>{1, 3}));
}

TEST_F(SegmentScanTest, DamageAcrossSeveralRecordsCountsOnce) {
  std::memset(segment_.bytes().data() + offsets_[1] + 20, 0x55, offsets_[3] - offsets_[1]);
  SegmentScan const scan = scan_segment(segment_.bytes());
  EXPECT_EQ(scan.corrupt, 1U);
  EXPECT_EQ(serials(scan), (std::vector<std::uint64_t>{0}));
}

TEST_F(SegmentScanTest, TornLastRecordIsDamageAndTheOthersKept) {
  std::string const whole = segment_.bytes();
  for (std::size_t cut : {offsets_[3] + 5, offsets_[3] + batch_header_bytes, whole.size() - 1}) {
    SegmentScan const scan = scan_segment(std::string_view(whole).substr(0, cut));
    EXPECT_EQ(scan.corrupt, 1U) << "cut at " << cut;
    EXPECT_EQ(serials(scan), (std::vector<std::uint64_t>{0, 1, 2})) << "cut at " << cut;
  }
  for (std::size_t size = 0; size <= whole.size(); ++size) {
    SegmentScan const any = scan_segment(std::string_view(whole).substr(0, size));
    EXPECT_LE(any.entries.size(), 4U);
    EXPECT_LE(any.corrupt, 1U);
  }
}

TEST_F(SegmentScanTest, TrailingZerosAreNotDamage) {
  segment_.bytes().append(4096, '\0');
  SegmentScan const scan = scan_segment(segment_.bytes());
  EXPECT_EQ(scan.corrupt, 0U);
  EXPECT_EQ(scan.entries.size(), 4U);
}

TEST_F(SegmentScanTest, SettlingDoesNotBreakTheChecksum) {
  for (std::size_t at : offsets_) segment_.settle(at);
  SegmentScan const scan = scan_segment(segment_.bytes());
  EXPECT_EQ(scan.corrupt, 0U);
  ASSERT_EQ(scan.entries.size(), 4U);
  for (auto const& e : scan.entries) EXPECT_TRUE(e.settled);
}

TEST_F(SegmentScanTest, NewerVersionIsLeftAlone) {
  segment_.bytes()[segment_off_version] = static_cast<char>(segment_format_version + 1);
  SegmentScan const scan = scan_segment(segment_.bytes());
  EXPECT_TRUE(scan.newer_version);
  EXPECT_FALSE(scan.usable);
  EXPECT_TRUE(scan.entries.empty());
}

TEST(SegmentScan, EmptyOrZeroFileIsNotASegmentAndNotDamage) {
  for (std::string const& file : {std::string(), std::string(4096, '\0')}) {
    SegmentScan const scan = scan_segment(file);
    EXPECT_FALSE(scan.usable);
    EXPECT_TRUE(scan.entries.empty());
    EXPECT_EQ(scan.corrupt, 0U);
  }
  SegmentImage empty(1);
  SegmentScan const header_only = scan_segment(empty.bytes());
  EXPECT_TRUE(header_only.usable);
  EXPECT_TRUE(header_only.entries.empty());
  EXPECT_EQ(header_only.corrupt, 0U);
}

TEST(VerifyBatchRecord, RejectsAnyChangeAndAWrongSize) {
  SegmentImage segment(1);
  std::size_t const at = segment.append(batch_meta(7, 3, 0), "the body");
  std::string const record = segment.bytes().substr(at);
  EXPECT_TRUE(verify_batch_record(record));
  EXPECT_FALSE(verify_batch_record(std::string_view(record).substr(0, record.size() - 1)));
  EXPECT_FALSE(verify_batch_record(record + "x")) << "the view is exactly one record";
  EXPECT_FALSE(verify_batch_record({}));
  for (std::size_t i = 0; i < record.size(); ++i) {
    if (i >= batch_off_settled && i < batch_off_serial) continue;  // settled byte and padding: not covered
    std::string changed = record;
    changed[i] ^= 0x01;
    EXPECT_FALSE(verify_batch_record(changed)) << "byte " << i;
  }
}

}  // namespace
}  // namespace htevents::inline v0::detail::spool

#pragma once
// The spool's arena files (durability.md, promises 1 and 2): where the intake's blocks live,
// and how they reach the disk.
//
// Copied (the default, when Config::spool_memory_dir is a tmpfs with room): the live arena is a
// file in memory, mapped MAP_SHARED. A process death leaves it in place for the next client,
// and a memory file's pages are never written back, so they never become write-protected. (A
// disk file's are, after every writeback: on ext4 the next write to each is a page fault in
// page_mkwrite. With the arena mapped from ext4 directly, producers and the sender took
// +44,000 faults per million events, 1.24x client CPU.) Producers write unchecked records there
// (a process death cannot tear a record whose frame was stored: the frame is one aligned word,
// stored after the payload). The sync, every half interval, copies each record once, once it
// was written before the previous sync began, to `arena` in the client's spool directory,
// checksummed on the way, and fdatasyncs it: an OS crash or power loss, which empties the
// tmpfs, loses at most one sync interval. A record settled before then is never read by the
// sync at all: on a healthy endpoint, almost every record.
//
// Direct (fallback): `arena` in the spool directory is mapped and its slots in use msynced.
//
// Either way the spool directory names the live file in `arena.live`, so that an adopter (or
// `spool inspect`) reads the freshest copy.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/logger.hpp"

namespace htevents::inline v0::detail {

class ArenaFile {
 public:
  // Creates `dir`/arena with `bytes` reserved, and the live copy in `memory_dir` when that
  // works (else logs why at info and maps `dir`/arena). Throws ConfigError naming the path and
  // the reason when the disk file cannot be created, reserved or mapped.
  ArenaFile(std::string const& dir, std::string const& own_name, std::string const& memory_dir, std::size_t bytes,
            Logger const& logger);
  ~ArenaFile();
  ArenaFile(ArenaFile const&) = delete;
  ArenaFile& operator=(ArenaFile const&) = delete;

  [[nodiscard]] char* data() const noexcept { return map_; }
  [[nodiscard]] bool copied() const noexcept { return live_fd_ >= 0; }

  // Makes the header and the slots in use (generation != 0) durable. Copied: first each slot's
  // records not copied before, from its settled prefix on, that were written before the
  // previous sync began (with `everything`, all that are whole), their frames checksummed on the way
  // (spool::checked_frame_word), fdatasynced; then the slot headers that changed (a slot free
  // now gets generation 0, so that recovery after an OS crash does not resend it),
  // fdatasynced: a header never names records that are not on the disk yet. Called every half
  // spool_sync_interval, a record waits at most one interval for its copy; one that settles
  // before (on a healthy endpoint, almost every one) is never checksummed.
  // Mapped directly: msyncs the slots in use.
  // 0, or the errno of the write or sync that failed. Not thread-safe: the spool's thread.
  int sync(std::size_t header_bytes, std::size_t slot_stride, std::size_t slots, bool everything) noexcept;
  // The slot sync() reads records of right now (BlockArena::walking): the pool waits before it
  // frees that block.
  [[nodiscard]] std::atomic<char const*> const* walking() const noexcept { return &walking_; }
  // The sync epoch producers tag their unchecked records with (BlockArena::epoch).
  [[nodiscard]] std::atomic<std::uint32_t> const* epoch() const noexcept { return &epoch_; }
  // The arena is clean: removes its files.
  void remove() noexcept;

  // For an adopter or a reader of a dead client's directory `dir`: the arena files to try, the
  // freshest first (the live copy while it exists, then `dir`/arena); and every file of the
  // arena in the order to remove them once it is recovered (the disk copy first: a crash
  // part-way leaves the fresher copy, never only the stale one).
  static std::vector<std::string> candidates(std::string const& dir);
  static std::vector<std::string> removal_order(std::string const& dir);
  // True for the names an arena leaves in a client's directory.
  static bool is_arena_file(std::string const& name) noexcept;

 private:
  void open_live(std::string const& dir, std::string const& own_name, std::string const& memory_dir,
                 Logger const& logger);
  int write_at(char const* bytes, std::size_t size, std::size_t offset) noexcept;
  int sync_mapped(std::size_t header_bytes, std::size_t slot_stride, std::size_t slots) noexcept;
  int sync_copy(std::size_t header_bytes, std::size_t slot_stride, std::size_t slots, bool everything) noexcept;
  // Copies a slot's whole records from data offset `from` into staging_ (from its start),
  // checksummed, up to the first written since the previous sync began (with `everything`, the
  // first not whole). Returns the data offset after the last one copied (`from`: none).
  std::uint32_t stage_records(char const* slot, std::uint32_t seed, std::uint32_t from, std::uint32_t epoch,
                              bool everything, std::size_t data_bytes) noexcept;

  std::string dir_;
  std::string live_path_;
  int disk_fd_ = -1;
  int live_fd_ = -1;
  char* map_ = nullptr;
  std::size_t bytes_ = 0;
  // The sync thread's: what the disk copy holds of each slot (the generation and settled prefix
  // its header says, 0 for none), how far the slot's records have been looked at, and where
  // the records of that generation on the disk end.
  struct SlotCopy {
    std::uint64_t generation = 0;
    std::uint32_t consumed_end = 0;
    std::uint32_t upto = 0;      // the next sync of this generation copies from here
    std::uint32_t disk_end = 0;  // records of `generation` on the disk end before this offset
  };
  // Whether recovery from the disk copy would deliver records of this slot: then its header
  // must follow every change (settled records would come back, a freed block's too). When it
  // would not, a changed header can wait until records are copied.
  static bool delivers_records(SlotCopy const& copy) noexcept;
  std::vector<SlotCopy> copies_;
  std::vector<char> staging_;  // one slot's records on their way to the disk copy
  bool header_copied_ = false;
  std::atomic<char const*> walking_{nullptr};
  std::atomic<std::uint32_t> epoch_{0};  // syncs begun (BlockArena::epoch): producers tag records with it
};

}  // namespace htevents::inline v0::detail

#pragma once
// The spool's arena files (durability.md, promises 1 and 2): where the intake's blocks live,
// and how they reach the disk.
//
// Copied (the default, when Config::spool_memory_dir is a tmpfs with room): the live arena is a
// file in memory, mapped MAP_SHARED. A process death leaves it in place for the next client,
// and a memory file's pages are never written back, so they never become write-protected. (A
// disk file's are, after every writeback: on ext4 the next write to each is a page fault in
// page_mkwrite. With the arena mapped from ext4 directly, producers and the sender took
// +44,000 faults per million events, 1.24x client CPU.) Every sync copies the slots in use
// to `arena` in the client's spool directory and fdatasyncs it: an OS crash or power loss,
// which empties the tmpfs, loses at most one sync interval.
//
// Direct (fallback): `arena` in the spool directory is mapped and its slots in use msynced.
//
// Either way the spool directory names the live file in `arena.live`, so that an adopter (or
// `spool inspect`) reads the freshest copy.

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

  // Makes the header and the slots in use (generation != 0) durable: copies what is new in each
  // (a block still being written whole, one the producer moved on from up to its end, once);
  // a slot copied before and free now gets its header copied, so that recovery after an OS
  // crash does not resend it. Mapped directly: msyncs the slots in use.
  // 0, or the errno of the write or sync that failed.
  int sync(std::size_t header_bytes, std::size_t slot_stride, std::size_t slots) noexcept;
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
  int copy_range(std::size_t begin, std::size_t end) noexcept;

  std::string dir_;
  std::string live_path_;
  int disk_fd_ = -1;
  int live_fd_ = -1;
  char* map_ = nullptr;
  std::size_t bytes_ = 0;
  // The sync thread's: what the disk copy holds of each slot (its generation, 0 for none, and
  // how far its records are copied once the producer moved on from it).
  struct SlotCopy {
    std::uint64_t generation = 0;
    std::uint32_t upto = 0;
  };
  std::vector<SlotCopy> copies_;
};

}  // namespace htevents::inline v0::detail

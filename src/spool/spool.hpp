#pragma once
// The spool stage (durability.md): the client's own spool directory, its file-backed arena
// (ArenaFile), the segments that hold every batch until it settles, and the adoption of dead
// clients' spools.
//
//   serializer --append()--> segment files   (one write per batch, then its records let go)
//   sender     --settle()--> the batch's settled byte (one pwrite per batch); a fully settled
//                            segment is deleted
//   sender     <--read()---  a batch parked on disk (retries in an outage) or adopted
//   serializer <--next_recovered()-- records of a dead client's arena, to re-batch
//
// Its own thread syncs (spool_sync_interval) and looks for dead siblings to adopt. Order makes
// recovery exact: a record is let go in its block only after its batch is in a segment, a batch
// is marked settled only after a 2xx (or a permanent failure): a crash between two steps can
// only duplicate, never lose.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "batch/batch.hpp"
#include "common/logger.hpp"
#include "htevents/config.hpp"
#include "htevents/stats.hpp"
#include "queue/block_pool.hpp"
#include "spool/arena_file.hpp"
#include "spool/format.hpp"

namespace htevents::inline v0::detail {

struct SpoolOptions {
  std::string dir;
  std::size_t max_bytes = 0;
  std::chrono::milliseconds sync_interval{0};
  std::string memory_dir;          // where the live arena goes when it can (ArenaFile)
  std::size_t block_capacity = 0;  // the intake's blocks: the arena's slots
  std::size_t max_blocks = 0;

  static SpoolOptions from(Config const& config, std::size_t block_capacity, std::size_t max_blocks);
};

struct SpoolSegment;  // spool.cpp

// A spooled batch not held in memory: parked by the sender during an outage, or adopted.
struct SpoolTicket {
  SpoolLocation where;
  std::uint64_t serial = 0;  // 0: adopted (no flush() waits for it)
  int attempts = 0;
  std::chrono::steady_clock::time_point not_before{};
  long last_status = 0;  // (its error text is not kept: thousands of tickets wait in an outage)
};

// The unconsumed records of a dead client's arena, for the serializer to put into batches. Its
// mapping stays until recovered_done().
struct RecoveredArena {
  std::vector<std::string_view> records;  // inside the (writable) mapping: each frame is just before
  std::size_t next = 0;                   // the serializer's cursor
  // Owned by the spool.
  void* mapping = nullptr;
  std::size_t mapping_bytes = 0;
  std::vector<std::string> remove_paths;  // its files, in ArenaFile::removal_order
  struct AdoptedDir* dir = nullptr;
};

class Spool {
 public:
  // Creates and locks this client's directory under options.dir and its arena file, and adopts
  // (reads) every sibling whose owner is gone. Throws ConfigError naming the path and the
  // reason when the directory cannot be created, written or locked; std::bad_alloc.
  Spool(SpoolOptions options, Logger const& logger);
  ~Spool();
  Spool(Spool const&) = delete;
  Spool& operator=(Spool const&) = delete;

  // Where the intake's blocks live, and whether their producers checksum each record (an arena
  // mapped from the disk) or leave that to the sync (the live arena in memory: ArenaFile).
  BlockArena arena() const noexcept;
  bool producers_checksum() const noexcept;
  std::string const& own_dir() const noexcept { return own_path_; }

  // Before start(): called when an adoption found something (for the serializer's records and
  // the sender's batches).
  void connect(std::function<void()> on_adopted) { on_adopted_ = std::move(on_adopted); }
  // Any thread, once: the sync and adoption thread. Throws std::system_error.
  void start();
  // Stops the thread. `arena_clean`: every record accepted here is in a segment or failed.
  // Then, when no batch in this client's own segments is pending either, its directory is
  // removed; otherwise it stays, unlocked, for the next client (which adopts it). Adopted
  // directories follow the same rule for what is left in them.
  void stop(bool arena_clean) noexcept;

  // --- serializer ---
  enum class Append : std::uint8_t { spooled, full, error };
  // Writes the closed batch (its wire_view()) to the current segment; on `spooled`,
  // batch.spooled says where.
  Append append(Batch& batch, std::int64_t opened_unix_ms) noexcept;
  // An adopted arena's records to re-batch, or nullptr. The serializer moves `next`, writes the
  // consumed_end marks once their batch is appended, and calls recovered_done() at the end.
  RecoveredArena* next_recovered() noexcept;
  void recovered_done(RecoveredArena* arena) noexcept;
  // Adopted records not yet re-batched (close() drains them too).
  bool recovery_pending() const noexcept { return recovered_waiting_.load(std::memory_order_acquire) > 0; }

  // --- sender ---
  void settle(SpoolLocation const& where) noexcept;
  // Adopted batches for the sender (appended to `out`). False when there were none.
  bool take_adopted(std::deque<SpoolTicket>& out);
  bool adopted_waiting() const noexcept { return adopted_waiting_.load(std::memory_order_acquire); }
  // The record (header and body) at `where`, read back and verified. False (counted corrupt)
  // when it does not verify.
  bool read(SpoolLocation const& where, std::string& record) noexcept;

  void fill(Stats& stats) const noexcept;
  void count_corrupt(std::uint64_t n) noexcept { corrupt_.fetch_add(n, std::memory_order_relaxed); }
  // fork(): the child must not keep the directory locked when the parent dies.
  void close_lock_in_child() noexcept;

 private:
  void run() noexcept;
  // `everything`: the arena's records that are whole now, not only those whole at the last sync.
  void sync_now(bool everything) noexcept;
  int sync_arena(bool everything) noexcept;  // 0 or the errno of what failed
  void adopt_dead_siblings() noexcept;
  void adopt(std::string const& name, int lock_fd) noexcept;
  void adopt_segment(AdoptedDir& dir, std::string const& path);
  void adopt_arena(AdoptedDir& dir);
  SpoolSegment* open_segment() noexcept;                // caller holds mutex_
  void retire_segment(SpoolSegment* segment) noexcept;  // caller holds mutex_; when nothing is pending
  void maybe_remove_dir(AdoptedDir* dir) noexcept;      // caller holds mutex_
  void note_error(char const* what, int err) noexcept;

  SpoolOptions const options_;
  Logger const& logger_;
  std::string own_path_;
  std::string own_name_;
  int own_lock_fd_ = -1;
  std::unique_ptr<ArenaFile> arena_file_;
  std::size_t arena_bytes_ = 0;
  std::size_t slot_stride_ = 0;
  std::size_t segment_target_ = 0;

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<SpoolSegment>> segments_;  // live ones; guarded by mutex_
  SpoolSegment* writing_ = nullptr;                      // the serializer's current one
  std::uint64_t next_sequence_ = 1;
  std::size_t live_bytes_ = 0;  // guarded by mutex_: bytes of live segments
  std::vector<std::unique_ptr<AdoptedDir>> adopted_;
  std::set<std::string> adopted_names_;
  std::deque<std::unique_ptr<RecoveredArena>> recovered_arenas_;  // waiting for the serializer
  std::vector<std::unique_ptr<RecoveredArena>> recovering_;       // taken by it
  std::deque<SpoolTicket> adopted_tickets_;
  std::atomic<std::size_t> recovered_waiting_{0};
  std::atomic<bool> adopted_waiting_{false};
  bool full_logged_ = false;
  std::atomic<bool> error_logged_{false};

  std::atomic<std::uint64_t> spooled_events_{0}, spooled_bytes_{0};
  std::atomic<std::uint64_t> recovered_{0}, corrupt_{0}, errors_{0}, overflows_{0};

  std::function<void()> on_adopted_;
  std::mutex thread_mutex_;
  std::condition_variable thread_wake_;
  bool stopping_ = false;  // guarded by thread_mutex_
  bool stopped_ = false;   // guarded by thread_mutex_: stop() ran
  std::thread thread_;
};

}  // namespace htevents::inline v0::detail

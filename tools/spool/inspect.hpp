#pragma once
// The core of `htevents-cpp spool inspect DIR`: what a spool directory holds, read with the
// library's recovery readers (src/spool/format.hpp) and nothing else, so that it reports what a
// client starting on that directory would recover. A library so that tests drive it directly.
//
// A spool_dir holds one subdirectory per client (any name), each with `lock`, `arena` and
// `seg-<16 hex digits>` files (docs/durability.md). Nothing is written: the lock is only tried
// (flock LOCK_EX|LOCK_NB) and released at once, files are read with read().

#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace htevents::inspect {

/// DIR is missing or not a directory (the command's exit code 2).
class InspectError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Whether a file could be read as this version's format.
enum class FileState : std::uint8_t {
  ok,             ///< read; the counts below apply
  newer_version,  ///< written by a newer htevents: left alone, as a client would
  unreadable,     ///< not a spool file, a damaged header, or read() failed (`error` says which)
};

struct SegmentReport {
  std::string file{};  ///< its name, seg-...
  FileState state = FileState::ok;
  std::string error{};  ///< why, when state != ok
  std::uint64_t file_bytes = 0;
  std::uint64_t pending_batches = 0;        ///< verified, not settled: a client would send them
  std::uint64_t pending_events = 0;         ///< their messages
  std::uint64_t pending_bytes = 0;          ///< their request bodies, as encoded (compressed)
  std::uint64_t settled_batches = 0;        ///< delivered (or failed for good) already
  std::uint64_t damaged = 0;                ///< records that did not verify (spool_corrupt at recovery)
  std::optional<std::int64_t> oldest_ms{};  ///< earliest oldest_ms of the pending batches, unix ms
};

struct ArenaReport {
  FileState state = FileState::ok;
  std::string error{};
  std::uint64_t file_bytes = 0;
  std::uint64_t unconsumed_events = 0;  ///< verified records past their block's consumed_end
  std::uint64_t unconsumed_bytes = 0;   ///< their payloads (uncompressed JSON)
  std::uint64_t blocks = 0;             ///< blocks holding them
  std::uint64_t damaged = 0;
};

enum class Owner : std::uint8_t {
  live,     ///< the lock is held: a running client owns the directory
  dead,     ///< the lock is free (or there is no lock file): a client would adopt it
  unknown,  ///< the lock file could not be opened (`lock_error`)
};

struct ClientReport {
  std::string name{};  ///< the subdirectory's name
  Owner owner = Owner::dead;
  std::string lock_error{};
  std::string list_error{};               ///< the directory could not be listed
  std::vector<SegmentReport> segments{};  ///< by name, which is by sequence
  std::optional<ArenaReport> arena{};     ///< absent when there is no arena file
};

/// Sums over every client and file (unreadable files count in `unreadable_files` only).
struct Totals {
  std::uint64_t clients = 0, live = 0, dead = 0;
  std::uint64_t pending_batches = 0, pending_events = 0, pending_bytes = 0, settled_batches = 0;
  std::uint64_t unconsumed_events = 0;  ///< in arenas
  std::uint64_t damaged = 0;
  std::uint64_t unreadable_files = 0;  ///< newer_version or unreadable
  std::optional<std::int64_t> oldest_ms{};
  /// Events a client would recover: in segments (pending) and in arenas (unconsumed).
  [[nodiscard]] std::uint64_t events() const noexcept { return pending_events + unconsumed_events; }
};

struct Report {
  std::string dir{};
  std::vector<ClientReport> clients{};  ///< by name
  Totals total{};
};

/// Reads the spool directory `dir`. Throws InspectError when it does not exist or is not a
/// directory; any other problem (an unreadable file, a lock that cannot be opened) is reported
/// in the result. Reads one file at a time into memory.
Report inspect_spool(std::filesystem::path const& dir);

/// One line per client and per file, then a total line.
void print_text(std::ostream& out, Report const& report);
/// The report as one JSON object (and a newline).
void print_json(std::ostream& out, Report const& report);

/// Unix milliseconds as ISO 8601 UTC with milliseconds: 2023-11-14T22:13:20.000Z.
std::string iso8601_utc(std::int64_t unix_ms);

}  // namespace htevents::inspect

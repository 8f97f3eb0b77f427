#include "spool/inspect.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <system_error>

#include "message/json_validation.hpp"
#include "spool/arena_file.hpp"
#include "spool/format.hpp"

namespace htevents::inspect {
namespace {

namespace format = htevents::detail::spool;

// Closes on every path out.
class Fd {
 public:
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(Fd const&) = delete;
  Fd& operator=(Fd const&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const noexcept { return fd_; }

 private:
  int fd_;
};

std::string errno_text(int error) { return std::system_category().message(error); }

// The whole file, or an error. Spool files are bounded (spool_max_bytes), so memory is too.
bool read_file(std::filesystem::path const& path, std::string& bytes, std::string& error) {
  Fd const fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
    error = "cannot read: " + errno_text(errno);
    return false;
  }
  bytes.resize(static_cast<std::size_t>(st.st_size));
  std::size_t have = 0;
  while (have < bytes.size()) {
    ssize_t const n = ::read(fd.get(), bytes.data() + have, bytes.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "cannot read: " + errno_text(errno);
      return false;
    }
    if (n == 0) break;  // shorter than it was a moment ago: a live client's file
    have += static_cast<std::size_t>(n);
  }
  bytes.resize(have);
  return true;
}

// Tries the lock the way a client starting up would, and lets go at once.
Owner probe_lock(std::filesystem::path const& path, std::string& error) {
  Fd const fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Owner::dead;  // nobody can hold a lock that does not exist
    error = errno_text(errno);
    return Owner::unknown;
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
    ::flock(fd.get(), LOCK_UN);
    return Owner::dead;
  }
  if (errno == EWOULDBLOCK) return Owner::live;
  error = errno_text(errno);
  return Owner::unknown;
}

SegmentReport inspect_segment(std::filesystem::path const& path) {
  SegmentReport report;
  report.file = path.filename().string();
  std::string bytes;
  if (!read_file(path, bytes, report.error)) {
    report.state = FileState::unreadable;
    return report;
  }
  report.file_bytes = bytes.size();
  format::SegmentScan const scan = format::scan_segment(bytes);
  report.damaged = scan.corrupt;
  if (scan.newer_version) {
    report.state = FileState::newer_version;
    report.error = "written by a newer format version";
    return report;
  }
  if (!scan.usable) {
    report.state = FileState::unreadable;
    report.error = scan.corrupt != 0 ? "damaged header" : "not a spool segment";
    return report;
  }
  for (format::SegmentEntry const& e : scan.entries) {
    if (e.settled) {
      ++report.settled_batches;
      continue;
    }
    ++report.pending_batches;
    report.pending_events += e.meta.messages;
    report.pending_bytes += e.body_bytes;
    // 0 (or less) means the writer did not know: it says nothing about age.
    if (e.meta.oldest_ms > 0 && (!report.oldest_ms || e.meta.oldest_ms < *report.oldest_ms))
      report.oldest_ms = e.meta.oldest_ms;
  }
  return report;
}

ArenaReport inspect_arena(std::filesystem::path const& path) {
  ArenaReport report;
  std::string bytes;
  if (!read_file(path, bytes, report.error)) {
    report.state = FileState::unreadable;
    return report;
  }
  report.file_bytes = bytes.size();
  format::ArenaScan const scan = format::scan_arena(bytes, detail::is_valid_json);
  report.damaged = scan.corrupt;
  if (scan.newer_version) {
    report.state = FileState::newer_version;
    report.error = "written by a newer format version";
    return report;
  }
  if (!scan.usable) {
    report.state = FileState::unreadable;
    report.error = scan.corrupt != 0 ? "damaged header" : "not a spool arena";
    return report;
  }
  report.unconsumed_events = scan.records.size();
  for (std::string_view r : scan.records) report.unconsumed_bytes += r.size();
  report.blocks = scan.slots.size();
  return report;
}

bool is_segment_name(std::string_view name) {
  constexpr std::string_view prefix = "seg-";
  return name.size() > prefix.size() && name.starts_with(prefix);
}

ClientReport inspect_client(std::filesystem::path const& dir) {
  ClientReport client;
  client.name = dir.filename().string();
  client.owner = probe_lock(dir / "lock", client.lock_error);
  std::vector<std::filesystem::path> segments;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) client.list_error = ec.message();
  bool arena = false;
  for (auto const& entry : it) {
    std::string const name = entry.path().filename().string();
    if (!entry.is_regular_file(ec)) continue;
    if (detail::ArenaFile::is_arena_file(name))
      arena = true;
    else if (is_segment_name(name))
      segments.push_back(entry.path());
  }
  if (arena) {
    // The freshest copy, as recovery reads it: the live one in memory while it exists.
    for (std::string const& path : detail::ArenaFile::candidates(dir.string())) {
      if (!std::filesystem::exists(path, ec)) continue;
      client.arena = inspect_arena(path);
      break;
    }
  }
  std::sort(segments.begin(), segments.end());
  for (auto const& path : segments) client.segments.push_back(inspect_segment(path));
  return client;
}

void add_oldest(std::optional<std::int64_t>& into, std::optional<std::int64_t> const& oldest) {
  if (oldest && (!into || *oldest < *into)) into = oldest;
}

Totals sum(std::vector<ClientReport> const& clients) {
  Totals t;
  for (ClientReport const& c : clients) {
    ++t.clients;
    if (c.owner == Owner::live) ++t.live;
    if (c.owner == Owner::dead) ++t.dead;
    for (SegmentReport const& s : c.segments) {
      if (s.state != FileState::ok) ++t.unreadable_files;
      t.pending_batches += s.pending_batches;
      t.pending_events += s.pending_events;
      t.pending_bytes += s.pending_bytes;
      t.settled_batches += s.settled_batches;
      t.damaged += s.damaged;
      add_oldest(t.oldest_ms, s.oldest_ms);
    }
    if (c.arena) {
      if (c.arena->state != FileState::ok) ++t.unreadable_files;
      t.unconsumed_events += c.arena->unconsumed_events;
      t.damaged += c.arena->damaged;
    }
  }
  return t;
}

}  // namespace

Report inspect_spool(std::filesystem::path const& dir) {
  std::error_code ec;
  auto const status = std::filesystem::status(dir, ec);
  if (ec || !std::filesystem::exists(status))
    throw InspectError(dir.string() + ": " + (ec ? ec.message() : "no such directory"));
  if (!std::filesystem::is_directory(status)) throw InspectError(dir.string() + ": not a directory");

  Report report;
  report.dir = dir.string();
  std::vector<std::filesystem::path> clients;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) throw InspectError(dir.string() + ": " + ec.message());
  for (auto const& entry : it) {
    if (entry.is_directory(ec)) clients.push_back(entry.path());
  }
  std::sort(clients.begin(), clients.end());
  for (auto const& path : clients) report.clients.push_back(inspect_client(path));
  report.total = sum(report.clients);
  return report;
}

}  // namespace htevents::inspect

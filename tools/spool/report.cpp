// The inspect report as text (for people) and as JSON (for scripts).
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

#include "htevents/detail/json_write.hpp"
#include "spool/inspect.hpp"

namespace htevents::inspect {
namespace {

std::string_view owner_name(Owner owner) {
  switch (owner) {
    case Owner::live: return "live";
    case Owner::dead: return "dead";
    case Owner::unknown: break;
  }
  return "unknown";
}

std::string_view state_name(FileState state) {
  switch (state) {
    case FileState::ok: return "ok";
    case FileState::newer_version: return "newer_version";
    case FileState::unreadable: break;
  }
  return "unreadable";
}

std::string oldest_text(std::optional<std::int64_t> const& ms) { return ms ? iso8601_utc(*ms) : "-"; }

// Directory names are whatever the file system allows: escaped, invalid UTF-8 replaced.
std::string json_string(std::string_view s) {
  std::string out(htevents::detail::json_string_size(s), '\0');
  htevents::detail::write_json_string(out.data(), s);
  return out;
}

std::string json_oldest(std::optional<std::int64_t> const& ms) { return ms ? '"' + iso8601_utc(*ms) + '"' : "null"; }

}  // namespace

std::string iso8601_utc(std::int64_t unix_ms) {
  std::int64_t seconds = unix_ms / 1000;
  std::int64_t millis = unix_ms % 1000;
  if (millis < 0) {  // before 1970: floor, so that the milliseconds stay positive
    millis += 1000;
    --seconds;
  }
  std::time_t const t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (::gmtime_r(&t, &tm) == nullptr) return "-";
  char buffer[64];
  std::size_t const n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  char ms[8];
  std::snprintf(ms, sizeof ms, ".%03dZ", static_cast<int>(millis));
  return std::string(buffer, n) + ms;
}

void print_text(std::ostream& out, Report const& report) {
  out << "spool " << report.dir << ": " << report.clients.size() << " client directories\n";
  for (ClientReport const& c : report.clients) {
    out << "client " << c.name << " (" << owner_name(c.owner);
    if (!c.lock_error.empty()) out << ": lock: " << c.lock_error;
    out << ")\n";
    if (!c.list_error.empty()) out << "  cannot list: " << c.list_error << '\n';
    for (SegmentReport const& s : c.segments) {
      out << "  " << s.file << ": ";
      if (s.state != FileState::ok) {
        out << s.error << (s.state == FileState::newer_version ? ", left alone" : "") << "; " << s.damaged
            << " damaged\n";
        continue;
      }
      out << s.pending_batches << " pending batches, " << s.pending_events << " events, " << s.pending_bytes
          << " bytes; " << s.settled_batches << " settled; " << s.damaged << " damaged; oldest "
          << oldest_text(s.oldest_ms) << '\n';
    }
    if (c.arena) {
      ArenaReport const& a = *c.arena;
      out << "  arena: ";
      if (a.state != FileState::ok) {
        out << a.error << (a.state == FileState::newer_version ? ", left alone" : "") << "; " << a.damaged
            << " damaged\n";
      } else {
        out << a.unconsumed_events << " unconsumed events (" << a.unconsumed_bytes << " bytes) in " << a.blocks
            << " blocks; " << a.damaged << " damaged\n";
      }
    }
    if (c.segments.empty() && !c.arena) out << "  no spool files\n";
  }
  Totals const& t = report.total;
  out << "total: " << t.clients << " clients (" << t.live << " live, " << t.dead << " dead); " << t.events()
      << " events (" << t.pending_events << " in " << t.pending_batches << " pending batches of " << t.pending_bytes
      << " bytes, " << t.unconsumed_events << " unconsumed in arenas); " << t.settled_batches << " settled; "
      << t.damaged << " damaged; " << t.unreadable_files << " unreadable files; oldest " << oldest_text(t.oldest_ms)
      << '\n';
}

void print_json(std::ostream& out, Report const& report) {
  out << R"({"spool_dir":)" << json_string(report.dir) << R"(,"clients":[)";
  bool first_client = true;
  for (ClientReport const& c : report.clients) {
    out << (first_client ? "" : ",") << R"({"name":)" << json_string(c.name) << R"(,"lock":")" << owner_name(c.owner)
        << '"';
    first_client = false;
    if (!c.lock_error.empty()) out << R"(,"lock_error":)" << json_string(c.lock_error);
    if (!c.list_error.empty()) out << R"(,"list_error":)" << json_string(c.list_error);
    out << R"(,"segments":[)";
    bool first_segment = true;
    for (SegmentReport const& s : c.segments) {
      out << (first_segment ? "" : ",") << R"({"file":)" << json_string(s.file) << R"(,"status":")"
          << state_name(s.state) << '"';
      first_segment = false;
      if (!s.error.empty()) out << R"(,"error":)" << json_string(s.error);
      out << R"(,"file_bytes":)" << s.file_bytes << R"(,"pending_batches":)" << s.pending_batches
          << R"(,"pending_events":)" << s.pending_events << R"(,"pending_bytes":)" << s.pending_bytes
          << R"(,"settled_batches":)" << s.settled_batches << R"(,"damaged":)" << s.damaged << R"(,"oldest":)"
          << json_oldest(s.oldest_ms) << '}';
    }
    out << R"(],"arena":)";
    if (c.arena) {
      ArenaReport const& a = *c.arena;
      out << R"({"status":")" << state_name(a.state) << '"';
      if (!a.error.empty()) out << R"(,"error":)" << json_string(a.error);
      out << R"(,"file_bytes":)" << a.file_bytes << R"(,"unconsumed_events":)" << a.unconsumed_events
          << R"(,"unconsumed_bytes":)" << a.unconsumed_bytes << R"(,"blocks":)" << a.blocks << R"(,"damaged":)"
          << a.damaged << '}';
    } else {
      out << "null";
    }
    out << '}';
  }
  Totals const& t = report.total;
  out << R"(],"total":{"clients":)" << t.clients << R"(,"live":)" << t.live << R"(,"dead":)" << t.dead
      << R"(,"events":)" << t.events() << R"(,"pending_batches":)" << t.pending_batches << R"(,"pending_events":)"
      << t.pending_events << R"(,"pending_bytes":)" << t.pending_bytes << R"(,"unconsumed_events":)"
      << t.unconsumed_events << R"(,"settled_batches":)" << t.settled_batches << R"(,"damaged":)" << t.damaged
      << R"(,"unreadable_files":)" << t.unreadable_files << R"(,"oldest":)" << json_oldest(t.oldest_ms) << "}}\n";
}

}  // namespace htevents::inspect

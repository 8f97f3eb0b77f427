#pragma once
// What the crash tests and their writer process (spool_crash_writer) share: the layout of the
// counters file both map MAP_SHARED, the deterministic messageIds, and the client config.
//
// A store to a shared file mapping is in the page cache the moment it is made, so whatever the
// writer recorded is still there after a SIGKILL, and the test's own mapping sees it at once.
// Words are 64-bit and accessed through std::atomic_ref (lock-free, so address-free: valid
// across processes).

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "htevents/config.hpp"

namespace htevents::crash {

/// Header words of the counters file. The writer's sampler thread refreshes the stats words
/// every few milliseconds; `accepted` prefixes follow the header, one cache line per thread.
enum Word : std::size_t {
  magic,      // magic_value once the file is initialised (by the test)
  threads,    // producer threads the file has room for
  started,    // 1 once the writer's Client is constructed
  producing,  // producer threads that started enqueuing
  not_ok,     // enqueue answers other than ok (each retried with the same messageId)
  enqueued,   // last stats() sample
  delivered,
  failed,
  recovered,
  spooled_events,
  pending,
  spool_corrupt,
  spool_errors,
  queued_events,
  all_enqueued,  // 1 once every producer finished its events (bounded runs)
  done,          // 1 once the client is closed and the final stats written
  close_ok,
  vm_hwm_kib,  // VmHWM of /proc/self/status at the end (bounded runs)
  word_count
};
inline constexpr std::uint64_t magic_value = 0x3154'4E43'5645'5448;  // "HTEVCNT1"
inline constexpr std::size_t header_words = 64;
inline constexpr std::size_t words_per_thread = 8;  // one cache line each
static_assert(word_count <= header_words);

[[nodiscard]] inline std::size_t counters_file_bytes(std::size_t thread_count) noexcept {
  return (header_words + thread_count * words_per_thread) * sizeof(std::uint64_t);
}

/// A MAP_SHARED mapping of a counters file. Move-only; unmaps on destruction.
class SharedCounters {
 public:
  /// The test: creates (or truncates) `path` for `thread_count` threads and maps it.
  static SharedCounters create(std::string const& path, std::size_t thread_count) {
    int const fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot create " + path);
    std::size_t const bytes = counters_file_bytes(thread_count);
    if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
      ::close(fd);
      throw std::runtime_error("cannot size " + path);
    }
    SharedCounters c(fd, bytes, path);
    c.store(threads, thread_count);
    c.store(magic, magic_value);
    return c;
  }
  /// The writer: maps the file the test created.
  static SharedCounters open(std::string const& path) {
    int const fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open " + path);
    off_t const size = ::lseek(fd, 0, SEEK_END);
    if (size < static_cast<off_t>(counters_file_bytes(0))) {
      ::close(fd);
      throw std::runtime_error(path + " is not a counters file");
    }
    SharedCounters c(fd, static_cast<std::size_t>(size), path);
    if (c.load(magic) != magic_value) throw std::runtime_error(path + " is not a counters file");
    return c;
  }

  SharedCounters(SharedCounters&& other) noexcept
      : words_(std::exchange(other.words_, nullptr)), bytes_(other.bytes_), path_(std::move(other.path_)) {}
  SharedCounters& operator=(SharedCounters&&) = delete;
  SharedCounters(SharedCounters const&) = delete;
  ~SharedCounters() {
    if (words_ != nullptr) ::munmap(words_, bytes_);
  }

  // Release/acquire: a prefix or flag read by the other process covers what was stored before.
  [[nodiscard]] std::uint64_t load(Word w) const noexcept { return ref(w).load(std::memory_order_acquire); }
  void store(Word w, std::uint64_t v) noexcept { ref(w).store(v, std::memory_order_release); }
  void add(Word w, std::uint64_t v) noexcept { ref(w).fetch_add(v, std::memory_order_acq_rel); }

  [[nodiscard]] std::size_t thread_count() const noexcept {
    return (bytes_ / sizeof(std::uint64_t) - header_words) / words_per_thread;
  }
  /// Events 0..prefix-1 of thread `t` were accepted (enqueue returned ok).
  [[nodiscard]] std::uint64_t accepted(std::size_t t) const noexcept {
    return std::atomic_ref(words_[header_words + t * words_per_thread]).load(std::memory_order_acquire);
  }
  void set_accepted(std::size_t t, std::uint64_t prefix) noexcept {
    std::atomic_ref(words_[header_words + t * words_per_thread]).store(prefix, std::memory_order_release);
  }
  [[nodiscard]] std::uint64_t total_accepted() const noexcept {
    std::uint64_t sum = 0;
    for (std::size_t t = 0; t < thread_count(); ++t) sum += accepted(t);
    return sum;
  }
  [[nodiscard]] std::string const& path() const noexcept { return path_; }

 private:
  SharedCounters(int fd, std::size_t bytes, std::string path) : bytes_(bytes), path_(std::move(path)) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) throw std::runtime_error("cannot map " + path_);
    words_ = static_cast<std::uint64_t*>(p);
  }
  [[nodiscard]] std::atomic_ref<std::uint64_t> ref(Word w) const noexcept { return std::atomic_ref(words_[w]); }

  std::uint64_t* words_ = nullptr;
  std::size_t bytes_ = 0;
  std::string path_;
};

/// The messageId of event i of thread t of the writer tagged `tag`: "<tag>-t03-000012345".
/// Deterministic, so the test can list every id a writer had accepted.
[[nodiscard]] inline std::string message_id(std::string_view tag, std::size_t thread, std::uint64_t i) {
  char text[64];
  int const n = std::snprintf(text, sizeof text, "%.*s-t%02zu-%09llu", static_cast<int>(tag.size()), tag.data(), thread,
                              static_cast<unsigned long long>(i));
  return std::string(text, static_cast<std::size_t>(n));
}

/// Batching of the crash runs: small batches, few in flight, short timers, retries that never
/// give up during an outage. The duplicate bound of the tests follows from batch_size and
/// max_in_flight (spool_crash_test.cpp).
inline constexpr std::size_t crash_batch_size = 100;
inline constexpr std::size_t crash_max_in_flight = 4;

[[nodiscard]] inline Config crash_config(std::string endpoint, std::string spool_dir) {
  Config c;
  c.endpoint = std::move(endpoint);
  c.spool_dir = std::move(spool_dir);
  c.batch_size = crash_batch_size;
  c.max_in_flight = crash_max_in_flight;
  c.interval = std::chrono::milliseconds(20);
  c.max_queue_bytes = std::size_t{16} << 20;
  c.enqueue_timeout = std::chrono::seconds(30);
  c.max_attempts = 1'000'000;
  c.retry_base = std::chrono::milliseconds(5);
  c.retry_max = std::chrono::milliseconds(100);
  c.request_timeout = std::chrono::seconds(5);
  c.spool_sync_interval = std::chrono::milliseconds(50);
  c.tls_verify = false;
  return c;
}

inline constexpr char const* crash_write_key = "crash-write-key";

}  // namespace htevents::crash

#pragma once
/// Client configuration: one aggregate, every field defaulted. docs/configuration.md repeats each
/// default and says when to change it. The library never reads environment variables.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "htevents/export.hpp"
#include "htevents/status.hpp"
#include "htevents/transport.hpp"
#include "htevents/value.hpp"

namespace htevents {
inline namespace v0 {

// Compression (the request body encoding) is declared in transport.hpp, which transports use alone.

/// What enqueue does when max_queue_bytes is used up (the endpoint cannot keep up).
enum class Backpressure : std::uint8_t {
  block,        ///< wait up to enqueue_timeout for room, then return Status::queue_full
  drop_newest,  ///< return Status::queue_full at once (this message is not accepted); counted as dropped
  drop_oldest,  ///< evict the oldest queued messages (they go to on_failure) to make room
  fail,         ///< same behaviour as drop_newest, for callers that treat queue_full as an error
};

enum class LogLevel : std::uint8_t { debug, info, warn, error };

/// Why an accepted message was not delivered.
enum class FailureReason : std::uint8_t {
  rejected,           ///< the server answered a permanent 4xx for its batch
  retries_exhausted,  ///< max_attempts reached on retryable errors
  deadline,           ///< close() timed out before it could be delivered
  evicted,            ///< Backpressure::drop_oldest made room for newer messages
};
[[nodiscard]] HTEVENTS_EXPORT std::string_view to_string(FailureReason reason) noexcept;

/// One delivered batch, for on_success.
struct Delivery {
  std::size_t events = 0;              ///< messages in the batch
  std::size_t bytes_uncompressed = 0;  ///< request body before compression
  std::size_t bytes_sent = 0;          ///< request body on the wire
  int http_status = 0;
  int attempts = 0;  ///< 1 when the first try succeeded
};

/// One message that will not be delivered, for on_failure. The views are valid only during the
/// callback: copy what you keep.
struct Failure {
  FailureReason reason = FailureReason::rejected;
  int http_status = 0;              ///< 0 when no answer came (timeout, connection error, eviction)
  std::string_view detail{};        ///< e.g. "HTTP 400: {\"error\":...}" or "curl: Timeout was reached"
  std::string_view message_json{};  ///< the message exactly as it would have been sent
};

/// Thrown by validate() and the Client constructor when the write key or a Config field is
/// unusable; the message names it ("htevents: Config::batch_size must be ...").
class HTEVENTS_EXPORT ConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct Stats;

/// Every field has a default that works against the real service.
struct Config {
  /// Requests go to POST {endpoint}/v1/batch; one trailing '/' is ignored. http or https only.
  std::string endpoint = "https://us-east-1.hightouch-events.com";
  /// Messages per request, at most.
  std::size_t batch_size = 250;
  /// The oldest pending message waits at most this long before its batch is sent.
  std::chrono::milliseconds interval{5000};
  /// Request body before compression, envelope included, at most.
  std::size_t max_batch_bytes = 500'000;
  /// One encoded message, at most; larger ones get Status::message_too_large at enqueue.
  std::size_t max_message_bytes = 32'000;
  /// Memory for queued, unsent messages across all threads, in arena blocks of
  /// max(64 KiB, max_message_bytes + 4 KiB); at least 4 blocks. Each producer thread holds one
  /// block while it writes. Batch buffers (2 * max_in_flight + 2 of max_batch_bytes) come on top.
  std::size_t max_queue_bytes = std::size_t{64} << 20;
  /// What enqueue does when max_queue_bytes is used up.
  Backpressure backpressure = Backpressure::block;
  /// How long Backpressure::block may wait for room.
  std::chrono::milliseconds enqueue_timeout{100};
  /// Request body encoding.
  Compression compression = Compression::zstd;
  /// zstd: -7..22 (1 is fast and already ~10x on typical events); gzip: 1..9.
  int compression_level = 1;
  /// Concurrent HTTP requests. Batches waiting for a retry do not take a request slot, but they
  /// hold one of the 2 * max_in_flight + 2 batch buffers.
  std::size_t max_in_flight = 8;
  /// Tries per batch, the first one included.
  int max_attempts = 10;
  /// Backoff between tries: full jitter in [0, min(retry_max, retry_base * 2^attempt)].
  /// A 429 or 503 with Retry-After waits that long instead (capped at 300 s, not at
  /// retry_max), pauses every send meanwhile, and does not count as a try (wire-format.md).
  std::chrono::milliseconds retry_base{100}, retry_max{10000};
  /// One HTTP attempt, connection included.
  std::chrono::milliseconds request_timeout{10000};
  /// Sent as the batch context; context.library is always set by the client.
  Context default_context{};
  /// Called once per delivered batch. Runs on the sender thread, one callback at a time; keep it short.
  std::function<void(Delivery const&)> on_success{};
  /// Called once per failed or evicted message. Runs on a pipeline thread, one callback at a time.
  /// It may call enqueue (subject to backpressure, never waiting: `block` acts as `fail` there),
  /// flush or close (both return false at once when called from a callback).
  std::function<void(Failure const&)> on_failure{};
  /// Receives the library's log lines, one call per line, serialized (never two at once), from
  /// pipeline threads. Default (empty): stderr. The write key never appears in a log line.
  std::function<void(LogLevel, std::string_view)> logger{};
  /// Least level passed to the logger; the default is errors only. `warn` adds compression
  /// fallbacks and the like.
  LogLevel log_level = LogLevel::error;

  // --- durability (durability.md, docs/durability.md) ---
  /// A directory for the disk spool: every accepted event survives a crash of the process, and
  /// an endpoint outage longer than memory holds waits on disk. Empty (the default): memory
  /// only. The client creates and locks a subdirectory of its own (0700), and adopts those
  /// whose owner died. Unusable (cannot be created, written or locked): ConfigError.
  std::string spool_dir{};
  /// Disk budget for spooled batches; when it is used up, batches stay in memory only (and the
  /// backpressure policy acts once memory is full too). The arena file of max_queue_bytes
  /// comes on top.
  std::size_t spool_max_bytes = std::size_t{1} << 30;
  /// How often spooled data is forced to the disk (fdatasync, msync): the window an OS crash or
  /// power loss may lose. A process crash loses nothing whatever this is.
  std::chrono::milliseconds spool_sync_interval{1000};
  /// With spool_dir: a directory on a memory file system (tmpfs) for the arena of queued events
  /// while the client runs. Its file outlives a crash of the process (the next client adopts
  /// it), and since memory pages are never written back, enqueue takes no page faults on it;
  /// within every spool_sync_interval the arena's records not yet settled are copied (and
  /// checksummed) to spool_dir, for an OS crash. Empty, not a tmpfs, or without room for
  /// max_queue_bytes: the arena file in spool_dir is mapped directly instead (logged at info;
  /// about 20% more client CPU on ext4, docs/durability.md). The file is named after the
  /// client's spool subdirectory, 0600.
  std::string spool_memory_dir{"/dev/shm"};

  // --- beyond api.md ---
  /// Verify the server's TLS certificate and host name. Turn off only for local testing.
  bool tls_verify = true;
  /// A CA bundle file (PEM) instead of the system's.
  std::string ca_bundle{};
  /// When non-zero, on_stats gets a snapshot this often (sender thread).
  std::chrono::milliseconds stats_interval{0};
  std::function<void(Stats const&)> on_stats{};
  /// Makes the HTTP transport the sender posts through, instead of libcurl: for platforms
  /// without it, or an HTTP stack of your own. Empty (the default): libcurl. transport.hpp and
  /// docs/transport.md say what a Transport must do. tls_verify and ca_bundle reach it in
  /// TransportOptions; what it makes of them is its own business.
  TransportFactory transport{};
};

/// Checks `config` exactly as the Client constructor does, and starts nothing: no thread, no
/// connection, no libcurl. Throws ConfigError naming the first unusable field; the rules are in
/// docs/configuration.md. Use it to check a configuration when it is loaded, before a Client
/// is due.
HTEVENTS_EXPORT void validate(Config const& config);
/// The same, after checking the write key (neither empty nor only white space).
HTEVENTS_EXPORT void validate(std::string_view write_key, Config const& config);

}  // namespace v0
}  // namespace htevents

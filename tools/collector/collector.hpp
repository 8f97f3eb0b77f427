// A local HTTP collector for the batch API: the endpoint of the integration tests, the demo
// and load runs. Counts events and unique messageIds, and injects faults on request.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collector/batch_checker.hpp"

namespace htevents::collector {

/// How a Collector listens and misbehaves. Every field has a usable default.
struct Options {
  std::string bind_address = "127.0.0.1";  ///< IPv4 address to listen on
  std::uint16_t port = 0;                  ///< 0 picks a free port (see Collector::port())
  unsigned threads = 1;                    ///< HTTP worker threads (>= 1)
  std::string ndjson_path{};               ///< when set: every received message appended as one line
  std::string dump_requests_path{};  ///< when set: every batch POST appended as one JSON line, with
                                     ///< its headers, status and decoded body (request_dump.hpp)
  bool keep_bodies = false;                ///< keep decoded bodies for Collector::bodies()
  std::size_t max_kept_bodies = 1000;      ///< the first N bodies are kept, later ones are not
  std::size_t max_body_bytes = default_max_body_bytes;  ///< wire and decoded limit; beyond: 413
  /// Room for this many unique ids from the start (0: MessageIdSet's default). A run that knows
  /// its event count sets it: growing the set past millions of ids stops every answer for tens
  /// of milliseconds (allocating and rehashing), which a sender sees as the endpoint stalling.
  std::size_t expected_ids = 0;

  // Fault injection, decided per request by a PRNG seeded with `seed`. The shares are
  // probabilities; their sum must not exceed 1.
  double share_500 = 0;              ///< answer 500
  double share_429 = 0;              ///< answer 429 with Retry-After
  int retry_after_seconds = 1;       ///< Retry-After value of injected 429s
  double share_drop_connection = 0;  ///< close the connection without an answer
  std::chrono::milliseconds delay{0};  ///< wait before answering each request (connections are
                                       ///< suspended, so others are still served meanwhile)
  int fixed_status = 0;  ///< non-zero: answer every batch POST with this, accept nothing
  std::vector<std::string> refused_encodings{};  ///< e.g. {"zstd"}: such requests get 415
  std::uint64_t seed = 1;

  // Segment's response rules (wire-format.md, Responses), one fault each. 413 over a size is
  // `max_body_bytes` above (checked on the wire and after decoding).
  double share_460 = 0;  ///< answer 460 (Segment's "client timed out"): counts in the shares' sum
  std::string refuse_marker{};  ///< non-empty: a batch whose decoded body contains it gets 400
  std::vector<std::string> bad_request_encodings{};  ///< e.g. {"zstd"}: such requests get 400, not 415
  std::uint64_t fail_first = 0;   ///< answer the first N batch POSTs with fail_first_status
  int fail_first_status = 503;
  int fail_first_retry_after = 0;  ///< > 0: those answers carry Retry-After with this many seconds
  // Refuse mode (an endpoint outage): every batch POST is answered 503, without Retry-After
  // unless outage_retry_after says so (or its connection is closed: outage_drops), and counted
  // in Stats::outage_refusals; then the collector answers normally again.
  bool refuse_until_released = false;   ///< refuse from the start until release() is called
  std::chrono::milliseconds outage{0};  ///< refuse every batch POST for this long from the start
                                        ///< (refuse_for() starts another)
  bool outage_drops = false;    ///< during an outage close connections instead of answering 503
  int outage_retry_after = 0;   ///< > 0: outage 503s carry Retry-After with this many seconds
  bool record_envelopes = false;  ///< keep every batch POST's messageId and sentAt (envelopes())
};

/// Valid messages per type.
struct TypeCounts {
  std::uint64_t identify = 0;
  std::uint64_t track = 0;
  std::uint64_t page = 0;
  std::uint64_t screen = 0;
  std::uint64_t group = 0;
  std::uint64_t alias = 0;
};

/// Batch requests per Content-Encoding.
struct EncodingCounts {
  std::uint64_t identity = 0;
  std::uint64_t gzip = 0;
  std::uint64_t zstd = 0;
};

/// A snapshot of a Collector's counters. Plain value; each counter is read atomically but the
/// snapshot as a whole is not (read it when the traffic has stopped for exact sums).
struct Stats {
  std::uint64_t requests = 0;               ///< POSTs to .../v1/batch, whatever the outcome
  std::uint64_t accepted_batches = 0;       ///< answered 200 after counting
  std::uint64_t events = 0;                 ///< valid messages in accepted batches (= unique + duplicate)
  std::uint64_t unique_message_ids = 0;     ///< distinct messageIds over the collector's life
  std::uint64_t duplicate_message_ids = 0;  ///< valid messages whose messageId was already seen
  std::uint64_t invalid_messages = 0;       ///< batch elements without a known type or a string messageId
  std::uint64_t bytes_received = 0;         ///< request bodies as on the wire (batch POSTs)
  std::uint64_t bytes_decoded = 0;          ///< request bodies after decoding
  TypeCounts by_type{};
  EncodingCounts by_encoding{};             ///< batch POSTs with a recognised encoding
  std::uint64_t answered_2xx = 0;           ///< answers to batch POSTs, by class
  std::uint64_t answered_4xx = 0;
  std::uint64_t answered_5xx = 0;
  std::uint64_t injected_500 = 0;
  std::uint64_t injected_429 = 0;
  std::uint64_t dropped_connections = 0;    ///< injected connection drops
  std::uint64_t injected_460 = 0;
  std::uint64_t refused_marked = 0;         ///< 400s for a batch holding Options::refuse_marker
  std::uint64_t failed_first = 0;           ///< answers of Options::fail_first
  std::uint64_t outage_refusals = 0;        ///< batch POSTs refused (503 or dropped) in an outage
  std::uint64_t id_set_growths = 0;         ///< times the unique-id set grew: each stopped every
                                            ///< answer while it rehashed (Options::expected_ids)

  /// One JSON object with the fields above (by_type and by_encoding as nested objects).
  /// Allocates.
  [[nodiscard]] std::string to_json() const;
};

/// An HTTP server on its own threads (libmicrohttpd). `POST <any prefix>/v1/batch` is checked and
/// counted; `GET /stats` answers Stats::to_json(); anything else gets 404.
/// All member functions are thread-safe.
class Collector {
 public:
  /// Starts listening before it returns. Throws std::runtime_error with a readable message
  /// when the options are invalid, the port is taken or the NDJSON file cannot be opened.
  explicit Collector(Options options = {});
  /// Stops listening and joins the server threads; requests in progress are cut off.
  ~Collector();
  Collector(Collector const&) = delete;
  Collector& operator=(Collector const&) = delete;

  /// The port actually bound (useful with Options::port == 0).
  [[nodiscard]] std::uint16_t port() const noexcept;
  /// "http://<bind_address>:<port>", ready for the SDK's endpoint setting.
  [[nodiscard]] std::string endpoint() const;
  /// A snapshot of the counters. Never blocks on request handling.
  [[nodiscard]] Stats stats() const noexcept;
  /// Blocks until at least `n` unique messageIds were counted (true) or `timeout` passed
  /// (false). Woken by the request handlers through a condition variable.
  bool wait_for_unique(std::uint64_t n, std::chrono::milliseconds timeout) const;
  /// The decoded bodies kept so far (Options::keep_bodies), in arrival order. Copies.
  [[nodiscard]] std::vector<std::string> bodies() const;

  /// Headers of the latest batch POST.
  struct RequestHeaders {
    std::string authorization{};
    std::string content_type{};
    std::string content_encoding{};
    std::string user_agent{};
    std::string path{};
    std::vector<std::string> names{};  // every header's name, lowercase, in the order sent
  };
  /// The headers of the latest POST to .../v1/batch (all empty before the first). Copies.
  [[nodiscard]] RequestHeaders last_headers() const;

  /// One batch POST's envelope (Options::record_envelopes), whatever the answer.
  struct Envelope {
    std::string message_id{};  ///< the batch messageId ("" when the body could not be read)
    std::string sent_at{};
    int status = 0;            ///< the answer (0: connection closed without one)
  };
  /// Every batch POST's envelope so far, in arrival order. Copies.
  [[nodiscard]] std::vector<Envelope> envelopes() const;

  /// Whether a valid message with this messageId was in an accepted batch (answered 200), over
  /// the collector's life. Ids are compared as message_id_key() reduces them (id_set.hpp).
  /// Takes the id set's lock for a moment.
  [[nodiscard]] bool seen_message_id(std::string_view id) const;
  /// Those of `ids` never seen (as seen_message_id), in their order; one lock for all of them.
  /// Allocates the result.
  [[nodiscard]] std::vector<std::string> unseen_message_ids(std::span<std::string const> ids) const;

  /// Runtime changes of the fault injection; they apply to requests completed afterwards.
  /// Refuse mode (see Options::refuse_until_released): refuse every batch POST from now until
  /// release().
  void refuse() noexcept;
  /// Refuse every batch POST from now for `duration`, then answer normally (as Options::outage):
  /// refuse() with its release() due at now + duration. A later refuse() or release() wins.
  void refuse_for(std::chrono::milliseconds duration) noexcept;
  /// Ends refuse mode (timed or not) now.
  void release() noexcept;
  /// True while batch POSTs are being refused.
  [[nodiscard]] bool refusing() const noexcept;
  /// The same as refuse_for() (its older name).
  void start_outage(std::chrono::milliseconds duration) noexcept;
  void set_fixed_status(int status) noexcept;
  /// Shares as in Options (clamped to [0, 1]).
  void set_shares(double share_500, double share_429, double share_drop_connection) noexcept;
  void set_delay(std::chrono::milliseconds delay) noexcept;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace htevents::collector

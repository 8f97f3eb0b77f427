// The serializer alone: a real Intake (no Client, no sender, no network) feeds it records, and
// the test plays the sender's side of the batch channel. Batches close on count, bytes,
// interval and flush; they are compressed with the channel's encoding; under drop_oldest a
// starved producer makes the serializer evict; at the close deadline what is left fails.

#include "batch/serializer.hpp"

#include <gtest/gtest.h>
#include <zstd.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "message/message_arena.hpp"

namespace htevents::inline v0::detail {
namespace {

using namespace std::chrono_literals;

std::uint64_t fresh_client_id() {
  static std::atomic<std::uint64_t> next{(std::uint64_t{1} << 61) + 1};
  return next++;
}

struct Handed {
  std::size_t messages = 0;
  std::vector<std::string> spans;  // each message's bytes as its span in `body` gives them
  std::string body;
  Compression encoding = Compression::none;
  std::string wire;
  std::uint64_t serial = 0;
};

Handed copy_of(Batch const& batch) {
  std::vector<std::string> spans;
  for (MessageSpan const& span : batch.messages) spans.emplace_back(batch.body.view().substr(span.offset, span.length));
  return Handed{batch.messages.size(), std::move(spans), std::string(batch.body.view()), batch.encoding,
                std::string(batch.wire.view()), batch.serial};
}

struct RigSetup {
  std::size_t batch_size = 100;
  std::size_t max_batch_bytes = 500 * 1024;
  std::chrono::milliseconds interval = 10s;
  Compression encoding = Compression::none;
  std::size_t batch_buffers = 4;
  std::size_t block_capacity = 64 * 1024;
  std::size_t max_blocks = 16;
  Backpressure backpressure = Backpressure::block;
};

class SerializerRig {
 public:
  explicit SerializerRig(RigSetup const& setup = {})
      : config_(make_config()),
        logger_({}, LogLevel::error),
        callbacks_(config_, logger_, counters_, {}),
        intake_(fresh_client_id(), intake_options(setup)),
        consumer_(intake_),
        channel_(setup.batch_buffers, setup.max_batch_bytes + 64, setup.batch_size, setup.encoding, progress_) {
    SerializerOptions options;
    options.batch_size = setup.batch_size;
    options.max_batch_bytes = setup.max_batch_bytes;
    options.interval = setup.interval;
    options.compression_level = 1;
    options.drop_oldest = setup.backpressure == Backpressure::drop_oldest;
    serializer_ = std::make_unique<Serializer>(
        options, SerializerLinks{consumer_, channel_, progress_, callbacks_, counters_, logger_, last_error_});
    channel_.connect([this] { handed_.notify_all(); }, [this] { serializer_->wake(); });
    thread_ = std::thread([this] { serializer_->run(); });
  }
  ~SerializerRig() {
    drain();
    std::vector<Batch*> rest;
    channel_.take_handed(rest);
    for (Batch* b : rest) channel_.give_back(b);
  }

  // One message through the struct path's handshake, as ClientCore::enqueue does.
  Status push(std::string_view json) {
    Producer* producer = intake_.this_thread_producer();
    if (producer == nullptr) return intake_.closed() ? intake_.refusal() : Status::queue_full;
    if (!intake_.begin_struct_enqueue(*producer)) {
      intake_.end_struct_enqueue(*producer, intake_.refusal());
      return intake_.refusal();
    }
    MessageArena out(intake_, *producer);
    out.raw(json);
    Status const status = out.finish();
    intake_.end_struct_enqueue(*producer, status);
    return status;
  }
  // The next handed batch (nullopt after `timeout`); `give_back` frees its buffer.
  std::optional<Handed> next(std::chrono::milliseconds timeout = 5s, bool give_back = true) {
    auto const until = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(mutex_);
    if (!drained_.empty()) {
      Handed h = std::move(drained_.front());
      drained_.erase(drained_.begin());
      return h;
    }
    for (;;) {
      if (queue_.empty()) channel_.take_handed(queue_);
      if (!queue_.empty()) break;
      if (handed_.wait_until(lock, std::min(until, std::chrono::steady_clock::now() + 5ms)) == std::cv_status::timeout &&
          std::chrono::steady_clock::now() >= until) {
        channel_.take_handed(queue_);
        if (queue_.empty()) return std::nullopt;
        break;
      }
    }
    Batch* batch = queue_.front();
    queue_.erase(queue_.begin());
    Handed h = copy_of(*batch);
    if (give_back) {
      channel_.give_back(batch);
    } else {
      held_.push_back(batch);
    }
    return h;
  }
  void give_back_held() {
    for (Batch* b : held_) channel_.give_back(b);
    held_.clear();
  }
  void drain(std::chrono::steady_clock::time_point deadline = {}) {
    if (!thread_.joinable()) return;
    serializer_->drain(deadline);
    // The serializer exits only with every record batched: keep freeing buffers meanwhile
    // (copies of what was handed stay for next()). A buffer kept in queue_ instead would leave
    // a one-buffer serializer stalled for good.
    while (!channel_.closed()) {
      {
        std::lock_guard lock(mutex_);
        channel_.take_handed(queue_);
        for (Batch* b : queue_) {
          drained_.push_back(copy_of(*b));
          channel_.give_back(b);
        }
        queue_.clear();
      }
      give_back_held();
      std::this_thread::sleep_for(1ms);
    }
    thread_.join();
  }

  Intake& intake() { return intake_; }
  Progress& progress() { return progress_; }
  Serializer& serializer() { return *serializer_; }
  PipelineCounters const& counters() const { return counters_; }
  std::vector<std::pair<FailureReason, std::string>> failures() const {
    std::lock_guard lock(failures_mutex_);
    return failures_;
  }

 private:
  static IntakeOptions intake_options(RigSetup const& s) {
    IntakeOptions o;
    o.block_capacity = s.block_capacity;
    o.max_blocks = s.max_blocks;
    o.max_message_bytes = 32 * 1024;
    o.backpressure = s.backpressure;
    o.enqueue_timeout = 2s;
    return o;
  }
  Config make_config() {
    Config c;
    c.on_failure = [this](Failure const& f) {
      std::lock_guard lock(failures_mutex_);
      failures_.emplace_back(f.reason, std::string(f.message_json));
    };
    return c;
  }

  mutable std::mutex failures_mutex_;
  std::vector<std::pair<FailureReason, std::string>> failures_;
  Config config_;
  Logger logger_;
  PipelineCounters counters_;
  Progress progress_;
  Callbacks callbacks_;
  LastError last_error_;
  Intake intake_;
  IntakeConsumer consumer_;
  BatchChannel channel_;
  std::unique_ptr<Serializer> serializer_;
  std::mutex mutex_;
  std::condition_variable_any handed_;
  std::vector<Batch*> queue_;
  std::vector<Batch*> held_;
  std::vector<Handed> drained_;  // handed while drain() ran, their buffers already given back
  std::thread thread_;
};

std::string message(int i, std::size_t pad = 0) {
  return R"({"m":)" + std::to_string(i) + R"(,"p":")" + std::string(pad, 'x') + R"("})";
}

TEST(Serializer, ClosesABatchWhenItHoldsBatchSizeMessages) {
  RigSetup s;
  s.batch_size = 3;
  SerializerRig rig(s);
  for (int i = 0; i < 7; ++i) ASSERT_EQ(rig.push(message(i)), Status::ok);
  auto first = rig.next();
  auto second = rig.next();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->messages, 3u);
  EXPECT_EQ(second->messages, 3u);
  EXPECT_LT(first->serial, second->serial);
  EXPECT_FALSE(rig.next(50ms)) << "the seventh waits for its interval";
  rig.drain();
  auto last = rig.next(1s);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->messages, 1u) << "close() hands the partial batch";
  EXPECT_EQ(rig.counters().consumed.load(), 7u);
}

TEST(Serializer, ClosesABatchBeforeItWouldPassMaxBatchBytes) {
  RigSetup s;
  SerializerRig probe(s);
  std::size_t const envelope = probe.serializer().envelope_bytes();
  std::string const m = message(0, 80);
  // Room for two messages with their comma, not three.
  s.max_batch_bytes = envelope + 2 * (m.size() + 1) + 20;
  SerializerRig rig(s);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(rig.push(message(i, 80)), Status::ok);
  auto a = rig.next();
  auto b = rig.next();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->messages, 2u);
  EXPECT_EQ(b->messages, 2u);
  EXPECT_LE(a->body.size(), s.max_batch_bytes);
}

// The per-record loop copies runs of records while the batch has room and they come from one
// block: with small blocks, several producers, and batches cut by count and by bytes, every
// batch body must be exactly its messages joined by commas, each span must give one message,
// and every message must arrive once, each producer's in its order.
TEST(Serializer, EveryBatchHoldsExactlyItsMessagesAcrossBlocksProducersAndLimits) {
  RigSetup s;
  s.batch_size = 7;
  s.block_capacity = 2 * 1024;  // a block holds a handful of messages: runs end often
  s.max_blocks = 64;
  s.batch_buffers = 8;
  SerializerRig probe(s);
  s.max_batch_bytes = probe.serializer().envelope_bytes() + 700;  // some batches close on bytes first
  SerializerRig rig(s);
  constexpr int threads = 4;
  constexpr int per_thread = 400;
  auto text = [](int t, int i) { return message(t * 100'000 + i, static_cast<std::size_t>((i * 37 + t) % 90)); };
  std::vector<std::thread> producers;
  for (int t = 0; t < threads; ++t) {
    producers.emplace_back([&rig, &text, t] {
      for (int i = 0; i < per_thread; ++i) ASSERT_EQ(rig.push(text(t, i)), Status::ok);
    });
  }
  for (auto& p : producers) p.join();
  rig.drain();

  std::map<int, int> next_of_thread;  // producer -> the index its next message must have
  std::size_t total = 0;
  bool closed_on_count = false, closed_on_bytes = false;
  while (auto batch = rig.next(200ms)) {
    ASSERT_EQ(batch->spans.size(), batch->messages);
    ASSERT_LE(batch->body.size(), s.max_batch_bytes);
    std::string joined;
    for (std::string const& m : batch->spans) joined += (joined.empty() ? "" : ",") + m;
    std::string_view const body = batch->body;
    ASSERT_TRUE(body.starts_with(R"({"batch":[)" + joined + R"(],"sentAt":)")) << body;
    closed_on_count = closed_on_count || batch->messages == s.batch_size;
    closed_on_bytes = closed_on_bytes || (batch->messages < s.batch_size && batch->messages > 1);
    for (std::string const& m : batch->spans) {
      int const id = std::stoi(m.substr(5));  // {"m":<id>,...
      int const t = id / 100'000, i = id % 100'000;
      ASSERT_EQ(m, text(t, i));
      ASSERT_EQ(i, next_of_thread[t]) << "producer " << t << " out of order";
      ++next_of_thread[t];
      ++total;
    }
  }
  EXPECT_EQ(total, std::size_t{threads * per_thread});
  EXPECT_TRUE(closed_on_count && closed_on_bytes) << "both limits cut batches";
  EXPECT_EQ(rig.counters().consumed.load(), std::uint64_t{threads * per_thread});
}

TEST(Serializer, ClosesABatchWhenItsIntervalPasses) {
  RigSetup s;
  s.interval = 20ms;
  SerializerRig rig(s);
  auto const started = std::chrono::steady_clock::now();
  ASSERT_EQ(rig.push(message(1)), Status::ok);
  auto batch = rig.next(5s);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->messages, 1u);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 20ms);
}

TEST(Serializer, AFlushClosesTheBatchAndWaitsForItToFinish) {
  SerializerRig rig;  // interval 10 s: only the flush can close the batch
  ASSERT_EQ(rig.push(message(1)), Status::ok);
  ASSERT_EQ(rig.push(message(2)), Status::ok);
  FlushTicket ticket;
  rig.intake().for_each_producer([&](Producer const& p) { ticket.targets.emplace_back(&p, p.accepted.load()); });
  rig.progress().add(ticket);
  rig.serializer().wake();
  auto batch = rig.next(5s);  // gives the buffer back: the batch finished
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->messages, 2u);
  EXPECT_TRUE(rig.progress().wait(ticket, std::chrono::steady_clock::now() + 5s));
  EXPECT_TRUE(ticket.batched);
  EXPECT_EQ(ticket.last_serial, batch->serial);
}

TEST(Serializer, AFlushWithNothingQueuedIsDoneAtOnce) {
  SerializerRig rig;
  FlushTicket ticket;
  rig.progress().add(ticket);
  rig.serializer().wake();
  EXPECT_TRUE(rig.progress().wait(ticket, std::chrono::steady_clock::now() + 5s));
}

TEST(Serializer, CompressesWithTheChannelsEncoding) {
  RigSetup s;
  s.batch_size = 2;
  s.encoding = Compression::zstd;
  SerializerRig rig(s);
  // A batch closes on count when the message after its last arrives.
  for (int i = 1; i <= 3; ++i) ASSERT_EQ(rig.push(message(i, 200)), Status::ok);
  auto batch = rig.next();
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->encoding, Compression::zstd);
  EXPECT_LT(batch->wire.size(), batch->body.size());
  std::string plain(batch->body.size() + 16, '\0');
  std::size_t const n = ZSTD_decompress(plain.data(), plain.size(), batch->wire.data(), batch->wire.size());
  ASSERT_FALSE(ZSTD_isError(n));
  plain.resize(n);
  EXPECT_EQ(plain, batch->body);
  EXPECT_EQ(rig.counters().bytes_uncompressed.load(), batch->body.size());
}

TEST(Serializer, EvictsTheOldestRecordsForAStarvedProducer) {
  RigSetup s;
  s.batch_size = 1;
  s.batch_buffers = 1;  // the one buffer stays with the "sender": the serializer stalls
  s.block_capacity = 4096;
  s.max_blocks = 2;
  s.backpressure = Backpressure::drop_oldest;
  SerializerRig rig(s);
  ASSERT_EQ(rig.push(message(0, 900)), Status::ok);
  ASSERT_EQ(rig.push(message(1, 900)), Status::ok);  // closes the batch of message 0
  ASSERT_TRUE(rig.next(5s, /*give_back=*/false));
  // Two blocks hold about eight of these; the rest only fit once old ones are evicted.
  constexpr int pushed = 20;
  for (int i = 2; i <= pushed; ++i) ASSERT_EQ(rig.push(message(i, 900)), Status::ok) << i;
  auto const failures = rig.failures();
  ASSERT_FALSE(failures.empty());
  EXPECT_EQ(failures.front().first, FailureReason::evicted);
  EXPECT_EQ(failures.front().second, message(1, 900)) << "oldest first";
  rig.give_back_held();
  rig.drain();
  EXPECT_EQ(rig.counters().consumed.load(), static_cast<std::uint64_t>(pushed + 1));
  // Compared once the serializer has stopped: mid-eviction it counts a record before its
  // failure callback runs (TSan's timing showed 18 counted, 17 handed over).
  EXPECT_EQ(rig.counters().dropped_oldest.load(), rig.failures().size());
}

TEST(Serializer, FailsWhatIsNotBatchedAtTheCloseDeadline) {
  RigSetup s;
  s.batch_size = 1;
  s.batch_buffers = 1;
  SerializerRig rig(s);
  ASSERT_EQ(rig.push(message(0)), Status::ok);
  ASSERT_EQ(rig.push(message(1)), Status::ok);  // closes the batch of message 0
  ASSERT_TRUE(rig.next(5s, /*give_back=*/false));  // never given back before the deadline
  ASSERT_EQ(rig.push(message(2)), Status::ok);
  rig.serializer().drain(std::chrono::steady_clock::now());
  for (int i = 0; i < 5000 && rig.failures().size() < 2; ++i) std::this_thread::sleep_for(1ms);
  auto const failures = rig.failures();
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_EQ(failures[0].first, FailureReason::deadline);
  EXPECT_EQ(rig.counters().deadline_failures.load(), 2u);
  rig.drain();
}

}  // namespace
}  // namespace htevents::inline v0::detail

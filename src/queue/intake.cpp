#include "queue/intake.hpp"

#include <algorithm>
#include <cstring>
#include <span>
#include <thread>
#include <vector>

#include "common/callback_scope.hpp"
#include "common/config_validation.hpp"
#include "common/deadline.hpp"
#include "spool/format.hpp"

namespace htevents::inline v0::detail {

IntakeOptions IntakeOptions::from(Config const& config) noexcept {
  IntakeOptions o;
  o.block_capacity = block_capacity_for(config);
  o.max_blocks = config.max_queue_bytes / o.block_capacity;
  o.max_message_bytes = config.max_message_bytes;
  o.backpressure = config.backpressure;
  o.enqueue_timeout = config.enqueue_timeout;
  return o;
}

Intake::Intake(std::uint64_t client_id, IntakeOptions const& options)
    : options_(options),
      client_id_(client_id),
      ring_(64 * RingTraits::BLOCK_SIZE),
      blocks_(options.block_capacity, options.max_blocks, options.arena),
      producers_(ring_, blocks_) {}

Block* Intake::try_next_block(Producer& producer) noexcept {
  // A block's worth of records arrived: a consumer napping with a batch open may close it.
  if (consumer_napping_.load(std::memory_order_relaxed)) consumer_wakeup_.signal();
  Block* block = blocks_.try_acquire();
  if (block == nullptr) {
    // Records may be waiting for the consumer; idle threads may sit on blocks (more live
    // threads than blocks): take those, they come back once their records are copied.
    consumer_wakeup_.signal();
    if (producers_.reclaim_idle_blocks(producer) > 0) block = blocks_.try_acquire();
  }
  if (block != nullptr) block->owner = &producer;
  return block;
}

bool Intake::may_wait_for_block() const noexcept {
  if (in_callback() || closed_.load(std::memory_order_relaxed)) return false;
  return options_.backpressure == Backpressure::block || options_.backpressure == Backpressure::drop_oldest;
}

Block* Intake::wait_for_block(Producer& producer) noexcept {
  if (!may_wait_for_block()) return nullptr;
  auto const deadline = deadline_after(options_.enqueue_timeout);
  Block* block = nullptr;
  if (options_.backpressure == Backpressure::block) {
    // stop() interrupts the wait. The consumer reclaims idle threads' blocks for waiters
    // (IntakeConsumer::reclaim_for_waiters): signalled by try_next_block, it looks on every round.
    block = blocks_.acquire_until(deadline);
  } else {
    // drop_oldest: ask the consumer to evict, and look again every millisecond until the deadline.
    while (block == nullptr && !blocks_.interrupted() && std::chrono::steady_clock::now() < deadline) {
      blocks_.starved.store(true, std::memory_order_release);
      consumer_wakeup_.signal();
      block =
          blocks_.acquire_until(std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(1)));
      if (block == nullptr && producers_.reclaim_idle_blocks(producer) > 0) block = blocks_.try_acquire();
    }
  }
  if (block != nullptr) block->owner = &producer;
  return block;
}

Status Intake::push_framed(Producer& producer, std::uint32_t length) noexcept {
  Block* const block = producer.block.load(std::memory_order_relaxed);
  char* const frame = block->data() + producer.pos - options_.record_frame;
  // The frame before the record is visible: the consumer (and the sender settling its batch)
  // may touch it as soon as the ring holds the record.
  if (options_.checksum_records) {
    spool::write_record_frame(frame, length, block->seed);
  } else {
    spool::write_unchecked_record_frame(frame, length, block->seed,
                                        options_.arena.epoch->load(std::memory_order_relaxed));
  }
  bool const queued = enqueue_record(producer, length);
  // Not accepted: settled where it is, and its bytes left alone (the spool's sync may be
  // reading them), not overwritten by the next message. The next record's frame comes first,
  // aligned; a block too full for it is full.
  if (!queued) spool::settle_record_frame(frame);
  std::uint32_t const next = spool::align_record(producer.pos + length) + options_.record_frame;
  producer.pos = next <= block->capacity ? next : block->capacity;
  if (!queued) return Status::queue_full;
  return pushed(producer);
}

void Intake::wake_sleeping_consumer() noexcept {
  if (consumer_sleeping_.exchange(false, std::memory_order_acq_rel)) consumer_wakeup_.signal();
}

void Intake::stop() noexcept {
  closed_.store(true, std::memory_order_seq_cst);
  heavy_barrier();      // pairs with light_barrier() in begin_enqueue
  blocks_.interrupt();  // producers waiting for room give up now (with `closed`)
}

void Intake::wait_for_enqueues_in_progress() noexcept {
  // Producers are never removed from the registry before the intake's destruction, so the
  // pointers stay valid outside its lock; waiting under it would block stats() meanwhile.
  std::vector<Producer const*> producers;
  try {
    producers_.for_each([&](Producer const& p) { producers.push_back(&p); });
  } catch (...) {
    // No memory for the list: wait under the registry lock instead.
    producers_.for_each([&](Producer const& p) {
      while (p.active.load(std::memory_order_acquire)) std::this_thread::yield();
    });
    return;
  }
  for (Producer const* p : producers) {
    while (p->active.load(std::memory_order_acquire)) std::this_thread::yield();
  }
}

std::uint64_t Intake::total_accepted() const noexcept {
  std::uint64_t total = 0;
  producers_.for_each([&](Producer const& p) { total += p.accepted.load(std::memory_order_acquire); });
  return total;
}

void Intake::refuse_in_fork_child() noexcept {
  forked_.store(true, std::memory_order_relaxed);
  closed_.store(true, std::memory_order_relaxed);
  producers_.refuse_new_producers();
}

void IntakeConsumer::settle(HeldRecords& held) noexcept {
  // Marks first: a block let go may be reused (and rewritten) at once. Each run holds the next
  // run.count frames, in the order the serializer took them.
  std::size_t next = 0;
  for (HeldRecords::Run const& run : held.runs) {
    auto const count = std::min(static_cast<std::size_t>(run.count), held.frames.size() - next);
    settle_run(*run.block, std::span(held.frames).subspan(next, count));
    next += count;
  }
  for (; next < held.frames.size(); ++next) spool::settle_record_frame(held.frames[next]);
  for (HeldRecords::Run const& run : held.runs) let_go(run.block, run.count);
}

void IntakeConsumer::settle_run(Block& block, std::span<char* const> frames) noexcept {
  if (frames.empty()) return;
  // A run's records follow each other in the block (a producer writes them one after another
  // and the ring keeps its order). When the run starts where the block's settled prefix ends,
  // as it does whenever batches settle in order, moving the prefix past it settles them all:
  // recovery reads a block from consumed_end on. One store instead of a mark in each record's
  // frame, whose cache lines have long left the cache (per record, the largest part of the
  // sender's spool cost). Out of order, or when two threads settle runs of one block at once
  // (the CAS fails), each frame is marked as before.
  char* const data = block.data();
  auto const first = static_cast<std::uint32_t>(frames.front() - data);
  char* const last = frames.back();
  std::uint32_t const length = spool::frame_payload_length(last);
  // The next frame's offset (aligned): where the next run starts when batches settle in order.
  auto const end = spool::align_record(static_cast<std::uint32_t>(last - data) +
                                       static_cast<std::uint32_t>(spool::record_frame_bytes) + length);
  std::uint32_t expected = first;
  if (end > first && end <= block.capacity &&
      block.consumed_end.compare_exchange_strong(expected, end, std::memory_order_release, std::memory_order_relaxed)) {
    return;
  }
  for (char* frame : frames) spool::settle_record_frame(frame);
}

void IntakeConsumer::let_go(Block* block, std::int64_t count) noexcept {
  // Pairs with the producer's fetch_add in ProducerRegistry::retire_block: whoever reaches 0
  // owns the block and returns it to the pool.
  if (block->refs.fetch_sub(count, std::memory_order_acq_rel) == count) intake_.blocks_.release(block);
}

}  // namespace htevents::inline v0::detail

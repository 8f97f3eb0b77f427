#pragma once
// Arena blocks: where producers encode messages, and what the ring's records point into.

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace htevents::inline v0::detail {

inline constexpr std::size_t cache_line = 64;

struct Producer;

// A block of message bytes written by one producer thread and read by the serializer.
//
// Lifetime: `refs` starts at 0. The serializer subtracts the records it has copied out; the
// producer adds the number of records it pushed when it retires the block (moves to another).
// Whoever brings the count back to 0 returns the block to the pool. Before retirement the count
// is <= 0, so the serializer alone can never see 0 early; the producer does one atomic add per
// block rather than one per message.
struct alignas(cache_line) Block {
  std::atomic<std::int64_t> refs{0};
  Producer* owner = nullptr;
  std::uint32_t capacity = 0;
  Block* next_free = nullptr;  // pool's free list; guarded by the pool mutex
  Block* next_all = nullptr;   // every block the pool allocated, whatever its state: the pool frees them all
  // With a spool, blocks live in the arena file (src/spool/format.hpp) and these three are its
  // persistent slot header: recovery after a crash reads them. Unused in memory-only mode.
  // Set each time the pool hands the block out, 0 when it is free again (every record settled):
  // recovery skips a free slot, and the spool's sync forces only slots in use to disk.
  std::atomic<std::uint64_t> generation{0};
  // Records before this data offset are settled: delivered, failed, or in a segment.
  std::atomic<std::uint32_t> consumed_end{0};
  std::uint32_t seed = 0;  // the records' checksum seed for this generation

  char* data() noexcept { return reinterpret_cast<char*>(this + 1); }
};
static_assert(sizeof(Block) == cache_line, "message bytes start on their own cache line");
static_assert(offsetof(Block, generation) == 40 && offsetof(Block, consumed_end) == 48 && offsetof(Block, seed) == 52,
              "the arena slot header layout (spool/format.hpp: slot_off_*)");

// One queued message: 16 bytes in the ring.
struct Record {
  Block* block = nullptr;
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};

}  // namespace htevents::inline v0::detail

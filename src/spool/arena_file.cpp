#include "spool/arena_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "queue/block.hpp"
#include "spool/crc32c.hpp"
#include "spool/format.hpp"
#include "spool/spool_files.hpp"

#if defined(__linux__) && !defined(HTEVENTS_PORTABLE)
#include <linux/magic.h>
#include <sys/vfs.h>
#define HTEVENTS_MEMORY_ARENA 1
#endif

namespace htevents::inline v0::detail {
namespace {

constexpr char const* disk_name = "/arena";
constexpr char const* pointer_name = "/arena.live";
constexpr std::size_t page = 4096;

// The live copy's path that `dir`/arena.live names, or "".
std::string read_pointer(std::string const& dir) {
  int const fd = ::open((dir + pointer_name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  char buf[4096];
  ssize_t const n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) return {};
  return {buf, static_cast<std::size_t>(n)};
}

void log_direct(Logger const& logger, std::string const& memory_dir, std::string const& why) {
  if (!logger.enabled(LogLevel::info)) return;
  logger.log(LogLevel::info,
             "spool: the arena is mapped from the spool directory (more CPU per event: "
             "docs/durability.md), not from Config::spool_memory_dir '" +
                 memory_dir + "': " + why);
}

}  // namespace

ArenaFile::ArenaFile(std::string const& dir, std::string const& own_name, std::string const& memory_dir,
                     std::size_t bytes, Logger const& logger)
    : dir_(dir), bytes_(bytes) {
  disk_fd_ = spool_files::create_reserved(dir + disk_name, bytes);  // throws ConfigError
  try {
    open_live(dir, own_name, memory_dir, logger);
    void* map = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, copied() ? live_fd_ : disk_fd_, 0);
    if (map == MAP_FAILED) spool_files::fail(copied() ? live_path_ : dir + disk_name, "cannot be mapped", errno);
    map_ = static_cast<char*>(map);
  } catch (...) {
    remove();
    if (live_fd_ >= 0) ::close(live_fd_);
    ::close(disk_fd_);
    throw;
  }
}

ArenaFile::~ArenaFile() {
  if (map_ != nullptr) ::munmap(map_, bytes_);
  if (live_fd_ >= 0) ::close(live_fd_);
  if (disk_fd_ >= 0) ::close(disk_fd_);
}

void ArenaFile::open_live(std::string const& dir, std::string const& own_name, std::string const& memory_dir,
                          Logger const& logger) {
  if (memory_dir.empty()) return;
#if defined(HTEVENTS_MEMORY_ARENA)
  struct statfs fs {};
  if (::statfs(memory_dir.c_str(), &fs) != 0) return log_direct(logger, memory_dir, std::strerror(errno));
  if (fs.f_type != TMPFS_MAGIC) return log_direct(logger, memory_dir, "not a tmpfs");
  std::string const path = memory_dir + "/htevents-" + own_name + ".arena";
  int const fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return log_direct(logger, memory_dir, std::strerror(errno));
  // Reserved, as on disk: a tmpfs that fills up would otherwise SIGBUS a producer's write.
  if (int const err = spool_files::reserve(fd, bytes_); err != 0) {
    ::close(fd);
    ::unlink(path.c_str());
    return log_direct(logger, memory_dir,
                      "no room for the arena (" + std::to_string(bytes_) + " bytes): " + std::strerror(err));
  }
  int const pointer = ::open((dir + pointer_name).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  bool const named = pointer >= 0 && ::write(pointer, path.data(), path.size()) == static_cast<ssize_t>(path.size());
  int const err = errno;
  if (pointer >= 0) ::close(pointer);
  if (!named) {
    ::close(fd);
    ::unlink(path.c_str());
    ::unlink((dir + pointer_name).c_str());
    return log_direct(logger, memory_dir, std::string("cannot name it in the spool directory: ") + std::strerror(err));
  }
  live_fd_ = fd;
  live_path_ = path;
#else
  (void)dir;
  (void)own_name;
  log_direct(logger, memory_dir, "memory arenas are built for Linux only");
#endif
}

int ArenaFile::write_at(char const* bytes, std::size_t size, std::size_t offset) noexcept {
  while (size > 0) {
    ssize_t const n = ::pwrite(disk_fd_, bytes, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;
    bytes += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::size_t>(n);
  }
  return 0;
}

int ArenaFile::sync(std::size_t header_bytes, std::size_t slot_stride, std::size_t slots, bool everything) noexcept {
  try {
    copies_.resize(slots);
  } catch (...) {
    return ENOMEM;
  }
  return copied() ? sync_copy(header_bytes, slot_stride, slots, everything)
                  : sync_mapped(header_bytes, slot_stride, slots);
}

int ArenaFile::sync_mapped(std::size_t header_bytes, std::size_t slot_stride, std::size_t slots) noexcept {
  int failed = 0;
  std::size_t run_begin = 0, run_end = 0;  // file offsets of contiguous bytes to sync; empty when equal
  auto flush_run = [&] {
    if (run_begin == run_end) return;
    std::size_t const begin = run_begin / page * page;
    std::size_t const end = std::min(bytes_, (run_end + page - 1) / page * page);
    if (::msync(map_ + begin, end - begin, MS_SYNC) != 0 && failed == 0) failed = errno;
    run_begin = run_end = 0;
  };
  auto add = [&](std::size_t begin, std::size_t end) {
    if (begin != run_end) flush_run();
    if (run_begin == run_end) run_begin = begin;
    run_end = end;
  };
  add(0, header_bytes);  // the file header: one page, cheap to repeat
  for (std::size_t i = 0; i < slots; ++i) {
    std::size_t const offset = header_bytes + i * slot_stride;
    std::uint64_t const generation =
        __atomic_load_n(reinterpret_cast<std::uint64_t*>(map_ + offset + spool::slot_off_generation), __ATOMIC_ACQUIRE);
    SlotCopy& copy = copies_[i];
    // Free: nothing to recover; freed since the last sync: its header (generation 0) is synced.
    // In use: msync writes back only the dirty pages of the slot, and the rest of the arena's
    // pages stay writable (every page written back faults on its next write).
    if (generation != 0) {
      add(offset, offset + slot_stride);
    } else if (copy.generation != 0) {
      add(offset, offset + spool::block_header_bytes);
    }
    copy.generation = generation;
  }
  flush_run();
  return failed;
}

bool ArenaFile::delivers_records(SlotCopy const& copy) noexcept {
  // A generation of ~0 is a copy whose state is unknown (after an error): rewritten.
  if (copy.generation == ~std::uint64_t{0}) return true;
  return copy.generation != 0 && copy.disk_end > spool::align_record(copy.consumed_end);
}

std::uint32_t ArenaFile::stage_records(char const* slot, std::uint32_t seed, std::uint32_t from, std::uint32_t epoch,
                                       bool everything, std::size_t data_bytes) noexcept {
  char const* const data = slot + spool::block_header_bytes;
  char* const staging = staging_.data();  // staging[off - from]: the copy of data[off]
  // Unsettled records wait here for their checksum, three at a time (crc32c_three: three
  // independent chains). A checked frame is only their staged copy's, so it can come last.
  spool::CrcJob jobs[3];
  char* frames[3];
  std::size_t waiting = 0;
  std::size_t off = from;
  while (off + spool::record_frame_bytes <= data_bytes) {
    // Acquire: pairs with the producer's frame store, after its payload.
    std::uint64_t word = __atomic_load_n(reinterpret_cast<std::uint64_t const*>(data + off), __ATOMIC_ACQUIRE);
    std::uint32_t length = 0, written = 0;
    spool::FrameKind const kind = spool::frame_kind(word, seed, data_bytes - off, length, written);
    if (kind == spool::FrameKind::none) break;  // not written yet (or not a record of this generation)
    // Written in this epoch or the one before: left for the next sync (and so are the records
    // after it, which are newer still). Two bits tell the four epochs a block can hold apart.
    if (!everything && ((epoch - written) & 3U) < 2) break;
    std::size_t const end = off + spool::record_frame_bytes + length;
    std::size_t const next = std::min<std::size_t>(spool::align_record(static_cast<std::uint32_t>(end)), data_bytes);
    char* const out = staging + (off - from);
    char* const payload = out + spool::record_frame_bytes;
    // The padding to the next frame: a record has at least one byte, so [next - 8, next) is
    // past the frame, and zeroing it before the payload goes in zeroes whatever of it is
    // padding (one store, not a byte loop).
    std::memset(staging + (next - from) - spool::record_frame_bytes, 0, spool::record_frame_bytes);
    if (kind == spool::FrameKind::record) {
      // Unsettled: its payload, and (below) the frame checksummed over it.
      std::memcpy(payload, data + off + spool::record_frame_bytes, length);
      jobs[waiting] = {payload, length, seed, 0};
      frames[waiting] = out;
      if (++waiting == 3) {
        spool::crc32c_three(jobs);
        for (std::size_t j = 0; j < 3; ++j) {
          std::uint64_t const checked = spool::frame_word(static_cast<std::uint32_t>(jobs[j].size), jobs[j].crc);
          std::memcpy(frames[j], &checked, sizeof checked);
        }
        waiting = 0;
      }
    } else {
      // Settled: its frame is enough (recovery skips it by its length); its payload is not
      // read, and the disk copy gets zeros instead.
      std::memset(payload, 0, length);
      std::memcpy(out, &word, sizeof word);
    }
    off = next;
  }
  for (std::size_t j = 0; j < waiting; ++j) {
    std::uint64_t const checked = spool::checked_frame_word(static_cast<std::uint32_t>(jobs[j].size),
                                                            static_cast<char const*>(jobs[j].data), seed);
    std::memcpy(frames[j], &checked, sizeof checked);
  }
  return static_cast<std::uint32_t>(off);
}

int ArenaFile::sync_copy(std::size_t header_bytes, std::size_t slot_stride, std::size_t slots,
                         bool everything) noexcept {
  std::size_t const data_bytes = slot_stride - spool::block_header_bytes;
  try {
    staging_.resize(data_bytes);
  } catch (...) {
    return ENOMEM;
  }
  // A new epoch: producers tag their records with it from now on. Records tagged two epochs
  // ago (written before the previous sync began, so whole by now) are copied below; newer ones
  // wait for the next sync, half an interval away. On a healthy endpoint a record settles well
  // within that, and the sync never reads (or checksums) it at all.
  std::uint32_t const epoch = epoch_.fetch_add(1, std::memory_order_relaxed) + 1;
  int failed = 0;
  auto note = [&](int err) {
    if (failed == 0) failed = err;
  };
  constexpr std::uint64_t unknown_generation = ~std::uint64_t{0};  // differs from any slot's: rewritten
  // Phase 1: the records. A slot's new header (its settled prefix, a new generation) waits for
  // phase 2, after these are on the disk.
  struct Header {
    std::size_t slot;
    SlotCopy copy;
  };
  std::vector<Header> headers;
  try {
    headers.reserve(slots);
  } catch (...) {
    return ENOMEM;
  }
  bool wrote_records = false;
  for (std::size_t i = 0; i < slots; ++i) {
    std::size_t const offset = header_bytes + i * slot_stride;
    char const* const slot = map_ + offset;
    auto const* const generation_field = reinterpret_cast<std::uint64_t const*>(slot + spool::slot_off_generation);
    std::uint64_t const generation = __atomic_load_n(generation_field, __ATOMIC_ACQUIRE);
    SlotCopy const copy = copies_[i];
    SlotCopy next{generation, 0, 0, 0};
    bool copied = false;
    if (generation != 0) {
      // Held while its records are read: the pool does not free the block meanwhile
      // (BlockPool::release). Then the generation again: freed (or reused) since the load above,
      // it is left for the next sync.
      walking_.store(slot, std::memory_order_seq_cst);
      if (__atomic_load_n(generation_field, __ATOMIC_SEQ_CST) != generation) {
        walking_.store(nullptr, std::memory_order_release);
        continue;
      }
      // Written before the generation was published (BlockPool::pop_locked).
      std::uint32_t const seed = reinterpret_cast<Block const*>(slot)->seed;
      next.consumed_end = __atomic_load_n(reinterpret_cast<std::uint32_t const*>(slot + spool::slot_off_consumed_end),
                                          __ATOMIC_ACQUIRE);
      std::uint32_t const from = std::max(spool::align_record(next.consumed_end),
                                          copy.generation == generation ? copy.upto : std::uint32_t{0});
      next.upto = stage_records(slot, seed, from, epoch, everything, data_bytes);
      walking_.store(nullptr, std::memory_order_release);
      if (next.upto > from) {
        if (int const err = write_at(staging_.data(), next.upto - from, offset + spool::block_header_bytes + from);
            err != 0) {
          note(err);
          continue;  // copied again at the next sync; its header stays as it was
        }
        wrote_records = true;
        copied = true;
      }
    }
    bool const same_generation = next.generation == copy.generation;
    next.disk_end = copied ? next.upto : same_generation ? copy.disk_end : 0;
    if (same_generation && next.consumed_end == copy.consumed_end) {
      copies_[i] = next;  // the header on the disk says it already
    } else if (copied || delivers_records(copy)) {
      headers.push_back({i, next});
      copies_[i] = next;
    } else if (same_generation) {
      // Nothing on the disk that recovery would deliver, nothing copied: the header there (an
      // older settled prefix) is as good as the new one. On a healthy endpoint records settle
      // before any sync copies them, and this spares every block in use a write per sync.
      copies_[i] = SlotCopy{copy.generation, copy.consumed_end, next.upto, copy.disk_end};
    }
    // Otherwise (reused or freed, nothing to deliver from the old generation, nothing of the
    // new one copied) the old header stays until the new generation's records come.
  }
  // Not known to be on the disk: copied again, headers and all, at the next sync.
  auto forget_all = [&] { std::fill(copies_.begin(), copies_.end(), SlotCopy{unknown_generation, 0, 0}); };
  if (wrote_records) {
    if (int const err = spool_files::sync_data(disk_fd_); err != 0) {
      note(err);
      forget_all();  // no header may name records that may not be on the disk
      return failed;
    }
  }
  // Phase 2: the headers, built from what phase 1 read (the in-memory header's other fields are
  // the running process's own state, not the format's).
  bool wrote_headers = false;
  if (!header_copied_) {
    char file_header[spool::arena_header_bytes];
    std::memcpy(file_header, map_, sizeof file_header);  // written once, before any thread started
    spool::clear_live_flag(file_header);
    int const err = write_at(file_header, sizeof file_header, 0);
    note(err);
    header_copied_ = err == 0;
    wrote_headers = true;
  }
  for (Header const& h : headers) {
    char block_header[spool::block_header_bytes];
    spool::write_block_header(block_header, h.copy.generation, h.copy.consumed_end);
    if (int const err = write_at(block_header, sizeof block_header, header_bytes + h.slot * slot_stride); err != 0) {
      note(err);
      copies_[h.slot] = SlotCopy{unknown_generation, 0, 0};
    }
    wrote_headers = true;
  }
  if (wrote_headers) {
    if (int const err = spool_files::sync_data(disk_fd_); err != 0) {
      note(err);
      forget_all();
    }
  }
  return failed;
}

void ArenaFile::remove() noexcept {
  ::unlink((dir_ + disk_name).c_str());
  if (!live_path_.empty()) ::unlink(live_path_.c_str());
  ::unlink((dir_ + pointer_name).c_str());
}

std::vector<std::string> ArenaFile::candidates(std::string const& dir) {
  std::vector<std::string> paths;
  if (std::string live = read_pointer(dir); !live.empty()) paths.push_back(std::move(live));
  paths.push_back(dir + disk_name);
  return paths;
}

std::vector<std::string> ArenaFile::removal_order(std::string const& dir) {
  std::vector<std::string> paths{dir + disk_name};
  if (std::string live = read_pointer(dir); !live.empty()) paths.push_back(std::move(live));
  paths.push_back(dir + pointer_name);
  return paths;
}

bool ArenaFile::is_arena_file(std::string const& name) noexcept {
  return name == disk_name + 1 || name == pointer_name + 1;
}

}  // namespace htevents::inline v0::detail

#include "spool/arena_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

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

int ArenaFile::copy_range(std::size_t begin, std::size_t end) noexcept {
  while (begin < end) {
    ssize_t const n = ::pwrite(disk_fd_, map_ + begin, end - begin, static_cast<off_t>(begin));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;
    begin += static_cast<std::size_t>(n);
  }
  return 0;
}

int ArenaFile::sync(std::size_t header_bytes, std::size_t slot_stride, std::size_t slots) noexcept {
  try {
    copies_.resize(slots);
  } catch (...) {
    return ENOMEM;
  }
  int failed = 0;
  std::size_t run_begin = 0, run_end = 0;  // file offsets of contiguous bytes to write; empty when equal
  auto flush_run = [&] {
    if (run_begin == run_end) return;
    int err = 0;
    if (copied()) {
      err = copy_range(run_begin, run_end);
    } else {
      std::size_t const begin = run_begin / page * page;
      std::size_t const end = std::min(bytes_, (run_end + page - 1) / page * page);
      if (::msync(map_ + begin, end - begin, MS_SYNC) != 0) err = errno;
    }
    if (failed == 0) failed = err;
    run_begin = run_end = 0;
  };
  auto add = [&](std::size_t begin, std::size_t end) {
    if (begin >= end) return;
    if (begin != run_end) flush_run();
    if (run_begin == run_end) run_begin = begin;
    run_end = end;
  };
  add(0, header_bytes);  // the file header: one page, cheap to repeat
  for (std::size_t i = 0; i < slots; ++i) {
    std::size_t const offset = header_bytes + i * slot_stride;
    char* const slot = map_ + offset;
    std::uint64_t const generation =
        __atomic_load_n(reinterpret_cast<std::uint64_t*>(slot + spool::slot_off_generation), __ATOMIC_ACQUIRE);
    SlotCopy& copy = copies_[i];
    if (generation == 0) {
      // Free: its records were all delivered or are in a segment. Freed since the last copy:
      // its header (generation 0) tells recovery it holds nothing.
      if (copy.generation != 0) add(offset, offset + spool::block_header_bytes);
      copy = SlotCopy{};
      continue;
    }
    if (!copied()) {
      // Mapped directly: msync writes back only the dirty pages of the slot, and the rest of
      // the arena's pages stay writable (every page written back faults on its next write).
      add(offset, offset + slot_stride);
      continue;
    }
    if (copy.generation != generation) copy = SlotCopy{generation, 0};
    std::size_t const data = offset + spool::block_header_bytes;
    std::size_t const data_bytes = slot_stride - spool::block_header_bytes;
    std::uint32_t const filled =
        __atomic_load_n(reinterpret_cast<std::uint32_t*>(slot + spool::slot_off_filled_end), __ATOMIC_ACQUIRE);
    add(offset, data);  // the header: generation, consumed_end, seed
    if (filled == 0) {
      add(data, data + data_bytes);  // still being written: all of it, every time
    } else {
      // Moved on from: its records end at `filled` and only their settled marks change now.
      // Copied once (settled marks copied earlier may be stale after an OS crash: a duplicate
      // at most, dropped by the server by messageId).
      std::size_t const end = std::min<std::size_t>(filled, data_bytes);
      add(data + std::min<std::size_t>(copy.upto, end), data + end);
      copy.upto = static_cast<std::uint32_t>(end);
    }
  }
  flush_run();
  if (copied()) {
    if (int const err = spool_files::sync_data(disk_fd_); err != 0 && failed == 0) failed = err;
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

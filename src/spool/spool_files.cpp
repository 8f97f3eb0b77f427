#include "spool/spool_files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "htevents/config.hpp"

// The spool's locks must exclude a sibling client in the same process, which POSIX record locks
// (fcntl) cannot do: flock(2) is required (Linux, macOS, the BSDs have it).
#if !defined(LOCK_EX) || !defined(LOCK_NB)
#error "htevents' spool needs flock(2) (<sys/file.h>); this platform is not supported (docs/platforms.md)"
#endif

#if defined(__linux__) && !defined(HTEVENTS_PORTABLE)
#define HTEVENTS_SPOOL_LINUX 1
#else
#define HTEVENTS_SPOOL_LINUX 0
#endif

namespace htevents::inline v0::detail::spool_files {

void fail(std::string const& path, char const* what, int err) {
  throw ConfigError("htevents: Config::spool_dir: '" + path + "' " + what + ": " + std::strerror(err));
}

void ensure_directory(std::string const& path) {
  // Missing parents are created too (0700), as `mkdir -p` would.
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    std::string const parent = path.substr(0, slash);
    if (::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST && errno != EISDIR) break;  // reported below
  }
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) fail(path, "cannot be created", errno);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(path, "cannot be read", errno);
  if (!S_ISDIR(st.st_mode)) fail(path, "is not a directory", ENOTDIR);
}

void make_private_directory(std::string const& path) {
  if (::mkdir(path.c_str(), 0700) != 0) fail(path, "cannot be created (is the spool_dir writable?)", errno);
}

int create_and_lock(std::string const& path) {
  int const fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) fail(path, "cannot be created", errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int const err = errno;
    ::close(fd);
    fail(path, "cannot be locked", err);
  }
  return fd;
}

int create_reserved(std::string const& path, std::size_t bytes) {
  int const fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) fail(path, "cannot be created", errno);
  if (int const err = reserve(fd, bytes); err != 0) {
    ::close(fd);
    ::unlink(path.c_str());
    fail(path, "cannot reserve the arena (max_queue_bytes on disk)", err);
  }
  return fd;
}

bool read_all(int fd, std::string& out) noexcept {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  try {
    out.resize(static_cast<std::size_t>(st.st_size));
  } catch (...) {
    return false;
  }
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t const n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return true;
}

int reserve(int fd, std::size_t bytes) noexcept {
#if HTEVENTS_SPOOL_LINUX
  return ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
#else
  // Real blocks, not a sparse file: the same guarantee, at the cost of writing them once.
  static char const zeros[64 * 1024] = {};
  std::size_t done = 0;
  while (done < bytes) {
    std::size_t const chunk = std::min(sizeof zeros, bytes - done);
    ssize_t const n = ::pwrite(fd, zeros, chunk, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return ENOSPC;
    done += static_cast<std::size_t>(n);
  }
  return 0;
#endif
}

ssize_t write_parts(int fd, iovec const* parts, int count, off_t offset) noexcept {
#if HTEVENTS_SPOOL_LINUX
  return ::pwritev(fd, parts, count, offset);
#else
  ssize_t total = 0;
  for (int i = 0; i < count; ++i) {
    auto const* p = static_cast<char const*>(parts[i].iov_base);
    std::size_t left = parts[i].iov_len;
    while (left > 0) {
      ssize_t const n = ::pwrite(fd, p, left, offset + total);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return -1;
      if (n == 0) return total;
      p += n;
      left -= static_cast<std::size_t>(n);
      total += n;
    }
  }
  return total;
#endif
}

int sync_data(int fd) noexcept {
#if HTEVENTS_SPOOL_LINUX
  if (::fdatasync(fd) != 0) return errno;
#elif defined(F_FULLFSYNC)
  if (::fcntl(fd, F_FULLFSYNC) != 0 && ::fsync(fd) != 0) return errno;
#else
  if (::fsync(fd) != 0) return errno;
#endif
  return 0;
}

}  // namespace htevents::inline v0::detail::spool_files

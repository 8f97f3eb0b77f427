#include "spool/spool_files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "htevents/config.hpp"

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
  if (int const err = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes)); err != 0) {
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

}  // namespace htevents::inline v0::detail::spool_files

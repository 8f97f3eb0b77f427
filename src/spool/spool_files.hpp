#pragma once
// File-system steps of the spool that either work or make a ConfigError naming the path and
// the reason (durability.md, promise 7): a spool_dir that cannot be created, written or locked
// is refused at construction, not discovered at the first crash.

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <string>

namespace htevents::inline v0::detail::spool_files {

// Throws ConfigError: "htevents: Config::spool_dir: '<path>' <what>: <strerror(err)>".
[[noreturn]] void fail(std::string const& path, char const* what, int err);

// The spool root: created (0700, with missing parents) when missing; must be a directory.
void ensure_directory(std::string const& path);
// A new directory only this user may enter (0700).
void make_private_directory(std::string const& path);
// Creates `path` (0600) and takes an exclusive flock on it; returns the descriptor.
int create_and_lock(std::string const& path);
// Creates `path` (0600) with `bytes` reserved on the disk (no holes: a MAP_SHARED mapping of
// a hole on a full disk would be a SIGBUS later); returns the descriptor.
int create_reserved(std::string const& path, std::size_t bytes);
// The whole file from offset 0. False on a read error.
bool read_all(int fd, std::string& out) noexcept;

// The calls below are Linux's (posix_fallocate, pwritev, fdatasync) on Linux, and plain POSIX
// elsewhere and in the HTEVENTS_PORTABLE build, which runs those fallbacks here
// (docs/platforms.md).

// Reserves `bytes` from offset 0 of an empty file: posix_fallocate, or zeros written.
// Returns 0 or an errno value (ENOSPC on a full disk).
int reserve(int fd, std::size_t bytes) noexcept;
// Writes the parts in order at `offset`: pwritev, or one pwrite after another. Returns the
// bytes written (fewer than asked, or -1 with errno set, on an error).
ssize_t write_parts(int fd, iovec const* parts, int count, off_t offset) noexcept;
// Forces the file's data to the disk: fdatasync, or F_FULLFSYNC (macOS, where fsync leaves it
// in the drive's cache), or fsync. Returns 0 or an errno value.
int sync_data(int fd) noexcept;

}  // namespace htevents::inline v0::detail::spool_files

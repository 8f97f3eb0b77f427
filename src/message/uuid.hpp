#pragma once
// Message ids: random (version 4) UUIDs. No allocation, no lock, no system call per id.

#include <cstddef>
#include <cstdint>

namespace htevents::inline v0::detail {

/// Random (version 4) UUIDs, as 36 lowercase characters without quotes:
/// `xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx` with Y in 8, 9, a, b.
///
/// Generation is pure arithmetic (xoshiro256**, 122 random bits per id); the only system call
/// is std::random_device in the default constructor. Not thread-safe: keep one per thread
/// (`thread_local` in the caller). Not cryptographically secure: ids are unique, not secret.
/// A process that fork()s must not keep using a generator created before the fork in both
/// parent and child: the two would produce the same ids.
class UuidGenerator {
 public:
  /// Seeds from std::random_device, mixed with a process-wide counter, the object's address
  /// and the clocks, so two generators never share a stream even if random_device is weak
  /// or fails. Does not allocate memory.
  UuidGenerator() noexcept;
  /// Deterministic stream for tests: the same seed gives the same ids.
  explicit UuidGenerator(std::uint64_t seed) noexcept;

  static constexpr std::size_t size = 36;

  /// Writes one id (exactly `size` bytes) and returns out + size. Does not allocate memory.
  char* write(char* out) noexcept;

 private:
  std::uint64_t next() noexcept;
  void seed(std::uint64_t a, std::uint64_t b) noexcept;

  std::uint64_t state_[4]{};
};

}  // namespace htevents::inline v0::detail

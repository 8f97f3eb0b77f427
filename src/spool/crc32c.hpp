#pragma once
// CRC-32C beyond the one entry point that format.hpp declares: the portable table version on
// its own (the reference the hardware paths are tested against) and which path crc32c() takes.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace htevents::inline v0::detail::spool {

/// Same result as crc32c() (format.hpp), always computed with the slicing-by-8 tables.
std::uint32_t crc32c_portable(void const* data, std::size_t size, std::uint32_t seed = 0) noexcept;

/// One buffer of crc32c_three(): `crc` is crc32c(data, size, seed) once it returns.
struct CrcJob {
  void const* data = nullptr;
  std::size_t size = 0;
  std::uint32_t seed = 0;
  std::uint32_t crc = 0;
};

/// crc32c() of three separate buffers at once. The spool's sync checksums record after record
/// (~250 bytes each): three records in three independent crc32 chains keep the instruction as
/// busy as splitting one record in three does, without the per-record set-up and carry-less
/// join that the split costs (half the instructions per record). Where there is no crc32
/// instruction, three calls of crc32c().
void crc32c_three(CrcJob (&jobs)[3]) noexcept;

/// The implementation crc32c() uses on this CPU: "sse4.2+pclmul", "sse4.2", "armv8-crc" or
/// "table". Static storage; decided once, on the first call of either function.
std::string_view crc32c_implementation() noexcept;

}  // namespace htevents::inline v0::detail::spool

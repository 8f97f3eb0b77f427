#pragma once
// CRC-32C beyond the one entry point that format.hpp declares: the portable table version on
// its own (the reference the hardware paths are tested against) and which path crc32c() takes.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace htevents::inline v0::detail::spool {

/// Same result as crc32c() (format.hpp), always computed with the slicing-by-8 tables.
std::uint32_t crc32c_portable(void const* data, std::size_t size, std::uint32_t seed = 0) noexcept;

/// The implementation crc32c() uses on this CPU: "sse4.2+pclmul", "sse4.2", "armv8-crc" or
/// "table". Static storage; decided once, on the first call of either function.
std::string_view crc32c_implementation() noexcept;

}  // namespace htevents::inline v0::detail::spool

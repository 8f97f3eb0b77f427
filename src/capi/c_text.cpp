#include "capi/c_text.hpp"

#include <algorithm>
#include <cstring>

namespace htevents::inline v0::detail {

std::size_t copy_to_c_buffer(std::string_view text, char* buffer, std::size_t size) noexcept {
  if (buffer == nullptr || size == 0) return text.size();
  std::size_t const n = std::min(text.size(), size - 1);
  std::memcpy(buffer, text.data(), n);
  buffer[n] = '\0';
  return text.size();
}

}  // namespace htevents::inline v0::detail

#pragma once
// Command-line errors and number flags, shared by the htevents subcommands and the
// htevents-cpp-collector program (header-only: the collector library cannot depend on the CLI).

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace htevents::flags {

/// Bad command line: printed as "<program>: <what>", exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

#if defined(_LIBCPP_VERSION) && _LIBCPP_VERSION < 170000
inline constexpr bool float_from_chars = false;  // libc++ before 17 has no floating-point from_chars
#else
inline constexpr bool float_from_chars = true;
#endif

/// A whole decimal number that fits T, else UsageError naming the flag.
template <class T>
T parse_number(std::string_view flag, std::string_view text) {
  if constexpr (std::is_floating_point_v<T> && !float_from_chars) {
    // strtod, held to from_chars' syntax (no leading space, '+', "inf" or hex).
    std::string const copy(text);
    char* end = nullptr;
    errno = 0;
    double const parsed = std::strtod(copy.c_str(), &end);
    bool const plain = !copy.empty() && (copy[0] == '-' || copy[0] == '.' || (copy[0] >= '0' && copy[0] <= '9'));
    if (!plain || errno != 0 || end != copy.c_str() + copy.size())
      throw UsageError("invalid value '" + copy + "' for " + std::string(flag));
    return static_cast<T>(parsed);
  } else {
    T value{};
    auto const [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
      throw UsageError("invalid value '" + std::string(text) + "' for " + std::string(flag));
    return value;
  }
}

}  // namespace htevents::flags

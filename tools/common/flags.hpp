#pragma once
// Command-line errors and number flags, shared by the htevents subcommands and the
// htevents-cpp-collector program (header-only: the collector library cannot depend on the CLI).

#include <charconv>
#include <stdexcept>
#include <string>
#include <string_view>

namespace htevents::flags {

/// Bad command line: printed as "<program>: <what>", exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A whole decimal number that fits T, else UsageError naming the flag.
template <class T>
T parse_number(std::string_view flag, std::string_view text) {
  T value{};
  auto const [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    throw UsageError("invalid value '" + std::string(text) + "' for " + std::string(flag));
  return value;
}

}  // namespace htevents::flags

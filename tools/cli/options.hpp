#pragma once
// Flag parsing shared by the subcommands: `--name value` and `--name=value`, positionals, and
// the write key / endpoint that every sending command needs (flags, else the environment).

#include <charconv>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/flags.hpp"
#include "htevents/config.hpp"

namespace htevents::cli {

using flags::parse_number;
using flags::UsageError;

/// The real service; what the CLI sends to unless --endpoint or HTEVENTS_ENDPOINT says otherwise.
inline constexpr std::string_view default_endpoint = "https://us-east-1.hightouch-events.com";

/// Walks argv[1..]: `while (args.next()) { if (args.is("--port")) port = args.value(); ... }`.
/// After "--", everything is positional.
class Args {
 public:
  Args(int argc, char** argv) : argc_(argc), argv_(argv) {}

  /// Moves to the next argument; false at the end.
  bool next();
  /// The current argument is the flag `name` (e.g. "--port"), with or without "=value".
  [[nodiscard]] bool is(std::string_view name) const noexcept { return flag_ && name_ == name; }
  /// The current argument is not a flag.
  [[nodiscard]] bool positional() const noexcept { return !flag_; }
  /// The flag's value: after '=', else the next argument. Throws UsageError when missing.
  std::string_view value();
  /// The current argument as given.
  [[nodiscard]] std::string_view current() const noexcept { return current_; }
  /// Throws UsageError("unknown option ...") for the current argument.
  [[noreturn]] void unknown() const;
  /// A flag that takes no value must not get one with '='.
  void no_value() const;

 private:
  int argc_;
  char** argv_;
  int index_ = 0;
  bool flag_ = false;
  bool only_positionals_ = false;
  bool has_inline_ = false;
  std::string_view current_, name_, inline_;
};

/// none | gzip | zstd.
Compression parse_compression(std::string_view flag, std::string_view text);

/// Where and as whom to send.
struct Connection {
  std::string write_key{};
  std::string endpoint{};
};

/// Flags win over HTEVENTS_WRITE_KEY / HTEVENTS_ENDPOINT; the endpoint defaults to the real
/// service. Throws UsageError when no write key is given either way.
Connection resolve_connection(std::string_view write_key_flag, std::string_view endpoint_flag);

}  // namespace htevents::cli

#include "options.hpp"

#include <cstdlib>

namespace htevents::cli {

bool Args::next() {
  if (++index_ >= argc_) return false;
  current_ = argv_[index_];
  flag_ = false;
  has_inline_ = false;
  if (only_positionals_ || !current_.starts_with("--") || current_ == "--") {
    if (current_ == "--" && !only_positionals_) {
      only_positionals_ = true;
      return next();
    }
    // "-h" is the one short flag every command knows.
    if (current_ == "-h" && !only_positionals_) {
      flag_ = true;
      name_ = "--help";
    }
    return true;
  }
  flag_ = true;
  name_ = current_;
  if (auto const eq = current_.find('='); eq != std::string_view::npos) {
    name_ = current_.substr(0, eq);
    inline_ = current_.substr(eq + 1);
    has_inline_ = true;
  }
  return true;
}

std::string_view Args::value() {
  if (has_inline_) return inline_;
  if (index_ + 1 >= argc_) throw UsageError(std::string(name_) + " needs a value");
  return argv_[++index_];
}

void Args::unknown() const {
  if (flag_) throw UsageError("unknown option '" + std::string(current_) + "'");
  throw UsageError("unexpected argument '" + std::string(current_) + "'");
}

void Args::no_value() const {
  if (has_inline_) throw UsageError(std::string(name_) + " takes no value");
}

Compression parse_compression(std::string_view flag, std::string_view text) {
  if (text == "none") return Compression::none;
  if (text == "gzip") return Compression::gzip;
  if (text == "zstd") return Compression::zstd;
  throw UsageError("invalid value '" + std::string(text) + "' for " + std::string(flag) + " (none|gzip|zstd)");
}

Connection resolve_connection(std::string_view write_key_flag, std::string_view endpoint_flag) {
  Connection connection;
  connection.write_key = write_key_flag;
  if (connection.write_key.empty()) {
    if (char const* env = std::getenv("HTEVENTS_WRITE_KEY")) connection.write_key = env;
  }
  if (connection.write_key.empty())
    throw UsageError("no write key: pass --write-key KEY or set HTEVENTS_WRITE_KEY");
  connection.endpoint = endpoint_flag;
  if (connection.endpoint.empty()) {
    if (char const* env = std::getenv("HTEVENTS_ENDPOINT")) connection.endpoint = env;
  }
  if (connection.endpoint.empty()) connection.endpoint = default_endpoint;
  return connection;
}

}  // namespace htevents::cli

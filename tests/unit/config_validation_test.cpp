// validate(Config) and the Client constructor refuse what would break later: a default_context
// that poisons every batch, limits beyond Segment's, sums that wrap, endpoints that cannot make
// a batch URL. Each case is checked both ways: through validate() (no client, nothing started)
// and through the constructor, which must say the same.
#include <dirent.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>

#include "htevents/htevents.hpp"

namespace htevents {
namespace {

using namespace std::chrono_literals;

Config valid_config() {
  Config c;
  c.endpoint = "http://127.0.0.1:9";  // never contacted: nothing is enqueued
  return c;
}

// What validate(key, config) says: "ok" or the ConfigError's what().
std::string validation_error(Config const& config, std::string const& write_key = "key") {
  try {
    validate(write_key, config);
    return "ok";
  } catch (ConfigError const& e) {
    return e.what();
  } catch (std::exception const& e) {
    return std::string("other exception: ") + e.what();
  }
}

// What the constructor says: "ok" or the ConfigError's what().
std::string construction_error(Config const& config, std::string const& write_key = "key") {
  try {
    Client client(write_key, config);
    return "ok";
  } catch (ConfigError const& e) {
    return e.what();
  } catch (std::exception const& e) {
    return std::string("other exception: ") + e.what();
  }
}

// Both paths refuse `config` with a ConfigError naming `field`.
void expect_refused(Config const& config, std::string const& field, std::string const& write_key = "key") {
  for (std::string const& error : {validation_error(config, write_key), construction_error(config, write_key)}) {
    EXPECT_NE(error, "ok") << field;
    EXPECT_EQ(error.find("other exception"), std::string::npos) << field << ": " << error;
    EXPECT_NE(error.find(field), std::string::npos) << "expected " << field << " in: " << error;
  }
}

void expect_endpoint_refused(std::string const& endpoint) {
  Config c = valid_config();
  c.endpoint = endpoint;
  SCOPED_TRACE("endpoint " + endpoint);
  expect_refused(c, "Config::endpoint");
}

void expect_endpoint_accepted(std::string const& endpoint) {
  Config c = valid_config();
  c.endpoint = endpoint;
  EXPECT_EQ(validation_error(c), "ok") << endpoint;
}

std::size_t thread_count() {
  std::size_t n = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (dirent* entry = readdir(dir)) n += entry->d_name[0] != '.';
    closedir(dir);
  }
  return n;
}

TEST(ConfigValidation, ValidateNeedsNoClientAndStartsNothing) {
  std::size_t const threads_before = thread_count();
  EXPECT_NO_THROW(validate(valid_config()));
  EXPECT_NO_THROW(validate("key", valid_config()));
  Config bad = valid_config();
  bad.batch_size = 0;
  EXPECT_THROW(validate(bad), ConfigError);
  EXPECT_THROW(validate("", valid_config()), ConfigError);
  EXPECT_EQ(thread_count(), threads_before);
}

TEST(ConfigValidation, DefaultsAreValid) {
  EXPECT_NO_THROW(validate(Config{}));
  EXPECT_NO_THROW(validate("key", Config{}));
}

// ---- default_context ----

TEST(ConfigValidation, DefaultContextWithNaNIsRefused) {
  Config c = valid_config();
  c.default_context = {{"app", "x"}, {"ratio", std::nan("")}};
  expect_refused(c, "Config::default_context");
}

TEST(ConfigValidation, DefaultContextWithNestedInfinityIsRefused) {
  Config c = valid_config();
  c.default_context = {{"device", Object{{"sizes", Array{1.0, Object{{"w", std::numeric_limits<double>::infinity()}}}}}}};
  expect_refused(c, "Config::default_context");
}

TEST(ConfigValidation, DefaultContextWithNestedInvalidRawJsonIsRefused) {
  Config c = valid_config();
  c.default_context = {{"os", Object{{"list", Array{RawJson{"[1,2]"}, RawJson{"{\"a\":"}}}}}};
  expect_refused(c, "Config::default_context");
  c.default_context = {{"os", Object{{"list", Array{RawJson{"[1,2]"}, RawJson{"{\"a\":3}"}}}}}};
  EXPECT_EQ(validation_error(c), "ok");
}

TEST(ConfigValidation, DefaultContextTooLargeForTheBatchIsRefusedWithoutAClient) {
  Config c = valid_config();
  c.max_message_bytes = 256;
  c.max_batch_bytes = 256 + 4096;
  c.default_context = {{"big", std::string(8000, 'x')}};
  EXPECT_NE(validation_error(c).find("Config::default_context"), std::string::npos);
}

// ---- batch_size ----

TEST(ConfigValidation, BatchSizeAboveSegmentsLimitIsRefused) {
  Config c = valid_config();
  c.batch_size = 2500;
  EXPECT_EQ(validation_error(c), "ok");
  EXPECT_EQ(construction_error(c), "ok");
  c.batch_size = 2501;
  expect_refused(c, "Config::batch_size");
}

TEST(ConfigValidation, HugeBatchSizeIsAConfigErrorNotALengthError) {
  Config c = valid_config();
  c.batch_size = std::numeric_limits<std::size_t>::max();
  expect_refused(c, "Config::batch_size");
  c.batch_size = std::numeric_limits<std::size_t>::max() / 8;
  expect_refused(c, "Config::batch_size");
}

// ---- sizes whose sums would wrap around ----

TEST(ConfigValidation, MaxMessageBytesWhoseSumsWrapIsRefused) {
  constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
  Config c = valid_config();
  for (std::size_t bytes : {max, max - 100, max - 4095, max - 8191}) {
    c.max_message_bytes = bytes;  // + 4096 of envelope and the block rounding would wrap
    SCOPED_TRACE(bytes);
    expect_refused(c, "Config::max_message_bytes");
  }
}

// With a spool a record's frame holds its length in 29 bits (spool/format.hpp): what would not
// fit is refused at construction, not framed wrong. Only the validation runs here (a client
// with a 256 MiB message limit would reserve a 1 GiB arena).
TEST(ConfigValidation, MaxMessageBytesAboveWhatASpoolFramesIsRefusedWithASpoolOnly) {
  Config c = valid_config();
  c.max_message_bytes = (std::size_t{1} << 28) + 1;
  c.max_batch_bytes = std::size_t{1} << 30;
  c.max_queue_bytes = std::size_t{8} << 30;
  EXPECT_EQ(validation_error(c), "ok") << "memory only: no frame";
  c.spool_dir = "/tmp";
  EXPECT_NE(validation_error(c).find("Config::max_message_bytes"), std::string::npos) << validation_error(c);
  c.max_message_bytes = std::size_t{1} << 28;
  EXPECT_EQ(validation_error(c), "ok");
}

TEST(ConfigValidation, MaxBatchBytesWhoseSumsWrapIsRefused) {
  constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
  Config c = valid_config();
  for (std::size_t bytes : {max, max - 10, max - 63}) {
    c.max_batch_bytes = bytes;  // + 64 for the batch buffers would wrap
    SCOPED_TRACE(bytes);
    expect_refused(c, "Config::max_batch_bytes");
  }
}

TEST(ConfigValidation, LargestSupportedSizesAreAcceptedAndOneMoreIsNot) {
  Config c = valid_config();
  c.max_batch_bytes = std::size_t{1} << 31;
  c.max_message_bytes = c.max_batch_bytes - 4096;
  c.max_queue_bytes = std::numeric_limits<std::size_t>::max();  // any budget: only divided
  EXPECT_EQ(validation_error(c), "ok");
  c.max_batch_bytes += 1;
  EXPECT_NE(validation_error(c).find("Config::max_batch_bytes"), std::string::npos);
  c.max_batch_bytes -= 1;
  c.max_message_bytes += 1;
  EXPECT_NE(validation_error(c).find("Config::max_message_bytes"), std::string::npos);
}

// ---- durations whose sums would overflow ----

TEST(ConfigValidation, DurationsThatWouldOverflowTheClockAreRefused) {
  constexpr auto huge = std::chrono::milliseconds::max();
  struct Case {
    char const* field;
    std::chrono::milliseconds Config::*member;
  };
  for (Case const& k : {Case{"Config::interval", &Config::interval}, Case{"Config::retry_max", &Config::retry_max},
                        Case{"Config::request_timeout", &Config::request_timeout},
                        Case{"Config::stats_interval", &Config::stats_interval}}) {
    Config c = valid_config();
    c.*k.member = huge;
    SCOPED_TRACE(k.field);
    expect_refused(c, k.field);
    c.*k.member = std::chrono::milliseconds(std::numeric_limits<std::int32_t>::max());  // the largest accepted
    EXPECT_EQ(validation_error(c), "ok");
  }
  Config c = valid_config();
  c.retry_base = huge;
  c.retry_max = huge;  // retry_base <= retry_max: the cap on retry_max covers both
  expect_refused(c, "Config::retry_max");
}

// enqueue_timeout is only ever a wait, and waits saturate: max() means "as long as it takes".
TEST(ConfigValidation, EnqueueTimeoutMaxMeansWaitForever) {
  Config c = valid_config();
  c.enqueue_timeout = std::chrono::milliseconds::max();
  EXPECT_EQ(validation_error(c), "ok");
}

// ---- endpoint ----

TEST(ConfigValidation, EndpointWithoutHostIsRefused) {
  expect_endpoint_refused("http://");
  expect_endpoint_refused("https:///prefix");
  expect_endpoint_refused("http://:8080");
  expect_endpoint_refused("http://[]:8080");
  expect_endpoint_accepted("http://127.0.0.1:9");
  expect_endpoint_accepted("http://localhost");
  expect_endpoint_accepted("https://[::1]:8443/prefix/");
}

TEST(ConfigValidation, EndpointPortMustBeANumberFrom1To65535) {
  expect_endpoint_refused("http://127.0.0.1:0");
  expect_endpoint_refused("http://127.0.0.1:65536");
  expect_endpoint_refused("http://127.0.0.1:abc");
  expect_endpoint_refused("http://127.0.0.1:");
  expect_endpoint_refused("http://127.0.0.1:80:80");
  expect_endpoint_refused("http://[::1]:99999/");
  expect_endpoint_accepted("http://127.0.0.1:1");
  expect_endpoint_accepted("http://127.0.0.1:65535/");
}

TEST(ConfigValidation, EndpointMustNotEndInTheBatchPath) {
  expect_endpoint_refused("http://127.0.0.1:9/v1/batch");
  expect_endpoint_refused("http://127.0.0.1:9/v1/batch/");
  expect_endpoint_refused("https://127.0.0.1:9/proxy/v1/batch");
  expect_endpoint_accepted("http://127.0.0.1:9/v1");
  expect_endpoint_accepted("http://127.0.0.1:9/v1/batcher");
}

TEST(ConfigValidation, EndpointWithControlCharactersQueryOrUserInfoIsRefused) {
  expect_endpoint_refused(std::string("http://127.0.0.1:9/a\x01"));
  expect_endpoint_refused("http://127.0.0.1:9/a\x7f");
  expect_endpoint_refused("http://127.0.0.1:9/?region=eu");
  expect_endpoint_refused("http://127.0.0.1:9#top");
  expect_endpoint_refused("http://user:secret@127.0.0.1:9");
}

// ---- write key ----

TEST(ConfigValidation, WhiteSpaceWriteKeyIsRefused) {
  for (std::string const key : {" ", "\t", " \r\n ", "\v\f"}) {
    SCOPED_TRACE("key of " + std::to_string(key.size()) + " white space bytes");
    expect_refused(valid_config(), "write_key", key);
  }
  EXPECT_EQ(validation_error(valid_config(), " key "), "ok");  // surrounding space is the user's business
}

TEST(ConfigValidation, SpoolFieldsAreChecked) {
  Config c;
  c.spool_max_bytes = 0;
  expect_refused(c, "Config::spool_max_bytes");
  c = Config{};
  c.spool_sync_interval = std::chrono::milliseconds(0);
  expect_refused(c, "Config::spool_sync_interval");
  c = Config{};
  c.spool_sync_interval = std::chrono::milliseconds::max();
  expect_refused(c, "Config::spool_sync_interval");
  c = Config{};
  c.spool_dir = std::string("/tmp/a\0b", 8);
  expect_refused(c, "Config::spool_dir");
}


}  // namespace
}  // namespace htevents

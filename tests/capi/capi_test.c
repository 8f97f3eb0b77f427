/* The C API from C: each case a function, run one per process by capi_harness.cpp against the
 * local collector, registered with ctest as capi.<case>. Compiled as C11 with warnings as
 * errors: this file is also the proof that htevents.h is plain C. */
#include <htevents/htevents.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capi/collector_harness.h"

static int failures = 0;

#define CHECK(condition)                                                    \
  do {                                                                      \
    if (!(condition)) {                                                     \
      fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #condition); \
      ++failures;                                                           \
    }                                                                       \
  } while (0)

/* A status check that prints what came back. */
#define CHECK_STATUS(call, expected)                                                                  \
  do {                                                                                                \
    int const got_ = (call);                                                                          \
    if (got_ != (expected)) {                                                                         \
      fprintf(stderr, "%s:%d: FAIL: %s gave %d (%s), expected %s\n", __FILE__, __LINE__, #call, got_, \
              htevents_status_string(got_), #expected);                                               \
      ++failures;                                                                                     \
    }                                                                                                 \
  } while (0)

/* A client against the harness's collector, fast batches, gzip (the collector decodes it).
 * Exits the test when it cannot start. */
static htevents_client* collector_client(htevents_config* config) {
  char error[256] = "";
  CHECK_STATUS(htevents_config_set(config, "endpoint", harness_endpoint()), HTEVENTS_OK);
  CHECK_STATUS(htevents_config_set(config, "interval_ms", "20"), HTEVENTS_OK);
  CHECK_STATUS(htevents_config_set(config, "compression", "gzip"), HTEVENTS_OK);
  htevents_client* client = htevents_client_new("c-write-key", config, error, sizeof error);
  if (client == NULL) {
    fprintf(stderr, "htevents_client_new: %s\n", error);
    exit(1);
  }
  return client;
}

/* All six calls, delivered: the collector counts one message of each type. */
static void messages(void) {
  htevents_config* config = htevents_config_new();
  htevents_client* client = collector_client(config);
  htevents_config_free(config); /* the client has its own copy */

  CHECK_STATUS(htevents_identify(client, "u1", NULL, "{\"plan\":\"pro\",\"seats\":5}"), HTEVENTS_OK);
  CHECK_STATUS(htevents_track(client, "u1", NULL, "Order completed",
                              "{\"total\":29.99,\"currency\":\"USD\",\"tags\":[\"a\",\"b\"],\"item\":{\"sku\":\"x\"}}"),
               HTEVENTS_OK);
  CHECK_STATUS(htevents_page(client, NULL, "anon-1", "Home", NULL), HTEVENTS_OK);
  CHECK_STATUS(htevents_screen(client, "u1", "anon-1", "Settings", "{}"), HTEVENTS_OK);
  CHECK_STATUS(htevents_group(client, "u1", NULL, "g1", "{\"name\":\"Initech\"}"), HTEVENTS_OK);
  CHECK_STATUS(htevents_alias(client, "u1", "anon-1"), HTEVENTS_OK);
  CHECK(htevents_flush(client, 10000) == 1);

  CHECK(harness_unique() == 6);
  CHECK(harness_type_count("identify") == 1 && harness_type_count("track") == 1 && harness_type_count("page") == 1 &&
        harness_type_count("screen") == 1 && harness_type_count("group") == 1 && harness_type_count("alias") == 1);
  /* Properties arrive as written, nested values and number text included. */
  CHECK(harness_received("\"total\":29.99"));
  CHECK(harness_received("\"item\":{\"sku\":\"x\"}"));
  CHECK(harness_received("\"plan\":\"pro\""));
  CHECK(htevents_close(client, 10000) == 1);
  htevents_client_free(client);
}

/* Whole Segment-spec messages as JSON: every type, the optional fields, an explicit timestamp
 * with an offset and a given messageId. */
static void enqueue_json(void) {
  htevents_config* config = htevents_config_new();
  htevents_client* client = collector_client(config);
  htevents_config_free(config);

  static const char* const messages[] = {
      "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed up\",\"properties\":{\"plan\":\"pro\"},"
      "\"messageId\":\"c-json-1\",\"timestamp\":\"2024-03-13T15:56:32.5+01:00\","
      "\"context\":{\"ip\":\"127.0.0.1\"},\"integrations\":{\"All\":true}}",
      " {\"type\":\"identify\",\"anonymousId\":\"a1\",\"traits\":{\"email\":\"x@example.com\"}} ",
      "{\"type\":\"page\",\"userId\":\"u1\",\"name\":\"Home\",\"properties\":null}",
      "{\"type\":\"screen\",\"userId\":\"u1\",\"name\":\"Settings\",\"sentAt\":\"2024-01-01T00:00:00Z\"}",
      "{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"g1\",\"traits\":{\"seats\":5}}",
      "{\"type\":\"alias\",\"userId\":\"u1\",\"previousId\":\"a1\"}",
  };
  size_t const count = sizeof messages / sizeof messages[0];
  for (size_t i = 0; i < count; ++i) {
    CHECK_STATUS(htevents_enqueue_json(client, messages[i], strlen(messages[i])), HTEVENTS_OK);
  }
  /* `length` bounds the text: what follows is not read. */
  char const* padded = "{\"type\":\"alias\",\"userId\":\"u2\",\"previousId\":\"a2\"}GARBAGE";
  CHECK_STATUS(htevents_enqueue_json(client, padded, strlen(padded) - strlen("GARBAGE")), HTEVENTS_OK);
  CHECK(htevents_flush(client, 10000) == 1);

  CHECK(harness_unique() == count + 1);
  CHECK(harness_type_count("alias") == 2 && harness_type_count("track") == 1 && harness_type_count("screen") == 1);
  CHECK(harness_received("\"messageId\":\"c-json-1\""));
  CHECK(harness_received("\"timestamp\":\"2024-03-13T14:56:32.5Z\"")); /* converted to UTC */
  CHECK(harness_received("\"integrations\":{\"All\":true}"));
  CHECK(harness_received("\"context\":{\"ip\":\"127.0.0.1\""));
  CHECK(!harness_received("2024-01-01T00:00:00Z")); /* sentAt is the client's, not the caller's */
  CHECK(htevents_close(client, 10000) == 1);
  htevents_client_free(client);
}

static int enqueue_text(htevents_client* client, char const* json) {
  return htevents_enqueue_json(client, json, strlen(json));
}

/* Every refusal the C API can give for a message, with the C++ API's statuses. */
static void invalid_input(void) {
  htevents_config* config = htevents_config_new();
  CHECK_STATUS(htevents_config_set(config, "max_message_bytes", "2000"), HTEVENTS_OK);
  htevents_client* client = collector_client(config);
  htevents_config_free(config);

  CHECK_STATUS(htevents_track(client, NULL, NULL, "e", NULL), HTEVENTS_MISSING_USER_ID);
  CHECK_STATUS(htevents_identify(client, "", "", NULL), HTEVENTS_MISSING_USER_ID);
  CHECK_STATUS(htevents_track(client, "u1", NULL, NULL, NULL), HTEVENTS_MISSING_EVENT);
  CHECK_STATUS(htevents_track(client, "u1", NULL, "", NULL), HTEVENTS_MISSING_EVENT);
  CHECK_STATUS(htevents_group(client, "u1", NULL, NULL, NULL), HTEVENTS_MISSING_GROUP_ID);
  CHECK_STATUS(htevents_alias(client, "u1", NULL), HTEVENTS_MISSING_PREVIOUS_ID);
  CHECK_STATUS(htevents_alias(client, NULL, "a1"), HTEVENTS_MISSING_USER_ID);

  /* *_json arguments: one object, every value valid JSON. */
  CHECK_STATUS(htevents_track(client, "u1", NULL, "e", "{not json"), HTEVENTS_INVALID_JSON);
  CHECK_STATUS(htevents_track(client, "u1", NULL, "e", "[1,2]"), HTEVENTS_INVALID_JSON);
  CHECK_STATUS(htevents_track(client, "u1", NULL, "e", "5"), HTEVENTS_INVALID_JSON);
  CHECK_STATUS(htevents_track(client, "u1", NULL, "e", ""), HTEVENTS_INVALID_JSON);
  CHECK_STATUS(htevents_track(client, "u1", NULL, "e", "{\"a\":tru}"), HTEVENTS_INVALID_JSON);
  CHECK_STATUS(htevents_track(client, "u1", NULL, "e", "{\"a\":1} {\"b\":2}"), HTEVENTS_INVALID_JSON);
  CHECK_STATUS(htevents_identify(client, "u1", NULL, "{\"a\":[1,}"), HTEVENTS_INVALID_JSON);
  CHECK_STATUS(htevents_page(client, "u1", NULL, "p", "{\"s\":\"\xff\"}"), HTEVENTS_INVALID_JSON);

  /* Larger than max_message_bytes once encoded. */
  char big[4000];
  memset(big, 'x', sizeof big);
  memcpy(big, "{\"blob\":\"", 9);
  memcpy(big + sizeof big - 3, "\"}", 3);
  CHECK_STATUS(htevents_track(client, "u1", NULL, "e", big), HTEVENTS_MESSAGE_TOO_LARGE);

  /* enqueue_json: the message object itself. */
  CHECK_STATUS(enqueue_text(client, "[]"), HTEVENTS_INVALID_JSON);
  CHECK_STATUS(enqueue_text(client, "{\"userId\":\"u1\",\"event\":\"e\"}"), HTEVENTS_INVALID_JSON); /* no type */
  CHECK_STATUS(enqueue_text(client, "{\"type\":\"purchase\",\"userId\":\"u1\"}"), HTEVENTS_INVALID_JSON);
  CHECK_STATUS(enqueue_text(client, "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"e\",\"colour\":1}"),
               HTEVENTS_INVALID_JSON); /* unknown member */
  CHECK_STATUS(enqueue_text(client, "{\"type\":\"track\",\"userId\":7,\"event\":\"e\"}"), HTEVENTS_INVALID_JSON);
  CHECK_STATUS(enqueue_text(client, "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"e\",\"properties\":[]}"),
               HTEVENTS_INVALID_JSON);
  CHECK_STATUS(enqueue_text(client, "{\"type\":\"identify\",\"userId\":\"u1\",\"event\":\"e\"}"),
               HTEVENTS_INVALID_JSON); /* a member the type does not take */
  CHECK_STATUS(
      enqueue_text(client, "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"e\",\"timestamp\":\"yesterday\"}"),
      HTEVENTS_INVALID_JSON);
  CHECK_STATUS(
      enqueue_text(client,
                   "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"e\",\"timestamp\":\"2023-02-29T00:00:00Z\"}"),
      HTEVENTS_INVALID_JSON); /* no such day */
  CHECK_STATUS(enqueue_text(client, "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"e\"} x"), HTEVENTS_INVALID_JSON);
  CHECK_STATUS(
      enqueue_text(client, "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"e\",\"properties\":{\"a\":nul}}"),
      HTEVENTS_INVALID_JSON);
  CHECK_STATUS(enqueue_text(client, "{\"type\":\"track\",\"userId\":\"u1\"}"), HTEVENTS_MISSING_EVENT);
  CHECK_STATUS(enqueue_text(client, "{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":null}"),
               HTEVENTS_MISSING_GROUP_ID);
  CHECK_STATUS(enqueue_text(client, "{\"type\":\"alias\",\"userId\":\"u1\"}"), HTEVENTS_MISSING_PREVIOUS_ID);
  CHECK_STATUS(enqueue_text(client, "{\"type\":\"page\",\"name\":\"p\"}"), HTEVENTS_MISSING_USER_ID);
  char long_id[300];
  snprintf(long_id, sizeof long_id, "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"e\",\"messageId\":\"%0101d\"}",
           0);
  CHECK_STATUS(enqueue_text(client, long_id), HTEVENTS_INVALID_MESSAGE_ID);

  /* NULL where something is required. */
  CHECK_STATUS(htevents_track(NULL, "u1", NULL, "e", NULL), HTEVENTS_INVALID_ARGUMENT);
  CHECK_STATUS(htevents_identify(NULL, "u1", NULL, NULL), HTEVENTS_INVALID_ARGUMENT);
  CHECK_STATUS(htevents_page(NULL, "u1", NULL, "p", NULL), HTEVENTS_INVALID_ARGUMENT);
  CHECK_STATUS(htevents_screen(NULL, "u1", NULL, "s", NULL), HTEVENTS_INVALID_ARGUMENT);
  CHECK_STATUS(htevents_group(NULL, "u1", NULL, "g", NULL), HTEVENTS_INVALID_ARGUMENT);
  CHECK_STATUS(htevents_alias(NULL, "u1", "a"), HTEVENTS_INVALID_ARGUMENT);
  CHECK_STATUS(htevents_enqueue_json(NULL, "{}", 2), HTEVENTS_INVALID_ARGUMENT);
  CHECK_STATUS(htevents_enqueue_json(client, NULL, 0), HTEVENTS_INVALID_ARGUMENT);
  CHECK(htevents_flush(NULL, 10) == 0);
  CHECK(htevents_close(NULL, 10) == 0);
  htevents_client_free(NULL);

  /* Nothing refused reached the collector; one valid message still does. */
  CHECK_STATUS(htevents_track(client, "u1", NULL, "valid", NULL), HTEVENTS_OK);
  CHECK(htevents_close(client, 10000) == 1);
  CHECK(harness_unique() == 1);
  CHECK_STATUS(htevents_track(client, "u1", NULL, "late", NULL), HTEVENTS_CLOSED);
  CHECK_STATUS(enqueue_text(client, "{\"type\":\"alias\",\"userId\":\"u1\",\"previousId\":\"a1\"}"), HTEVENTS_CLOSED);

  /* The refusals are counted as in C++: rejected_by_status in the stats. */
  char stats[4096];
  CHECK(htevents_stats_json(client, stats, sizeof stats) < (int)sizeof stats);
  CHECK(strstr(stats, "\"missing_event\":3") != NULL);
  htevents_client_free(client);
}

/* Backpressure from C: with nothing draining (no server) and `fail`, the queue fills and
 * enqueue answers HTEVENTS_QUEUE_FULL. */
static void queue_full(void) {
  htevents_config* config = htevents_config_new();
  CHECK_STATUS(htevents_config_set(config, "endpoint", "http://127.0.0.1:9"), HTEVENTS_OK);
  CHECK_STATUS(htevents_config_set(config, "max_queue_bytes", "300000"), HTEVENTS_OK);
  CHECK_STATUS(htevents_config_set(config, "max_message_bytes", "30000"), HTEVENTS_OK);
  CHECK_STATUS(htevents_config_set(config, "max_batch_bytes", "60000"), HTEVENTS_OK);
  CHECK_STATUS(htevents_config_set(config, "max_in_flight", "1"), HTEVENTS_OK);
  CHECK_STATUS(htevents_config_set(config, "retry_base_ms", "10000"), HTEVENTS_OK);
  CHECK_STATUS(htevents_config_set(config, "backpressure", "fail"), HTEVENTS_OK);
  CHECK_STATUS(htevents_config_set(config, "log_level", "error"), HTEVENTS_OK);
  char error[256] = "";
  htevents_client* client = htevents_client_new("k", config, error, sizeof error);
  htevents_config_free(config);
  CHECK(client != NULL);
  if (client == NULL) return;
  static char properties[20000];
  memset(properties, 'x', sizeof properties - 1);
  memcpy(properties, "{\"blob\":\"", 9);
  memcpy(properties + sizeof properties - 3, "\"}", 3);
  int status = HTEVENTS_OK;
  for (int i = 0; i < 10000 && status == HTEVENTS_OK; ++i) status = htevents_track(client, "u1", NULL, "e", properties);
  CHECK_STATUS(status, HTEVENTS_QUEUE_FULL);
  CHECK(htevents_close(client, 100) == 0); /* nothing could be delivered */
  htevents_client_free(client);
}

/* htevents_config_set: every key, parse errors, and htevents_client_new's messages. */
static void config_errors(void) {
  static const char* const valid[][2] = {
      {"endpoint", "http://127.0.0.1:1"},
      {"batch_size", "100"},
      {"interval_ms", "250"},
      {"max_batch_bytes", "400000"},
      {"max_message_bytes", "16000"},
      {"max_queue_bytes", "8388608"},
      {"backpressure", "block"},
      {"backpressure", "drop_newest"},
      {"backpressure", "drop_oldest"},
      {"backpressure", "fail"},
      {"enqueue_timeout_ms", "50"},
      {"compression", "zstd"},
      {"compression", "none"},
      {"compression", "gzip"},
      {"compression_level", "-3"},
      {"compression_level", "6"},
      {"max_in_flight", "2"},
      {"max_attempts", "3"},
      {"retry_base_ms", "10"},
      {"retry_max_ms", "1000"},
      {"request_timeout_ms", "2000"},
      {"default_context", "{\"app\":{\"name\":\"c-test\"}}"},
      {"log_level", "debug"},
      {"log_level", "error"},
      {"tls_verify", "false"},
      {"tls_verify", "1"},
      {"ca_bundle", ""},
      {"spool_dir", ""},
      {"spool_max_bytes", "1048576"},
      {"spool_sync_interval_ms", "500"},
      {"stats_interval_ms", "0"},
  };
  htevents_config* config = htevents_config_new();
  CHECK(config != NULL);
  for (size_t i = 0; i < sizeof valid / sizeof valid[0]; ++i) {
    int const status = htevents_config_set(config, valid[i][0], valid[i][1]);
    if (status != HTEVENTS_OK) fprintf(stderr, "FAIL: %s=%s gave %d\n", valid[i][0], valid[i][1], status);
    CHECK(status == HTEVENTS_OK);
  }
  /* All of those together make a usable config. */
  char error[256] = "untouched";
  htevents_client* client = htevents_client_new("k", config, error, sizeof error);
  CHECK(client != NULL);
  CHECK(strcmp(error, "untouched") == 0);
  htevents_client_free(client);

  CHECK_STATUS(htevents_config_set(config, "batchsize", "1"), HTEVENTS_UNKNOWN_KEY);
  CHECK_STATUS(htevents_config_set(config, "interval", "100"), HTEVENTS_UNKNOWN_KEY); /* durations say _ms */
  CHECK_STATUS(htevents_config_set(config, "", "1"), HTEVENTS_UNKNOWN_KEY);
  CHECK_STATUS(htevents_config_set(config, "on_failure", "x"), HTEVENTS_UNKNOWN_KEY);
  static const char* const invalid[][2] = {
      {"batch_size", "abc"},
      {"batch_size", "-1"},
      {"batch_size", "1.5"},
      {"batch_size", ""},
      {"batch_size", " 10"},
      {"batch_size", "10 "},
      {"batch_size", "+10"},
      {"max_queue_bytes", "99999999999999999999999"},
      {"interval_ms", "1s"},
      {"compression_level", "x"},
      {"max_attempts", "3000000000"},
      {"compression", "lz4"},
      {"compression", "ZSTD"},
      {"backpressure", "drop"},
      {"log_level", "verbose"},
      {"tls_verify", "yes"},
      {"default_context", "{"},
      {"default_context", "[]"},
      {"default_context", "{\"a\":tru}"},
  };
  for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; ++i) {
    int const status = htevents_config_set(config, invalid[i][0], invalid[i][1]);
    if (status != HTEVENTS_INVALID_VALUE)
      fprintf(stderr, "FAIL: %s=%s gave %d\n", invalid[i][0], invalid[i][1], status);
    CHECK(status == HTEVENTS_INVALID_VALUE);
  }
  CHECK_STATUS(htevents_config_set(NULL, "batch_size", "1"), HTEVENTS_INVALID_ARGUMENT);
  CHECK_STATUS(htevents_config_set(config, NULL, "1"), HTEVENTS_INVALID_ARGUMENT);
  CHECK_STATUS(htevents_config_set(config, "batch_size", NULL), HTEVENTS_INVALID_ARGUMENT);
  htevents_config_on_failure(NULL, NULL, NULL);
  htevents_config_free(NULL);

  /* Values that parse but are unusable: NULL and the ConfigError's message naming the field. */
  CHECK_STATUS(htevents_config_set(config, "batch_size", "0"), HTEVENTS_OK);
  CHECK(htevents_client_new("k", config, error, sizeof error) == NULL);
  CHECK(strstr(error, "batch_size") != NULL);
  printf("batch_size=0: %s\n", error);
  CHECK_STATUS(htevents_config_set(config, "batch_size", "10"), HTEVENTS_OK);

  CHECK_STATUS(htevents_config_set(config, "endpoint", "ftp://example.com"), HTEVENTS_OK);
  CHECK(htevents_client_new("k", config, error, sizeof error) == NULL);
  CHECK(strstr(error, "endpoint") != NULL);
  printf("ftp endpoint: %s\n", error);
  /* Truncated to the buffer, NUL-terminated; or no buffer at all. */
  char small[8];
  memset(small, '#', sizeof small);
  CHECK(htevents_client_new("k", config, small, sizeof small) == NULL);
  CHECK(strlen(small) == sizeof small - 1 && strncmp(small, error, sizeof small - 1) == 0);
  CHECK(htevents_client_new("k", config, NULL, 0) == NULL);
  CHECK(htevents_client_new("k", config, small, 0) == NULL);
  CHECK_STATUS(htevents_config_set(config, "endpoint", "http://127.0.0.1:1"), HTEVENTS_OK);

  CHECK_STATUS(htevents_config_set(config, "interval_ms", "-5"), HTEVENTS_OK);
  CHECK(htevents_client_new("k", config, error, sizeof error) == NULL);
  CHECK(strstr(error, "interval") != NULL);
  CHECK_STATUS(htevents_config_set(config, "interval_ms", "100"), HTEVENTS_OK);

  CHECK(htevents_client_new("", config, error, sizeof error) == NULL);
  CHECK(strstr(error, "write_key") != NULL);
  printf("empty write key: %s\n", error);
  CHECK(htevents_client_new(NULL, config, error, sizeof error) == NULL);
  CHECK(strstr(error, "write_key") != NULL);
  htevents_config_free(config);

  /* A NULL config means every default. */
  client = htevents_client_new("k", NULL, error, sizeof error);
  CHECK(client != NULL);
  htevents_client_free(client);
}

/* flush and close answer 1 only when everything was delivered; close is idempotent. */
static void flush_close(void) {
  htevents_config* config = htevents_config_new();
  CHECK_STATUS(htevents_config_set(config, "max_attempts", "2"), HTEVENTS_OK);
  CHECK_STATUS(htevents_config_set(config, "retry_base_ms", "5"), HTEVENTS_OK);
  CHECK_STATUS(htevents_config_set(config, "retry_max_ms", "10"), HTEVENTS_OK);
  htevents_client* client = collector_client(config);

  CHECK(htevents_flush(client, 10000) == 1); /* nothing to wait for */
  for (int i = 0; i < 100; ++i) CHECK_STATUS(htevents_track(client, "u1", NULL, "flushed", NULL), HTEVENTS_OK);
  CHECK(htevents_flush(client, 10000) == 1);
  CHECK(harness_unique() == 100);

  /* A server that refuses: flush says not everything was delivered. */
  harness_set_fixed_status(503);
  CHECK_STATUS(htevents_track(client, "u1", NULL, "refused", NULL), HTEVENTS_OK);
  CHECK(htevents_flush(client, 10000) == 0);
  harness_set_fixed_status(0);
  CHECK_STATUS(htevents_track(client, "u1", NULL, "after", NULL), HTEVENTS_OK);
  CHECK(htevents_flush(client, 10000) == 1);
  /* Negative counts as 0: it answers at once, 1 only if the serializer already confirmed all. */
  int const at_once = htevents_flush(client, -1);
  CHECK(at_once == 0 || at_once == 1);

  /* close: 0, because one accepted message failed; the same answer every time after. */
  CHECK(htevents_close(client, 10000) == 0);
  CHECK(htevents_close(client, 10000) == 0);
  CHECK(htevents_flush(client, 100) == 0);
  CHECK_STATUS(htevents_track(client, "u1", NULL, "closed", NULL), HTEVENTS_CLOSED);
  CHECK(harness_unique() == 101);
  htevents_client_free(client);

  /* A clean run closes with 1. */
  client = collector_client(config);
  htevents_config_free(config);
  CHECK_STATUS(htevents_alias(client, "u2", "a2"), HTEVENTS_OK);
  CHECK(htevents_close(client, 10000) == 1);
  CHECK(htevents_close(client, 0) == 1);
  htevents_client_free(client);
  CHECK(harness_unique() == 102);
}

/* htevents_stats_json follows snprintf: the needed length back, truncation NUL-terminated. */
static void stats_json(void) {
  htevents_config* config = htevents_config_new();
  htevents_client* client = collector_client(config);
  htevents_config_free(config);
  for (int i = 0; i < 7; ++i) CHECK_STATUS(htevents_track(client, "u1", NULL, "counted", NULL), HTEVENTS_OK);
  CHECK_STATUS(htevents_track(client, "u1", NULL, NULL, NULL), HTEVENTS_MISSING_EVENT);
  CHECK(htevents_flush(client, 10000) == 1);

  int const needed = htevents_stats_json(client, NULL, 0);
  CHECK(needed > 0);
  char* full = malloc((size_t)needed + 1);
  CHECK(full != NULL);
  if (full == NULL) return;
  CHECK(htevents_stats_json(client, full, (size_t)needed + 1) == needed);
  CHECK(strlen(full) == (size_t)needed);
  CHECK(full[0] == '{' && full[needed - 1] == '}');
  CHECK(strstr(full, "\"enqueued\":7") != NULL);
  CHECK(strstr(full, "\"delivered\":7") != NULL);
  CHECK(strstr(full, "\"rejected\":1") != NULL);

  /* Exactly the text, no room for the NUL: truncated by one. */
  char* exact = malloc((size_t)needed);
  CHECK(exact != NULL);
  if (exact != NULL) {
    CHECK(htevents_stats_json(client, exact, (size_t)needed) == needed);
    CHECK(strlen(exact) == (size_t)needed - 1 && strncmp(exact, full, (size_t)needed - 1) == 0);
    free(exact);
  }
  char small[10];
  memset(small, '#', sizeof small);
  CHECK(htevents_stats_json(client, small, sizeof small) == needed);
  CHECK(strlen(small) == sizeof small - 1 && strncmp(small, full, sizeof small - 1) == 0);
  char one[1] = {'#'};
  CHECK(htevents_stats_json(client, one, 1) == needed && one[0] == '\0');
  CHECK(htevents_stats_json(NULL, small, sizeof small) == -1);
  free(full);
  CHECK(htevents_close(client, 10000) == 1);
  htevents_client_free(client);
}

/* Every status has its own sentence; unknown numbers say so; never NULL. */
static void status_strings(void) {
  static const int statuses[] = {
      HTEVENTS_OK,
      HTEVENTS_MISSING_USER_ID,
      HTEVENTS_MISSING_EVENT,
      HTEVENTS_MISSING_GROUP_ID,
      HTEVENTS_MISSING_PREVIOUS_ID,
      HTEVENTS_INVALID_NUMBER,
      HTEVENTS_INVALID_JSON,
      HTEVENTS_MESSAGE_TOO_LARGE,
      HTEVENTS_QUEUE_FULL,
      HTEVENTS_CLOSED,
      HTEVENTS_INVALID_USAGE,
      HTEVENTS_INVALID_MESSAGE_ID,
      HTEVENTS_FORKED,
      HTEVENTS_INVALID_ARGUMENT,
      HTEVENTS_UNKNOWN_KEY,
      HTEVENTS_INVALID_VALUE,
      HTEVENTS_OUT_OF_MEMORY,
      HTEVENTS_INTERNAL_ERROR,
  };
  size_t const count = sizeof statuses / sizeof statuses[0];
  for (size_t i = 0; i < count; ++i) {
    char const* text = htevents_status_string(statuses[i]);
    CHECK(text != NULL);
    if (text == NULL) continue;
    printf("%3d: %s\n", statuses[i], text);
    CHECK(strlen(text) > 5);
    CHECK(strcmp(text, "unknown status") != 0);
    for (size_t j = 0; j < i; ++j) CHECK(strcmp(text, htevents_status_string(statuses[j])) != 0);
  }
  /* The numbers are htevents::Status's, in order. */
  CHECK(HTEVENTS_OK == 0 && HTEVENTS_MISSING_USER_ID == 1 && HTEVENTS_CLOSED == 9 && HTEVENTS_FORKED == 12);
  CHECK(strstr(htevents_status_string(HTEVENTS_MISSING_EVENT), "event") != NULL);
  CHECK(strcmp(htevents_status_string(13), "unknown status") == 0);
  CHECK(strcmp(htevents_status_string(-1), "unknown status") == 0);
  CHECK(strcmp(htevents_status_string(99), "unknown status") == 0);
  CHECK(strcmp(htevents_status_string(1000), "unknown status") == 0);
}

/* What the on_failure callback saw; read after htevents_close, which joins the thread that
 * called it. */
struct failures_seen {
  int count;
  int reason;
  int http_status;
  char detail[256];
  char message[512];
  void* user_check;
};

static void on_failure(void* user, const htevents_failure* failure) {
  struct failures_seen* seen = user;
  if (seen->count++ > 0) return;
  seen->user_check = user;
  seen->reason = failure->reason;
  seen->http_status = failure->http_status;
  snprintf(seen->detail, sizeof seen->detail, "%.*s", (int)failure->detail_len, failure->detail);
  snprintf(seen->message, sizeof seen->message, "%.*s", (int)failure->message_json_len, failure->message_json);
}

/* on_failure from C: a rejected batch (400) and the close deadline (no server). */
static void on_failure_callback(void) {
  struct failures_seen seen;
  memset(&seen, 0, sizeof seen);
  htevents_config* config = htevents_config_new();
  htevents_config_on_failure(config, on_failure, &seen);
  htevents_client* client = collector_client(config);
  harness_set_fixed_status(400);
  CHECK_STATUS(htevents_track(client, "u1", NULL, "Refused event", "{\"n\":1}"), HTEVENTS_OK);
  CHECK_STATUS(htevents_track(client, "u1", NULL, "Refused event", "{\"n\":2}"), HTEVENTS_OK);
  CHECK(htevents_flush(client, 10000) == 0);
  CHECK(htevents_close(client, 10000) == 0);
  htevents_client_free(client);
  CHECK(seen.count == 2);
  CHECK(seen.user_check == &seen);
  CHECK(seen.reason == HTEVENTS_FAILURE_REJECTED);
  CHECK(seen.http_status == 400);
  CHECK(strncmp(seen.detail, "HTTP 400", 8) == 0);
  CHECK(strstr(seen.message, "\"event\":\"Refused event\"") != NULL);
  CHECK(strstr(seen.message, "\"type\":\"track\"") != NULL);
  printf("rejected: reason=%d http=%d detail=%s\n", seen.reason, seen.http_status, seen.detail);
  harness_set_fixed_status(0);

  /* Nothing listens: close's deadline fails what is left, as HTEVENTS_FAILURE_DEADLINE. */
  memset(&seen, 0, sizeof seen);
  CHECK_STATUS(htevents_config_set(config, "endpoint", "http://127.0.0.1:9"), HTEVENTS_OK);
  CHECK_STATUS(htevents_config_set(config, "log_level", "error"), HTEVENTS_OK);
  char error[256] = "";
  client = htevents_client_new("k", config, error, sizeof error);
  CHECK(client != NULL);
  if (client != NULL) {
    CHECK_STATUS(htevents_identify(client, "u1", NULL, NULL), HTEVENTS_OK);
    CHECK(htevents_close(client, 200) == 0);
    htevents_client_free(client);
  }
  CHECK(seen.count == 1);
  CHECK(seen.reason == HTEVENTS_FAILURE_DEADLINE);
  CHECK(seen.http_status == 0);
  CHECK(strstr(seen.message, "\"type\":\"identify\"") != NULL);

  /* A callback removed (NULL) is not called. */
  memset(&seen, 0, sizeof seen);
  htevents_config_on_failure(config, NULL, &seen);
  client = htevents_client_new("k", config, error, sizeof error);
  CHECK(client != NULL);
  if (client != NULL) {
    CHECK_STATUS(htevents_identify(client, "u1", NULL, NULL), HTEVENTS_OK);
    CHECK(htevents_close(client, 100) == 0);
    htevents_client_free(client);
  }
  CHECK(seen.count == 0);
  htevents_config_free(config);
}

int capi_test_case(const char* name) {
  static const struct {
    const char* name;
    void (*run)(void);
  } cases[] = {
      {"messages", messages},     {"enqueue_json", enqueue_json},     {"invalid_input", invalid_input},
      {"queue_full", queue_full}, {"config_errors", config_errors},   {"flush_close", flush_close},
      {"stats_json", stats_json}, {"status_strings", status_strings}, {"on_failure", on_failure_callback},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    if (strcmp(cases[i].name, name) == 0) {
      cases[i].run();
      if (failures == 0) printf("capi.%s: OK\n", name);
      return failures == 0 ? 0 : 1;
    }
  }
  fprintf(stderr, "no test case named %s\n", name);
  return 2;
}

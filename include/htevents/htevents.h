/* The C API: C11, for C programs and for any language with a C FFI (Unity/C# P/Invoke, Python
 * ctypes/cffi, Rust, Go cgo). The same library and pipeline as the C++ API
 * (<htevents/htevents.hpp>); no C++ type crosses this header and no exception escapes it.
 *
 * Strings are NUL-terminated UTF-8. A NULL string or NULL JSON argument means "absent": an
 * absent id, event or name is treated as the C++ API treats an empty one (so a track without an
 * event answers HTEVENTS_MISSING_EVENT). A *_json argument is one JSON object, whose members
 * become the message's properties or traits as written (each value is checked like
 * htevents::RawJson: malformed text answers HTEVENTS_INVALID_JSON).
 *
 * Every function is thread-safe in the way its C++ counterpart is: the message functions,
 * htevents_flush and htevents_stats_json may be called from any thread at once; a config is
 * not to be shared between threads while it is being set. docs/c-api.md has the whole story. */
#ifndef HTEVENTS_HTEVENTS_H
#define HTEVENTS_HTEVENTS_H

#include <stddef.h> /* NOLINT(modernize-deprecated-headers): this header is C */

/* The export macro of the C++ API: plain preprocessor, valid C. */
#include "htevents/export.hpp"

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: HTEVENTS_OK and then htevents::Status's values, with the same numbers (the
 * library checks this at compile time). htevents_status_string gives the sentence for each. */
#define HTEVENTS_OK 0                  /* accepted: it will be delivered or handed to on_failure */
#define HTEVENTS_MISSING_USER_ID 1     /* neither user_id nor anonymous_id (alias: user_id) */
#define HTEVENTS_MISSING_EVENT 2       /* track without an event name */
#define HTEVENTS_MISSING_GROUP_ID 3    /* group without a group_id */
#define HTEVENTS_MISSING_PREVIOUS_ID 4 /* alias without a previous_id */
#define HTEVENTS_INVALID_NUMBER 5      /* a NaN or infinite number */
#define HTEVENTS_INVALID_JSON 6        /* a *_json argument or message that does not parse */
#define HTEVENTS_MESSAGE_TOO_LARGE 7   /* longer than max_message_bytes once encoded */
#define HTEVENTS_QUEUE_FULL 8          /* max_queue_bytes used up; the backpressure policy refused */
#define HTEVENTS_CLOSED 9              /* htevents_close was called */
#define HTEVENTS_INVALID_USAGE 10      /* (C++ fast path only) */
#define HTEVENTS_INVALID_MESSAGE_ID 11 /* a given messageId longer than 100 characters */
#define HTEVENTS_FORKED 12             /* the client was created before fork(), in the parent */
/* Statuses of the C API alone, apart from htevents::Status's so that new Status values never
 * collide with them. */
#define HTEVENTS_INVALID_ARGUMENT 100 /* a NULL client, config or key where one is required */
#define HTEVENTS_UNKNOWN_KEY 101      /* htevents_config_set: no such configuration key */
#define HTEVENTS_INVALID_VALUE 102    /* htevents_config_set: the value does not parse for that key */
#define HTEVENTS_OUT_OF_MEMORY 103    /* the call could not allocate; nothing was enqueued */
#define HTEVENTS_INTERNAL_ERROR 104   /* an unexpected error inside the library (please report it) */

/* htevents_failure.reason: htevents::FailureReason's values. */
#define HTEVENTS_FAILURE_REJECTED 0          /* the server answered a permanent 4xx for its batch */
#define HTEVENTS_FAILURE_RETRIES_EXHAUSTED 1 /* max_attempts reached on retryable errors */
#define HTEVENTS_FAILURE_DEADLINE 2          /* htevents_close timed out before it was delivered */
#define HTEVENTS_FAILURE_EVICTED 3           /* backpressure drop_oldest made room for newer ones */

typedef struct htevents_config htevents_config; /* NOLINT(modernize-use-using): C */
typedef struct htevents_client htevents_client; /* NOLINT(modernize-use-using): C */

/* One message that will not be delivered, for the on_failure callback. The pointers are valid
 * only during the callback (copy what you keep); the texts are not NUL-terminated. */
typedef struct htevents_failure { /* NOLINT(modernize-use-using): C */
  int reason;                     /* HTEVENTS_FAILURE_*: htevents::FailureReason, as an int */
  int http_status;                /* 0 when no response came (timeout, connection error, eviction) */
  const char* detail;
  size_t detail_len; /* e.g. "HTTP 400: {...}" or "curl: Couldn't connect to server" */
  const char* message_json;
  size_t message_json_len; /* the message exactly as it would have been sent */
} htevents_failure;

/* A configuration with every field at its default (docs/configuration.md). NULL only when out
 * of memory. Free it with htevents_config_free; a client copies it, so it may be freed at once. */
HTEVENTS_EXPORT htevents_config* htevents_config_new(void);
/* NULL is fine. */
HTEVENTS_EXPORT void htevents_config_free(htevents_config* config);

/* Sets one field. key: a Config field name, durations with an _ms suffix: "endpoint",
 * "batch_size", "interval_ms", "max_batch_bytes", "max_message_bytes", "max_queue_bytes",
 * "backpressure" (block|drop_newest|drop_oldest|fail), "enqueue_timeout_ms", "compression"
 * (zstd|gzip|none), "compression_level", "max_in_flight", "max_attempts", "retry_base_ms",
 * "retry_max_ms", "request_timeout_ms", "log_level" (debug|info|warn|error), "tls_verify"
 * (true|false|1|0), "ca_bundle", "spool_dir", "spool_memory_dir", "spool_max_bytes", "spool_sync_interval_ms",
 * "stats_interval_ms", "default_context" (a JSON object). value: the text of the value; numbers
 * in decimal. Returns HTEVENTS_OK, HTEVENTS_UNKNOWN_KEY, HTEVENTS_INVALID_VALUE (not a number,
 * out of range for the field's type, not one of the names), HTEVENTS_INVALID_ARGUMENT (NULL
 * config, key or value) or HTEVENTS_OUT_OF_MEMORY. Values that parse but are unusable (a zero
 * batch_size, an ftp:// endpoint) are refused by htevents_client_new, with a message. */
HTEVENTS_EXPORT int htevents_config_set(htevents_config* config, const char* key, const char* value);
/* The callback for each accepted message that will not be delivered; NULL fn removes it. It runs
 * on a pipeline thread, one call at a time, with `user` as given; keep it short, and copy what
 * you keep of the failure. It may call the message functions (never waiting for room); flush
 * and close return 0 at once there. */
HTEVENTS_EXPORT void htevents_config_on_failure(htevents_config* config,
                                                void (*fn)(void* user, const htevents_failure* failure), void* user);

/* Starts a client (its serializer and sender threads). The client copies the config. NULL on an
 * invalid write key or config, or when the client cannot start: then `error` (when not NULL and
 * error_size > 0) holds the reason, NUL-terminated and truncated to error_size - 1 bytes, e.g.
 * "htevents: Config::batch_size must be ...". On success error is left untouched. */
HTEVENTS_EXPORT htevents_client* htevents_client_new(const char* write_key, const htevents_config* config, char* error,
                                                     size_t error_size);
/* Closes (as htevents_close with the request timeout) and frees. NULL is fine. */
HTEVENTS_EXPORT void htevents_client_free(htevents_client* client);

/* The six messages of the Segment spec. Each validates and encodes the message on the calling
 * thread and queues it; it never waits for the network (under backpressure "block", at most
 * enqueue_timeout_ms for room). HTEVENTS_OK: accepted, from then on delivered or handed to
 * on_failure. Otherwise a status saying why it was refused (HTEVENTS_INVALID_ARGUMENT for a
 * NULL client). A messageId and timestamp are generated. */
HTEVENTS_EXPORT int htevents_identify(htevents_client* client, const char* user_id, const char* anonymous_id,
                                      const char* traits_json);
HTEVENTS_EXPORT int htevents_track(htevents_client* client, const char* user_id, const char* anonymous_id,
                                   const char* event, const char* properties_json);
HTEVENTS_EXPORT int htevents_page(htevents_client* client, const char* user_id, const char* anonymous_id,
                                  const char* name, const char* properties_json);
HTEVENTS_EXPORT int htevents_screen(htevents_client* client, const char* user_id, const char* anonymous_id,
                                    const char* name, const char* properties_json);
HTEVENTS_EXPORT int htevents_group(htevents_client* client, const char* user_id, const char* anonymous_id,
                                   const char* group_id, const char* traits_json);
HTEVENTS_EXPORT int htevents_alias(htevents_client* client, const char* user_id, const char* previous_id);
/* One Segment-spec message object of `length` bytes (need not be NUL-terminated) with "type"
 * (identify, track, page, screen, group, alias) and the fields that type takes: userId,
 * anonymousId, event, name, groupId, previousId, properties, traits, context, integrations,
 * timestamp (RFC 3339), messageId. Validated like the C++ API; a member of another name, a
 * field of the wrong JSON type, or text that is not one JSON object answers
 * HTEVENTS_INVALID_JSON ("sentAt" and "receivedAt" are ignored: the client and the server set
 * them). NULL message_json: HTEVENTS_INVALID_ARGUMENT. */
HTEVENTS_EXPORT int htevents_enqueue_json(htevents_client* client, const char* message_json, size_t length);

/* Sends everything enqueued before the call and waits until each message is delivered or failed.
 * 1: all of it delivered; 0: not by timeout_ms, something failed, the client is closed, called
 * from a callback, or a NULL client. A negative timeout counts as 0. */
HTEVENTS_EXPORT int htevents_flush(htevents_client* client, long long timeout_ms);
/* Stops accepting (later messages answer HTEVENTS_CLOSED), sends what is queued and waits up to
 * timeout_ms; what is left then goes to on_failure (HTEVENTS_FAILURE_DEADLINE). 1: every
 * accepted message was delivered; 0: otherwise, or a NULL client. Idempotent: later calls
 * answer the same. The client must still be freed with htevents_client_free. */
HTEVENTS_EXPORT int htevents_close(htevents_client* client, long long timeout_ms);
/* The client's counters as one JSON object (htevents::Stats::to_json), snprintf-style: writes at
 * most size bytes into buffer, NUL included (nothing when size is 0; buffer may then be NULL),
 * and returns the length of the whole text without the NUL, so a return value >= size means
 * it was truncated: call again with a buffer of return value + 1. -1 for a NULL client or when
 * out of memory. */
HTEVENTS_EXPORT int htevents_stats_json(const htevents_client* client, char* buffer, size_t size);
/* A sentence naming the problem and what to do about it, for every status above; "unknown
 * status" for other numbers. Static storage, never NULL. */
HTEVENTS_EXPORT const char* htevents_status_string(int status);

#ifdef __cplusplus
}
#endif

#endif /* HTEVENTS_HTEVENTS_H */

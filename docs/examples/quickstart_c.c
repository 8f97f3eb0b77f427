/* Quick start in C: one client, a few events, a clean shutdown that says what happened.
 * Usage: quickstart_c [ENDPOINT]
 * Build: cc quickstart_c.c $(pkg-config --cflags --libs htevents)   (docs/c-api.md) */
#include <htevents/htevents.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs on a pipeline thread, one call at a time; keeps the first reason only. */
static void on_failure(void* user, const htevents_failure* failure) {
  char* first = user;
  if (first[0] == '\0')
    snprintf(first, 256, "reason %d: %.*s", failure->reason, (int)failure->detail_len, failure->detail);
}

/* One counter out of htevents_stats_json's object. */
static unsigned long long counter(const char* stats, const char* name) {
  char key[64];
  snprintf(key, sizeof key, "\"%s\":", name);
  const char* at = strstr(stats, key);
  return at == NULL ? 0 : strtoull(at + strlen(key), NULL, 10);
}

int main(int argc, char** argv) {
  static char first_failure[256]; /* written by on_failure, read after htevents_close */
  htevents_config* config = htevents_config_new();
  if (argc > 1) htevents_config_set(config, "endpoint", argv[1]); /* default: the real service */
  htevents_config_on_failure(config, on_failure, first_failure);
  char error[256];
  htevents_client* client = htevents_client_new("YOUR_WRITE_KEY", config, error, sizeof error);
  htevents_config_free(config); /* the client keeps its own copy */
  if (client == NULL) {
    fprintf(stderr, "%s\n", error);
    return 1;
  }

  int status = htevents_track(client, "user-42", NULL, "Order completed",
                              "{\"total\":29.99,\"currency\":\"USD\",\"quantity\":3}");
  if (status != HTEVENTS_OK) fprintf(stderr, "%s\n", htevents_status_string(status));
  const char* message = "{\"type\":\"identify\",\"userId\":\"user-42\",\"traits\":{\"plan\":\"pro\"}}";
  status = htevents_enqueue_json(client, message, strlen(message));
  if (status != HTEVENTS_OK) fprintf(stderr, "%s\n", htevents_status_string(status));

  /* 1 only if every accepted event was delivered; failed ones went to on_failure. */
  int const all_delivered = htevents_close(client, 5000);
  char stats[2048];
  htevents_stats_json(client, stats, sizeof stats); /* truncated if too small: never overflows */
  htevents_client_free(client);
  printf("delivered=%llu of %llu accepted, failed=%llu\n", counter(stats, "delivered"), counter(stats, "enqueued"),
         counter(stats, "failed"));
  if (!all_delivered) printf("not all delivered: %s\n", first_failure[0] ? first_failure : "close() deadline");
  return all_delivered ? 0 : 1;
}

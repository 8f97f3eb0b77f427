/* A user's C program, written only against docs (api.md's C API): if it compiles as C11, links
 * and exits 0 against an installed htevents, the package serves C. With an endpoint argument
 * (the local collector) every event must be delivered; without one it points at a closed port
 * and checks what enqueue answers at once. Prints "c consumer OK: N delivered". */
#include <htevents/htevents.h>

#include <stdio.h>
#include <string.h>

static int failed_callbacks = 0;

static void on_failure(void* user, const htevents_failure* failure) {
  (void)failure;
  ++*(int*)user;
}

int main(int argc, char** argv) {
  const char* endpoint = argc > 1 ? argv[1] : "http://127.0.0.1:9";
  htevents_config* config = htevents_config_new();
  if (config == NULL || htevents_config_set(config, "endpoint", endpoint) != HTEVENTS_OK ||
      htevents_config_set(config, "interval_ms", "50") != HTEVENTS_OK ||
      htevents_config_set(config, "compression", "gzip") != HTEVENTS_OK) {
    fprintf(stderr, "FAIL: htevents_config_set\n");
    return 1;
  }
  if (htevents_config_set(config, "no_such_key", "1") != HTEVENTS_UNKNOWN_KEY) {
    fprintf(stderr, "FAIL: an unknown key was accepted\n");
    return 1;
  }
  htevents_config_on_failure(config, on_failure, &failed_callbacks);
  char error[256];
  htevents_client* client = htevents_client_new("write-key", config, error, sizeof error);
  htevents_config_free(config);
  if (client == NULL) {
    fprintf(stderr, "FAIL: htevents_client_new: %s\n", error);
    return 1;
  }
  int status = htevents_track(client, "user-1", NULL, "Order completed", "{\"total\":29.99,\"currency\":\"USD\"}");
  if (status == HTEVENTS_OK) status = htevents_identify(client, "user-1", NULL, "{\"plan\":\"pro\"}");
  if (status == HTEVENTS_OK) {
    const char* message = "{\"type\":\"page\",\"userId\":\"user-1\",\"name\":\"Home\"}";
    status = htevents_enqueue_json(client, message, strlen(message));
  }
  if (status != HTEVENTS_OK) {
    fprintf(stderr, "FAIL: enqueue: %s\n", htevents_status_string(status));
    return 1;
  }
  if (htevents_track(client, "user-1", NULL, NULL, NULL) != HTEVENTS_MISSING_EVENT) {
    fprintf(stderr, "FAIL: a track without an event was accepted\n");
    return 1;
  }
  int const delivered = htevents_close(client, argc > 1 ? 10000 : 200);
  char stats[2048];
  htevents_stats_json(client, stats, sizeof stats);
  htevents_client_free(client);
  if (argc > 1 && !delivered) {
    fprintf(stderr, "FAIL: not delivered: %s\n", stats);
    return 1;
  }
  if (argc == 1 && (delivered || failed_callbacks != 3)) {
    fprintf(stderr, "FAIL: closed port: delivered=%d on_failure calls=%d\n", delivered, failed_callbacks);
    return 1;
  }
  printf("c consumer OK: %d delivered\n", delivered ? 3 : 0);
  return 0;
}

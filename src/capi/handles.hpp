#pragma once
// What the C API's opaque handles are. The structs are in the global namespace because C names
// them there (htevents.h declares them incomplete); only src/capi/ sees their members.

#include <string>
#include <utility>

#include "htevents/client.hpp"
#include "htevents/config.hpp"
#include "htevents/htevents.h"

struct htevents_config {
  htevents::Config config{};
  // The C callback and its pointer; client_new wraps them into config.on_failure, so that a
  // config copied before the callback was set never calls it.
  void (*on_failure)(void* user, htevents_failure const* failure) = nullptr;
  void* on_failure_user = nullptr;
};

struct htevents_client {
  htevents_client(std::string write_key, htevents::Config config) : client(std::move(write_key), std::move(config)) {}
  htevents::Client client;
};

// The C API's configuration: htevents_config_new, _free, _set, _on_failure.

#include <new>

#include "capi/c_text.hpp"
#include "capi/config_keys.hpp"
#include "capi/guarded.hpp"
#include "capi/handles.hpp"

using htevents::detail::c_arg;

extern "C" {

htevents_config* htevents_config_new(void) { return new (std::nothrow) htevents_config{}; }

void htevents_config_free(htevents_config* config) { delete config; }

int htevents_config_set(htevents_config* config, char const* key, char const* value) {
  if (config == nullptr || key == nullptr || value == nullptr) return HTEVENTS_INVALID_ARGUMENT;
  return htevents::detail::guarded([&] { return htevents::detail::set_config_field(config->config, key, value); });
}

void htevents_config_on_failure(htevents_config* config, void (*fn)(void* user, htevents_failure const* failure),
                                void* user) {
  if (config == nullptr) return;
  config->on_failure = fn;
  config->on_failure_user = fn == nullptr ? nullptr : user;
}

}  // extern "C"

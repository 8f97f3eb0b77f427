// The C tests' driver: starts the local collector in-process on 127.0.0.1 (port 0) and runs
// the C test case named on the command line (capi_test.c). Only this file is C++.
// Usage: htevents_capi_tests CASE

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "capi/collector_harness.h"
#include "collector/collector.hpp"

namespace {

std::unique_ptr<htevents::collector::Collector> collector;
std::string endpoint;

}  // namespace

extern "C" {

char const* harness_endpoint(void) { return endpoint.c_str(); }
unsigned long long harness_unique(void) { return collector->stats().unique_message_ids; }
unsigned long long harness_answered_4xx(void) { return collector->stats().answered_4xx; }

unsigned long long harness_type_count(char const* type) {
  auto const t = collector->stats().by_type;
  std::string_view const name(type);
  if (name == "identify") return t.identify;
  if (name == "track") return t.track;
  if (name == "page") return t.page;
  if (name == "screen") return t.screen;
  if (name == "group") return t.group;
  if (name == "alias") return t.alias;
  return 0;
}

int harness_received(char const* text) {
  for (std::string const& body : collector->bodies()) {
    if (body.find(text) != std::string::npos) return 1;
  }
  return 0;
}

void harness_set_fixed_status(int status) { collector->set_fixed_status(status); }

}  // extern "C"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CASE\n", argv[0]);
    return 2;
  }
  htevents::collector::Options options;
  options.keep_bodies = true;
  collector = std::make_unique<htevents::collector::Collector>(options);
  endpoint = collector->endpoint();
  int const failed = capi_test_case(argv[1]);
  collector.reset();
  return failed;
}

// Command-line flags shared by the examples: --endpoint URL, --events N, and a few knobs.
// Kept tiny on purpose: the examples are about the htevents calls, not about parsing.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace examples {

struct Args {
  std::string endpoint = "http://127.0.0.1:8080";  // a local collector: `htevents-cpp collector --port 8080`
  long events = 10'000;
  long threads = 4;
  long tick_hz = 128;
  long close_ms = 5'000;
};

// Exits with status 2 on an unknown flag or a missing value.
inline Args parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string_view const flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "usage: %s [--endpoint URL] [--events N] [--threads N] [--tick-hz N] [--close-ms N]\n",
                   argv[0]);
      std::exit(2);
    }
    char const* value = argv[++i];
    if (flag == "--endpoint") {
      args.endpoint = value;
    } else if (flag == "--events") {
      args.events = std::atol(value);
    } else if (flag == "--threads") {
      args.threads = std::atol(value);
    } else if (flag == "--tick-hz") {
      args.tick_hz = std::atol(value);
    } else if (flag == "--close-ms") {
      args.close_ms = std::atol(value);
    } else {
      std::fprintf(stderr, "%s: unknown flag %s\n", argv[0], argv[i - 1]);
      std::exit(2);
    }
  }
  if (args.events < 0 || args.threads < 1 || args.tick_hz < 1 || args.close_ms < 0) {
    std::fprintf(stderr, "%s: --events >= 0, --threads >= 1, --tick-hz >= 1, --close-ms >= 0\n", argv[0]);
    std::exit(2);
  }
  return args;
}

}  // namespace examples

#pragma once
// A fresh directory for one test (mkdtemp), removed with everything in it at the end.

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace htevents::testing {

struct TempDir {
  std::filesystem::path path;
  // Under `parent` (e.g. /dev/shm for a memory file system).
  explicit TempDir(std::string const& parent = "/tmp") {
    std::string tmpl = parent + "/htevents-spool-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  TempDir(TempDir const&) = delete;
  TempDir& operator=(TempDir const&) = delete;
  [[nodiscard]] std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(path), {}));
  }
};

}  // namespace htevents::testing

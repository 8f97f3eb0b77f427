// The membarrier registration is lazy: a process that links the library but never creates a
// Client makes no syscall for it. Checked in a fresh process (this binary, re-executed), since
// other tests in this one may have created clients already.

#include "common/process_barrier.hpp"

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "htevents/htevents.hpp"

extern char** environ;

namespace htevents::inline v0::detail {
namespace {

constexpr char const* fresh_flag = "HTEVENTS_TEST_FRESH_PROCESS";

TEST(ProcessBarrier, RegisteredOnlyWithTheFirstClient) {
  if (std::getenv(fresh_flag) != nullptr) {
    // The re-executed child: nothing has created a Client yet.
    ASSERT_FALSE(process_barrier_registered.load()) << "registered at load time";
    {
      Config config;
      config.endpoint = "http://127.0.0.1:1";
      Client client("key", config);
      client.close(std::chrono::milliseconds(0));
    }
    heavy_barrier();  // works either way
    return;
  }
  std::string filter = "--gtest_filter=ProcessBarrier.RegisteredOnlyWithTheFirstClient";
  char arg0[] = "htevents_unit_tests";
  std::string program = "/proc/self/exe";
  std::vector<char*> argv = {arg0, filter.data(), nullptr};
  // Cross-built and run under qemu-user (tools/cross-test.sh), this binary cannot exec itself:
  // the host kernel has no binfmt entry for it. The emulator is a host program, so the child
  // goes through it, given this binary's real path (/proc/self/exe would name qemu there).
  std::string self;
  if (char const* e = std::getenv("HTEVENTS_TEST_EMULATOR"); e != nullptr && *e != '\0') {
    program = e;
    self = std::filesystem::read_symlink("/proc/self/exe").string();
    argv = {program.data(), self.data(), filter.data(), nullptr};
  }
  std::string env_entry = std::string(fresh_flag) + "=1";
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  env.push_back(env_entry.data());
  env.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv.data(), env.data()), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the fresh process's checks failed";
}

}  // namespace
}  // namespace htevents::inline v0::detail

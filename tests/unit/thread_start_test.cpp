// When the system refuses a pipeline thread, the Client constructor throws std::system_error
// (after stopping and joining the thread it had started) instead of calling std::terminate.
//
// The refusal comes from a pthread_create defined here: it takes precedence over libc's for
// every caller in the process (std::thread included) and passes calls through until armed.
// Sanitizer runtimes intercept pthread_create themselves, so under them the test is skipped.
#include <dlfcn.h>
#include <pthread.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <system_error>

#include "htevents/htevents.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HTEVENTS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define HTEVENTS_SANITIZED 1
#endif
#endif

namespace {
// 0: pass every call through; n > 0: the n-th call from now fails with EAGAIN, the rest pass.
std::atomic<int> refuse_call{0};
}  // namespace

#ifndef HTEVENTS_SANITIZED
extern "C" int pthread_create(pthread_t* thread, pthread_attr_t const* attr, void* (*start)(void*), void* arg) noexcept {
  using Real = int (*)(pthread_t*, pthread_attr_t const*, void* (*)(void*), void*);
  static Real const real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "pthread_create"));
  int n = refuse_call.load();
  while (n > 0 && !refuse_call.compare_exchange_weak(n, n - 1)) {
  }
  if (n == 1) return EAGAIN;
  return real(thread, attr, start, arg);
}
#endif

namespace htevents {
namespace {

using namespace std::chrono_literals;

Config unreachable() {
  Config c;
  c.endpoint = "http://127.0.0.1:1";
  return c;
}

// Which exception the constructor let out while the n-th thread start is refused.
std::string construct_with_refused_thread(int n) {
  refuse_call.store(n);
  std::string result = "no exception";
  try {
    Client client("key", unreachable());
  } catch (std::system_error const& e) {
    result = e.code() == std::errc::resource_unavailable_try_again ? "system_error EAGAIN" : "system_error";
  } catch (...) {
    result = "other exception";
  }
  refuse_call.store(0);
  return result;
}

class ThreadStart : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef HTEVENTS_SANITIZED
    GTEST_SKIP() << "sanitizer runtimes intercept pthread_create";
#endif
  }
};

TEST_F(ThreadStart, SecondPipelineThreadRefusedThrowsSystemErrorInsteadOfTerminating) {
  // The first thread (the sender) is running when the second is refused: it must be stopped
  // and joined, or destroying its std::thread terminates this process.
  EXPECT_EQ(construct_with_refused_thread(2), "system_error EAGAIN");
}

TEST_F(ThreadStart, FirstPipelineThreadRefusedThrowsSystemError) {
  EXPECT_EQ(construct_with_refused_thread(1), "system_error EAGAIN");
}

TEST_F(ThreadStart, ClientWorksAfterARefusedStart) {
  ASSERT_EQ(construct_with_refused_thread(2), "system_error EAGAIN");
  Client client("key", unreachable());
  EXPECT_EQ(client.enqueue(Track{.user_id = "u", .event = "e"}), Status::ok);
  client.close(0ms);
  EXPECT_EQ(client.stats().enqueued, 1u);
}

}  // namespace
}  // namespace htevents

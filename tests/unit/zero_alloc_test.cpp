// api.md promises that enqueue allocates nothing on the calling thread in steady state, for the
// fast path and for the struct API alike. This test replaces the global operator new/delete with
// counting versions that count only on the thread, and only in the section, being measured.
//
// Steady state needs an endpoint that accepts: against a dead one every queued event holds its
// arena block, and the client rightly allocates new blocks (up to max_queue_bytes) as the queue
// grows. A unit test cannot link the collector, so a minimal HTTP/1.1 server on 127.0.0.1
// answers 200 to every request. Events are sent in chunks with a flush() between them (not
// counted: flush allocates its ticket), so the block pool and the ring stop growing after the
// warm-up and the measured sends exercise the steady state.
#include <arpa/inet.h>
#include <execinfo.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "htevents/htevents.hpp"
#include "load/w1.hpp"

namespace {

// --- counting allocator -----------------------------------------------------------------------

thread_local bool counting = false;
thread_local std::uint64_t allocations = 0;
// The first counted allocation's stack, printed when a test fails (backtrace_symbols_fd does
// not allocate).
thread_local void* first_stack[64];
thread_local int first_stack_depth = 0;

void* counted_alloc(std::size_t size, std::size_t alignment) {
  if (counting) {
    counting = false;  // backtrace() must not count itself
    if (allocations++ == 0) first_stack_depth = backtrace(first_stack, 64);
    counting = true;
  }
  if (size == 0) size = 1;
  void* p = nullptr;
  if (alignment <= alignof(std::max_align_t)) {
    p = std::malloc(size);
  } else if (posix_memalign(&p, alignment, size) != 0) {
    p = nullptr;
  }
  return p;
}

void* throwing_alloc(std::size_t size, std::size_t alignment) {
  void* p = counted_alloc(size, alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t size) { return throwing_alloc(size, 0); }
void* operator new[](std::size_t size) { return throwing_alloc(size, 0); }
void* operator new(std::size_t size, std::align_val_t a) { return throwing_alloc(size, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t size, std::align_val_t a) { return throwing_alloc(size, static_cast<std::size_t>(a)); }
void* operator new(std::size_t size, std::nothrow_t const&) noexcept { return counted_alloc(size, 0); }
void* operator new[](std::size_t size, std::nothrow_t const&) noexcept { return counted_alloc(size, 0); }
void* operator new(std::size_t size, std::align_val_t a, std::nothrow_t const&) noexcept {
  return counted_alloc(size, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t size, std::align_val_t a, std::nothrow_t const&) noexcept {
  return counted_alloc(size, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::nothrow_t const&) noexcept { std::free(p); }
void operator delete[](void* p, std::nothrow_t const&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, std::nothrow_t const&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, std::nothrow_t const&) noexcept { std::free(p); }

namespace {

// Counts the allocations made by `f` on this thread.
template <class F>
std::uint64_t count_allocations(F&& f) {
  allocations = 0;
  first_stack_depth = 0;
  counting = true;
  f();
  counting = false;
  return allocations;
}

void print_first_stack() {
  if (first_stack_depth == 0) return;
  std::fputs("first counted allocation:\n", stderr);
  backtrace_symbols_fd(first_stack, first_stack_depth, 2);
}

// --- a minimal HTTP/1.1 endpoint that accepts everything -------------------------------------

class OkServer {
 public:
  OkServer() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    int const one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener_, 64) != 0)
      throw std::runtime_error("OkServer: cannot listen on 127.0.0.1");
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~OkServer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    resumed_.notify_all();
    ::shutdown(listener_, SHUT_RDWR);
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : connections_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
    for (int fd : connections_) ::close(fd);
    ::close(listener_);
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::uint64_t requests() const { return requests_.load(); }
  // While paused, requests are read but not answered: the client's batch buffers fill up and
  // its queue grows.
  void pause() {
    std::lock_guard lock(mutex_);
    paused_ = true;
  }
  void resume() {
    {
      std::lock_guard lock(mutex_);
      paused_ = false;
    }
    resumed_.notify_all();
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      int const fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      std::lock_guard lock(mutex_);
      connections_.push_back(fd);
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }

  // Reads requests (headers, then Content-Length bytes) and answers each with 200.
  void serve(int fd) {
    std::string buffer;
    char chunk[65536];
    for (;;) {
      std::size_t const header_end = buffer.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        std::size_t length = 0;
        std::string_view const headers(buffer.data(), header_end);
        for (std::string_view name : {"Content-Length:", "content-length:"}) {
          std::size_t const at = headers.find(name);
          if (at == std::string_view::npos) continue;
          std::size_t pos = at + name.size();
          while (pos < headers.size() && headers[pos] == ' ') ++pos;
          std::from_chars(headers.data() + pos, headers.data() + headers.size(), length);
        }
        std::size_t const total = header_end + 4 + length;
        if (buffer.size() >= total) {
          buffer.erase(0, total);
          ++requests_;
          {
            std::unique_lock lock(mutex_);
            resumed_.wait(lock, [this] { return !paused_ || stopping_; });
          }
          static constexpr std::string_view answer =
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"success\":true}";
          if (::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(answer.size())) return;
          continue;
        }
      }
      ssize_t const n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
  }

  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> requests_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::condition_variable resumed_;
  bool paused_ = false;  // guarded by mutex_
  std::vector<int> connections_;
  std::vector<std::thread> workers_;
};

// --- the tests ----------------------------------------------------------------------------------

constexpr int chunk = 1000;
constexpr int warmup_chunks = 10;     // 10,000 sends
constexpr int measured_chunks = 100;  // 100,000 sends

// The warm-up: 10,000 sends while the server does not answer, so that the serializer stops
// pulling once its batch buffers are full and the arena block pool and the ring grow far beyond
// what one chunk needs (the pool keeps its blocks). Then the server answers and all is delivered.
template <class Send>
void warm_up(htevents::Client& client, OkServer& server, std::uint64_t& i, std::uint64_t& not_ok, Send send) {
  server.pause();
  for (int k = 0; k < warmup_chunks * chunk; ++k) {
    if (send(i++) != htevents::Status::ok) ++not_ok;
  }
  server.resume();
  EXPECT_TRUE(client.flush(std::chrono::seconds(30)));
}

htevents::Config accepting_config(OkServer const& server) {
  htevents::Config config;
  config.endpoint = server.endpoint();
  config.max_queue_bytes = std::size_t{1} << 30;
  config.backpressure = htevents::Backpressure::drop_newest;
  config.compression = htevents::Compression::none;  // the calling thread is measured, not the pipeline
  return config;
}

// Runs `chunks` chunks of `send(i)`; counts the allocations of the sends only. Returns the count;
// `not_ok` gets the sends that did not return ok.
template <class Send>
std::uint64_t run_chunks(htevents::Client& client, int chunks, std::uint64_t& i, std::uint64_t& not_ok, Send send) {
  std::uint64_t total = 0;
  bool printed = false;
  for (int c = 0; c < chunks; ++c) {
    total += count_allocations([&] {
      for (int k = 0; k < chunk; ++k) {
        if (send(i++) != htevents::Status::ok) ++not_ok;
      }
    });
    if (total != 0 && first_stack_depth != 0 && !printed) {
      print_first_stack();
      printed = true;
    }
    EXPECT_TRUE(client.flush(std::chrono::seconds(30)));
  }
  return total;
}

TEST(ZeroAllocation, FastPathSendAllocatesNothingInSteadyState) {
  OkServer server;
  htevents::Client client("test-write-key", accepting_config(server));
  std::uint64_t i = 0;
  std::uint64_t not_ok = 0;
  auto const send = [&](std::uint64_t n) { return htevents::load::send_w1_fast(client, n); };
  warm_up(client, server, i, not_ok, send);
  std::uint64_t const counted = run_chunks(client, measured_chunks, i, not_ok, send);
  EXPECT_EQ(not_ok, 0u);
  EXPECT_EQ(counted, 0u) << "heap allocations in " << measured_chunks * chunk << " fast-path sends";
  EXPECT_TRUE(client.close(std::chrono::seconds(30)));
  htevents::Stats const stats = client.stats();
  EXPECT_EQ(stats.delivered, static_cast<std::uint64_t>((warmup_chunks + measured_chunks) * chunk));
  EXPECT_GT(server.requests(), 0u);
}

TEST(ZeroAllocation, StructEnqueueAllocatesNothingInSteadyState) {
  OkServer server;
  htevents::Client client("test-write-key", accepting_config(server));
  // Built outside the measured sections: building a Track allocates, enqueueing it must not.
  htevents::Track const event{.user_id = "user-42",
                              .event = "Order completed",
                              .properties = {{"total", 29.99},
                                             {"currency", "USD"},
                                             {"product_id", "sku-42"},
                                             {"quantity", 2},
                                             {"coupon", nullptr}}};
  std::uint64_t i = 0;
  std::uint64_t not_ok = 0;
  auto const send = [&](std::uint64_t) { return client.enqueue(event); };
  warm_up(client, server, i, not_ok, send);
  std::uint64_t const counted = run_chunks(client, measured_chunks, i, not_ok, send);
  EXPECT_EQ(not_ok, 0u);
  EXPECT_EQ(counted, 0u) << "heap allocations in " << measured_chunks * chunk << " struct enqueues";
  EXPECT_TRUE(client.close(std::chrono::seconds(30)));
  EXPECT_EQ(client.stats().delivered, static_cast<std::uint64_t>((warmup_chunks + measured_chunks) * chunk));
}

}  // namespace

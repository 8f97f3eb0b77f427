// The local collector of local_collector.hpp: start, port discovery, counts over HTTP, stop.
#include "cli/local_collector.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <string_view>
#include <thread>

#include "cli/thread_cpu.hpp"

namespace htevents::cli {
namespace {

// Where this executable is: /proc/self/exe on Linux; elsewhere the current directory (the
// collector program is then looked for there, or the in-process collector is used).
std::string self_directory() {
#if !defined(__linux__)
  return ".";
#else
  std::array<char, 4096> path{};
  ssize_t const n = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (n <= 0) return ".";
  std::string p(path.data(), static_cast<std::size_t>(n));
  return p.substr(0, p.rfind('/'));
#endif
}

std::string find_collector_program() {
  std::string const dir = self_directory();
  for (std::string const& candidate : {dir + "/htevents-cpp-collector", dir + "/collector/htevents-cpp-collector",
                                       dir + "/../tools/collector/htevents-cpp-collector"}) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::string http_get(std::string const& url) {
  std::string body;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION,
                   +[](char* data, std::size_t size, std::size_t n, void* out) -> std::size_t {
                     static_cast<std::string*>(out)->append(data, size * n);
                     return size * n;
                   });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  if (curl_easy_perform(curl) != CURLE_OK) body.clear();
  curl_easy_cleanup(curl);
  return body;
}

}  // namespace

LocalCollector::LocalCollector(bool stall, std::chrono::milliseconds refuse_for, std::uint64_t expected_ids) {
  std::string const program = find_collector_program();
  if (!program.empty() && start_child(program, stall, refuse_for, expected_ids)) return;
  collector::Options options;
  if (stall) options.fixed_status = 503;
  options.outage = refuse_for;
  options.expected_ids = static_cast<std::size_t>(expected_ids);
  auto const before = thread_ids();
  in_process_ = std::make_unique<collector::Collector>(options);
  for (long tid : thread_ids())
    if (before.count(tid) == 0) collector_threads_.push_back(tid);
  endpoint_ = in_process_->endpoint();
  description_ = "in this process (htevents-cpp-collector not found next to this program; its CPU is "
                 "subtracted per thread)";
}

LocalCollector::~LocalCollector() {
  if (child_ > 0) {
    ::kill(child_, SIGTERM);
    int status = 0;
    ::waitpid(child_, &status, 0);
  }
  if (!port_file_.empty()) std::remove(port_file_.c_str());
}

std::optional<std::uint64_t> LocalCollector::counter(std::string_view name) const {
  std::string const body = in_process_ ? in_process_->stats().to_json() : http_get(endpoint_ + "/stats");
  // Appended rather than "\"" + std::string(name) + ...: GCC 12 at -O3 (Release) reports a
  // false -Wrestrict overlap in that operator+.
  std::string key;
  key.reserve(name.size() + 3);
  key.push_back('"');
  key.append(name);
  key.append("\":");
  auto const at = body.find(key);
  if (at == std::string::npos) return std::nullopt;
  std::uint64_t value = 0;
  char const* begin = body.data() + at + key.size();
  while (*begin == ' ') ++begin;
  if (std::from_chars(begin, body.data() + body.size(), value).ec != std::errc{}) return std::nullopt;
  return value;
}

double LocalCollector::in_process_cpu_seconds() const {
  double total = 0;
  for (long tid : collector_threads_) total += thread_cpu_seconds(tid).value_or(0);
  return total;
}

bool LocalCollector::start_child(std::string const& program, bool stall, std::chrono::milliseconds refuse_for,
                                 std::uint64_t expected_ids) {
  port_file_ = "/tmp/htevents-load-" + std::to_string(::getpid()) + ".port";
  std::remove(port_file_.c_str());
  std::string const refuse_seconds = std::to_string(std::chrono::duration<double>(refuse_for).count());
  std::string const expected = std::to_string(expected_ids);  // before the fork: the child only execs
  std::fflush(nullptr);
  pid_t const pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    std::vector<char const*> args = {program.c_str(), "--port", "0", "--port-file", port_file_.c_str(), "--quiet"};
    if (stall) {
      args.push_back("--fixed-status");
      args.push_back("503");
    }
    if (refuse_for.count() > 0) {
      args.push_back("--refuse-for");
      args.push_back(refuse_seconds.c_str());
    }
    if (expected_ids > 0) {
      args.push_back("--expect-ids");
      args.push_back(expected.c_str());
    }
    args.push_back(nullptr);
    // Its report and final stats would mix with ours: we read its counts over HTTP instead.
    int const null_fd = ::open("/dev/null", O_WRONLY);
    if (null_fd >= 0) {
      ::dup2(null_fd, STDOUT_FILENO);
      ::dup2(null_fd, STDERR_FILENO);
    }
    ::execv(program.c_str(), const_cast<char* const*>(args.data()));
    ::_exit(127);
  }
  child_ = pid;
  // Wait for the port file (the child writes it once listening), at most 10 s.
  auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(port_file_);
    unsigned port = 0;
    if (in >> port && port != 0) {
      endpoint_ = "http://127.0.0.1:" + std::to_string(port);
      description_ = "child process " + program + " (pid " + std::to_string(pid) + ")";
      return true;
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) break;  // it died
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  child_ = -1;
  return false;
}

}  // namespace htevents::cli

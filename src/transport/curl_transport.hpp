#pragma once
// HttpTransport over libcurl multi: one easy handle per request slot, kept-alive connections,
// the request headers built once per encoding. Every curl handle is owned by a unique_ptr with
// its cleanup function, so a constructor that throws halfway leaks nothing.

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "transport/http_transport.hpp"

namespace htevents::inline v0::detail {

struct CurlTransportOptions {
  std::string url;            // {endpoint}/v1/batch
  std::string authorization;  // "Authorization: Basic ..."; never logged
  std::string user_agent;     // "User-Agent: ..."; "" = events-sdk-cpp and the version
  std::size_t max_in_flight = 1;
  std::chrono::milliseconds request_timeout{0};
  bool tls_verify = true;
  std::string ca_bundle;  // "" = curl's default

  // The public options, as header lines.
  static CurlTransportOptions from(TransportOptions const& options);
};

// Curl errors another attempt cannot fix: a malformed URL, an unsupported scheme, TLS that can
// never work with this server or this setup. `error` is the CURLOPT_ERRORBUFFER text: TLS
// handshake failures (CURLE_SSL_CONNECT_ERROR) are permanent only when the text says that the
// peer does not speak TLS at all ("wrong version number": https to a plain-HTTP port), because
// the same code also covers a connection reset in the middle of a handshake.
bool permanent_transport_error(CURLcode code, std::string_view error) noexcept;

class CurlTransport final : public HttpTransport {
 public:
  // Throws std::runtime_error when curl cannot start (global init, a handle, the headers) and
  // std::bad_alloc; whatever it had made by then is freed.
  explicit CurlTransport(CurlTransportOptions const& options);
  ~CurlTransport() override;
  CurlTransport(CurlTransport const&) = delete;
  CurlTransport& operator=(CurlTransport const&) = delete;

  std::size_t max_in_flight() const noexcept override { return slots_.size(); }
  bool start(void* tag, std::string_view body, Compression encoding) noexcept override;
  void perform() noexcept override;
  bool next_completion(Completion& out) noexcept override;
  void cancel_all() noexcept override;
  void wait(std::chrono::milliseconds timeout) noexcept override;
  void wake() noexcept override;

 private:
  struct EasyDelete {
    void operator()(CURL* easy) const noexcept { curl_easy_cleanup(easy); }
  };
  struct MultiDelete {
    void operator()(CURLM* multi) const noexcept { curl_multi_cleanup(multi); }
  };
  struct SlistDelete {
    void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
  };
  struct UrlDelete {
    void operator()(CURLU* url) const noexcept { curl_url_cleanup(url); }
  };

  struct Slot {
    std::unique_ptr<CURL, EasyDelete> easy;
    void* tag = nullptr;   // the request in flight; nullptr when idle
    std::string response;  // first bytes of the answer, for failure details
    std::optional<std::chrono::milliseconds> retry_after;
    char error[CURL_ERROR_SIZE] = {};
    std::string error_text;  // "curl: " + error, what HttpResponse::error shows
  };

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* slot) noexcept;
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* slot) noexcept;

  // Declared first, destroyed last: the easy handles leave the multi handle before it goes.
  std::unique_ptr<CURLM, MultiDelete> multi_;
  std::unique_ptr<curl_slist, SlistDelete> headers_[3];  // by Compression value
  // The URL parsed once, handed to every easy handle (CURLOPT_CURLU): curl otherwise parses the
  // URL string again for every request. Null when curl's parser refuses it: the handles then
  // get the string, and the request fails as curl decides (a permanent error).
  std::unique_ptr<CURLU, UrlDelete> url_;
  std::vector<Slot> slots_;
  std::vector<Slot*> idle_slots_;
};

}  // namespace htevents::inline v0::detail

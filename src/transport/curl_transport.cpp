#include "transport/curl_transport.hpp"

#include <strings.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include "batch/compressor.hpp"
#include "htevents_version.hpp"
#include "transport/retry.hpp"

namespace htevents::inline v0::detail {
namespace {

constexpr std::size_t kept_response_bytes = 512;
// Failure details name the transport: "curl: Couldn't connect to server".
constexpr std::string_view error_prefix = "curl: ";

void init_curl_once() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (result != CURLE_OK) throw std::runtime_error("htevents: curl_global_init failed");
}

}  // namespace

bool permanent_transport_error(CURLcode code, std::string_view error) noexcept {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_TOO_MANY_REDIRECTS: return true;
    case CURLE_SSL_CONNECT_ERROR:
      // OpenSSL's words for "the peer answered, but not with TLS" (http server on the port).
      return error.find("wrong version number") != std::string_view::npos ||
             error.find("packet length too long") != std::string_view::npos ||
             error.find("unknown protocol") != std::string_view::npos;
    default: return false;
  }
}
CurlTransportOptions CurlTransportOptions::from(TransportOptions const& o) {
  CurlTransportOptions curl;
  curl.url = o.url;
  curl.authorization = "Authorization: " + o.authorization;
  curl.user_agent = "User-Agent: " + o.user_agent;
  curl.max_in_flight = o.max_in_flight;
  curl.request_timeout = o.request_timeout;
  curl.tls_verify = o.tls_verify;
  curl.ca_bundle = o.ca_bundle;
  return curl;
}

CurlTransport::CurlTransport(CurlTransportOptions const& options) {
  init_curl_once();
  multi_.reset(curl_multi_init());
  if (multi_ == nullptr) throw std::runtime_error("htevents: curl_multi_init failed");
  auto const max = static_cast<long>(options.max_in_flight);
  curl_multi_setopt(multi_.get(), CURLMOPT_MAX_TOTAL_CONNECTIONS, max);
  curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS, max);

  std::string const user_agent =
      options.user_agent.empty() ? "User-Agent: events-sdk-cpp (version: " HTEVENTS_VERSION ")" : options.user_agent;
  for (Compression c : {Compression::none, Compression::gzip, Compression::zstd}) {
    auto& list = headers_[static_cast<int>(c)];
    // Each append keeps the list on success and leaves it untouched on failure: on nullptr
    // the list so far is still owned here and freed.
    auto append = [&](char const* line) {
      curl_slist* const longer = curl_slist_append(list.get(), line);
      if (longer == nullptr) throw std::runtime_error("htevents: out of memory for HTTP headers");
      (void)list.release();
      list.reset(longer);
    };
    append(options.authorization.c_str());
    append("Content-Type: application/json");
    append(user_agent.c_str());
    append("Expect:");  // no 100-continue round trip for large bodies
    append("Accept:");  // not one of wire-format.md's headers: curl's own "Accept: */*" is left out
    if (c != Compression::none) append(("Content-Encoding: " + std::string(content_encoding(c))).c_str());
  }

  url_.reset(curl_url());
  if (url_ != nullptr && curl_url_set(url_.get(), CURLUPART_URL, options.url.c_str(), 0) != CURLUE_OK) url_.reset();

  slots_.resize(options.max_in_flight);
  idle_slots_.reserve(slots_.size());
  for (Slot& slot : slots_) {
    slot.easy.reset(curl_easy_init());
    if (slot.easy == nullptr) throw std::runtime_error("htevents: curl_easy_init failed");
    CURL* e = slot.easy.get();
    if (url_ != nullptr) {
      curl_easy_setopt(e, CURLOPT_CURLU, url_.get());
    } else {
      curl_easy_setopt(e, CURLOPT_URL, options.url.c_str());
    }
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);  // wire-format.md: follow no redirects
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(options.request_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, options.tls_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, options.tls_verify ? 2L : 0L);
    if (!options.ca_bundle.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options.ca_bundle.c_str());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &CurlTransport::on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &slot);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &CurlTransport::on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &slot);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, slot.error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &slot);
    slot.response.reserve(kept_response_bytes);
    slot.error_text.reserve(sizeof slot.error + error_prefix.size());
    idle_slots_.push_back(&slot);
  }
}

CurlTransport::~CurlTransport() {
  // Handles still in the multi handle leave it first; the unique_ptrs then free them all.
  for (Slot& slot : slots_) {
    if (slot.tag != nullptr) curl_multi_remove_handle(multi_.get(), slot.easy.get());
  }
}

std::size_t CurlTransport::on_body(char* data, std::size_t size, std::size_t count, void* user) noexcept {
  auto& slot = *static_cast<Slot*>(user);
  std::size_t const n = size * count;
  std::size_t const keep = std::min(n, kept_response_bytes - std::min(kept_response_bytes, slot.response.size()));
  slot.response.append(data, keep);  // within the reserved capacity: no allocation
  return n;
}

std::size_t CurlTransport::on_header(char* data, std::size_t size, std::size_t count, void* user) noexcept {
  auto& slot = *static_cast<Slot*>(user);
  std::size_t const n = size * count;
  std::string_view line(data, n);
  constexpr std::string_view name = "retry-after:";
  if (line.size() > name.size() && strncasecmp(line.data(), name.data(), name.size()) == 0) {
    auto const now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    slot.retry_after = parse_retry_after(line.substr(name.size()), now);
  }
  return n;
}

bool CurlTransport::start(void* tag, std::string_view body, Compression encoding) noexcept {
  if (idle_slots_.empty()) return false;
  Slot& slot = *idle_slots_.back();
  slot.response.clear();
  slot.retry_after.reset();
  slot.error[0] = '\0';
  CURL* e = slot.easy.get();
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers_[static_cast<int>(encoding)].get());
  if (curl_multi_add_handle(multi_.get(), e) != CURLM_OK) return false;
  idle_slots_.pop_back();
  slot.tag = tag;
  return true;
}

void CurlTransport::perform() noexcept {
  int running = 0;
  curl_multi_perform(multi_.get(), &running);
}

bool CurlTransport::next_completion(Completion& out) noexcept {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Slot* slot = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &slot);
    CURLcode const result = msg->data.result;
    curl_multi_remove_handle(multi_.get(), slot->easy.get());
    HttpResponse& r = out.response;
    r = HttpResponse{};
    r.transport_ok = result == CURLE_OK;
    if (r.transport_ok) {
      curl_easy_getinfo(slot->easy.get(), CURLINFO_RESPONSE_CODE, &r.status);
    } else {
      r.transport_permanent = permanent_transport_error(result, slot->error);
      // Within the reserved capacity (curl's messages are shorter than its error buffer): no allocation.
      slot->error_text.assign(error_prefix);
      slot->error_text.append(slot->error[0] != '\0' ? std::string_view(slot->error)
                                                     : std::string_view(curl_easy_strerror(result)));
      r.error = slot->error_text;
    }
    r.retry_after = slot->retry_after;
    r.body = slot->response;  // kept until this slot's next start()
    out.tag = slot->tag;
    slot->tag = nullptr;
    idle_slots_.push_back(slot);  // capacity for every slot: never allocates
    return true;
  }
  return false;
}

void CurlTransport::cancel_all() noexcept {
  for (Slot& slot : slots_) {
    if (slot.tag == nullptr) continue;
    curl_multi_remove_handle(multi_.get(), slot.easy.get());
    slot.tag = nullptr;
    idle_slots_.push_back(&slot);
  }
}

void CurlTransport::wait(std::chrono::milliseconds timeout) noexcept {
  curl_multi_poll(multi_.get(), nullptr, 0, static_cast<int>(timeout.count()), nullptr);
}

void CurlTransport::wake() noexcept { curl_multi_wakeup(multi_.get()); }

}  // namespace htevents::inline v0::detail

#pragma once
// The sender's HTTP: the public Transport interface (htevents/transport.hpp), under the names
// the sender has always used for it. CurlTransport (libcurl multi) is the default
// implementation; tests drive the sender with a fake, and users plug in their own through
// Config::transport.

#include <string>

#include "htevents/transport.hpp"

namespace htevents::inline v0::detail {

using HttpTransport = Transport;
using HttpResponse = TransportResponse;

// "HTTP 503: <body>", or the transport's error text, for failure details and logs.
std::string describe(HttpResponse const& response);

}  // namespace htevents::inline v0::detail

// HTTP proxy front end, codec part: parses a proxy request head (CONNECT
// authority-form or absolute-form, RFC 9112 §3.2) with http_parser, rewrites
// an absolute-form request for the origin server, and builds the proxy's own
// responses. Pure functions; no sockets.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/address.hpp"
#include "net/bytes.hpp"

namespace braid::http {

constexpr size_t kDefaultMaxHead = 64 * 1024;

struct Header {
  std::string name;
  std::string value;
};

struct RequestHead {
  std::string method;
  std::string target;          ///< as sent: "host:443" or "http://host/path"
  unsigned version_major = 1;
  unsigned version_minor = 1;
  std::vector<Header> headers;
  bool is_connect = false;
  Destination destination;     ///< where to connect
  std::string origin_target;   ///< path and query for the origin server ("/" at least)
  std::string host_header;     ///< authority for a Host header

  /// First header named @p name (case-insensitive), or nullptr.
  const std::string* find(std::string_view name) const;
};

/// Result of parse_request_head(): done, need_more, or an HTTP error status.
struct HeadResult {
  Parse status = Parse::need_more;
  size_t consumed = 0;   ///< bytes of the head (the body, if any, follows)
  RequestHead head;
  int http_status = 0;   ///< for errors: 400, 431, 501
  std::string error;     ///< for errors: what was wrong, for the response body
};

/// Parses one request head of any form (for Braid's own API server); the
/// target is left as sent.
HeadResult parse_head(ByteSpan in, size_t max_head = kDefaultMaxHead);

/**
 * Parses one proxy request head from the start of @p in. Accepts CONNECT with
 * an authority and absolute-form http:// URLs; anything else is an error with
 * the status the client should see (400 malformed, 431 head larger than
 * @p max_head, 501 an unsupported scheme).
 */
HeadResult parse_request_head(ByteSpan in, size_t max_head = kDefaultMaxHead);

/**
 * The head to send to the origin server for an absolute-form request:
 * origin-form request line, hop-by-hop headers removed (RFC 9110 §7.6.1,
 * including those named by Connection), a Host header, and "Connection: close"
 * because Braid serves one request per client connection. A WebSocket-style
 * Upgrade is passed through.
 */
std::string rewrite_for_origin(const RequestHead& head);

/// Result of rewrite_response_head().
struct ResponseRewrite {
  Parse status = Parse::need_more;
  size_t consumed = 0;  ///< bytes of the original head
  std::string head;     ///< the head to send instead
};

/**
 * Rewrites an origin server's response head for a client that Braid will not
 * keep alive: Connection, Keep-Alive and Proxy-Connection are replaced by
 * "Connection: close". 1xx responses other than 101 are left alone (another
 * head follows); 101 Switching Protocols passes unchanged. need_more until
 * the blank line; error when no head ends within kDefaultMaxHead bytes (the
 * caller then passes the bytes through).
 */
ResponseRewrite rewrite_response_head(std::string_view in);

/// Username and password from "Proxy-Authorization: Basic ...", if present and well-formed.
std::optional<std::pair<std::string, std::string>> proxy_basic_credentials(const RequestHead& head);

/// A complete response from the proxy itself (errors, 407, CONNECT's 200).
std::string proxy_response(int status, std::string_view body, std::string_view extra_headers = {});

/// Reason phrase for the statuses the proxy sends.
const char* reason_phrase(int status);

}  // namespace braid::http

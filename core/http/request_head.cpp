#include "http/request_head.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <http_parser.h>
#include <openssl/evp.h>

namespace braid::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Collects the head while http_parser walks it; pauses the parser at the end
// of the headers so that a body (or tunnelled bytes) is never consumed.
struct Collector {
  RequestHead head;
  bool complete = false;
  bool in_value = false;
};

Collector& collector(http_parser* p) { return *static_cast<Collector*>(p->data); }

int on_url(http_parser* p, const char* at, size_t len) {
  collector(p).head.target.append(at, len);
  return 0;
}
int on_header_field(http_parser* p, const char* at, size_t len) {
  auto& c = collector(p);
  if (c.in_value || c.head.headers.empty()) c.head.headers.push_back({});
  c.in_value = false;
  c.head.headers.back().name.append(at, len);
  return 0;
}
int on_header_value(http_parser* p, const char* at, size_t len) {
  auto& c = collector(p);
  c.in_value = true;
  c.head.headers.back().value.append(at, len);
  return 0;
}
int on_headers_complete(http_parser* p) {
  collector(p).complete = true;
  http_parser_pause(p, 1);
  return 0;
}

HeadResult fail(int status, std::string why) {
  HeadResult r;
  r.status = Parse::error;
  r.http_status = status;
  r.error = std::move(why);
  return r;
}

// Fills destination, origin_target and host_header from the request target.
bool resolve_target(RequestHead& h, std::string& error, int& status) {
  http_parser_url u;
  http_parser_url_init(&u);
  if (http_parser_parse_url(h.target.data(), h.target.size(), h.is_connect, &u) != 0) {
    error = "the request target is not a valid URL or authority";
    status = 400;
    return false;
  }
  auto field = [&](http_parser_url_fields f) -> std::string_view {
    if (!(u.field_set & (1 << f))) return {};
    return std::string_view(h.target).substr(u.field_data[f].off, u.field_data[f].len);
  };
  uint16_t port = 0;
  if (h.is_connect) {
    if (!(u.field_set & (1 << UF_PORT))) {
      error = "CONNECT needs host:port";
      status = 400;
      return false;
    }
    port = u.port;
  } else {
    if (!(u.field_set & (1 << UF_SCHEMA)) || !(u.field_set & (1 << UF_HOST))) {
      error = "a proxy request needs an absolute URL (http://host/path) or CONNECT host:port";
      status = 400;
      return false;
    }
    if (!iequals(field(UF_SCHEMA), "http")) {
      error = "only http:// URLs are forwarded; use CONNECT for " + std::string(field(UF_SCHEMA));
      status = 501;
      return false;
    }
    port = (u.field_set & (1 << UF_PORT)) ? u.port : 80;
    h.origin_target = std::string(field(UF_PATH));
    if (h.origin_target.empty()) h.origin_target = "/";
    if (u.field_set & (1 << UF_QUERY)) h.origin_target += "?" + std::string(field(UF_QUERY));
  }
  auto host = field(UF_HOST);
  auto dest = make_destination(host, port);
  if (!dest || port == 0) {
    error = "the request names no usable host and port";
    status = 400;
    return false;
  }
  h.destination = *dest;
  const bool v6 = dest->type == Destination::Type::ipv6;
  h.host_header = (v6 ? "[" + std::string(host) + "]" : std::string(host));
  if (u.field_set & (1 << UF_PORT)) h.host_header += ":" + std::to_string(port);
  return true;
}

bool is_hop_by_hop(std::string_view name, const std::vector<std::string>& connection_tokens, bool upgrade) {
  // Transfer-Encoding stays: the body is relayed as it came.
  static constexpr std::string_view kHop[] = {"connection", "proxy-connection", "keep-alive", "te",
                                               "trailer", "proxy-authorization", "proxy-authenticate"};
  for (auto h : kHop)
    if (iequals(name, h)) return true;
  if (iequals(name, "upgrade")) return !upgrade;
  return std::any_of(connection_tokens.begin(), connection_tokens.end(),
                     [&](const std::string& t) { return iequals(name, t) && !iequals(t, "upgrade"); });
}

}  // namespace

const std::string* RequestHead::find(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

HeadResult parse_head(ByteSpan in, size_t max_head) {
  Collector c;
  http_parser parser;
  http_parser_init(&parser, HTTP_REQUEST);
  parser.data = &c;
  http_parser_settings settings;
  http_parser_settings_init(&settings);
  settings.on_url = on_url;
  settings.on_header_field = on_header_field;
  settings.on_header_value = on_header_value;
  settings.on_headers_complete = on_headers_complete;
  const size_t len = std::min(in.size(), max_head);
  http_parser_execute(&parser, &settings, reinterpret_cast<const char*>(in.data()), len);
  const auto err = HTTP_PARSER_ERRNO(&parser);
  if (!c.complete) {
    if (err != HPE_OK) return fail(400, std::string("malformed request: ") + http_errno_description(err));
    if (in.size() >= max_head) return fail(431, "the request head is larger than the limit");
    return HeadResult{};
  }
  // http_parser reports its position inconsistently when paused inside a
  // callback, so find the blank line that ends the head ourselves: the parser
  // has confirmed the head is complete, so the first one is it.
  const std::string_view text(reinterpret_cast<const char*>(in.data()), len);
  // http_parser skips blank lines before the request line (RFC 9112 §2.2);
  // so must the search, or it would stop inside them.
  const size_t start = std::min(text.find_first_not_of("\r\n"), text.size());
  const size_t crlf = text.find("\n\r\n", start), lf = text.find("\n\n", start);
  HeadResult r;
  r.status = Parse::done;
  r.consumed = std::min(crlf == std::string_view::npos ? text.size() : crlf + 3,
                        lf == std::string_view::npos ? text.size() : lf + 2);
  r.head = std::move(c.head);
  r.head.method = http_method_str(static_cast<http_method>(parser.method));
  r.head.version_major = parser.http_major;
  r.head.version_minor = parser.http_minor;
  r.head.is_connect = parser.method == HTTP_CONNECT;
  for (auto& h : r.head.headers) h.value = std::string(trim(h.value));
  return r;
}

HeadResult parse_request_head(ByteSpan in, size_t max_head) {
  HeadResult r = parse_head(in, max_head);
  if (r.status == Parse::done && !resolve_target(r.head, r.error, r.http_status)) r.status = Parse::error;
  return r;
}

std::string rewrite_for_origin(const RequestHead& head) {
  std::vector<std::string> tokens;
  if (const auto* conn = head.find("connection")) {
    std::string_view rest = *conn;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      tokens.emplace_back(trim(rest.substr(0, comma)));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  const bool upgrade = head.find("upgrade") &&
                       std::any_of(tokens.begin(), tokens.end(), [](auto& t) { return iequals(t, "upgrade"); });
  std::string out = head.method + " " + head.origin_target + " HTTP/" + std::to_string(head.version_major) + "." +
                    std::to_string(head.version_minor) + "\r\n";
  bool has_host = false;
  for (const auto& h : head.headers) {
    if (is_hop_by_hop(h.name, tokens, upgrade)) continue;
    if (iequals(h.name, "host")) has_host = true;
    out += h.name + ": " + h.value + "\r\n";
  }
  if (!has_host) out += "Host: " + head.host_header + "\r\n";
  out += upgrade ? "Connection: Upgrade\r\n" : "Connection: close\r\n";
  out += "\r\n";
  return out;
}

ResponseRewrite rewrite_response_head(std::string_view in) {
  ResponseRewrite r;
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (in.size() >= kDefaultMaxHead || (in.size() >= 5 && in.substr(0, 5) != "HTTP/")) r.status = Parse::error;
    return r;
  }
  r.status = Parse::done;
  r.consumed = end + 4;
  const std::string_view head = in.substr(0, end + 2);
  const size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  // "HTTP/1.1 101 ..." — the status code is after the first space.
  const size_t sp = status_line.find(' ');
  const std::string_view code = sp == std::string_view::npos ? std::string_view{} : status_line.substr(sp + 1, 3);
  if (code.size() == 3 && code[0] == '1') {
    // 101 switches protocols; other 1xx are followed by the real head, which
    // a later call will see. Either way this head passes unchanged.
    r.status = code == "101" ? Parse::error : Parse::done;
    r.head = std::string(in.substr(0, r.consumed));
    return r;
  }
  r.head = std::string(status_line) + "\r\n";
  std::string_view rest = head.substr(line_end + 2);
  while (!rest.empty()) {
    const size_t eol = rest.find("\r\n");
    const std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
    const std::string_view name = trim(line.substr(0, line.find(':')));
    if (iequals(name, "connection") || iequals(name, "keep-alive") || iequals(name, "proxy-connection")) continue;
    r.head += std::string(line) + "\r\n";
  }
  r.head += "Connection: close\r\n\r\n";
  return r;
}

std::optional<std::pair<std::string, std::string>> proxy_basic_credentials(const RequestHead& head) {
  const auto* value = head.find("proxy-authorization");
  if (!value) return std::nullopt;
  std::string_view v = *value;
  if (v.size() < 6 || !iequals(v.substr(0, 6), "basic ")) return std::nullopt;
  auto b64 = trim(v.substr(6));
  if (b64.empty() || b64.size() % 4 != 0 || b64.size() > 1024) return std::nullopt;
  std::string decoded(b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes; drop them.
  size_t len = static_cast<size_t>(n);
  if (b64.back() == '=') --len;
  if (b64.size() >= 2 && b64[b64.size() - 2] == '=') --len;
  decoded.resize(len);
  auto colon = decoded.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded.substr(0, colon), decoded.substr(colon + 1));
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "Connection established";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 407: return "Proxy Authentication Required";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

std::string proxy_response(int status, std::string_view body, std::string_view extra_headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  out += extra_headers;
  if (status == 200) return out + "\r\n";
  std::string text = std::string(body) + "\n";
  out += "Content-Type: text/plain; charset=utf-8\r\nContent-Length: " + std::to_string(text.size()) +
         "\r\nConnection: close\r\n\r\n" + text;
  return out;
}

}  // namespace braid::http

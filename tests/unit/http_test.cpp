// HTTP proxy request heads: parsing, rewriting, credentials, responses.
#include <doctest/doctest.h>

#include "http/request_head.hpp"

using namespace braid;

namespace {
http::HeadResult parse(const std::string& s) { return http::parse_request_head(bytes_of(s)); }
}  // namespace

TEST_CASE("http: CONNECT head, bytes after it are left alone") {
  const std::string head = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
  auto r = parse(head + "\x16\x03\x01");
  REQUIRE(r.status == Parse::done);
  CHECK(r.consumed == head.size());
  CHECK(r.head.is_connect);
  CHECK(r.head.destination.to_string() == "example.com:443");
}

TEST_CASE("http: absolute-form GET is rewritten for the origin") {
  const std::string head =
      "GET http://files.example:8080/a/b?x=1 HTTP/1.1\r\n"
      "Host: files.example:8080\r\n"
      "User-Agent: test\r\n"
      "Proxy-Connection: keep-alive\r\n"
      "Proxy-Authorization: Basic dTpw\r\n"
      "Connection: keep-alive, X-Drop\r\n"
      "X-Drop: 1\r\n"
      "Keep-Alive: 300\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  auto r = parse(head + "5\r\nhello\r\n0\r\n\r\n");
  REQUIRE(r.status == Parse::done);
  CHECK(r.consumed == head.size());
  CHECK_FALSE(r.head.is_connect);
  CHECK(r.head.destination.to_string() == "files.example:8080");
  const auto out = http::rewrite_for_origin(r.head);
  CHECK(out.rfind("GET /a/b?x=1 HTTP/1.1\r\n", 0) == 0);
  CHECK(out.find("User-Agent: test\r\n") != std::string::npos);
  CHECK(out.find("Host: files.example:8080\r\n") != std::string::npos);
  CHECK(out.find("Transfer-Encoding: chunked\r\n") != std::string::npos);  // the body is relayed as is
  CHECK(out.find("Proxy-") == std::string::npos);
  CHECK(out.find("X-Drop") == std::string::npos);
  CHECK(out.find("Keep-Alive") == std::string::npos);
  CHECK(out.find("Connection: close\r\n") != std::string::npos);
  CHECK(out.substr(out.size() - 4) == "\r\n\r\n");
}

TEST_CASE("http: a missing Host is added, the default port is 80, an empty path becomes /") {
  auto r = parse("GET http://10.0.0.1 HTTP/1.0\r\n\r\n");
  REQUIRE(r.status == Parse::done);
  CHECK(r.head.destination.to_string() == "10.0.0.1:80");
  const auto out = http::rewrite_for_origin(r.head);
  CHECK(out.rfind("GET / HTTP/1.0\r\n", 0) == 0);
  CHECK(out.find("Host: 10.0.0.1\r\n") != std::string::npos);
}

TEST_CASE("http: IPv6 literal targets") {
  auto r = parse("GET http://[::1]:8080/ HTTP/1.1\r\n\r\n");
  REQUIRE(r.status == Parse::done);
  CHECK(r.head.destination.to_string() == "[::1]:8080");
  CHECK(http::rewrite_for_origin(r.head).find("Host: [::1]:8080\r\n") != std::string::npos);
}

TEST_CASE("http: WebSocket upgrades pass through") {
  auto r = parse("GET http://h/ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  REQUIRE(r.status == Parse::done);
  const auto out = http::rewrite_for_origin(r.head);
  CHECK(out.find("Upgrade: websocket\r\n") != std::string::npos);
  CHECK(out.find("Connection: Upgrade\r\n") != std::string::npos);
}

TEST_CASE("http: incomplete heads ask for more") {
  CHECK(parse("").status == Parse::need_more);
  CHECK(parse("GET http://h/ HTTP/1.1\r\nHost: h\r\n").status == Parse::need_more);
}

TEST_CASE("http: bad requests get 400, 431 and 501") {
  auto garbage = parse("\x01\x02 nonsense\r\n\r\n");
  CHECK(garbage.status == Parse::error);
  CHECK(garbage.http_status == 400);
  auto origin_form = parse("GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(origin_form.status == Parse::error);
  CHECK(origin_form.http_status == 400);
  auto no_port = parse("CONNECT example.com HTTP/1.1\r\n\r\n");
  CHECK(no_port.status == Parse::error);
  CHECK(no_port.http_status == 400);
  auto https = parse("GET https://h/ HTTP/1.1\r\n\r\n");
  CHECK(https.status == Parse::error);
  CHECK(https.http_status == 501);
  std::string huge = "GET http://h/ HTTP/1.1\r\nX: " + std::string(70000, 'a');
  auto big = parse(huge);
  CHECK(big.status == Parse::error);
  CHECK(big.http_status == 431);
}

TEST_CASE("http: Proxy-Authorization Basic") {
  auto r = parse("GET http://h/ HTTP/1.1\r\nProxy-Authorization: Basic dXNlcjpwYTpzcw==\r\n\r\n");
  REQUIRE(r.status == Parse::done);
  auto c = http::proxy_basic_credentials(r.head);
  REQUIRE(c);
  CHECK(c->first == "user");
  CHECK(c->second == "pa:ss");
  auto none = parse("GET http://h/ HTTP/1.1\r\n\r\n");
  CHECK_FALSE(http::proxy_basic_credentials(none.head));
  auto bad = parse("GET http://h/ HTTP/1.1\r\nProxy-Authorization: Basic !!!\r\n\r\n");
  CHECK_FALSE(http::proxy_basic_credentials(bad.head));
}

TEST_CASE("http: proxy responses") {
  CHECK(http::proxy_response(200, {}) == "HTTP/1.1 200 Connection established\r\n\r\n");
  auto r407 = http::proxy_response(407, "auth", "Proxy-Authenticate: Basic realm=\"braid\"\r\n");
  CHECK(r407.rfind("HTTP/1.1 407 Proxy Authentication Required\r\n", 0) == 0);
  CHECK(r407.find("Proxy-Authenticate: Basic realm=\"braid\"\r\n") != std::string::npos);
  CHECK(r407.find("Content-Length: 5\r\n") != std::string::npos);
  CHECK(http::proxy_response(504, "x").rfind("HTTP/1.1 504 Gateway Timeout", 0) == 0);
}

TEST_CASE("http: response heads get Connection: close") {
  auto r = http::rewrite_response_head("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: 5\r\nX: y\r\n\r\nBODY");
  REQUIRE(r.status == Parse::done);
  CHECK(r.head == "HTTP/1.1 200 OK\r\nX: y\r\nConnection: close\r\n\r\n");
  CHECK(r.consumed == 64);  // everything before "BODY"
  CHECK(http::rewrite_response_head("HTTP/1.1 200 OK\r\nX: y\r\n").status == Parse::need_more);
  auto cont = http::rewrite_response_head("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
  REQUIRE(cont.status == Parse::done);
  CHECK(cont.head == "HTTP/1.1 100 Continue\r\n\r\n");
  CHECK(http::rewrite_response_head("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n").status ==
        Parse::error);
  CHECK(http::rewrite_response_head("SSH-2.0-OpenSSH").status == Parse::error);
}

TEST_CASE("http: blank lines before the request line are skipped, and the head length counts them") {
  const std::string in = "\r\n\r\nGET http://origin/ HTTP/1.1\r\nProxy-Authorization: Basic dTpw\r\n\r\n";
  auto r = parse(in);
  REQUIRE(r.status == Parse::done);
  CHECK(r.consumed == in.size());  // nothing of the head (or its credentials) is left to forward
}

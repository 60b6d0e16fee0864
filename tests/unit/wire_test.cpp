// Wire protocol v2: the vectors of docs/PROTOCOL.md, both ways, and bad input.
#include <doctest/doctest.h>

#include "test_util.hpp"
#include "tunnel/wire.hpp"

using namespace braid;
using braid::test::hex;

namespace {
wire::Request request(const std::string& user, const std::string& token, const std::string& hostport) {
  wire::Request r;
  r.user = user;
  r.token = token;
  r.destination = *parse_host_port(hostport);
  return r;
}
}  // namespace

TEST_CASE("wire: request vectors from PROTOCOL.md encode and decode") {
  struct Vector {
    const char* user;
    const char* token;
    const char* dest;
    const char* bytes;
  } vectors[] = {
      {"alice", "s3cret", "93.184.216.34:443", "02 01 00 05 61 6c 69 63 65 06 73 33 63 72 65 74 01 5d b8 d8 22 01 bb"},
      {"bob", "tok", "example.com:80",
       "02 01 00 03 62 6f 62 03 74 6f 6b 03 0b 65 78 61 6d 70 6c 65 2e 63 6f 6d 00 50"},
      {"u", "t", "[2001:db8::1]:8080",
       "02 01 00 01 75 01 74 04 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 1f 90"},
  };
  for (const auto& v : vectors) {
    CAPTURE(v.dest);
    Bytes out;
    wire::encode_request(request(v.user, v.token, v.dest), out);
    CHECK(out == hex(v.bytes));
    auto r = wire::decode_request(bytes_of(out));
    REQUIRE(r.status == Parse::done);
    CHECK(r.consumed == out.size());
    CHECK(r.value.user == v.user);
    CHECK(r.value.token == v.token);
    CHECK(r.value.kind == wire::Kind::tcp_stream);
    CHECK(r.value.destination.to_string() == std::string(v.dest));
  }
}

TEST_CASE("wire: early data after the header is not consumed") {
  Bytes in = hex("02 01 00 01 75 03 74 6f 6b 01 7f 00 00 01 00 50");
  const size_t header = in.size();
  for (char c : std::string("GET / HTTP/1.1\r\n")) in.push_back(static_cast<uint8_t>(c));
  auto r = wire::decode_request(bytes_of(in));
  REQUIRE(r.status == Parse::done);
  CHECK(r.consumed == header);
}

TEST_CASE("wire: every truncation of a valid header asks for more") {
  Bytes full = hex("02 01 00 03 62 6f 62 03 74 6f 6b 03 0b 65 78 61 6d 70 6c 65 2e 63 6f 6d 00 50");
  for (size_t n = 0; n < full.size(); ++n) {
    CAPTURE(n);
    CHECK(wire::decode_request(bytes_of(full.data(), n)).status == Parse::need_more);
  }
}

TEST_CASE("wire: malformed headers get the status PROTOCOL.md names") {
  auto code = [](const std::string& h) {
    auto b = hex(h);
    auto r = wire::decode_request(bytes_of(b));
    REQUIRE(r.status == Parse::error);
    return r.code;
  };
  CHECK(code("01 01 00 01 74") == wire::kUnsupportedVersion);  // v1: the token travelled in clear
  CHECK(code("03 01 00 01 74") == wire::kUnsupportedVersion);
  CHECK(code("02 01 07 01 75") == wire::kMalformed);                 // FLAGS set
  CHECK(code("02 01 00 00 01") == wire::kMalformed);                 // empty user
  CHECK(code("02 01 00 01 75 00 01") == wire::kMalformed);           // empty token
  CHECK(code("02 01 00 01 75 01 74 05 00 00") == wire::kAddressTypeNotSupported);
  CHECK(code("02 01 00 01 75 01 74 03 00 00 50") == wire::kMalformed);  // empty domain
}

TEST_CASE("wire: the largest header is 774 bytes and decodes") {
  wire::Request r;
  r.user = std::string(255, 'u');
  r.token = std::string(255, 'k');
  r.destination.type = Destination::Type::domain;
  r.destination.domain = std::string(255, 'd');
  r.destination.port = 1;
  Bytes out;
  wire::encode_request(r, out);
  CHECK(out.size() == wire::kMaxRequestLength);
  auto d = wire::decode_request(bytes_of(out));
  REQUIRE(d.status == Parse::done);
  CHECK(d.value.destination.domain.size() == 255);
}

TEST_CASE("wire: reply vectors") {
  wire::Reply ok;
  ok.status = wire::kOk;
  ok.bound = *parse_host_port("10.31.9.1:40000");
  Bytes out;
  wire::encode_reply(ok, out);
  CHECK(out == hex("02 00 01 0a 1f 09 01 9c 40"));
  auto r = wire::decode_reply(bytes_of(out));
  REQUIRE(r.status == Parse::done);
  CHECK(r.value.bound.to_string() == "10.31.9.1:40000");

  wire::Reply refused;
  refused.status = wire::kConnectionRefused;
  out.clear();
  wire::encode_reply(refused, out);
  CHECK(out == hex("02 05 01 00 00 00 00 00 00"));
  wire::Reply bad;
  bad.status = wire::kBadToken;
  out.clear();
  wire::encode_reply(bad, out);
  CHECK(out == hex("02 11 01 00 00 00 00 00 00"));

  auto v = hex("01 00");
  CHECK(wire::decode_reply(bytes_of(v)).status == Parse::error);
  auto partial = hex("02 00 01 0a");
  CHECK(wire::decode_reply(bytes_of(partial)).status == Parse::need_more);
}

TEST_CASE("wire: statuses map to SOCKS5 REP and HTTP codes") {
  CHECK(wire::to_socks_reply(wire::kConnectionRefused) == 0x05);
  CHECK(wire::to_socks_reply(wire::kHostUnreachable) == 0x04);
  CHECK(wire::to_socks_reply(wire::kBadToken) == 0x02);
  CHECK(wire::to_socks_reply(wire::kBusy) == 0x01);
  CHECK(wire::to_http_status(wire::kTimedOut) == 504);
  CHECK(wire::to_http_status(wire::kConnectionRefused) == 502);
}

TEST_CASE("wire: token comparison") {
  CHECK(wire::token_equal("abc", "abc"));
  CHECK_FALSE(wire::token_equal("abc", "abd"));
  CHECK_FALSE(wire::token_equal("abc", "abcd"));
}

TEST_CASE("wire: UDP frames keep datagram boundaries") {
  Bytes stream;
  auto a = hex("01 02 03");
  wire::encode_datagram(*parse_host_port("10.31.9.2:53"), bytes_of(a), stream);
  CHECK(stream == hex("00 0a 01 0a 1f 09 02 00 35 01 02 03"));
  wire::encode_datagram(*parse_host_port("dns.example:53"), {}, stream);
  // Fed one byte at a time, the frames come out whole and in order.
  size_t frames = 0, off = 0;
  for (size_t n = 1; n <= stream.size(); ++n) {
    auto r = wire::decode_datagram(bytes_of(stream.data() + off, n - off));
    if (r.status == Parse::need_more) continue;
    REQUIRE(r.status == Parse::done);
    if (frames == 0) {
      CHECK(r.value.payload == "\x01\x02\x03");
      CHECK(r.value.address.to_string() == "10.31.9.2:53");
    } else {
      CHECK(r.value.payload.empty());
      CHECK(r.value.address.domain == "dns.example");
    }
    off += r.consumed;
    ++frames;
  }
  CHECK(frames == 2);
  CHECK(off == stream.size());
}

TEST_CASE("wire: bad UDP frames") {
  auto short_addr = hex("00 03 01 0a 1f");
  CHECK(wire::decode_datagram(bytes_of(short_addr)).code == wire::kMalformed);
  auto bad_atyp = hex("00 03 09 00 00");
  CHECK(wire::decode_datagram(bytes_of(bad_atyp)).code == wire::kAddressTypeNotSupported);
}

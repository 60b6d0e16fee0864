// Destinations: HOST:PORT parsing and the ATYP address codec.
#include <doctest/doctest.h>

#include "net/address.hpp"
#include "test_util.hpp"

using namespace braid;
using braid::test::hex;

TEST_CASE("address: parse_host_port") {
  CHECK(parse_host_port("127.0.0.1:1080")->type == Destination::Type::ipv4);
  CHECK(parse_host_port("[::1]:1080")->type == Destination::Type::ipv6);
  CHECK(parse_host_port("example.com:443")->domain == "example.com");
  CHECK(parse_host_port("[::1]:0")->port == 0);
  std::string why;
  CHECK_FALSE(parse_host_port("::1:80", &why));
  CHECK(why.find("[ADDR]") != std::string::npos);
  CHECK_FALSE(parse_host_port("host", &why));
  CHECK_FALSE(parse_host_port("host:99999", &why));
  CHECK_FALSE(parse_host_port("host:8x", &why));
  CHECK_FALSE(parse_host_port(":80", &why));
  CHECK_FALSE(parse_host_port("[example.com]:80", &why));
}

TEST_CASE("address: ATYP codec round trip and sockaddr conversion") {
  for (const char* text : {"1.2.3.4:5", "[2001:db8::2]:65535", "a.example:1"}) {
    CAPTURE(text);
    auto d = *parse_host_port(text);
    Bytes b;
    encode_address(d, b);
    auto r = decode_address(bytes_of(b));
    REQUIRE(r.status == Parse::done);
    CHECK(r.value == d);
    CHECK(r.value.to_string() == text);
    sockaddr_storage ss{};
    if (d.type != Destination::Type::domain) {
      REQUIRE(d.to_sockaddr(ss));
      CHECK(Destination::from_sockaddr(reinterpret_cast<sockaddr*>(&ss)) == d);
    } else {
      CHECK_FALSE(d.to_sockaddr(ss));
    }
  }
  auto bad = hex("09 00");
  CHECK(decode_address(bytes_of(bad)).code == 8);
}

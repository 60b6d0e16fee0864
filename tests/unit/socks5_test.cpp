// SOCKS5 codec (RFC 1928 / RFC 1929).
#include <doctest/doctest.h>

#include "socks5/codec.hpp"
#include "test_util.hpp"

using namespace braid;
using braid::test::hex;

TEST_CASE("socks5: greeting") {
  auto g = hex("05 02 00 02");
  auto r = socks5::parse_greeting(bytes_of(g));
  REQUIRE(r.status == Parse::done);
  CHECK(r.consumed == 4);
  CHECK(r.value.offers(socks5::kNoAuth));
  CHECK(r.value.offers(socks5::kUserPass));
  CHECK_FALSE(r.value.offers(0x01));

  auto partial = hex("05 02 00");
  CHECK(socks5::parse_greeting(bytes_of(partial)).status == Parse::need_more);
  auto socks4 = hex("04 01 00 50");
  CHECK(socks5::parse_greeting(bytes_of(socks4)).status == Parse::error);
  auto none = hex("05 00");
  CHECK(socks5::parse_greeting(bytes_of(none)).status == Parse::error);
}

TEST_CASE("socks5: username/password sub-negotiation") {
  auto m = hex("01 04 75 73 65 72 04 70 61 73 73");
  auto r = socks5::parse_userpass(bytes_of(m));
  REQUIRE(r.status == Parse::done);
  CHECK(r.value.username == "user");
  CHECK(r.value.password == "pass");
  CHECK(r.consumed == m.size());
  for (size_t n = 0; n < m.size(); ++n) CHECK(socks5::parse_userpass(bytes_of(m.data(), n)).status == Parse::need_more);
  auto empty_pass = hex("01 01 75 00");
  CHECK(socks5::parse_userpass(bytes_of(empty_pass)).status == Parse::done);
  auto bad_ver = hex("05 01 75 00");
  CHECK(socks5::parse_userpass(bytes_of(bad_ver)).status == Parse::error);
  CHECK(socks5::userpass_status(true) == hex("01 00"));
  CHECK(socks5::userpass_status(false) == hex("01 01"));
}

TEST_CASE("socks5: CONNECT requests for every address type") {
  auto v4 = hex("05 01 00 01 7f 00 00 01 1f 90");
  auto r = socks5::parse_request(bytes_of(v4));
  REQUIRE(r.status == Parse::done);
  CHECK(r.value.command == socks5::kConnect);
  CHECK(r.value.destination.to_string() == "127.0.0.1:8080");

  auto name = hex("05 01 00 03 09 6c 6f 63 61 6c 68 6f 73 74 00 50");
  r = socks5::parse_request(bytes_of(name));
  REQUIRE(r.status == Parse::done);
  CHECK(r.value.destination.type == Destination::Type::domain);
  CHECK(r.value.destination.to_string() == "localhost:80");

  auto v6 = hex("05 01 00 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 01 bb");
  r = socks5::parse_request(bytes_of(v6));
  REQUIRE(r.status == Parse::done);
  CHECK(r.value.destination.to_string() == "[::1]:443");

  // PySocks' UDP ASSOCIATE names the domain "0"; it must parse.
  auto assoc = hex("05 03 00 03 01 30 d4 31");
  r = socks5::parse_request(bytes_of(assoc));
  REQUIRE(r.status == Parse::done);
  CHECK(r.value.command == socks5::kUdpAssociate);
  CHECK(r.value.destination.domain == "0");
}

TEST_CASE("socks5: bad requests name the reply to send") {
  auto bad_atyp = hex("05 01 00 05 00 00");
  auto r = socks5::parse_request(bytes_of(bad_atyp));
  REQUIRE(r.status == Parse::error);
  CHECK(r.code == socks5::kAddressTypeNotSupported);
  auto bad_rsv = hex("05 01 01 01 7f 00 00 01 00 50");
  CHECK(socks5::parse_request(bytes_of(bad_rsv)).code == socks5::kGeneralFailure);
  auto bad_ver = hex("04 01 00 01 7f 00 00 01 00 50");
  CHECK(socks5::parse_request(bytes_of(bad_ver)).status == Parse::error);
  auto full = hex("05 01 00 03 09 6c 6f 63 61 6c 68 6f 73 74 00 50");
  for (size_t n = 0; n < full.size(); ++n)
    CHECK(socks5::parse_request(bytes_of(full.data(), n)).status == Parse::need_more);
}

TEST_CASE("socks5: replies") {
  CHECK(socks5::reply(socks5::kSucceeded, *parse_host_port("10.0.0.1:4000")) == hex("05 00 00 01 0a 00 00 01 0f a0"));
  CHECK(socks5::reply(socks5::kConnectionRefused, Destination::ipv4_any()) == hex("05 05 00 01 00 00 00 00 00 00"));
  CHECK(socks5::reply(socks5::kSucceeded, *parse_host_port("[::1]:1")).size() == 22);
  CHECK(socks5::method_selection(socks5::kNoAcceptable) == hex("05 ff"));
  CHECK(std::string(socks5::reply_name(socks5::kTtlExpired)) == "TTL expired");
}

#include "socks5/udp.hpp"

TEST_CASE("socks5 udp: headers for every address type") {
  auto v4 = hex("00 00 00 01 0a 00 00 01 00 35 aa bb");
  auto r = socks5::parse_udp(bytes_of(v4));
  REQUIRE(r.status == Parse::done);
  CHECK(r.value.frag == 0);
  CHECK(r.value.destination.to_string() == "10.0.0.1:53");
  CHECK(r.value.payload_offset == 10);
  auto name = hex("00 00 00 03 01 30 12 34 ff");
  r = socks5::parse_udp(bytes_of(name));
  REQUIRE(r.status == Parse::done);
  CHECK(r.value.destination.domain == "0");
  CHECK(r.value.payload_offset == 8);
  auto v6 = hex("00 00 02 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 35");
  r = socks5::parse_udp(bytes_of(v6));
  REQUIRE(r.status == Parse::done);
  CHECK(r.value.frag == 2);
  CHECK(r.value.payload_offset == v6.size());  // an empty datagram is legal
}

TEST_CASE("socks5 udp: bad datagrams") {
  for (const char* bad : {"", "00", "00 00 00", "01 00 00 01 0a 00 00 01 00 35", "00 00 00 01 0a 00",
                          "00 00 00 03 05 61 62"}) {
    CAPTURE(bad);
    auto b = hex(bad);
    CHECK(socks5::parse_udp(bytes_of(b)).status == Parse::error);
  }
  auto atyp = hex("00 00 00 07 00 00");
  CHECK(socks5::parse_udp(bytes_of(atyp)).code == socks5::kAddressTypeNotSupported);
}

TEST_CASE("socks5 udp: encode") {
  Bytes out;
  auto payload = hex("de ad");
  socks5::encode_udp(*parse_host_port("10.31.9.2:7"), bytes_of(payload), out);
  CHECK(out == hex("00 00 00 01 0a 1f 09 02 00 07 de ad"));
}

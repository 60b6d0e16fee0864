// CIDR prefixes and address rules (net/cidr.hpp), IPv4 and IPv6.
#include <doctest/doctest.h>

#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "net/cidr.hpp"

using namespace braid::net;

namespace {
IpAddress ip(const char* text) {
  auto a = IpAddress::parse(text);
  REQUIRE_MESSAGE(a, text);
  return *a;
}
Cidr cidr(const char* text) {
  std::string why;
  auto c = Cidr::parse(text, &why);
  REQUIRE_MESSAGE(c, text, ": ", why);
  return *c;
}
AddressRule rule(const char* text) {
  std::string why;
  auto r = AddressRule::parse(text, &why);
  REQUIRE_MESSAGE(r, text, ": ", why);
  return *r;
}
}  // namespace

TEST_CASE("cidr: addresses parse, and IPv4-mapped IPv6 folds to IPv4") {
  CHECK_FALSE(ip("10.1.2.3").v6);
  CHECK(ip("2001:db8::1").v6);
  CHECK(ip("::ffff:127.0.0.1") == ip("127.0.0.1"));
  CHECK(ip("::ffff:7f00:1") == ip("127.0.0.1"));
  CHECK(ip("::ffff:127.0.0.1").to_string() == "127.0.0.1");
  CHECK(ip("::1").to_string() == "::1");
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "example.com", "[::1]", "1.2.3.4:80", "::g"})
    CHECK_MESSAGE(!IpAddress::parse(bad), bad);
}

TEST_CASE("cidr: from socket addresses") {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:10.0.0.1", &sin6.sin6_addr);
  auto a = IpAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&sin6));
  REQUIRE(a);
  CHECK(*a == ip("10.0.0.1"));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
  CHECK(*IpAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&sin)) == ip("192.0.2.7"));
  sockaddr un{};
  un.sa_family = AF_UNIX;
  CHECK_FALSE(IpAddress::from_sockaddr(&un));
  CHECK_FALSE(IpAddress::from_sockaddr(nullptr));
}

TEST_CASE("cidr: IPv4 prefixes") {
  CHECK(cidr("10.0.0.0/8").contains(ip("10.255.255.255")));
  CHECK_FALSE(cidr("10.0.0.0/8").contains(ip("11.0.0.0")));
  CHECK(cidr("172.16.0.0/12").contains(ip("172.31.0.1")));
  CHECK_FALSE(cidr("172.16.0.0/12").contains(ip("172.32.0.1")));
  CHECK(cidr("100.64.0.0/10").contains(ip("100.127.255.255")));
  CHECK_FALSE(cidr("100.64.0.0/10").contains(ip("100.128.0.0")));
  CHECK(cidr("0.0.0.0/0").contains(ip("203.0.113.9")));
  CHECK_FALSE(cidr("0.0.0.0/0").contains(ip("2001:db8::1")));
  // Host bits are cleared; a bare address is a host prefix.
  CHECK(cidr("10.1.2.3/8").to_string() == "10.0.0.0/8");
  CHECK(cidr("192.0.2.1").is_host());
  CHECK(cidr("192.0.2.1").contains(ip("192.0.2.1")));
  CHECK_FALSE(cidr("192.0.2.1").contains(ip("192.0.2.2")));
  CHECK(cidr("192.0.2.128/25").contains(ip("192.0.2.200")));
  CHECK_FALSE(cidr("192.0.2.128/25").contains(ip("192.0.2.127")));
  // A mapped address matches an IPv4 prefix.
  CHECK(cidr("127.0.0.0/8").contains(ip("::ffff:127.1.2.3")));
}

TEST_CASE("cidr: IPv6 prefixes, and IPv6 prefixes over mapped IPv4") {
  CHECK(cidr("fe80::/10").contains(ip("febf::1")));
  CHECK_FALSE(cidr("fe80::/10").contains(ip("fec0::1")));
  CHECK(cidr("fc00::/7").contains(ip("fd12:3456::1")));
  CHECK(cidr("2001:db8::/32").contains(ip("2001:db8:ffff::1")));
  CHECK_FALSE(cidr("2001:db8::/32").contains(ip("2001:db9::1")));
  CHECK(cidr("::1").is_host());
  CHECK(cidr("::1/128").contains(ip("::1")));
  CHECK_FALSE(cidr("::1/128").contains(ip("127.0.0.1")));
  // ::/0 covers every IPv6 address, the mapped IPv4 ones too.
  CHECK(cidr("::/0").contains(ip("2001:db8::1")));
  CHECK(cidr("::/0").contains(ip("8.8.8.8")));
  // A mapped prefix is an IPv4 prefix.
  CHECK(cidr("::ffff:10.0.0.0/104").to_string() == "10.0.0.0/8");
  CHECK(cidr("::ffff:0:0/96").contains(ip("1.2.3.4")));
  CHECK(cidr("any").contains(ip("1.2.3.4")));
  CHECK(cidr("any").contains(ip("::2")));
}

TEST_CASE("cidr: bad prefixes say what is wrong") {
  std::string why;
  CHECK_FALSE(Cidr::parse("10.0.0.0/33", &why));
  CHECK(why.find("0 to 32") != std::string::npos);
  CHECK_FALSE(Cidr::parse("2001:db8::/129", &why));
  CHECK(why.find("0 to 128") != std::string::npos);
  CHECK_FALSE(Cidr::parse("10.0.0.0/", &why));
  CHECK_FALSE(Cidr::parse("10.0.0.0/-1", &why));
  CHECK_FALSE(Cidr::parse("10.0.0.0/8/8", &why));
  CHECK_FALSE(Cidr::parse("::ffff:10.0.0.0/8", &why));
  CHECK(why.find("96") != std::string::npos);
  CHECK_FALSE(Cidr::parse("example.com/8", &why));
  CHECK(why.find("not an IPv4 or IPv6 address") != std::string::npos);
}

TEST_CASE("cidr: rules with ports") {
  auto smtp = rule("any port 25");
  CHECK(smtp.matches(ip("198.51.100.1"), 25));
  CHECK(smtp.matches(ip("2001:db8::25"), 25));
  CHECK_FALSE(smtp.matches(ip("198.51.100.1"), 26));
  auto range = rule("  10.31.9.0/24   port 8000-8999 ");
  CHECK(range.matches(ip("10.31.9.2"), 8000));
  CHECK(range.matches(ip("10.31.9.2"), 8999));
  CHECK_FALSE(range.matches(ip("10.31.9.2"), 9000));
  CHECK_FALSE(range.matches(ip("10.31.8.2"), 8080));
  CHECK(range.to_string() == "10.31.9.0/24 port 8000-8999");
  CHECK(rule("10.31.9.0/24").to_string() == "10.31.9.0/24");
  CHECK(rule("::1 port 53").to_string() == "::1/128 port 53");
}

TEST_CASE("cidr: bad rules say what is wrong") {
  std::string why;
  CHECK_FALSE(AddressRule::parse("10.0.0.0/8 port", &why));
  CHECK_FALSE(AddressRule::parse("10.0.0.0/8 port 70000", &why));
  CHECK(why.find("65535") != std::string::npos);
  CHECK_FALSE(AddressRule::parse("10.0.0.0/8 port 9-8", &why));
  CHECK_FALSE(AddressRule::parse("10.0.0.0/8 ports 80", &why));
  CHECK(why.find("port N") != std::string::npos);
  CHECK_FALSE(AddressRule::parse("10.0.0.0/8 port 80 tcp", &why));
  CHECK_FALSE(AddressRule::parse("", &why));
  CHECK_FALSE(AddressRule::parse("[::1]/128", &why));
}

// The concentrator's destination policy (built-in refusals, allow/deny,
// its own addresses) and the guard's limits and counters.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "concentrator/destination_policy.hpp"
#include "concentrator/guard.hpp"

using namespace braid;
using namespace braid::concentrator;

namespace {
net::IpAddress ip(const char* text) {
  auto a = net::IpAddress::parse(text);
  REQUIRE_MESSAGE(a, text);
  return *a;
}

config::Destinations rules(std::initializer_list<const char*> allow, std::initializer_list<const char*> deny = {}) {
  config::Destinations d;
  for (const char* a : allow) d.allow.push_back(*net::AddressRule::parse(a));
  for (const char* a : deny) d.deny.push_back(*net::AddressRule::parse(a));
  return d;
}

sockaddr_storage sock(const char* text, uint16_t port) {
  sockaddr_storage ss{};
  auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
  } else {
    REQUIRE(inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
  }
  return ss;
}
}  // namespace

TEST_CASE("destination policy: the built-in refusals") {
  DestinationPolicy p;
  for (const char* refused :
       {"127.0.0.1", "127.255.0.9", "0.0.0.0", "0.1.2.3", "10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1",
        "100.64.0.1", "100.127.0.1", "169.254.169.254", "224.0.0.1", "239.255.255.250", "255.255.255.255",
        "240.0.0.1", "::", "::1", "fe80::1", "fec0::1", "fc00::1", "fd00:1234::5", "ff02::1",
        // IPv4-mapped and NAT64 forms of the same.
        "::ffff:127.0.0.1", "::ffff:10.1.1.1", "::ffff:169.254.169.254", "::ffff:0.0.0.0", "64:ff9b::127.0.0.1",
        "64:ff9b::10.0.0.1"}) {
    CAPTURE(refused);
    auto v = p.check(ip(refused), 80);
    CHECK_FALSE(v.allowed);
    CHECK_FALSE(v.reason.empty());
  }
  for (const char* allowed : {"1.1.1.1", "8.8.8.8", "172.32.0.1", "100.128.0.1", "192.169.0.1", "11.0.0.1",
                              "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8"}) {
    CAPTURE(allowed);
    CHECK(p.check(ip(allowed), 443).allowed);
  }
  CHECK(p.check(ip("127.0.0.1"), 80).reason == "loopback (127.0.0.0/8)");
  CHECK(p.check(ip("::ffff:192.168.0.1"), 80).reason == "private (192.168.0.0/16)");
}

TEST_CASE("destination policy: allow overrides the built-in refusals, deny wins over allow") {
  DestinationPolicy p(rules({"10.31.9.0/24", "127.0.0.1 port 8080", "fd00::/8"}, {"10.31.9.66", "any port 25"}));
  CHECK(p.check(ip("10.31.9.2"), 80).allowed);
  CHECK(p.check(ip("::ffff:10.31.9.2"), 80).allowed);
  CHECK_FALSE(p.check(ip("10.31.8.2"), 80).allowed);
  CHECK(p.check(ip("127.0.0.1"), 8080).allowed);
  CHECK_FALSE(p.check(ip("127.0.0.1"), 8081).allowed);
  CHECK(p.check(ip("fd00::5"), 80).allowed);
  auto denied = p.check(ip("10.31.9.66"), 80);
  CHECK_FALSE(denied.allowed);
  CHECK(denied.reason == "destinations.deny \"10.31.9.66/32\"");
  CHECK_FALSE(p.check(ip("10.31.9.2"), 25).allowed);
  CHECK_FALSE(p.check(ip("8.8.8.8"), 25).allowed);
  CHECK_FALSE(p.check(ip("2001:db8::1"), 25).allowed);
  CHECK(p.check(ip("8.8.8.8"), 587).allowed);
}

TEST_CASE("destination policy: the concentrator's own addresses need an allow naming that host") {
  DestinationPolicy p(rules({"10.31.0.0/16", "203.0.113.0/24"}));
  p.set_own_addresses({ip("10.31.9.1"), ip("203.0.113.7"), ip("2001:db8::7")});
  CHECK_FALSE(p.check(ip("10.31.9.1"), 22).allowed);
  CHECK(p.check(ip("10.31.9.1"), 22).reason == "the concentrator's own address");
  CHECK_FALSE(p.check(ip("::ffff:203.0.113.7"), 22).allowed);
  CHECK_FALSE(p.check(ip("2001:db8::7"), 22).allowed);
  CHECK(p.check(ip("10.31.9.2"), 22).allowed);
  CHECK(p.check(ip("203.0.113.8"), 22).allowed);
  DestinationPolicy q(rules({"10.31.9.1 port 80"}));
  q.set_own_addresses({ip("10.31.9.1")});
  CHECK(q.check(ip("10.31.9.1"), 80).allowed);
  CHECK_FALSE(q.check(ip("10.31.9.1"), 81).allowed);
}

TEST_CASE("destination policy: socket addresses carry the port") {
  DestinationPolicy p(rules({}, {"any port 25"}));
  auto a = sock("198.51.100.1", 25);
  CHECK_FALSE(p.check(reinterpret_cast<sockaddr*>(&a)).allowed);
  a = sock("198.51.100.1", 26);
  CHECK(p.check(reinterpret_cast<sockaddr*>(&a)).allowed);
  a = sock("::1", 26);
  CHECK_FALSE(p.check(reinterpret_cast<sockaddr*>(&a)).allowed);
  sockaddr_storage unix_family{};
  unix_family.ss_family = AF_UNIX;
  CHECK_FALSE(p.check(reinterpret_cast<sockaddr*>(&unix_family)).allowed);
}

TEST_CASE("guard: per-user sessions, lookups in flight, refusal counters") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    config::ConcentratorConfig cfg = config::default_concentrator_config();
    cfg.limits.max_connections_per_user = 2;
    cfg.limits.max_dns_lookups = 1;
    cfg.public_address = "203.0.113.9:7300";  // behind 1:1 NAT: on no interface, still this machine
    Guard g(&loop, cfg);
    CHECK(g.add_user_session("alice"));
    CHECK(g.add_user_session("alice"));
    CHECK_FALSE(g.add_user_session("alice"));
    CHECK(g.add_user_session("bob"));  // other users are unaffected
    CHECK(g.user_sessions("alice") == 2);
    g.remove_user_session("alice");
    CHECK(g.add_user_session("alice"));
    g.remove_user_session("nobody");
    CHECK(g.user_sessions("nobody") == 0);

    CHECK(g.begin_lookup());
    CHECK_FALSE(g.begin_lookup());
    g.end_lookup();
    CHECK(g.begin_lookup());
    g.end_lookup();
    g.end_lookup();  // never below zero
    CHECK(g.lookups_in_flight() == 0);

    CHECK(g.summary() == "refused since start: nothing");
    g.count(Guard::Refusal::destination);
    g.count(Guard::Refusal::destination);
    g.count(Guard::Refusal::dns_limit);
    g.count(Guard::Refusal::udp_destination, 0);
    CHECK(g.refused(Guard::Refusal::destination) == 2);
    CHECK(g.summary() ==
          "refused since start: 2 connections to destinations not allowed, 1 over the DNS lookup limit");

    // This machine's addresses are refused; loopback by its built-in range.
    g.refresh_own_addresses();
    for (const auto& own : g.policy().own_addresses()) {
      sockaddr_storage ss = sock(own.to_string().c_str(), 80);
      CHECK_FALSE(g.check(reinterpret_cast<sockaddr*>(&ss)).allowed);
    }
    sockaddr_storage lo = sock("127.0.0.1", 80);
    CHECK_FALSE(g.check(reinterpret_cast<sockaddr*>(&lo)).allowed);
    sockaddr_storage pub = sock("203.0.113.9", 443);
    CHECK(g.check(reinterpret_cast<sockaddr*>(&pub)).reason == "the concentrator's own address");
    sockaddr_storage next_door = sock("203.0.113.10", 443);
    CHECK(g.check(reinterpret_cast<sockaddr*>(&next_door)).allowed);
  }
  CHECK(uv_loop_close(&loop) == 0);
}

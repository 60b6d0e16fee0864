// Config validation: errors name the field and what it accepts.
#include <doctest/doctest.h>

#include "config/config.hpp"

using namespace braid;

namespace {
std::string client_error(const std::string& json) {
  std::string error;
  auto c = config::parse_client_config(json, error);
  CHECK_FALSE(c);
  return error;
}
}  // namespace

TEST_CASE("config: an empty object gives the defaults") {
  std::string error;
  auto c = config::parse_client_config("{}", error);
  REQUIRE(c);
  CHECK(c->socks_listen->to_string() == "127.0.0.1:1080");
  CHECK(c->http_listen->to_string() == "127.0.0.1:8118");
  CHECK_FALSE(c->concentrator);
  CHECK(c->mptcp);
}

TEST_CASE("config: a full client config") {
  std::string error;
  auto c = config::parse_client_config(R"({
    "socks": "127.0.0.1:1081", "http": null, "mixed": "[::1]:7890",
    "auth": {"username": "u", "password": "p"},
    "concentrator": {"address": "conc.example:7300", "user": "alice", "token": "t0k",
                     "fingerprint": "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"},
    "mptcp": false, "log_level": "debug",
    "limits": {"max_connections": 10, "idle_timeout_ms": 5000, "buffer_bytes": 65536}
  })",
                                       error);
  REQUIRE_MESSAGE(c, error);
  CHECK(c->socks_listen->port == 1081);
  CHECK_FALSE(c->http_listen);
  CHECK(c->mixed_listen->to_string() == "[::1]:7890");
  CHECK(c->auth->username == "u");
  CHECK(c->concentrator->address.domain == "conc.example");
  CHECK(c->concentrator->token == "t0k");
  CHECK(c->concentrator->user == "alice");
  CHECK_FALSE(c->concentrator->insecure_plaintext);
  CHECK_FALSE(c->mptcp);
  CHECK(c->limits.max_connections == 10);
  CHECK(c->limits.buffer_bytes == 65536);
}

TEST_CASE("config: errors name the field") {
  CHECK(client_error("{") .find("not valid JSON") != std::string::npos);
  CHECK(client_error(R"({"sock": "127.0.0.1:1"})").find("sock: unknown setting") != std::string::npos);
  CHECK(client_error(R"({"socks": "127.0.0.1"})").find("socks: expected HOST:PORT") != std::string::npos);
  CHECK(client_error(R"({"socks": 1080})").find("socks: expected a string") != std::string::npos);
  CHECK(client_error(R"({"limits": {"idle_timeout_ms": "x"}})").find("limits.idle_timeout_ms: expected an integer") !=
        std::string::npos);
  CHECK(client_error(R"({"limits": {"max_connections": 0}})").find("limits.max_connections") != std::string::npos);
  CHECK(client_error(R"({"concentrator": {"address": "h:1", "user": "u"}})").find("concentrator.token: required") !=
        std::string::npos);
  CHECK(client_error(R"({"concentrator": {"address": "h:1", "token": "t"}})").find("concentrator.user: required") !=
        std::string::npos);
  CHECK(client_error(R"({"concentrator": {"address": "h:1", "user": "u", "token": ""}})").find("concentrator.token") !=
        std::string::npos);
  CHECK(client_error(R"({"concentrator": {"address": "h:1", "user": "u", "token": "t", "fingerprint": "md5:x"}})")
            .find("concentrator.fingerprint: expected") != std::string::npos);
  CHECK(client_error(R"({"socks": null, "http": null})").find("at least one listener") != std::string::npos);
  CHECK(client_error(R"({"log_level": "loud"})").find("log_level: expected one of") != std::string::npos);
  CHECK(client_error(R"({"auth": {"username": "u"}})").find("auth.password: required") != std::string::npos);
}

TEST_CASE("config: concentrator") {
  std::string error;
  auto c = config::parse_concentrator_config(
      R"({"listen": "0.0.0.0:7301", "users_file": "users.json", "public_address": "conc.example:7301",
          "tls": {"cert": "cert.pem", "key": "key.pem"}})",
      error);
  REQUIRE_MESSAGE(c, error);
  CHECK(c->listen.port == 7301);
  CHECK(c->users_file == "users.json");
  CHECK(c->tls_cert == "cert.pem");
  CHECK(c->tls_key == "key.pem");
  CHECK_FALSE(c->insecure_plaintext);
  CHECK_FALSE(config::parse_concentrator_config(R"({"listen": "0.0.0.0:7301"})", error));
  CHECK(error.find("users_file: required") != std::string::npos);
  // TLS is on unless switched off by name.
  CHECK_FALSE(config::parse_concentrator_config(R"({"users_file": "u.json"})", error));
  CHECK(error.find("tls.cert: required") != std::string::npos);
  CHECK(config::parse_concentrator_config(R"({"users_file": "u.json", "insecure_plaintext": true})", error));
  // The old shared tokens point at what replaced them.
  CHECK_FALSE(config::parse_concentrator_config(R"({"tokens": ["a"]})", error));
  CHECK(error.find("tokens: replaced by named users") != std::string::npos);
  CHECK_FALSE(config::parse_concentrator_config(
      R"({"users_file": "u.json", "insecure_plaintext": true, "mptcp_subflows": 9})", error));
  CHECK(error.find("mptcp_subflows") != std::string::npos);
}

TEST_CASE("config: the shipped samples in assets/config parse") {
  std::string text, error;
  REQUIRE(config::read_file(BRAID_SOURCE_DIR "/assets/config/braid.json", text, error));
  auto c = config::parse_client_config(text, error);
  CHECK_MESSAGE(c, error);
  REQUIRE(config::read_file(BRAID_SOURCE_DIR "/assets/config/concentrator.json", text, error));
  auto k = config::parse_concentrator_config(text, error);
  CHECK_MESSAGE(k, error);
}

TEST_CASE("config: UDP carrier rules") {
  std::string error;
  auto c = config::parse_client_config("{}", error);
  REQUIRE(c);
  CHECK_FALSE(config::choose_udp(c->udp, "9.9.9.9", 53).datagram);   // DNS: framed
  CHECK(config::choose_udp(c->udp, "example.com", 443).datagram);     // QUIC
  CHECK(config::choose_udp(c->udp, "stun.example", 3478).scheduler == "lowest-rtt");
  CHECK(config::choose_udp(c->udp, "10.0.0.1", 20000).datagram);      // RTP range
  CHECK_FALSE(config::choose_udp(c->udp, "10.0.0.1", 9999).datagram); // default framed
  CHECK(config::uses_datagram_carrier(c->udp));

  auto rt = config::parse_client_config(R"({"udp": {"preset": "realtime", "rules": [
      {"ports": "53", "carrier": "framed"},
      {"hosts": ["*.game.example", "10.1.1.1"], "carrier": "datagram", "scheduler": "weighted"}]}})",
                                        error);
  REQUIRE_MESSAGE(rt, error);
  CHECK(config::choose_udp(rt->udp, "eu.game.example", 27015).scheduler == "weighted");
  CHECK(config::choose_udp(rt->udp, "10.1.1.1", 1).scheduler == "weighted");
  CHECK(config::choose_udp(rt->udp, "game.example.org", 1).scheduler == "redundant");  // the preset's default
  CHECK(config::choose_udp(rt->udp, "game.example.org", 1).datagram);

  CHECK(client_error(R"({"udp": {"rules": [{"ports": "70000", "carrier": "framed"}]}})").find("udp.rules[0].ports") !=
        std::string::npos);
  CHECK(client_error(R"({"udp": {"rules": [{"ports": "53"}]}})").find("udp.rules[0].carrier: required") !=
        std::string::npos);
  CHECK(client_error(R"({"udp": {"scheduler": "fastest"}})").find("udp.scheduler") != std::string::npos);
  CHECK(client_error(R"({"udp": {"preset": "gaming"}})").find("udp.preset") != std::string::npos);
}

TEST_CASE("config: concentrator destinations and its own limits") {
  std::string error;
  auto c = config::parse_concentrator_config(R"({"users_file": "u.json", "insecure_plaintext": true,
    "destinations": {"allow": ["10.31.9.0/24", "fd00::/8 port 80-90"], "deny": ["any port 25"]},
    "limits": {"max_connections_per_user": 7, "max_dns_lookups": 3, "max_connections": 9}})",
                                             error);
  REQUIRE_MESSAGE(c, error);
  REQUIRE(c->destinations.allow.size() == 2);
  CHECK(c->destinations.allow[1].to_string() == "fd00::/8 port 80-90");
  REQUIRE(c->destinations.deny.size() == 1);
  CHECK(c->destinations.deny[0].to_string() == "any port 25");
  CHECK(c->limits.max_connections_per_user == 7);
  CHECK(c->limits.max_dns_lookups == 3);
  CHECK(c->limits.max_connections == 9);

  CHECK_FALSE(config::parse_concentrator_config(R"({"users_file": "u.json", "insecure_plaintext": true, "destinations": {"allow": ["10.0.0.0/40"]}})", error));
  CHECK(error.rfind("destinations.allow[0]: prefix length", 0) == 0);
  CHECK_FALSE(config::parse_concentrator_config(R"({"users_file": "u.json", "insecure_plaintext": true, "destinations": {"deny": "any"}})", error));
  CHECK(error.rfind("destinations.deny: expected an array", 0) == 0);
  CHECK_FALSE(config::parse_concentrator_config(R"({"users_file": "u.json", "insecure_plaintext": true, "destinations": {"permit": []}})", error));
  CHECK(error.rfind("destinations.permit: unknown setting", 0) == 0);
  CHECK_FALSE(config::parse_concentrator_config(R"({"users_file": "u.json", "insecure_plaintext": true, "limits": {"max_dns_lookups": 0}})", error));
  CHECK(error.rfind("limits.max_dns_lookups:", 0) == 0);
  // The concentrator's limits are not the client's.
  CHECK(client_error(R"({"limits": {"max_connections_per_user": 5}})").rfind("limits.max_connections_per_user", 0) == 0);
}

TEST_CASE("config: a listener off loopback needs proxy authentication") {
  for (const char* listener : {"socks", "http", "mixed"}) {
    CAPTURE(listener);
    const std::string open = std::string(R"({")") + listener + R"(": "0.0.0.0:1090"})";
    const std::string error = client_error(open);
    CHECK(error.rfind(std::string(listener) + ": listening on 0.0.0.0:1090 (not loopback)", 0) == 0);
    CHECK(error.find("auth") != std::string::npos);
    std::string why;
    CHECK(config::parse_client_config(std::string(R"({"auth": {"username": "u", "password": "p"}, ")") + listener +
                                          R"(": "192.168.1.2:1090"})",
                                      why));
  }
  CHECK(client_error(R"({"socks": "[::]:1080"})").find("not loopback") != std::string::npos);
  std::string why;
  CHECK(config::parse_client_config(R"({"socks": "127.0.0.2:1080", "mixed": "[::1]:1081"})", why));
}

TEST_CASE("config: a number too large for a double is an error, not an exception (fuzz finding)") {
  CHECK(client_error(R"({"limits": {"max_connections": 4444.4E4888884444}})").rfind("not valid JSON", 0) == 0);
  std::string error;
  CHECK_FALSE(config::parse_concentrator_config(R"({"mptcp_subflows": 1e400})", error));
  CHECK(error.rfind("not valid JSON", 0) == 0);
}

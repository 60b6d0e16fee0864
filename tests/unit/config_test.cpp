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
    "concentrator": {"address": "conc.example:7300", "token": "t0k"},
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
  CHECK(client_error(R"({"concentrator": {"address": "h:1"}})").find("concentrator.token: required") !=
        std::string::npos);
  CHECK(client_error(R"({"concentrator": {"address": "h:1", "token": ""}})").find("concentrator.token") !=
        std::string::npos);
  CHECK(client_error(R"({"socks": null, "http": null})").find("at least one listener") != std::string::npos);
  CHECK(client_error(R"({"log_level": "loud"})").find("log_level: expected one of") != std::string::npos);
  CHECK(client_error(R"({"auth": {"username": "u"}})").find("auth.password: required") != std::string::npos);
}

TEST_CASE("config: concentrator") {
  std::string error;
  auto c = config::parse_concentrator_config(R"({"listen": "0.0.0.0:7301", "tokens": ["a", "b"]})", error);
  REQUIRE_MESSAGE(c, error);
  CHECK(c->listen.port == 7301);
  CHECK(c->tokens.size() == 2);
  CHECK_FALSE(config::parse_concentrator_config(R"({"listen": "0.0.0.0:7301"})", error));
  CHECK(error.find("tokens: at least one") != std::string::npos);
  CHECK_FALSE(config::parse_concentrator_config(R"({"tokens": ["a", 3]})", error));
  CHECK(error.find("tokens[1]: expected a string") != std::string::npos);
  CHECK_FALSE(config::parse_concentrator_config(R"({"tokens": ["a"], "mptcp_subflows": 9})", error));
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

// Access keys, the users file and the failed-login limiter.
#include <doctest/doctest.h>

#include <set>

#include "concentrator/auth_limiter.hpp"
#include "concentrator/users.hpp"
#include "tunnel/access_key.hpp"

using namespace braid;

TEST_CASE("access key: format and parse round-trip, IPv4, IPv6 and names") {
  for (const char* where : {"10.31.1.1:7300", "[2001:db8::1]:443", "conc.example.net:7300"}) {
    CAPTURE(where);
    access::AccessKey k;
    k.user = "alice.b-c_d";
    k.token = access::make_token();
    k.address = *parse_host_port(where);
    for (size_t i = 0; i < k.fingerprint.size(); ++i) k.fingerprint[i] = static_cast<uint8_t>(255 - i);
    const std::string line = access::format(k);
    CHECK(line.rfind("braid://alice.b-c_d:", 0) == 0);
    CHECK(line.find("?fp=sha256:") != std::string::npos);
    std::string error;
    auto back = access::parse(line + "\n", error);  // as pasted from a terminal
    REQUIRE_MESSAGE(back, error);
    CHECK(back->user == k.user);
    CHECK(back->token == k.token);
    CHECK(back->address.to_string() == std::string(where));
    CHECK(back->fingerprint == k.fingerprint);
  }
}

TEST_CASE("access key: bad keys say which part is wrong") {
  const std::string fp = "sha256:" + std::string(64, 'a');
  const std::string token = "abcdefghijklmnopqrstuvwxyz012345";
  auto error_of = [](const std::string& text) {
    std::string error;
    CHECK_FALSE(access::parse(text, error));
    return error;
  };
  CHECK(error_of("https://u:" + token + "@h:1?fp=" + fp).find("starts with braid://") != std::string::npos);
  CHECK(error_of("braid://u@h:1?fp=" + fp).find("user and token") != std::string::npos);
  CHECK(error_of("braid://bad user:" + token + "@h:1?fp=" + fp).find("user") != std::string::npos);
  CHECK(error_of("braid://u:short@h:1?fp=" + fp).find("token") != std::string::npos);
  CHECK(error_of("braid://u:" + token + "@h?fp=" + fp).find("address") != std::string::npos);
  CHECK(error_of("braid://u:" + token + "@h:1").find("expected braid://") != std::string::npos);
  CHECK(error_of("braid://u:" + token + "@h:1?fp=sha256:abc").find("fingerprint") != std::string::npos);
}

TEST_CASE("access key: tokens are random, URL-safe and long enough") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string t = access::make_token();
    CHECK(t.size() == 32);
    CHECK(access::valid_token(t));
    seen.insert(t);
  }
  CHECK(seen.size() == 100);
  CHECK(access::valid_user_name("a"));
  CHECK_FALSE(access::valid_user_name(""));
  CHECK_FALSE(access::valid_user_name(std::string(65, 'a')));
  CHECK_FALSE(access::valid_user_name("a/b"));
}

TEST_CASE("users: check, add, revoke, and the file keeps only hashes") {
  concentrator::Users users;
  users.set("alice", "alice-token-0123456789");
  users.set("bob", "bob-token-0123456789ab");
  CHECK(users.check("alice", "alice-token-0123456789"));
  CHECK_FALSE(users.check("alice", "bob-token-0123456789ab"));  // another user's token
  CHECK_FALSE(users.check("carol", "alice-token-0123456789"));  // unknown user
  CHECK_FALSE(users.check("alice", ""));
  const std::string text = users.to_json();
  CHECK(text.find("alice-token") == std::string::npos);
  CHECK(text.find("token_sha256") != std::string::npos);
  std::string error;
  auto back = concentrator::Users::parse(text, error);
  REQUIRE_MESSAGE(back, error);
  CHECK(back->size() == 2);
  CHECK(back->check("bob", "bob-token-0123456789ab"));
  CHECK(back->remove("bob"));
  CHECK_FALSE(back->remove("bob"));
  CHECK_FALSE(back->check("bob", "bob-token-0123456789ab"));
  // A new token replaces the old one.
  back->set("alice", "alice-new-token-0123456");
  CHECK_FALSE(back->check("alice", "alice-token-0123456789"));
  CHECK(back->check("alice", "alice-new-token-0123456"));
}

TEST_CASE("users: a bad file names the problem") {
  std::string error;
  CHECK_FALSE(concentrator::Users::parse("{", error));
  CHECK(error.find("not valid JSON") != std::string::npos);
  CHECK_FALSE(concentrator::Users::parse(R"({"users": []})", error));
  CHECK(error.find("users:") != std::string::npos);
  CHECK_FALSE(concentrator::Users::parse(R"({"users": {"a b": {"token_sha256": ""}}})", error));
  CHECK(error.find("users.a b") != std::string::npos);
  CHECK_FALSE(concentrator::Users::parse(R"({"users": {"alice": {"token_sha256": "xyz"}}})", error));
  CHECK(error.find("users.alice.token_sha256") != std::string::npos);
  CHECK(concentrator::Users::parse(R"({"users": {}})", error));
}

TEST_CASE("auth limiter: ten failures in a minute shut an address out until the window passes") {
  concentrator::AuthLimiter l;
  const uint64_t t0 = 1000000;
  for (uint32_t i = 0; i < concentrator::AuthLimiter::kMaxFailures - 1; ++i) l.failed("10.0.0.1", t0 + i);
  CHECK_FALSE(l.blocked("10.0.0.1", t0 + 100));
  l.failed("10.0.0.1", t0 + 100);
  CHECK(l.blocked("10.0.0.1", t0 + 200));
  CHECK_FALSE(l.blocked("10.0.0.2", t0 + 200));  // others are not affected
  CHECK(l.refused() == 1);
  CHECK_FALSE(l.blocked("10.0.0.1", t0 + concentrator::AuthLimiter::kWindowMs));
  // Failures spread over more than a window never add up.
  concentrator::AuthLimiter slow;
  for (uint64_t i = 0; i < 30; ++i) slow.failed("10.0.0.3", t0 + i * 10000);
  CHECK_FALSE(slow.blocked("10.0.0.3", t0 + 30 * 10000));
}

TEST_CASE("auth limiter: the table stays bounded under a flood of addresses") {
  concentrator::AuthLimiter l;
  for (size_t i = 0; i < 3 * concentrator::AuthLimiter::kMaxAddresses; ++i)
    l.failed("addr-" + std::to_string(i), 5000 + i);
  CHECK(l.size() <= concentrator::AuthLimiter::kMaxAddresses);
  // The newest addresses are still tracked.
  for (uint32_t i = 0; i < concentrator::AuthLimiter::kMaxFailures; ++i) l.failed("last", 100000);
  CHECK(l.blocked("last", 100001));
}
